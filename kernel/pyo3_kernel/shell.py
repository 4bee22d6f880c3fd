"""The IPython shell of the kernel: IPython's features, user code run by ``rust_bridge``.

``PyO3Shell`` is ipykernel's ``ZMQInteractiveShell`` (display hook, display publisher,
magics, input transformations, history) with ``run_cell`` replaced: the transformed
cell goes to the Rust executor, which runs its statements and evaluates its trailing
expression on the shared ``__main__`` namespace; the value comes back here to be shown.
"""

from __future__ import annotations

import os
import sys
import tempfile
import warnings
import zlib
from typing import Any

from ipykernel.zmqshell import ZMQInteractiveShell
from IPython.core.displayhook import DisplayHook
from IPython.core.error import UsageError
from IPython.core.interactiveshell import ExecutionInfo, ExecutionResult
from traitlets import Instance, Type

import rust_bridge

from .display import KernelDisplayFormatter, KernelDisplayHook
from .magics import KernelInfoMagics
from .transforms import KernelTransformerManager


def cell_filename(raw_cell: str, number: int) -> str:
    """A file-like name for a cell, as ipykernel uses (no file is written).

    The text lives in ``linecache``; IPython shows the name as ``Cell In[n]``. A path
    ending in ``.py`` (not ``<...>``) makes tracebacks render lines exactly, comments
    included; the checksum keeps cells that share an execution count apart.
    """
    checksum = zlib.crc32(raw_cell.encode("utf-8", "surrogatepass"))
    return os.path.join(_CELL_DIR, f"cell_{number}_{checksum:08x}.py")


_CELL_DIR = os.path.join(tempfile.gettempdir(), f"pyo3_kernel_{os.getpid()}")


class PyO3Shell(ZMQInteractiveShell):
    """An IPython shell whose cells run through ``rust_bridge.Executor``."""

    displayhook_class = Type(KernelDisplayHook)
    input_transformer_manager = Instance(KernelTransformerManager, ())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        main_module = sys.modules["__main__"]
        super().__init__(*args, user_module=main_module, **kwargs)
        self.bridge = rust_bridge.Executor(main_module)
        self.register_magics(KernelInfoMagics)
        # Cells reach the history database when the kernel is idle (write_history),
        # never from IPython's saving thread in the middle of an execute.
        self.history_manager.db_cache_size = 2**31
        # The first error shown while the current cell ran, and its traceback lines.
        self.cell_error: BaseException | None = None
        self.cell_traceback: list[str] = []

    def init_display_formatter(self) -> None:
        self.display_formatter = KernelDisplayFormatter(parent=self)
        self.configurables.append(self.display_formatter)

    def init_sys_modules(self) -> None:
        # The namespace *is* __main__'s dict, so there is nothing to swap in.
        pass

    def enable_gui(self, gui: str | None = None) -> None:
        """Inline output needs no GUI event loop; GUI loops (qt, tk, ...) are not
        integrated with this kernel's loop."""
        if gui not in (None, "inline"):
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
        if self.cell_error is None:
            self.cell_error = evalue
            self.cell_traceback = list(stb)
        super()._showtraceback(etype, evalue, stb)

    def run_cell(  # type: ignore[override]
        self,
        raw_cell: str,
        store_history: bool = False,
        silent: bool = False,
        shell_futures: bool = True,
        cell_id: str | None = None,
        **_ignored: Any,
    ) -> ExecutionResult:
        """Run one cell: transform it, run it through the bridge, display its value."""
        self.cell_error = None
        self.cell_traceback = []
        self._last_traceback = None
        self._last_traceback_during_displayhook = False
        info = ExecutionInfo(raw_cell, store_history, silent, shell_futures, cell_id)
        result = ExecutionResult(info)
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
            self.showtraceback()
            result.error_before_exec = err
        if store_history:
            self.history_manager.store_inputs(number, cell, raw_cell)
        if not silent:
            self.logger.log(cell, raw_cell)

        if result.error_before_exec is None:
            filename = cell_filename(raw_cell, number)
            self.compile._filename_map[filename] = number
            with self.builtin_trap, self.display_trap:
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
        self, cell: str, filename: str, result: ExecutionResult, silent: bool
    ) -> None:
        outcome = self.bridge.run_cell(cell, filename)
        error = outcome.error
        if error is None and outcome.has_value and not silent:
            # (No ";" anywhere: nothing to tokenize for.)
            if ";" not in cell or not DisplayHook.semicolon_at_end_of_expression(cell):
                # The value goes into the result here, not through the display hook's
                # ``exec_result`` trait (two trait notifications per cell).
                self.displayhook.quiet_decided = False
                try:
                    self.displayhook(outcome.value)
                    result.result = outcome.value
                except BaseException as display_error:  # a result whose repr raises, etc.
                    error = display_error
                finally:
                    self.displayhook.quiet_decided = None
        if error is None and self.cell_error is not None:
            # A formatter failed and IPython already showed its traceback.
            result.error_in_exec = self.cell_error
            return
        if error is None:
            return
        result.error_in_exec = error
        if isinstance(error, SystemExit):
            self.showtraceback((type(error), error, error.__traceback__), exception_only=True)
            warnings.warn("To exit: use 'exit', 'quit', or Ctrl-D.", stacklevel=1)
        else:
            self.showtraceback((type(error), error, error.__traceback__), tb_offset=0)

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
