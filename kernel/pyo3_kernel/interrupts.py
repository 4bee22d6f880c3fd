"""Interrupts: SIGINT becomes ``KeyboardInterrupt`` in the running cell, and nowhere else.

Python's own handler would raise ``KeyboardInterrupt`` wherever the main thread is,
including halfway through sending a multipart message or between a reply and its
``idle`` status. The gate raises it only while user code runs, and never inside a
*critical* section (a socket send or receive): a signal that arrives there is held
and raised as soon as the section ends. While no cell runs, SIGINT does nothing.

Native code sees the same handler: ``Python::check_signals`` in ``rust_bridge`` runs
it, so long Rust calls stop with ``KeyboardInterrupt`` too.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class InterruptGate:
    """Decides what a SIGINT does, depending on what the main thread is doing.

    While user code runs outside critical sections, Python's own C handler
    (``signal.default_int_handler``) is installed, so the ``KeyboardInterrupt`` it
    raises carries no frame of ours; everywhere else a handler that only takes note.
    """

    def __init__(self) -> None:
        self._main = threading.main_thread()
        self._armed = False
        self._pending = False
        self._critical = 0

    def install(self) -> None:
        self._choose_handler()

    def _hold(self, signum: int, frame: object) -> None:
        if self._armed:
            self._pending = True  # raised when the critical section ends
        # Otherwise idle, or between cells: nothing to interrupt.

    def _choose_handler(self) -> None:
        interruptible = self._armed and not self._critical
        signal.signal(signal.SIGINT, signal.default_int_handler if interruptible else self._hold)

    @contextmanager
    def user_code(self) -> Iterator[None]:
        """SIGINT raises ``KeyboardInterrupt`` inside this block (the cell's run)."""
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
        self._choose_handler()

    @contextmanager
    def critical(self) -> Iterator[None]:
        """Hold interrupts back during a socket operation of the main thread."""
        if threading.current_thread() is not self._main:
            yield
            return
        self._critical += 1
        if self._critical == 1 and self._armed:
            self._choose_handler()
        try:
            yield
        finally:
            self._critical -= 1
            if not self._critical and self._armed:
                self._choose_handler()
        if not self._critical and self._pending and self._armed:
            self._pending = False
            raise KeyboardInterrupt


def interrupt_main_thread() -> None:
    """Deliver SIGINT to the main thread itself, so a blocking call there wakes up."""
    signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)


def block_sigint_in_this_thread() -> None:
    """Helper threads never take SIGINT: the kernel sends it to the main thread."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


# One gate per process: there is one main thread and one SIGINT disposition.
gate = InterruptGate()
