"""Kernel subshells (JEP 91): more shells on the same namespace, each on its own thread.

A frontend creates one with ``create_subshell_request`` on the control channel and
names it in the ``subshell_id`` of a shell request's header; the request then runs on
that subshell's thread, through the same executor and IPython shell, while the main
shell may be busy (JupyterLab sends widget messages this way, so widgets answer
during a long cell). Each subshell answers its requests one at a time, in order.

A subshell has its own asyncio event loop (as in ipykernel), for its awaiting cells.
Interrupts reach the main shell only (SIGINT is delivered to the main thread), as in
ipykernel: a subshell's cell runs on. Deleting a subshell lets its current request
finish; later requests for it are answered with an UnknownSubshellError.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from typing import TYPE_CHECKING, Any

from .interrupts import block_sigint_in_this_thread

if TYPE_CHECKING:
    from .kernel import Kernel

log = logging.getLogger("pyo3_kernel")

Message = dict[str, Any]
Received = tuple[list[bytes], Message]
# A deleted subshell's thread is waited for this long before the reply goes anyway
# (it ends when its current request does).
DELETE_WAIT = 1.0


class UnknownSubshellError(KeyError):
    """A subshell_id that names no subshell (never created, or deleted)."""

    def __init__(self, subshell_id: str) -> None:
        super().__init__(subshell_id)
        self.subshell_id = subshell_id

    def __str__(self) -> str:
        return f"Unknown subshell_id {self.subshell_id!r}"


class Subshell(threading.Thread):
    """One subshell: a thread answering the requests routed to it, in order."""

    def __init__(self, kernel: Kernel, subshell_id: str) -> None:
        super().__init__(daemon=True, name=f"subshell-{subshell_id}")
        self.kernel = kernel
        self.subshell_id = subshell_id
        self.requests: queue.SimpleQueue[Received | None] = queue.SimpleQueue()

    def run(self) -> None:
        block_sigint_in_this_thread()
        try:
            while (received := self.requests.get()) is not None:
                self.kernel.dispatch_received(received)
        finally:
            self.kernel.shell.bridge.release_event_loop()
            self.kernel.control.subshell_ended()
            self.kernel.relay.release()

    def queued(self) -> list[Received]:
        """The requests waiting now (taken from the queue)."""
        waiting: list[Received] = []
        while True:
            try:
                item = self.requests.get_nowait()
            except queue.Empty:
                return waiting
            if item is None:
                self.requests.put(None)  # deleted: keep the stop for after them
                return waiting
            waiting.append(item)

    def stop(self) -> None:
        self.requests.put(None)


class Subshells:
    """The kernel's subshells, created and deleted by the control thread."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self._lock = threading.Lock()
        self._subshells: dict[str, Subshell] = {}

    def create(self) -> str:
        subshell = Subshell(self.kernel, str(uuid.uuid4()))
        with self._lock:
            self._subshells[subshell.subshell_id] = subshell
        subshell.start()
        return subshell.subshell_id

    def delete(self, subshell_id: str) -> None:
        with self._lock:
            subshell = self._subshells.pop(subshell_id, None)
        if subshell is None:
            raise UnknownSubshellError(subshell_id)
        subshell.stop()
        subshell.join(timeout=DELETE_WAIT)

    def ids(self) -> list[str]:
        with self._lock:
            return list(self._subshells)

    def get(self, subshell_id: str) -> Subshell:
        with self._lock:
            subshell = self._subshells.get(subshell_id)
        if subshell is None:
            raise UnknownSubshellError(subshell_id)
        return subshell

    def alive(self) -> bool:
        """Whether any subshell thread still runs (deleted ones finish their request)."""
        return any(
            thread.is_alive() for thread in threading.enumerate() if isinstance(thread, Subshell)
        )

    def stop_all(self) -> None:
        with self._lock:
            subshells = list(self._subshells.values())
            self._subshells.clear()
        for subshell in subshells:
            subshell.stop()
