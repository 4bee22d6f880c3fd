"""The control channel, served on its own thread so it answers while a cell runs.

Interrupt requests (``interrupt_mode: message``) and shutdown requests must work
while the main thread is busy running a cell, so this thread owns the control
socket. It never runs user code: an interrupt is delivered to the main thread as
SIGINT, where the interrupt gate turns it into ``KeyboardInterrupt``; a shutdown is
handed to the main loop through an in-process pipe.

Like ipykernel 7, the control channel also takes every shell request (an
``execute_request`` sent on control, say). Those are passed to the main thread, which
runs them before anything queued on the shell channel.

Subshells (subshells.py) are created, listed and deleted here. While any exists, this
thread also owns the shell socket (shellport.py) and routes each shell request to the
main shell or to its subshell; replies made on other threads reach it through the
relay (replies.py), and it sends them on the socket they belong to.
"""

from __future__ import annotations

import logging
import os
import queue
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import zmq

from . import replies
from .children import terminate_children
from .interrupts import block_sigint_in_this_thread, interrupt_main_thread
from .subshells import Subshell, UnknownSubshellError
from .usage import UsageMeter

if TYPE_CHECKING:
    from .kernel import Kernel

log = logging.getLogger("pyo3_kernel")

PIPE_ADDRESS = "inproc://pyo3-kernel-control"
WAKE_ADDRESS = "inproc://pyo3-kernel-wake"
# A shutdown waits this long for a running cell to stop after being interrupted.
SHUTDOWN_GRACE = 1.5
# What goes through the pipe (the payloads themselves travel in queues). REWATCH: the
# shell socket changed hands, the main thread must watch other descriptors.
SHUTDOWN, REQUEST, REWATCH, STOP = b"shutdown", b"request", b"rewatch", b"stop"
# CALL: run a function on the main thread (MainThreadCall, in ``calls``).
CALL = b"call"
# Sent through the relay by a subshell thread as it ends.
ENDED = b"ended"
# Comm messages from the frontend go to the shell that last used the comm.
COMM_REPLIES = frozenset({"comm_msg", "comm_close"})

Message = dict[str, Any]


class ControlThread(threading.Thread):
    """Answers control requests; routes shell requests while subshells exist."""

    def __init__(self, kernel: Kernel, socket: zmq.SyncSocket, context: zmq.SyncContext) -> None:
        super().__init__(daemon=True, name="control")
        self.kernel = kernel
        self.socket = socket
        self.pipe = context.socket(zmq.PAIR)
        self.pipe.connect(PIPE_ADDRESS)
        self.wake = context.socket(zmq.PAIR)
        self.wake.connect(WAKE_ADDRESS)
        self.replies = context.socket(zmq.PULL)
        self.replies.bind(replies.ADDRESS)
        self.initial: list[list[bytes]] = []  # read during bootstrap, answered first
        # Shell requests that came on the control channel, for the main thread.
        self.requests: queue.SimpleQueue[tuple[list[bytes], Message]] = queue.SimpleQueue()
        # Functions to run on the main thread (the debugger starts debugpy there).
        self.calls: queue.SimpleQueue[MainThreadCall] = queue.SimpleQueue()
        self._poller = zmq.Poller()
        self.handlers = {
            "kernel_info_request": kernel.kernel_info_request,
            "interrupt_request": self.interrupt_request,
            "shutdown_request": kernel.shutdown_request,
            "create_subshell_request": self.create_subshell_request,
            "delete_subshell_request": self.delete_subshell_request,
            "list_subshell_request": self.list_subshell_request,
            "usage_request": self.usage_request,
            "debug_request": self.debug_request,
        }
        self._usage = UsageMeter()
        self._watched_debugger: set[zmq.SyncSocket] = set()
        self._resumed: queue.SimpleQueue[threading.Event] = queue.SimpleQueue()

    def run(self) -> None:
        block_sigint_in_this_thread()
        poller = self._poller
        for socket in (self.socket, self.pipe, self.replies):
            poller.register(socket, zmq.POLLIN)
        try:
            for parts in self.initial:
                self.dispatch(parts)
            while True:
                ready = dict(poller.poll())
                if ready.get(self.pipe) and self.pipe.recv() == STOP:
                    return  # the main loop has ended
                if ready.get(self.replies):
                    self._send_replies()
                if ready.get(self.kernel.shell_socket):
                    self._route_shell()
                if ready.get(self.socket):
                    self.dispatch()
                debugger_socket = self._debugger_socket
                if debugger_socket is not None and ready.get(debugger_socket):
                    self._safely(self.kernel.debugger_on_readable)
        finally:
            self.kernel.subshells.stop_all()
            if self.kernel.debugger is not None:
                self.kernel.debugger.close()
            self.socket.close(linger=1000)
            for socket in (self.pipe, self.wake, self.replies):
                socket.close(linger=0)

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

    # --- control requests ----------------------------------------------------------
    def interrupt_request(self, socket: zmq.SyncSocket, idents: list[bytes], msg: Message) -> None:
        interrupt_main_thread()
        self.kernel.reply(socket, idents, msg, {"status": "ok"})

    def debug_request(self, socket: zmq.SyncSocket, idents: list[bytes], msg: Message) -> None:
        """The debugger's requests (debugger.py); ``{}`` where debugpy is missing, as
        ipykernel answers."""
        debugger = self.kernel.debugger
        content = debugger.handle(msg["content"]) if debugger is not None else {}
        self.kernel.session.send(socket, "debug_reply", content, msg, ident=idents)
        self._watch_debugger()

    @property
    def _debugger_socket(self) -> zmq.SyncSocket | None:
        debugger = self.kernel.debugger
        return debugger.socket if debugger is not None else None

    def _watch_debugger(self) -> None:
        """Poll debugpy's connection once the debugger has one (events such as a
        thread stopping at a breakpoint arrive when no request is waiting)."""
        socket = self._debugger_socket
        if socket is not None and socket not in self._watched_debugger:
            self._poller.register(socket, zmq.POLLIN)
            self._watched_debugger.add(socket)

    def _safely(self, action: Callable[[], None]) -> None:
        """Run ``action``; an error in it is logged, the control thread goes on."""
        try:
            action()
        except Exception:
            log.exception("debugger: handling debugpy's message failed")

    def resume_debugger(self, timeout: float) -> None:
        """(Main thread.) Have debugpy resume the threads it holds stopped, and wait up
        to ``timeout`` seconds for it: an interrupt ended the cell one was stopped in,
        and a thread debugpy still believes stopped would skip breakpoints from now on
        (ipykernel's jupyterlab#15012)."""
        done = threading.Event()
        self._resumed.put(done)
        self.kernel.relay.send(replies.RESUME_DEBUGGER, [])
        if not done.wait(timeout):
            log.warning("debugger: debugpy did not resume in %.0f s", timeout)

    def _resume_debugger(self) -> None:
        try:
            self._resume_stopped_threads()
        finally:
            while not self._resumed.empty():
                self._resumed.get().set()

    def _interrupt_past_debugger(self) -> None:
        """An interrupt landed in the debugger's code on the main thread (a cell stopped
        at a breakpoint): debugpy resumes the thread, so that the interrupt, which
        interrupts.py keeps sending meanwhile, lands in the cell's own code."""
        self._resume_stopped_threads()

    def _resume_stopped_threads(self) -> None:
        try:
            debugger = self.kernel.debugger
            if debugger is not None:
                debugger.resume_stopped_threads()
        except Exception:
            log.exception("debugger: resuming the stopped threads failed")

    def run_on_main(self, function: Callable[[], Any], timeout: float) -> Any:
        """Run ``function`` on the main thread (between cells) and return its result;
        TimeoutError if the main thread does not get to it in ``timeout`` seconds."""
        call = MainThreadCall(function)
        self.calls.put(call)
        self.pipe.send(CALL)
        return call.result(timeout)

    def stop_kernel(self) -> None:
        """Stop the kernel after a shutdown request answered on this thread: the main
        loop ends (an interrupt stops a running cell; a cell that ignores it is given
        SHUTDOWN_GRACE before the process exits)."""
        self.pipe.send(SHUTDOWN)
        if self.kernel.executing:
            interrupt_main_thread()
        watchdog = threading.Timer(SHUTDOWN_GRACE, _exit_now)
        watchdog.daemon = True
        watchdog.start()

    def create_subshell_request(
        self, socket: zmq.SyncSocket, idents: list[bytes], msg: Message
    ) -> None:
        subshell_id = self.kernel.subshells.create()
        self._start_routing()
        self.kernel.reply(socket, idents, msg, {"status": "ok", "subshell_id": subshell_id})

    def delete_subshell_request(
        self, socket: zmq.SyncSocket, idents: list[bytes], msg: Message
    ) -> None:
        subshell_id = msg["content"].get("subshell_id")
        try:
            self.kernel.subshells.delete(str(subshell_id))
        except UnknownSubshellError as err:
            content = {"status": "error", "ename": type(err).__name__, "evalue": str(err)}
            self.kernel.reply(socket, idents, msg, {**content, "traceback": []})
            return
        self._stop_routing_if_unused()
        self.kernel.reply(socket, idents, msg, {"status": "ok"})

    def list_subshell_request(
        self, socket: zmq.SyncSocket, idents: list[bytes], msg: Message
    ) -> None:
        ids = self.kernel.subshells.ids()
        self.kernel.reply(socket, idents, msg, {"status": "ok", "subshell_id": ids})

    def usage_request(self, socket: zmq.SyncSocket, idents: list[bytes], msg: Message) -> None:
        self.kernel.session.send(socket, "usage_reply", self._usage.usage(), msg, ident=idents)

    # --- the shell socket, while subshells exist -----------------------------------
    def _start_routing(self) -> None:
        port = self.kernel.port
        if port.routed:
            return
        with port.lock:
            port.routed = True
        self._poller.register(self.kernel.shell_socket, zmq.POLLIN)
        self.pipe.send(REWATCH)

    def _stop_routing_if_unused(self) -> None:
        """Give the shell socket back to the main thread once no subshell (not even a
        deleted one finishing its request) is left."""
        port = self.kernel.port
        if not port.routed or self.kernel.subshells.ids():
            return
        for thread in threading.enumerate():
            if isinstance(thread, Subshell) and thread is not threading.current_thread():
                thread.join(timeout=0.5)
        if self.kernel.subshells.alive():
            return  # a deleted subshell still runs a request: when it ends
        with port.lock:
            self._send_replies(handing_back=True)  # the last ones, before it changes hands
            port.routed = False
        self._poller.unregister(self.kernel.shell_socket)
        self.pipe.send(REWATCH)

    def _route_shell(self) -> None:
        """Pass one shell request to the shell it is for."""
        kernel = self.kernel
        received = kernel.receive(kernel.shell_socket)
        if received is None:
            return
        idents, msg = received
        subshell_id = msg["header"].get("subshell_id")
        if msg["header"]["msg_type"] == "kernel_info_request":
            # Nothing of any shell's: answered at once, even while the shell it names
            # is busy (a console opening on a subshell asks this first).
            kernel.handle(kernel.shell_socket, idents, msg, kernel.kernel_info_request, "router")
            return
        if msg["header"]["msg_type"] in COMM_REPLIES:
            subshell_id = kernel.comm_route(msg["content"], subshell_id)
        if subshell_id is None:
            kernel.port.inbox.append(received)
            try:
                self.wake.send(b"", zmq.NOBLOCK)
            except zmq.Again:
                pass  # the main thread has wake-ups enough waiting
            return
        try:
            kernel.subshells.get(subshell_id).requests.put(received)
        except UnknownSubshellError as err:
            kernel.send_unknown_subshell_reply(kernel.shell_socket, idents, msg, err)

    def _send_replies(self, handing_back: bool = False) -> None:
        """Send the replies other threads relayed, on the socket each is for."""
        while True:
            try:
                target, *parts = self.replies.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            if target == replies.CONTROL:
                self.socket.send_multipart(parts)
            elif target == replies.SHELL:
                self.kernel.shell_socket.send_multipart(parts)
            elif target == ENDED and not handing_back:
                self._stop_routing_if_unused()
            elif target == replies.STOP_KERNEL:
                self.stop_kernel()
            elif target == replies.RESUME_DEBUGGER:
                self._resume_debugger()
            elif target == replies.INTERRUPT_IN_DEBUGGER:
                self._interrupt_past_debugger()

    def subshell_ended(self) -> None:
        """Called on a subshell's thread as it ends."""
        self.kernel.relay.send(ENDED, [])


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


class MainThreadCall:
    """A function the control thread has the main thread run (``Kernel._from_control``)."""

    def __init__(self, function: Callable[[], Any]) -> None:
        self._function = function
        self._done = threading.Event()
        self._value: Any = None
        self._error: BaseException | None = None

    def run(self) -> None:
        """Run it (on the main thread) and hand the outcome back."""
        try:
            self._value = self._function()
        except BaseException as err:  # handed to the waiting thread, which raises it
            self._error = err
        finally:
            self._done.set()

    def result(self, timeout: float) -> Any:
        if not self._done.wait(timeout):
            raise TimeoutError("the main thread is busy (a cell is running)")
        if self._error is not None:
            raise self._error
        return self._value
