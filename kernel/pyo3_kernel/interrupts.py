"""Interrupts: SIGINT becomes ``KeyboardInterrupt`` in the running cell, and nowhere else.

Python's own handler would raise ``KeyboardInterrupt`` wherever the main thread is,
including halfway through sending a multipart message or between a reply and its
``idle`` status. The gate raises it only while user code runs, and never inside a
*critical* section (a socket send or receive): a signal that arrives there is held
and raised as soon as the section ends. While no cell runs, SIGINT does nothing.

Native code sees the same handler: ``Python::check_signals`` in ``rust_bridge`` runs
it, so long Rust calls stop with ``KeyboardInterrupt`` too.

Delivery is also made certain. CPython can miss a signal that lands just before the
main thread enters a blocking call (``time.sleep``, a poll), leaving the interrupt
pending until the call returns, maybe 30 s later. Every signal is written to a wakeup
pipe that only our handlers drain; a watcher thread that sees bytes left unread for
``REDELIVER_AFTER`` while the main thread sleeps in a system call sends SIGINT to the
main thread again, which wakes the blocking call so the pending handler runs. Signals
coalesce until a handler runs, so this does not interrupt twice.
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # signal's C module: typeshed has no stub
import os
import select
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

REDELIVER_AFTER = 0.02  # seconds a signal may stay unhandled before it is sent again
# How long an interrupt that landed in a debugger's code waits for the debugger to
# resume the cell (it takes milliseconds) before it is raised where it is.
DEBUGGER_RESUME_WAIT = 5.0
DEBUGGER_RESEND_EVERY = 0.001
_SIGINT = int(signal.SIGINT)


class InterruptGate:
    """Decides what a SIGINT does, depending on what the main thread is doing.

    While user code runs outside critical sections the handler is
    ``rust_bridge.SigintHandler`` (it raises ``KeyboardInterrupt`` with no frame of
    ours in the traceback); everywhere else ``_hold``, which only takes note.
    """

    def __init__(self) -> None:
        self._main = threading.main_thread()
        self._armed = False
        self._pending = False
        self._critical = 0
        self._installed = False
        self._watcher: threading.Thread | None = None
        # While a debugger traces the main thread: its code's directory, and what to do
        # when an interrupt lands inside it (debugger_attached).
        self._debugger_dir: str | None = None
        self._in_debugger: Callable[[], None] | None = None
        self._debugger_files: dict[str, bool] = {}  # code file -> inside the debugger
        self._deferred_since: float | None = None  # an interrupt waits for the debugger
        self._critical_section = CriticalSection(self)

    def install(self) -> None:
        """Take over SIGINT (main thread only) and start the delivery watcher. Until
        then the gate only keeps count (importing this module changes nothing)."""
        if self._installed:
            return
        if self._watcher is None:
            import rust_bridge  # built into the host

            self._reader, self._writer = socket.socketpair()
            self._reader.setblocking(False)
            self._writer.setblocking(False)
            self._raise = rust_bridge.SigintHandler(self._reader.fileno())
            self._watcher = threading.Thread(
                target=self._redeliver, daemon=True, name="sigint-watch"
            )
            with threads_started_here_ignore_sigint():
                self._watcher.start()
        self._installed = True
        signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        self._choose_handler()

    def release(self) -> None:
        """Give SIGINT back to Python's default handler (an embedded kernel ended)."""
        if not self._installed:
            return
        self._installed = False
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def _hold(self, signum: int, frame: object) -> None:
        self._raise.acknowledge()
        if self._armed:
            self._pending = True  # raised when the critical section ends
        # Otherwise idle, or between cells: nothing to interrupt.

    def _choose_handler(self) -> None:
        if not self._installed:
            return
        handler: Any = self._hold
        if self._armed and not self._critical:
            handler = self._raise if self._debugger_dir is None else self._raise_outside_debugger
        # _signal.signal is what signal.signal wraps (minus converting the previous
        # handler to an enum, which costs an exception per call); like it, it first
        # runs the handler of a signal that is pending.
        _signal.signal(_SIGINT, handler)

    def debugger_attached(self, directory: str, in_debugger: Callable[[], None]) -> None:
        """(Main thread.) A debugger now traces the main thread; its code lives in
        ``directory``. An interrupt must never be raised inside its code (a trace
        function that raises makes Python stop tracing the thread, and the debugger
        would miss every breakpoint after): one that lands there calls
        ``in_debugger()``, which resumes the debugger and interrupts again."""
        self._debugger_dir = os.path.join(os.path.realpath(directory), "")
        self._in_debugger = in_debugger
        self._choose_handler()

    def _raise_outside_debugger(self, signum: int, frame: FrameType | None) -> None:
        """The handler while a debugger traces the main thread: an interrupt that lands
        in the debugger's code (a cell stopped at a breakpoint) has the debugger resume
        the thread, and is sent again until it lands in the cell's code, where it is
        raised (at most DEBUGGER_RESUME_WAIT later: then it is raised wherever it is)."""
        __tracebackhide__ = True  # noqa: F841  (IPython leaves this frame out of tracebacks)
        if self._inside_debugger(frame):
            self._raise.acknowledge()
            now = time.monotonic()
            if self._deferred_since is None:
                self._deferred_since = now
                if self._in_debugger is not None:
                    self._in_debugger()
                resender = threading.Thread(target=self._resend_while_deferred, daemon=True)
                resender.start()
            if now - self._deferred_since < DEBUGGER_RESUME_WAIT:
                return
        self._deferred_since = None
        self._raise(signum, frame)

    def _resend_while_deferred(self) -> None:
        """Send SIGINT to the main thread every millisecond while an interrupt waits
        for the debugger to let go of the cell (not from the handler itself: it would
        run again inside itself)."""
        block_sigint_in_this_thread()
        while self._deferred_since is not None:
            interrupt_main_thread()
            time.sleep(DEBUGGER_RESEND_EVERY)

    def _inside_debugger(self, frame: FrameType | None) -> bool:
        directory = self._debugger_dir
        if directory is None:
            return False
        known = self._debugger_files
        while frame is not None:
            filename = frame.f_code.co_filename
            inside = known.get(filename)
            if inside is None:
                inside = known[filename] = os.path.realpath(filename).startswith(directory)
            if inside:
                return True
            frame = frame.f_back
        return False

    def _ours(self) -> bool:
        handler = signal.getsignal(signal.SIGINT)
        return (
            handler is self._raise
            or handler == self._hold
            or handler == self._raise_outside_debugger
        )

    def _redeliver(self) -> None:
        """Watcher thread: re-send SIGINT while a delivered one stays unhandled."""
        while True:
            select.select([self._reader], [], [])
            if not self._sigint_unread():
                continue
            time.sleep(REDELIVER_AFTER)
            if not self._sigint_unread():
                continue
            if not self._ours():
                self._raise.acknowledge()  # someone else's handler: not ours to repeat
            elif self._main_thread_blocked():
                interrupt_main_thread()
            # Otherwise the main thread is running (Python, or C such as a long regex):
            # it runs the handler when it next checks, and a second signal sent now
            # could land after that as a second interrupt.

    def _main_thread_blocked(self) -> bool:
        """Whether the main thread sleeps in a system call (the case a missed signal
        leaves it in), from /proc; True where /proc cannot tell."""
        try:
            with open(f"/proc/self/task/{self._main.native_id}/stat", "rb") as stat:
                fields = stat.read()
        except OSError:
            return True
        state = fields[fields.rindex(b")") + 2 : fields.rindex(b")") + 3]
        return state == b"S"

    def _sigint_unread(self) -> bool:
        """Whether the wakeup pipe holds a SIGINT no handler has drained. Bytes of
        other signals only (whose handlers do not drain the pipe) are dropped here."""
        try:
            waiting = self._reader.recv(4096, socket.MSG_PEEK)
        except (BlockingIOError, InterruptedError):
            return False
        if signal.SIGINT in waiting:
            return True
        self._raise.acknowledge()
        return False

    @contextmanager
    def user_code(self) -> Iterator[None]:
        """SIGINT raises ``KeyboardInterrupt`` inside this block (the cell's run).
        Nested in another such block (a comm message handled while an awaiting cell
        runs), it leaves the outer block in charge."""
        if self._armed:
            yield
            return
        self._pending = False
        self._armed = True
        self._choose_handler()
        try:
            yield
        finally:
            self.disarm()

    def disarm(self) -> None:
        self._armed = False
        self._pending = False
        self._deferred_since = None
        while True:
            try:
                # signal.signal() first runs a pending handler: a late interrupt of the
                # cell that just ended raises here, and is dropped.
                self._choose_handler()
                return
            except KeyboardInterrupt:
                continue

    def critical(self) -> CriticalSection:
        """Hold interrupts back during a socket operation of the main thread:
        ``with gate.critical(): ...`` (a no-op on other threads)."""
        return self._critical_section

    def _enter_critical(self) -> None:
        if threading.get_ident() != self._main.ident:
            return
        self._critical += 1
        if self._critical == 1 and self._armed:
            try:
                self._choose_handler()
            except KeyboardInterrupt:
                # signal.signal() ran a pending interrupt: hold it for the end of the
                # section, so the caller never sees it before its send is done.
                self._pending = True
                self._choose_handler()

    def _exit_critical(self, raise_pending: bool) -> None:
        if threading.get_ident() != self._main.ident:
            return
        self._critical -= 1
        if self._critical or not self._armed:
            return
        self._choose_handler()  # runs a signal that came during the section: held
        if self._pending and raise_pending:
            self._pending = False
            raise KeyboardInterrupt


class CriticalSection:
    """The context manager of ``InterruptGate.critical`` (a class, not a generator:
    every message sent enters one, so it must cost next to nothing)."""

    __slots__ = ("_gate",)

    def __init__(self, gate: InterruptGate) -> None:
        self._gate = gate

    def __enter__(self) -> None:
        self._gate._enter_critical()

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        # An exception already leaving the section goes on; a held interrupt is
        # raised only when the section ended normally.
        self._gate._exit_critical(raise_pending=exc_type is None)


def interrupt_main_thread() -> None:
    """Deliver SIGINT to the main thread itself, so a blocking call there wakes up."""
    main = threading.main_thread().ident
    assert main is not None  # the main thread has started: it has an ident
    signal.pthread_kill(main, signal.SIGINT)


def block_sigint_in_this_thread() -> None:
    """Helper threads never take SIGINT: the kernel sends it to the main thread."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


@contextmanager
def threads_started_here_ignore_sigint() -> Iterator[None]:
    """Threads inherit their creator's signal mask: ones started in this block (such
    as IPython's history thread) never take a SIGINT meant for the main thread."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


# One gate per process: there is one main thread and one SIGINT disposition.
gate = InterruptGate()
