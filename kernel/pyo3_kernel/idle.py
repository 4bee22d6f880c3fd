"""Waiting for the next request while the namespace's event loop runs.

A task a cell starts (``asyncio.get_event_loop().create_task(...)``, a widget's
timer, a library's background coroutine) must go on after the cell, as in ipykernel.
So the kernel waits for requests *inside* the event loop: the ZeroMQ sockets'
descriptors are watched by the loop, and the wait ends when one of them has a
message. Cells themselves run with the loop stopped (so ``asyncio.run()`` works in
them), except cells that ``await``, which run on this same loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import zmq

log = logging.getLogger("pyo3_kernel")


class IdleWaiter:
    """Waits, on an asyncio event loop, for any of ``sockets`` to hold a message.

    When a message arrives while the loop runs for something else (a cell that
    awaits), ``busy`` is called instead, so a comm message an awaiting cell waits for
    can be answered (ipykernel 7 does the same).
    """

    def __init__(self, sockets: list[zmq.Socket], busy: Callable[[], None]) -> None:
        self.sockets = sockets
        self._busy = busy
        self._loop: Any = None
        self._waiting: Any = None  # the future of the wait in progress

    def wait(self, loop: Any, timeout: float | None) -> list[zmq.Socket]:
        """The sockets that have a message, after running ``loop`` until one does or
        ``timeout`` seconds pass (then possibly none)."""
        ready = self._ready()
        if ready:
            return ready
        if loop is not self._loop:
            self._watch(loop)
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
        return self._ready()

    def _watch(self, loop: Any) -> None:
        """Have ``loop`` call back when a socket's state changes (the previous loop was
        closed, or this is the first wait)."""
        for socket in self.sockets:
            loop.add_reader(socket.getsockopt(zmq.FD), self._on_readable)
        self._loop = loop

    def _on_readable(self) -> None:
        # Reading ZMQ_EVENTS (in _ready) also re-arms the socket's descriptor, which
        # ZeroMQ signals only on changes: so it is read on every callback, waiting or not.
        ready = self._ready()
        if not ready:
            return
        if self._waiting is not None:
            _resolve(self._waiting)
        else:
            self._busy()

    def _ready(self) -> list[zmq.Socket]:
        return [s for s in self.sockets if s.getsockopt(zmq.EVENTS) & zmq.POLLIN]


def _resolve(future: Any) -> None:
    if not future.done():
        future.set_result(None)
