"""Unit tests (no kernel process) of how cells are named and which statements show
their value; the same rules are checked end to end on both kernels in
test_fidelity_pipeline.py."""

from __future__ import annotations

import ast
import os

import pytest
from pyo3_kernel.cells import CELL_DIR, HASH_SEED, KernelCompiler, cell_filename, shown_nodes


def nodes(code: str) -> list[ast.stmt]:
    return ast.parse(code).body


def test_cell_names_are_murmur2_of_the_code_as_the_debugger_computes_them(monkeypatch):
    monkeypatch.delenv("IPYKERNEL_CELL_NAME", raising=False)
    from ipykernel.compiler import murmur2_x86

    code = "def f(x):\n    return x * 2  # é\n"
    assert cell_filename(code) == os.path.join(CELL_DIR, f"{murmur2_x86(code, HASH_SEED)}.py")
    assert HASH_SEED == 0xC70F6907  # the seed ipykernel reports; JupyterLab accepts any
    assert cell_filename("a = 1") != cell_filename("a = 2")
    assert cell_filename("a = 1") == cell_filename("a = 1")


def test_fixed_cell_name_from_the_environment(monkeypatch):
    monkeypatch.setenv("IPYKERNEL_CELL_NAME", "<IPY-INPUT>")
    assert cell_filename("anything") == "<IPY-INPUT>"


def test_compiler_caches_the_cell_under_its_name(monkeypatch):
    monkeypatch.delenv("IPYKERNEL_CELL_NAME", raising=False)
    import linecache

    name = KernelCompiler().cache("x = 1\ny = 2", 3, raw_code="x = 1\ny = 2")
    assert name == cell_filename("x = 1\ny = 2")
    assert linecache.getline(name, 2) == "y = 2\n"


@pytest.mark.parametrize(
    ("interactivity", "code", "expected"),
    [
        ("last_expr", "a = 1\na", [False, True]),
        ("last_expr", "a\nb = 1", [False, False]),
        ("last_expr", "for i in range(2): i", [False]),
        ("last", "a = 1\nb = 2", [False, True]),
        ("all", "a\nb = 1\nc", [True, True, True]),
        ("none", "a\nb", [False, False]),
    ],
)
def test_which_statements_show_their_value(interactivity, code, expected):
    assert shown_nodes(nodes(code), interactivity) == expected


@pytest.mark.parametrize("code", ["x = 1", "x += 1", "x: int = 1"])
def test_last_expr_or_assign_shows_the_assigned_name(code):
    body = nodes(code)
    assert shown_nodes(body, "last_expr_or_assign") == [False, True]
    shown = body[-1]
    assert isinstance(shown, ast.Expr) and isinstance(shown.value, ast.Name)
    assert shown.value.id == "x"
    compile(ast.Module(body, []), "<test>", "exec")  # locations are complete


@pytest.mark.parametrize("code", ["a, b = 1, 2", "x.attr = 1", "x = y = 1", "pass"])
def test_last_expr_or_assign_ignores_other_statements(code):
    body = nodes(code)
    assert shown_nodes(body, "last_expr_or_assign") == [False] * len(nodes(code))
    assert len(body) == len(nodes(code))


def test_no_statements_show_nothing():
    assert shown_nodes([], "all") == []


def test_unknown_interactivity_is_an_error():
    with pytest.raises(ValueError, match="sometimes"):
        shown_nodes(nodes("a"), "sometimes")
