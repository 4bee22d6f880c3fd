"""How a cell is named and which of its statements show their value.

Both are IPython's rules, applied where IPython asks: ``KernelCompiler.get_code_name``
is the hook IPython's compiler calls to name a cell, and ``shown_nodes`` is the
``ast_node_interactivity`` rule IPython's ``run_ast_nodes`` applies before it runs the
statements (here the engine runs them).
"""

from __future__ import annotations

import ast
import os
import tempfile

from IPython.core.compilerop import CachingCompiler

try:  # the engine's (in the host); ipykernel's gives the same values, slower
    from rust_bridge import murmur2
except ImportError:
    from ipykernel.compiler import murmur2_x86 as murmur2

# Where cells would be written (dumpCell, for the debugger), and the hash naming them:
# JupyterLab's debugger maps a breakpoint to a cell's file by hashing the cell the same
# way (it only knows Murmur2), so this seed and folder are what debugInfo reports. The
# folder is named as ipykernel names it (ipykernel.compiler.get_tmp_directory): code in
# the wild recognises notebook cells by it (pyo3_kernel.ipykernel_marks).
CELL_DIR = os.path.join(tempfile.gettempdir(), f"ipykernel_{os.getpid()}")
HASH_SEED = 0xC70F6907

_ASSIGNMENTS = (ast.AugAssign, ast.AnnAssign, ast.Assign)
_SINGLE_TARGET = (ast.AugAssign, ast.AnnAssign)


def cell_filename(raw_cell: str) -> str:
    """A file-like name for a cell, as ipykernel names it (the file is written only
    when a debugger asks for it).

    The text lives in ``linecache``; IPython shows the name as ``Cell In[n]``. A path
    ending in ``.py`` (not ``<...>``) makes tracebacks render lines exactly, comments
    included. The same code gets the same name, in any cell, on every run: that is how
    a debugger finds it. Like ipykernel, ``IPYKERNEL_CELL_NAME`` in the environment
    names every cell (test suites set it to get the same tracebacks run after run).
    """
    fixed = os.environ.get("IPYKERNEL_CELL_NAME")
    if fixed is not None:
        return fixed
    return os.path.join(CELL_DIR, f"{murmur2(raw_cell, HASH_SEED)}.py")


class KernelCompiler(CachingCompiler):
    """IPython's caching compiler (it registers the cell's text and number), with
    cells named by :func:`cell_filename`."""

    def get_code_name(self, raw_code: str, transformed_code: str, number: int) -> str:
        return cell_filename(raw_code)


def shown_nodes(nodes: list[ast.stmt], interactivity: str) -> list[bool]:
    """For each statement, whether it shows its value (runs as Python's interactive
    prompt runs a line), by IPython's ``ast_node_interactivity`` setting: ``none``,
    ``last``, ``all``, ``last_expr`` (the default: the last statement, if an
    expression) or ``last_expr_or_assign`` (also a trailing ``name = ...``, shown by a
    statement appended to ``nodes``)."""
    if not nodes:
        return []
    if interactivity == "last_expr_or_assign":
        target = _assigned_name(nodes[-1])
        if target is not None:
            shown = ast.Expr(ast.Name(target, ast.Load()))
            nodes.append(ast.fix_missing_locations(ast.copy_location(shown, nodes[-1])))
        interactivity = "last_expr"
    if interactivity == "last_expr":
        interactivity = "last" if isinstance(nodes[-1], ast.Expr) else "none"
    if interactivity == "none":
        return [False] * len(nodes)
    if interactivity == "last":
        return [False] * (len(nodes) - 1) + [True]
    if interactivity == "all":
        return [True] * len(nodes)
    raise ValueError(f"Interactivity was {interactivity!r}")


def _assigned_name(node: ast.stmt) -> str | None:
    """The name a single-target assignment binds (``x = 1``, ``x += 1``, ``x: int = 1``)."""
    if not isinstance(node, _ASSIGNMENTS):
        return None
    if isinstance(node, ast.Assign):
        target = node.targets[0] if len(node.targets) == 1 else None
    else:
        target = node.target
    return target.id if isinstance(target, ast.Name) else None
