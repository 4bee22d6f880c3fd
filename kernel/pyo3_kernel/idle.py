"""Waiting for the next request while the namespace's event loop runs.

A task a cell starts (``asyncio.get_event_loop().create_task(...)``, a widget's
timer, a library's background coroutine) must go on after the cell, as in ipykernel.
So the kernel waits for requests *inside* the event loop: the descriptors that signal
a request (ZeroMQ sockets') are watched by the loop, and the wait ends when a request
is there. Cells themselves run with the loop stopped (so ``asyncio.run()`` works in
them), except cells that ``await``, which run on this same loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger("pyo3_kernel")


class IdleWaiter:
    """Waits, on an asyncio event loop, until ``ready()``.

    ``watched()`` names the descriptors whose activity may make it so (ZeroMQ's
    signal only changes: ``ready`` reads the sockets' events, which re-arms them).
    When they signal while the loop runs for something else (a cell that awaits),
    ``busy`` is called instead, so a comm message an awaiting cell waits for can be
    answered (ipykernel 7 does the same).
    """

    def __init__(
        self,
        watched: Callable[[], list[int]],
        ready: Callable[[], bool],
        busy: Callable[[], None],
    ) -> None:
        self._watched = watched
        self._ready = ready
        self._busy = busy
        self._loop: Any = None
        self._fds: list[int] = []
        self._waiting: Any = None  # the future of the wait in progress
        self._nudged = False

    def wait(self, loop: Any, timeout: float | None) -> None:
        """Run ``loop`` until a request is ready or ``timeout`` seconds pass."""
        self.watch(loop)
        if self._ready():
            return
        waiting = self._waiting = loop.create_future()
        timer = None
        if timeout is not None:
            timer = loop.call_later(max(timeout, 0), _resolve, waiting)
        try:
            loop.run_until_complete(waiting)
        except (Exception, KeyboardInterrupt, SystemExit) as err:
            # A task raised out of the loop (SystemExit, say): the kernel goes on.
            log.warning("a background task stopped the event loop: %r", err)
        finally:
            self._waiting = None
            if timer is not None:
                timer.cancel()

    def watch(self, loop: Any) -> None:
        """Have ``loop`` call back on the descriptors now watched (the loop changes if
        the last was closed; the descriptors when subshells come and go). Called
        before every wait and before a cell runs: a cell that awaits must hear of a
        comm message even if the kernel has never waited on this loop yet (a request
        that arrives at start skips the wait)."""
        fds = self._watched()
        if loop is self._loop and fds == self._fds:
            return
        if loop is self._loop:
            for fd in set(self._fds) - set(fds):
                loop.remove_reader(fd)
        for fd in fds:
            loop.add_reader(fd, self._on_readable)
        self._loop, self._fds = loop, fds

    def nudge(self, loop: Any) -> None:
        """Have ``loop`` check once what is ready, just after the next task that starts
        on it (a cell) has run up to its first wait: requests read into an inbox, or
        signalled before the descriptors were watched, make no descriptor readable."""
        if not self._nudged:
            self._nudged = True
            loop.call_soon(loop.call_soon, self._on_nudge)

    def _on_nudge(self) -> None:
        self._nudged = False
        self._on_readable()

    def _on_readable(self) -> None:
        if not self._ready():
            return
        if self._waiting is not None:
            _resolve(self._waiting)
        else:
            self._busy()


def _resolve(future: Any) -> None:
    if not future.done():
        future.set_result(None)
