"""The IPython shell of the kernel: IPython's features, user code run by ``rust_bridge``.

``PyO3Shell`` is ipykernel's ``ZMQInteractiveShell`` (display hook, display publisher,
magics, input transformations, history) running cells through IPython's own pipeline
(``run_cell_async``: history, events, naming and parsing the cell, AST transformers)
with one hook overridden: ``run_ast_nodes`` hands the parsed statements to the Rust
executor, which runs them on the shared ``__main__`` namespace (those IPython's
``ast_node_interactivity`` picks show their value through the display hook).
"""

from __future__ import annotations

import ast
import bdb
import linecache
import pdb
import sys
import threading
import warnings
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ipykernel.zmqshell import ZMQDisplayPublisher, ZMQInteractiveShell
from IPython.core import debugger
from IPython.core.error import UsageError
from IPython.core.inputtransformer2 import leading_empty_lines
from IPython.core.interactiveshell import ExecutionInfo, ExecutionResult
from traitlets import Instance, Type

from .cells import KernelCompiler, shown_nodes
from .display import KernelDisplayFormatter, KernelDisplayHook
from .magics import KernelInfoMagics
from .transforms import KernelTransformerManager

# matplotlib backends (and IPython gui names) that draw in the frontend: no event loop.
NO_EVENT_LOOP = frozenset({None, "inline", "nbagg", "notebook", "webagg", "ipympl", "widget"})


@contextmanager
def use_interruptible_pdb() -> Iterator[None]:
    """``pdb.set_trace()`` and ``breakpoint()`` use IPython's interruptible debugger, as
    in ipykernel: an interrupt at its prompt ends the cell instead of prompting again."""
    saved = (debugger.Pdb, pdb.Pdb, pdb.set_trace)
    debugger.Pdb = debugger.InterruptiblePdb  # type: ignore[misc]
    # (IPython's Pdb takes other constructor arguments than the standard library's.)
    pdb.Pdb = debugger.InterruptiblePdb  # type: ignore[misc, assignment]
    pdb.set_trace = debugger.set_trace
    try:
        yield
    finally:
        debugger.Pdb, pdb.Pdb, pdb.set_trace = saved  # type: ignore[misc]


@dataclass
class CellResult:
    """How a cell ended: the error it ended with (None if it succeeded) and the
    traceback shown for it, the one the execute reply carries. ``execution`` is
    IPython's result (None if an interrupt stopped the shell before it had one)."""

    error: BaseException | None = None
    traceback: list[str] = field(default_factory=list)
    execution: ExecutionResult | None = None


def run_to_end(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Drive a coroutine that never suspends (IPython's cell pipeline once the engine
    runs the statements: any awaiting happens inside the engine) to its result."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise RuntimeError("the cell pipeline suspended outside the engine")


class PyO3Shell(ZMQInteractiveShell):
    """An IPython shell whose cells run through ``rust_bridge.Executor``."""

    displayhook_class = Type(KernelDisplayHook)
    compiler_class = Type(KernelCompiler)
    input_transformer_manager = Instance(KernelTransformerManager, ())
    # What IPython makes from displayhook_class and ipykernel's display_pub_class.
    displayhook: KernelDisplayHook
    display_pub: ZMQDisplayPublisher

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        main_module = sys.modules["__main__"]
        # CPython gives the interpreter's __main__ an empty `__annotations__` (for the
        # REPL) and the built-in importer as `__loader__`; IPython's namespace in
        # ipykernel has no `__annotations__` and `__loader__ = None`, which completion,
        # %who and dir() show. A cell that annotates a global creates it again.
        if main_module.__dict__.get("__annotations__") == {}:
            del main_module.__dict__["__annotations__"]
        main_module.__dict__["__loader__"] = None
        super().__init__(*args, user_module=main_module, **kwargs)  # type: ignore[no-untyped-call]
        import rust_bridge  # built into the host

        self.bridge = rust_bridge.Executor(main_module)
        self.register_magics(KernelInfoMagics)
        # Cells reach the history database when the kernel is idle (write_history),
        # never from IPython's saving thread in the middle of an execute.
        assert self.history_manager is not None  # made by super().__init__ (init_history)
        self.history_manager.db_cache_size = 2**31
        # Per thread (the main shell's, a subshell's): tracebacks shown while its
        # current cell runs, (exception, its lines, whether the display hook showed it).
        self._this_thread = threading.local()

    @property
    def _shown(self) -> list[tuple[BaseException, list[str], bool]]:
        shown = getattr(self._this_thread, "shown", None)
        if shown is None:
            shown = self._this_thread.shown = []
        return shown

    @_shown.setter
    def _shown(self, shown: list[tuple[BaseException, list[str], bool]]) -> None:
        self._this_thread.shown = shown

    def init_display_formatter(self) -> None:
        self.display_formatter = KernelDisplayFormatter(parent=self)
        # (mypy infers ``configurables`` from IPython's ``[self]``; it holds Configurables.)
        self.configurables.append(self.display_formatter)  # type: ignore[arg-type]

    def init_sys_modules(self) -> None:
        # The namespace *is* __main__'s dict, so there is nothing to swap in.
        pass

    def enable_gui(self, gui: str | None = None) -> None:
        """Backends drawn in the notebook (inline, nbagg/notebook, webagg, ipympl/widget)
        need no GUI event loop, as in ipykernel; GUI loops (qt, tk, ...) are not
        integrated with this kernel's loop."""
        if gui not in NO_EVENT_LOOP:
            raise UsageError(
                f"GUI event loop {gui!r} is not supported by pyo3-kernel; "
                "use %matplotlib inline (the default)"
            )
        self.active_eventloop = gui

    def keep_leading_empty_lines(self, keep: bool) -> None:
        """Keep a cell's leading blank lines (while a debugger sets breakpoints by line
        number) or drop them again (IPython's default), as ipykernel does."""
        cleanup = self.input_transformer_manager.cleanup_transforms
        if keep and leading_empty_lines in cleanup:
            cleanup.remove(leading_empty_lines)
        elif not keep and leading_empty_lines not in cleanup:
            cleanup.insert(0, leading_empty_lines)

    def history_pending(self) -> bool:
        manager = self.history_manager
        assert manager is not None  # made with the shell; only IPython's exit clears it
        return bool(manager.enabled and (manager.db_input_cache or manager.db_output_cache))

    def write_history(self) -> None:
        """Write cached history to IPython's database (called while the kernel is idle)."""
        if self.history_pending():
            assert self.history_manager is not None  # (history_pending checked)
            self.history_manager.writeout_cache()

    def _showtraceback(self, etype: type, evalue: BaseException, stb: list[str]) -> None:
        self._shown.append((evalue, list(stb), self.displayhook.displaying))
        super()._showtraceback(etype, evalue, stb)  # type: ignore[no-untyped-call]

    def showtraceback(self, *args: Any, **kwargs: Any) -> None:
        self._this_thread.showing = True
        try:
            super().showtraceback(*args, **kwargs)
        finally:
            self._this_thread.showing = False

    def debugger(self, force: bool = False) -> None:
        """``%pdb`` after an error. When the debugger itself fails (it asks for input,
        and the frontend allows none, as nbclient's), its error is shown once and the
        cell ends with the error it had; it is not debugged in turn. Started by
        ``%debug`` instead, its failure is the cell's error."""
        if not getattr(self._this_thread, "showing", False):
            super().debugger(force)  # type: ignore[no-untyped-call]
            return
        try:
            super().debugger(force)  # type: ignore[no-untyped-call]
        except Exception:
            call_pdb, self.call_pdb = self.call_pdb, False
            try:
                self.showtraceback(exception_only=True)
            finally:
                self.call_pdb = call_pdb

    def execute(
        self, raw_cell: str, store_history: bool, silent: bool, cell_id: str | None = None
    ) -> CellResult:
        """Run a cell for an execute request; return how it ended."""
        self._shown = []
        return self._outcome(self.run_cell(raw_cell, store_history, silent, cell_id=cell_id))

    # IPython 9 added ``cell_meta`` to run_cell; IPython 8 has none, so it travels in
    # ``**kwargs`` (by keyword, as IPython and ipykernel pass it).
    def run_cell(  # type: ignore[override]
        self,
        raw_cell: str,
        store_history: bool = False,
        silent: bool = False,
        shell_futures: bool = True,
        cell_id: str | None = None,
        **kwargs: Any,
    ) -> ExecutionResult:
        """Run one cell through IPython's pipeline, as IPython's ``run_cell`` does,
        minus its copy of every stdout/stderr write into the history's outputs (a
        cost on each write, memory for each byte printed)."""
        failed_transform = None
        try:
            cell = self.transform_cell(raw_cell)
        except Exception:
            cell, failed_transform = raw_cell, sys.exc_info()
        execution = None
        try:
            execution = run_to_end(
                self.run_cell_async(
                    raw_cell,
                    store_history,
                    silent,
                    shell_futures,
                    transformed_cell=cell,
                    preprocessing_exc_tuple=failed_transform,
                    cell_id=cell_id,
                    **kwargs,
                )
            )
        except Exception as err:  # a bug in a hook, not in the cell: shown, not fatal
            execution = ExecutionResult(
                ExecutionInfo(raw_cell, store_history, silent, shell_futures, cell_id)
            )
            execution.error_in_exec = err
            self.showtraceback()
        finally:
            self.events.trigger("post_execute")
            if not silent:
                self.events.trigger("post_run_cell", execution)
        return execution

    def should_run_async(self, raw_cell: str, **_ignored: Any) -> bool:
        """Never: a cell with top-level ``await`` is run by the engine as a task on the
        kernel's event loop, not by IPython's loop runner."""
        return False

    async def run_ast_nodes(
        self,
        nodelist: list[ast.stmt],
        cell_name: str,
        interactivity: str = "last_expr",
        compiler: Any = None,
        result: ExecutionResult | None = None,
    ) -> bool:
        """Run the cell's statements through the engine (IPython's hook for it); True
        if the cell raised. The statements ``interactivity`` picks show their value."""
        if not nodelist:
            return False
        shown = shown_nodes(nodelist, interactivity)
        # The cell's text, as IPython's compiler registered it (another compiler may
        # not have: then the engine finds out about await itself, and ";" is not seen).
        entry = linecache.cache.get(cell_name, ())
        source = "".join(entry[2]) if len(entry) == 4 else ""
        may_await = not source or "await" in source or "async" in source
        # IPython decides ";" at the end of the cell by tokenizing it again for every
        # value shown; decided once here.
        hook = self.displayhook
        quiet = any(shown) and ";" in source and hook.semicolon_at_end_of_expression(source)
        hook.quiet_decided = quiet
        saved_excepthook, sys.excepthook = sys.excepthook, self.excepthook
        self.sys_excepthook = saved_excepthook
        try:
            outcome = self.bridge.run_nodes(nodelist, cell_name, shown, may_await)
        finally:
            sys.excepthook = saved_excepthook
            hook.quiet_decided = None
        error = outcome.error
        if error is None:
            return False
        self._show_error(error, result)
        return True

    def _show_error(self, error: BaseException, result: ExecutionResult | None) -> None:
        """Record and show the error a cell's statements raised, as IPython's
        ``run_code`` does (the engine ran them instead)."""
        exc_tuple = (type(error), error, error.__traceback__)
        if isinstance(error, SyntaxError) and error.__traceback__ is None:
            # A statement that parsed but does not compile (``return`` at top level).
            if result is not None:
                result.error_before_exec = error
            self.showtraceback(exc_tuple)
            return
        if result is not None:
            result.error_in_exec = error
        if isinstance(error, SystemExit):
            self.showtraceback(exc_tuple, exception_only=True)
            warnings.warn("To exit: use 'exit', 'quit', or Ctrl-D.", stacklevel=1)
        elif isinstance(error, bdb.BdbQuit):
            pass  # the debugger was quit: the cell ends there, quietly
        elif isinstance(error, self.custom_exceptions):
            self.CustomTB(*exc_tuple)
        else:
            # The traceback starts at the cell's own frame (no IPython frame to skip).
            self.showtraceback(exc_tuple, tb_offset=0, running_compiled_code=True)

    def _outcome(self, execution: ExecutionResult) -> CellResult:
        """The cell's result: its error with the traceback shown for it; or, if the
        display hook showed a traceback (a failing formatter), that one, since the
        cell's output is then incomplete (ipykernel fails such cells too)."""
        error = execution.error_before_exec
        if error is None:
            error = execution.error_in_exec
        if error is not None:
            for shown, lines, _ in self._shown:
                if shown is error:
                    return CellResult(error, lines, execution)
            return CellResult(error, [], execution)
        for shown, lines, while_displaying in self._shown:
            if while_displaying:
                return CellResult(shown, lines, execution)
        return CellResult(None, [], execution)

    def report_interrupt(self, interrupt: KeyboardInterrupt) -> CellResult:
        """The result of a cell an interrupt stopped in the shell's own code (between
        the cell's end and its bookkeeping): shown, if the cell showed no error."""
        if not self._shown:
            self.showtraceback((type(interrupt), interrupt, interrupt.__traceback__))
        return CellResult(interrupt, self._shown[0][1] if self._shown else [])

    def user_expressions(self, expressions: dict[str, str]) -> dict[str, dict[str, Any]]:
        """Evaluate ``user_expressions`` through the bridge, one result per expression."""
        results: dict[str, dict[str, Any]] = {}
        formatter = self.display_formatter
        assert formatter is not None  # made with the shell (init_display_formatter)
        for key, expression in expressions.items():
            try:
                value = self.bridge.eval(expression)
                data, metadata = formatter.format(value)
                results[key] = {"status": "ok", "data": data, "metadata": metadata}
            except BaseException as err:  # reported per expression, never fails the cell
                results[key] = {
                    "status": "error",
                    "ename": type(err).__name__,
                    "evalue": str(err),
                    "traceback": [],
                }
        return results
