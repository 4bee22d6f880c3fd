"""The control channel, served on its own thread so it answers while a cell runs.

Interrupt requests (``interrupt_mode: message``) and shutdown requests must work
while the main thread is busy running a cell, so this thread owns the control
socket. It never runs user code: an interrupt is delivered to the main thread as
SIGINT, where the interrupt gate turns it into ``KeyboardInterrupt``; a shutdown is
handed to the main loop through an in-process pipe.

Like ipykernel 7, the control channel also takes every shell request (an
``execute_request`` sent on control, say). Those are passed to the main thread, which
runs them before anything queued on the shell channel; their replies come back
through the pipe and leave on the control socket from here, the socket's one thread.
"""

from __future__ import annotations

import logging
import os
import queue
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
# What goes through the pipe (the payloads themselves travel in queues).
SHUTDOWN, REQUEST, REPLY, STOP = b"shutdown", b"request", b"reply", b"stop"

Message = dict[str, Any]


class ControlThread(threading.Thread):
    """Answers kernel_info, interrupt and shutdown requests on the control socket."""

    def __init__(self, kernel: Kernel, socket: zmq.Socket, context: zmq.Context) -> None:
        super().__init__(daemon=True, name="control")
        self.kernel = kernel
        self.socket = socket
        self.pipe = context.socket(zmq.PAIR)
        self.pipe.connect(PIPE_ADDRESS)
        self.initial: list[list[bytes]] = []  # read during bootstrap, answered first
        # Shell requests for the main thread, and the replies it sends back.
        self.requests: queue.SimpleQueue[tuple[list[bytes], Message]] = queue.SimpleQueue()
        self.replies: queue.SimpleQueue[list[Any]] = queue.SimpleQueue()
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
                    if self.pipe.recv() == STOP:
                        return  # the main loop has ended
                    self.socket.send_multipart(self.replies.get())
                if ready.get(self.socket):
                    self.dispatch()
        finally:
            self.socket.close(linger=1000)
            self.pipe.close(linger=0)

    def dispatch(self, parts: list[bytes] | None = None) -> None:
        received = self.kernel.receive(self.socket, parts)
        if received is None:
            return
        idents, msg = received
        msg_type = msg["header"]["msg_type"]
        handler = self.handlers.get(msg_type)
        if handler is not None:
            self.kernel.handle(self.socket, idents, msg, handler, "control")
        elif msg_type in self.kernel.handlers:
            self.requests.put((idents, msg))
            self.pipe.send(REQUEST)
        else:
            log.warning("unknown message type %r on control ignored", msg_type)

    def kernel_info_request(self, socket: zmq.Socket, idents: list[bytes], msg: Message) -> None:
        self.kernel.reply(socket, idents, msg, self.kernel.kernel_info())

    def interrupt_request(self, socket: zmq.Socket, idents: list[bytes], msg: Message) -> None:
        interrupt_main_thread()
        self.kernel.reply(socket, idents, msg, {"status": "ok"})

    def shutdown_request(self, socket: zmq.Socket, idents: list[bytes], msg: Message) -> None:
        restart = bool(msg["content"].get("restart", False))
        content = {"status": "ok", "restart": restart}
        self.kernel.reply(socket, idents, msg, content)
        self.kernel.iopub.send("shutdown_reply", content, msg)
        self.pipe.send(SHUTDOWN)
        if self.kernel.executing:
            interrupt_main_thread()
        watchdog = threading.Timer(SHUTDOWN_GRACE, _exit_now)
        watchdog.daemon = True
        watchdog.start()


class ControlReplies:
    """What the main thread sends replies to when it answers a request that came on
    the control channel: the frames go back to the control thread, which sends them."""

    def __init__(self, control: ControlThread, pipe: zmq.Socket) -> None:
        self._control = control
        self._pipe = pipe

    def send_multipart(
        self, parts: list[Any], flags: int = 0, copy: bool = True, track: bool = False
    ) -> None:
        self._control.replies.put([bytes(part) for part in parts])
        self._pipe.send(REPLY)


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
