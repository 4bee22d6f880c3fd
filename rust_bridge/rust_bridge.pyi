"""What Python sees of ``rust_bridge``, the engine module a Rust host builds in.

``import rust_bridge`` works in any program that registers it before starting Python;
it is a built-in module (``rust_bridge.__name__ in sys.builtin_module_names``), not a
file.
"""

import ast
from collections.abc import Callable
from types import ModuleType
from typing import Any, final

__all__ = [
    "CellOutcome",
    "Executor",
    "murmur2",
    "json_pack",
    "check_signals",
    "count_primes",
    "sleep",
    "SigintHandler",
    "__version__",
]

__version__: str

# The classes are final: Python code cannot subclass them.

@final
class CellOutcome:
    """What running one cell produced."""

    @property
    def value(self) -> Any:
        """The value of the cell's trailing expression (``None`` if there was none)."""

    @property
    def has_value(self) -> bool:
        """True when the cell ended with an expression that was evaluated."""

    @property
    def error(self) -> BaseException | None:
        """The exception the cell raised; its ``__traceback__`` starts in the cell."""

@final
class Executor:
    """Runs cells on one namespace: a module's ``__dict__``, used as globals and locals.

    Each cell is parsed, its top-level statements are compiled under the cell's
    filename and run (``check_signals`` between them), and a trailing expression is
    evaluated for its value. The cell's text is registered in ``linecache``, so
    tracebacks and ``inspect.getsource`` show its lines. ``from __future__`` imports
    carry over to later cells. The executor has an event loop for each thread running
    cells, that thread's current event loop: a cell with top-level ``await`` runs as
    one task on it (every statement inside the loop); other cells run with it stopped, so
    ``asyncio.run()`` works in them. Context variables a cell sets outlast the cell.
    Rust panics surface as ``RuntimeError``.
    """

    def __new__(cls, module: ModuleType | None = None) -> Executor:
        """Use ``module``'s dict as the namespace (default: the ``__main__`` module)."""

    @property
    def namespace(self) -> dict[str, Any]:
        """The namespace every cell runs in."""

    @property
    def event_loop(self) -> Any:
        """The calling thread's asyncio event loop for cells (a new one if the last was
        closed), made the thread's current event loop. Whoever owns the thread may run
        it between cells, so tasks cells created go on."""

    def release_event_loop(self) -> None:
        """Close and forget the calling thread's event loop (the thread is ending)."""

    def run_cell(self, source: str, filename: str) -> CellOutcome:
        """Run ``source`` as one cell named ``filename``. Errors in the cell are
        returned in ``CellOutcome.error``, never raised."""

    def run_nodes(
        self,
        nodes: list[ast.stmt],
        filename: str,
        interactive: list[bool],
        may_await: bool = True,
    ) -> CellOutcome:
        """Run the statements of a cell already parsed (a shell's transformations
        applied) under ``filename``; statement ``i`` shows its value through
        ``sys.displayhook`` when ``interactive[i]`` (it is compiled as Python's
        interactive prompt compiles a line). ``may_await=False`` promises there is no
        top-level ``await``. The text is not registered in ``linecache`` (the caller
        did). Errors are returned in ``CellOutcome.error``, never raised."""

    def eval(self, expression: str, filename: str = "<expression>") -> Any:
        """Evaluate one expression in the namespace; raises what it raises."""

def murmur2(text: str, seed: int) -> int:
    """MurmurHash2 (32-bit) of ``text`` as UTF-8 (lone surrogates as ``surrogatepass``
    encodes them): the hash a debugger uses to name a piece of code by its content."""

def json_pack(obj: Any, default: Callable[[Any], Any] | None = None) -> bytes:
    """``obj`` as compact UTF-8 JSON, byte for byte what ``json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=default)``
    writes, encoded to UTF-8; long strings are copied, not escaped character by
    character. Raises ``ValueError`` for a string with a lone surrogate (which the
    standard library encodes with ``surrogateescape``), a circular reference or a
    non-finite float, ``TypeError`` for what neither JSON nor ``default`` handles."""

def check_signals() -> None:
    """Raise ``KeyboardInterrupt`` (or what a signal handler raises) if a signal is pending."""

def sleep(seconds: float) -> None:
    """Sleep in Rust with the GIL released, checking for signals every 5 ms: an
    interrupt stops it at once with ``KeyboardInterrupt``. Raises ``ValueError`` for a
    negative or non-finite length."""

def count_primes(limit: int) -> int:
    """Count the primes below ``limit`` (at most 10**13) with a segmented sieve of
    Eratosthenes in Rust, the GIL released. CPU-bound: ``count_primes(2 * 10**9)``
    takes seconds (98,222,287 primes), yet an interrupt stops it within milliseconds
    with ``KeyboardInterrupt``. Raises ``ValueError`` above the limit."""

@final
class SigintHandler:
    """A SIGINT handler for ``signal.signal`` that raises ``KeyboardInterrupt`` with no
    Python frame of its own in the traceback. It first drains the non-blocking wakeup
    pipe whose read end is ``wakeup_fd`` (see ``signal.set_wakeup_fd``), acknowledging
    the signal: bytes left there mean a signal no handler has run for yet."""

    def __new__(cls, wakeup_fd: int = -1) -> SigintHandler: ...
    def __call__(self, signum: int, frame: object) -> None: ...
    def acknowledge(self) -> None:
        """Drain the wakeup pipe without raising (the signal was taken note of)."""
    @property
    def calls(self) -> int:
        """How many times the handler ran."""
