"""The control channel, served on its own thread so it answers while a cell runs.

Interrupt requests (``interrupt_mode: message``) and shutdown requests must work
while the main thread is busy running a cell, so this thread owns the control
socket. It never runs user code: an interrupt is delivered to the main thread as
SIGINT, where the interrupt gate turns it into ``KeyboardInterrupt``; a shutdown is
handed to the main loop through an in-process pipe.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from typing import TYPE_CHECKING, Any

import zmq

from .children import terminate_children
from .interrupts import block_sigint_in_this_thread, interrupt_main_thread

if TYPE_CHECKING:
    from .kernel import Kernel

log = logging.getLogger("pyo3_kernel")

PIPE_ADDRESS = "inproc://pyo3-kernel-control"
# A shutdown waits this long for a running cell to stop after being interrupted.
SHUTDOWN_GRACE = 1.5


class ControlThread(threading.Thread):
    """Answers kernel_info, interrupt and shutdown requests on the control socket."""

    def __init__(self, kernel: Kernel, socket: zmq.Socket, context: zmq.Context) -> None:
        super().__init__(daemon=True, name="control")
        self.kernel = kernel
        self.socket = socket
        self.pipe = context.socket(zmq.PAIR)
        self.pipe.connect(PIPE_ADDRESS)
        self.initial: list[list[bytes]] = []  # read during bootstrap, answered first
        self.handlers = {
            "kernel_info_request": self.kernel_info_request,
            "interrupt_request": self.interrupt_request,
            "shutdown_request": self.shutdown_request,
        }

    def run(self) -> None:
        block_sigint_in_this_thread()
        poller = zmq.Poller()
        poller.register(self.socket, zmq.POLLIN)
        poller.register(self.pipe, zmq.POLLIN)
        try:
            for parts in self.initial:
                self.dispatch(parts)
            while True:
                ready = dict(poller.poll())
                if ready.get(self.pipe):
                    return  # the main loop has ended
                if ready.get(self.socket):
                    self.dispatch()
        finally:
            self.socket.close(linger=1000)
            self.pipe.close(linger=0)

    def dispatch(self, parts: list[bytes] | None = None) -> None:
        self.kernel.dispatch(self.socket, parts, self.handlers)

    def kernel_info_request(
        self, socket: zmq.Socket, idents: list[bytes], msg: dict[str, Any]
    ) -> None:
        self.kernel.reply(socket, idents, msg, self.kernel.kernel_info())

    def interrupt_request(
        self, socket: zmq.Socket, idents: list[bytes], msg: dict[str, Any]
    ) -> None:
        interrupt_main_thread()
        self.kernel.reply(socket, idents, msg, {"status": "ok"})

    def shutdown_request(
        self, socket: zmq.Socket, idents: list[bytes], msg: dict[str, Any]
    ) -> None:
        restart = bool(msg["content"].get("restart", False))
        content = {"status": "ok", "restart": restart}
        self.kernel.reply(socket, idents, msg, content)
        self.kernel.iopub.send("shutdown_reply", content, msg)
        self.pipe.send(b"shutdown")
        if self.kernel.executing:
            interrupt_main_thread()
        watchdog = threading.Timer(SHUTDOWN_GRACE, _exit_now)
        watchdog.daemon = True
        watchdog.start()


def _exit_now() -> None:
    """Last resort when a cell stuck in native code ignores the shutdown's interrupt."""
    log.warning("a cell did not stop after shutdown was requested; exiting")
    terminate_children()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(0)
