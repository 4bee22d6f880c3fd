"""The IPython shell of the kernel: IPython's features, user code run by ``rust_bridge``.

``PyO3Shell`` is ipykernel's ``ZMQInteractiveShell`` (display hook, display publisher,
magics, input transformations, history) with ``run_cell`` replaced: the transformed
cell goes to the Rust executor, which runs its statements and evaluates its trailing
expression on the shared ``__main__`` namespace; the value comes back here to be shown.
"""

from __future__ import annotations

import os
import pdb
import sys
import tempfile
import threading
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ipykernel.zmqshell import ZMQInteractiveShell
from IPython.core import debugger
from IPython.core.displayhook import DisplayHook
from IPython.core.error import UsageError
from IPython.core.interactiveshell import ExecutionInfo, ExecutionResult
from traitlets import Instance, Type

from .display import KernelDisplayFormatter, KernelDisplayHook
from .magics import KernelInfoMagics
from .transforms import KernelTransformerManager


def cell_filename(raw_cell: str, number: int) -> str:
    """A file-like name for a cell, as ipykernel uses (no file is written).

    The text lives in ``linecache``; IPython shows the name as ``Cell In[n]``. A path
    ending in ``.py`` (not ``<...>``) makes tracebacks render lines exactly, comments
    included; the checksum keeps cells that share an execution count apart. Like
    ipykernel, ``IPYKERNEL_CELL_NAME`` in the environment names every cell (test
    suites set it to get the same tracebacks run after run).
    """
    fixed = os.environ.get("IPYKERNEL_CELL_NAME")
    if fixed is not None:
        return fixed
    checksum = zlib.crc32(raw_cell.encode("utf-8", "surrogatepass"))
    return os.path.join(_CELL_DIR, f"cell_{number}_{checksum:08x}.py")


_CELL_DIR = os.path.join(tempfile.gettempdir(), f"pyo3_kernel_{os.getpid()}")


# matplotlib backends (and IPython gui names) that draw in the frontend: no event loop.
NO_EVENT_LOOP = frozenset({None, "inline", "nbagg", "notebook", "webagg", "ipympl", "widget"})


@contextmanager
def use_interruptible_pdb() -> Iterator[None]:
    """``pdb.set_trace()`` and ``breakpoint()`` use IPython's interruptible debugger, as
    in ipykernel: an interrupt at its prompt ends the cell instead of prompting again."""
    saved = (debugger.Pdb, pdb.Pdb, pdb.set_trace)
    debugger.Pdb = debugger.InterruptiblePdb  # type: ignore[misc]
    pdb.Pdb = debugger.InterruptiblePdb  # type: ignore[misc]
    pdb.set_trace = debugger.set_trace
    try:
        yield
    finally:
        debugger.Pdb, pdb.Pdb, pdb.set_trace = saved  # type: ignore[misc]


class CellResult(ExecutionResult):
    """IPython's result of a cell, with the traceback shown for its error (the one
    the execute reply carries)."""

    traceback: list[str] | None = None

    @property
    def error(self) -> BaseException | None:
        return self.error_before_exec or self.error_in_exec


class PyO3Shell(ZMQInteractiveShell):
    """An IPython shell whose cells run through ``rust_bridge.Executor``."""

    displayhook_class = Type(KernelDisplayHook)
    input_transformer_manager = Instance(KernelTransformerManager, ())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        main_module = sys.modules["__main__"]
        super().__init__(*args, user_module=main_module, **kwargs)
        import rust_bridge  # built into the host

        self.bridge = rust_bridge.Executor(main_module)
        self.register_magics(KernelInfoMagics)
        # Cells reach the history database when the kernel is idle (write_history),
        # never from IPython's saving thread in the middle of an execute.
        self.history_manager.db_cache_size = 2**31
        # Per thread (the main shell's, a subshell's): tracebacks shown while its
        # current cell runs, (exception, its lines).
        self._this_thread = threading.local()

    @property
    def _shown(self) -> list[tuple[BaseException, list[str]]]:
        shown = getattr(self._this_thread, "shown", None)
        if shown is None:
            shown = self._this_thread.shown = []
        return shown

    @_shown.setter
    def _shown(self, shown: list[tuple[BaseException, list[str]]]) -> None:
        self._this_thread.shown = shown

    def init_display_formatter(self) -> None:
        self.display_formatter = KernelDisplayFormatter(parent=self)
        self.configurables.append(self.display_formatter)

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

    def history_pending(self) -> bool:
        manager = self.history_manager
        return bool(manager.enabled and (manager.db_input_cache or manager.db_output_cache))

    def write_history(self) -> None:
        """Write cached history to IPython's database (called while the kernel is idle)."""
        if self.history_pending():
            self.history_manager.writeout_cache()

    def _showtraceback(self, etype: type, evalue: BaseException, stb: list[str]) -> None:
        self._shown.append((evalue, list(stb)))
        super()._showtraceback(etype, evalue, stb)

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
            super().debugger(force)
            return
        try:
            super().debugger(force)
        except Exception:
            call_pdb, self.call_pdb = self.call_pdb, False
            try:
                self.showtraceback(exception_only=True)
            finally:
                self.call_pdb = call_pdb

    def run_cell(  # type: ignore[override]
        self,
        raw_cell: str,
        store_history: bool = False,
        silent: bool = False,
        shell_futures: bool = True,
        cell_id: str | None = None,
        **_ignored: Any,
    ) -> CellResult:
        """Run one cell: transform it, run it through the bridge, display its value.
        The result holds the cell's error and the traceback shown for it."""
        self._shown = []
        info = ExecutionInfo(raw_cell, store_history, silent, shell_futures, cell_id)
        result = CellResult(info)
        if not raw_cell or raw_cell.isspace():
            self.last_execution_succeeded = True
            self.last_execution_result = result
            return result
        if silent:
            store_history = False
        number = result.execution_count = self.execution_count
        if store_history:
            self.execution_count += 1

        self.events.trigger("pre_execute")
        if not silent:
            self.events.trigger("pre_run_cell", info)
        try:
            cell = self.transform_cell(raw_cell)
        except Exception as err:
            cell = raw_cell
            result.error_before_exec = err
            self.showtraceback()
            result.traceback = self._traceback_shown_for(err)
        if store_history:
            self.history_manager.store_inputs(number, cell, raw_cell)
        if not silent:
            self.logger.log(cell, raw_cell)

        if result.error_before_exec is None:
            filename = cell_filename(raw_cell, number)
            self.compile._filename_map[filename] = number
            self._run_through_bridge(cell, filename, result, silent)

        self.last_execution_succeeded = result.success
        self.last_execution_result = result
        self.events.trigger("post_execute")
        if not silent:
            self.events.trigger("post_run_cell", result)
        if store_history:
            self.history_manager.store_output(number)
        return result

    def _run_through_bridge(
        self, cell: str, filename: str, result: CellResult, silent: bool
    ) -> None:
        outcome = self.bridge.run_cell(cell, filename)
        error = outcome.error
        if error is None and outcome.has_value and not silent:
            # (No ";" anywhere: nothing to tokenize for.)
            if ";" not in cell or not DisplayHook.semicolon_at_end_of_expression(cell):
                error = self._display(outcome.value, result)
                if error is None:
                    return
        if error is None:
            return
        result.error_in_exec = error
        if isinstance(error, SystemExit):
            self.showtraceback((type(error), error, error.__traceback__), exception_only=True)
            warnings.warn("To exit: use 'exit', 'quit', or Ctrl-D.", stacklevel=1)
        else:
            # A SyntaxError the cell raised while running (ast.parse, a magic), not
            # one in the cell's own text, is shown with its traceback, as in IPython.
            self.showtraceback(
                (type(error), error, error.__traceback__),
                tb_offset=0,
                running_compiled_code=error.__traceback__ is not None,
            )
        result.traceback = self._traceback_shown_for(error)

    def _display(self, value: Any, result: CellResult) -> BaseException | None:
        """Show the cell's value; a formatter that fails (IPython shows its traceback
        and goes on) makes the cell fail, as in ipykernel. Returns an error to show."""
        shown_before = len(self._shown)
        # The value goes into the result here, not through the display hook's
        # ``exec_result`` trait (two trait notifications per cell).
        self.displayhook.quiet_decided = False
        try:
            self.displayhook(value)
            result.result = value
        except BaseException as display_error:  # a result whose repr raises, etc.
            return display_error
        finally:
            self.displayhook.quiet_decided = None
        if len(self._shown) > shown_before:
            result.error_in_exec, result.traceback = self._shown[shown_before]
        return None

    def report_interrupt(self, raw_cell: str, interrupt: KeyboardInterrupt) -> CellResult:
        """The result of a cell an interrupt stopped in the shell's own code (between
        the cell's end and its bookkeeping): shown, if the cell showed no error."""
        result = CellResult(ExecutionInfo(raw_cell, False, False, True, None))
        result.error_in_exec = interrupt
        if not self._shown:
            self.showtraceback((type(interrupt), interrupt, interrupt.__traceback__))
        result.traceback = self._shown[0][1] if self._shown else []
        return result

    def _traceback_shown_for(self, error: BaseException) -> list[str]:
        for shown, lines in self._shown:
            if shown is error:
                return lines
        return []

    def user_expressions(self, expressions: dict[str, str]) -> dict[str, dict[str, Any]]:
        """Evaluate ``user_expressions`` through the bridge, one result per expression."""
        results: dict[str, dict[str, Any]] = {}
        for key, expression in expressions.items():
            try:
                value = self.bridge.eval(expression)
                data, metadata = self.display_formatter.format(value)
                results[key] = {"status": "ok", "data": data, "metadata": metadata}
            except BaseException as err:  # reported per expression, never fails the cell
                results[key] = {
                    "status": "error",
                    "ename": type(err).__name__,
                    "evalue": str(err),
                    "traceback": [],
                }
        return results
