"""The kernel: one thread that reads requests and answers them, sending IOPub inline.

One handler per request type behind a table, like ipykernel, but no threads, queues
or waiting flushes on the execute path: a shell request is read, and its busy,
outputs, reply and idle are sent from this thread as they happen. The control
channel has a thread of its own (control.py), so interrupts and shutdowns are
answered while a cell runs; subshells have theirs (subshells.py), and while one
exists the control thread routes the shell channel (shellport.py). While idle, the
kernel waits inside the namespace's event loop, so tasks cells started go on (idle.py).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any, cast

import zmq

from . import comms, debugger, info, introspection, ipykernel_marks, wire
from .control import CALL, PIPE_ADDRESS, REQUEST, SHUTDOWN, STOP, WAKE_ADDRESS, ControlThread
from .fdcapture import FdCapture
from .idle import IdleWaiter
from .interrupts import gate, threads_started_here_ignore_sigint
from .iopub import IOPub
from .iostream import OutStream, StreamBuffer
from .pubsocket import LockedSocket
from .replies import CONTROL, INTERRUPT_IN_DEBUGGER, STOP_KERNEL, Relay, RelayedSocket
from .shell import CellResult, PyO3Shell, use_interruptible_pdb
from .shellport import Received, ShellPort
from .stdin import StdinForwarder
from .subshells import Subshell, Subshells, UnknownSubshellError

if TYPE_CHECKING:
    from .session import KernelSession
    from .shellapp import KernelShellApp

# After `exit()` the kernel lives this long, as ipykernel does, so clients (jupyter
# console) read the reply and its `ask_exit` payload while the process is alive.
EXIT_GRACE = 0.1
# History goes to IPython's sqlite database once the kernel has been idle this long,
# not on the execute path (an INSERT + COMMIT per cell costs more than the cell).
HISTORY_WRITE_IDLE = 0.2
# Messages handled even while an awaiting cell runs (it may wait for a widget's reply).
COMM_MESSAGES = frozenset({"comm_open", "comm_msg", "comm_close"})
# A reply waits at most this long for a frontend's echoes of captured outputs, and
# stops waiting when none has come for ECHO_QUIET (outputcapture.py).
ECHO_WAIT = 1.0
ECHO_QUIET = 0.05
log = logging.getLogger("pyo3_kernel")

Message = dict[str, Any]
Handler = Callable[[Any, list[bytes], Message], None]


class Kernel:
    """Serves the shell channel of one kernel process (control: see ControlThread)."""

    implementation = info.IMPLEMENTATION

    def __init__(
        self,
        session: KernelSession,
        sockets: dict[str, zmq.SyncSocket],
        context: zmq.SyncContext,
        iopub: LockedSocket,
        shell_app: KernelShellApp,
        ports: dict[str, int] | None = None,
    ) -> None:
        self.session = session
        self.shell_socket = sockets["shell"]
        self.iopub = IOPub(session, iopub)
        # Code written for ipykernel sends with `kernel.session` on `kernel.iopub_socket`.
        self.iopub_socket = self.iopub.socket
        self.ports = dict(ports or {})
        self.eventloop = None  # ZMQInteractiveShell asks for it when exiting
        self.connection_file: str | None = None  # for %connect_info
        self.executing = False  # a cell is running (read by the control thread)
        self._running = True
        self._exit_at: float | None = None  # set when exit() runs in a cell
        # The request being answered on each channel, and its sender's ZeroMQ identities
        # (ipykernel's get_parent(channel) and _parent_ident, which libraries read).
        self._parents: dict[str, Message] = {"shell": {}, "control": {}}
        self._parent_ident: dict[str, list[bytes]] = {"shell": [], "control": []}
        self._main_ident = threading.get_ident()
        self._pipe = context.socket(zmq.PAIR)
        self._pipe.bind(PIPE_ADDRESS)
        wake = context.socket(zmq.PAIR)
        wake.bind(WAKE_ADDRESS)
        self.relay = Relay(context)
        self.port = ShellPort(self.shell_socket, self.relay, self._parse, wake)
        self.subshells = Subshells(self)
        self.control = ControlThread(self, sockets["control"], context)
        self.control_replies = RelayedSocket(self.relay, CONTROL)
        self.stdin = StdinForwarder(self, sockets["stdin"])

        with threads_started_here_ignore_sigint():
            self.output = StreamBuffer(self.iopub)
            sys.stdout = OutStream(self.output, "stdout", 1)
            sys.stderr = OutStream(self.output, "stderr", 2)
            ipykernel_marks.mark_stream_class(OutStream)
            self.fd_captures = [FdCapture(sys.stdout, 1), FdCapture(sys.stderr, 2)]
            sys.stdout.original_fd = self.fd_captures[0].original
            sys.stderr.original_fd = self.fd_captures[1].original
            self.shell = PyO3Shell.instance(
                kernel=self, parent=shell_app, profile_dir=shell_app.profile_dir
            )
        for publisher in (self.shell.displayhook, self.shell.display_pub):
            publisher.session = session
            publisher.pub_socket = self.iopub.socket
        # (ipykernel declares ``topic = None``; its own app sets bytes here too.)
        self.shell.displayhook.topic = self.iopub.topic("execute_result")  # type: ignore[assignment]
        self.stdin.install()
        self.comm_manager = comms.install(self)
        self.debugger = self._make_debugger(context) if info.debugger_available() else None
        self.idle = IdleWaiter(self._watched, self._ready, self._while_awaiting)
        # IPython's builtins (get_ipython, exit, quit) and display hook stay in place
        # for the kernel's life, instead of being swapped in and out around every cell
        # (twice per cell, with the transformation step); close() gives them back.
        self._traps = ExitStack()
        self._traps.enter_context(self.shell.builtin_trap)
        self._traps.enter_context(self.shell.display_trap)
        self._traps.enter_context(use_interruptible_pdb())

        self.handlers: dict[str, Handler] = {
            "execute_request": self.execute_request,
            "kernel_info_request": self.kernel_info_request,
            "connect_request": self.connect_request,
            "complete_request": self._answer(introspection.complete),
            "inspect_request": self._answer(introspection.inspect),
            "is_complete_request": self._answer(introspection.is_complete),
            "history_request": self._answer(introspection.history),
            "comm_info_request": self.comm_info_request,
            "comm_open": self._comm_handler(self.comm_manager.comm_open),
            "comm_msg": self._comm_handler(self.comm_manager.comm_msg),
            "comm_close": self._comm_handler(self.comm_manager.comm_close),
            "shutdown_request": self.shutdown_request,
        }

    def close(self) -> None:
        """Give back what the kernel took over: file descriptors 1 and 2, ``input``,
        the builtins, display hook and pdb IPython installed."""
        self.subshells.stop_all()
        for capture in self.fd_captures:
            capture.restore()
        self.stdin.uninstall()
        self._traps.close()
        self.relay.release()
        self.port.wake.close(linger=0)

    # --- the loop ------------------------------------------------------------------
    def run(self, held: Sequence[tuple[zmq.SyncSocket, list[bytes]]] = ()) -> None:
        """Serve requests until a shutdown request (or ``exit()``) ends the kernel.
        ``held`` are messages read during bootstrap, answered first."""
        gate.install()
        for socket, parts in held:
            if socket is self.shell_socket:
                # Queued, not answered here: a held cell that awaits a comm message
                # held behind it must be able to take that message (_while_awaiting).
                if (received := self._parse(parts)) is not None:
                    self.port.inbox.append(received)
            else:
                self.control.initial.append(parts)
        self.control.start()
        try:
            while self._running:
                if self._pipe_has_message():
                    if not self._from_control():
                        break  # the control thread took a shutdown request
                    continue
                received = self.port.take()
                if received is not None:
                    self.dispatch_received(received)
                    continue
                timeout = self._wait_timeout()
                if timeout is not None and timeout <= 0:
                    break  # exit() grace period over
                self.idle.wait(self.shell.bridge.event_loop, timeout)
                if not self._ready():
                    self.shell.write_history()
        finally:
            self._pipe.send(STOP)
            self.control.join(timeout=2)
            self._pipe.close(linger=0)

    def _wait_timeout(self) -> float | None:
        """Seconds to wait for a request: until exit() takes effect, until history
        is due to be written, or forever."""
        if self._exit_at is not None:
            return self._exit_at - time.monotonic()
        if self.shell.history_pending():
            return HISTORY_WRITE_IDLE
        return None

    def _watched(self) -> list[int]:
        pipe = cast(int, self._pipe.getsockopt(zmq.FD))  # (FD is an int option)
        return [pipe, *self.port.watched()]

    def _ready(self) -> bool:
        """Whether the control thread or a client has something for the main shell."""
        return self._pipe_has_message() or self.port.ready()

    def _while_awaiting(self) -> None:
        """Shell messages that arrive while a cell awaits: comm messages are handled at
        once (the cell may be waiting for a widget's reply); the others wait their
        turn."""
        if not self.executing:
            return
        later: list[Received] = []
        while (received := self.port.take()) is not None:
            if received[1]["header"]["msg_type"] in COMM_MESSAGES:
                self._handle_comm_now(received)
            else:
                later.append(received)
        self.port.inbox.extendleft(reversed(later))

    def _handle_comm_now(self, received: tuple[list[bytes], Message]) -> None:
        """Handle a comm message ahead of its turn, in the middle of a request (whose
        parent stays the shell's afterwards)."""
        cell, cell_ident = self.shell.get_parent(), self._parent_ident["shell"]
        try:
            self.dispatch_received(received)
        finally:
            self.shell.set_parent(cell)
            self._parent_ident["shell"] = cell_ident

    def _await_capture_echoes(self, msg: Message) -> None:
        """Before replying to a cell whose outputs an Output widget captured, take in
        the frontend's echoes of them (outputcapture.py says why); bounded."""
        expected = self.iopub.captures.take(msg["header"]["msg_id"])
        deadline = time.monotonic() + ECHO_WAIT
        later: list[Received] = []
        while expected > 0:
            quiet = min(ECHO_QUIET, deadline - time.monotonic())
            if quiet <= 0 or not self.port.poll(quiet):
                break  # this frontend does not echo (or has stopped)
            received = self.port.take()
            if received is None:
                continue
            echo = received[1]
            if echo["header"]["msg_type"] not in COMM_MESSAGES:
                later.append(received)
                continue
            if echo.get("parent_header", {}).get("msg_id") == msg["header"]["msg_id"]:
                expected -= 1
            self._handle_comm_now(received)
        self.port.inbox.extendleft(reversed(later))

    def _pipe_has_message(self) -> bool:
        return wire.readable(self._pipe)

    def _from_control(self) -> bool:
        """Handle what the control thread sent: a request that came on the control
        channel (answered before queued shell requests, as ipykernel does), or a
        shutdown (False)."""
        signal = self._pipe.recv()
        wire.readable(self._pipe)  # re-arms its descriptor
        if signal == SHUTDOWN:
            return False
        if signal == CALL:
            self.control.calls.get().run()
        elif signal == REQUEST:
            idents, msg = self.control.requests.get()
            handler = self.handlers[msg["header"]["msg_type"]]
            self.shell.set_parent(msg)  # its output belongs to it, as a shell request's
            self.handle(self.control_replies, idents, msg, handler, "control")
        return True  # (or the watched descriptors changed: the next wait sees to it)

    def receive(
        self, socket: zmq.SyncSocket, parts: list[Any] | None = None
    ) -> tuple[list[bytes], Message] | None:
        """Read (unless ``parts`` were read already) and verify one message; invalid
        ones are logged and dropped."""
        if parts is None:
            try:
                with gate.critical():
                    parts = wire.recv_multipart(socket, zmq.NOBLOCK)
                    wire.readable(socket)  # re-arms its descriptor (idle.py)
            except zmq.Again:
                return None
        return self._parse(parts)

    def _parse(self, parts: list[Any]) -> Received | None:
        """Verify one message; invalid ones are logged and dropped."""
        try:
            idents, frames = self.session.feed_identities(parts)
            msg = self.session.deserialize(frames)
        except Exception as err:  # bad signature, truncated or malformed frames
            log.warning("dropped an invalid message: %s", err)
            return None
        header = msg.get("header")
        if not isinstance(header, dict) or not isinstance(msg.get("content"), dict):
            log.warning("dropped a message without a header or content")
            return None
        if not isinstance(header.get("msg_type"), str):
            log.warning("dropped a message whose msg_type is not a string")
            return None
        return idents, msg

    def dispatch_received(self, received: Received) -> None:
        """Answer one shell request, on the main shell's thread or a subshell's."""
        idents, msg = received
        header = msg["header"]
        msg_type = header["msg_type"]
        subshell_id = header.get("subshell_id")
        if subshell_id is not None and self._subshell() is None:
            try:
                self.subshells.get(subshell_id)  # routed here on purpose (a comm reply)
            except UnknownSubshellError as err:
                self.send_unknown_subshell_reply(self.port, idents, msg, err)
                return
        handler = self.handlers.get(msg_type)
        if handler is None:
            log.warning("unknown message type %r ignored", msg_type)
            return
        self.handle(self.port, idents, msg, handler, "shell")

    def send_unknown_subshell_reply(
        self, socket: Any, idents: list[bytes], msg: Message, err: UnknownSubshellError
    ) -> None:
        """A request for a subshell that is not there is answered with an error, between
        busy and idle (a comm message has no reply: the idle is all a client sees)."""
        log.warning("cannot handle %s: %s", msg["header"]["msg_type"], err)
        self.iopub.status("busy", msg)
        content: dict[str, Any] = {
            "status": "error",
            "ename": type(err).__name__,
            "evalue": str(err),
        }
        content["traceback"] = []
        msg_type = msg["header"]["msg_type"].rsplit("_", 1)[0] + "_reply"
        self.session.send(
            socket, msg_type, content, msg, ident=idents, metadata={"status": "error"}
        )
        self.iopub.status("idle", msg)

    def _subshell(self) -> Subshell | None:
        """The subshell whose thread this is (None on the main shell's)."""
        thread = threading.current_thread()
        return thread if isinstance(thread, Subshell) else None

    def handle(
        self, socket: Any, idents: list[bytes], msg: Message, handler: Handler, channel: str
    ) -> None:
        """Answer one request with ``handler``, between busy and idle statuses. Output
        produced meanwhile belongs to it."""
        if channel in self._parents:  # (not for a request the router answers itself)
            self._parents[channel] = msg
            self._parent_ident[channel] = idents
        if channel == "shell":
            self.shell.set_parent(msg)
        self.iopub.status("busy", msg)
        try:
            handler(socket, idents, msg)
        except Exception as err:
            log.error("error handling %s:\n%s", msg["header"]["msg_type"], traceback.format_exc())
            self.send_error_reply(socket, idents, msg, err)
        finally:
            self.iopub.status("idle", msg)

    def get_parent(self, channel: str | None = None) -> Message:
        """The request being answered on ``channel`` (default: the shell's, as seen
        from this thread or task, which ``set_thread_parent`` can change)."""
        if channel == "control":
            return self._parents["control"]
        parent: Message = self.shell.get_parent()  # (ipykernel's method is unannotated)
        return parent

    def reply(
        self, socket: Any, idents: list[bytes], parent: Message, content: dict[str, Any]
    ) -> None:
        msg_type = parent["header"]["msg_type"].replace("_request", "_reply")
        metadata = {"status": content.get("status", "ok")}
        self.session.send(socket, msg_type, content, parent, ident=idents, metadata=metadata)

    def send_error_reply(
        self, socket: Any, idents: list[bytes], parent: Message, err: BaseException
    ) -> None:
        content: dict[str, Any] = {
            "status": "error",
            "ename": type(err).__name__,
            "evalue": str(err),
            "traceback": traceback.format_exception(err),
        }
        if parent["header"]["msg_type"] == "execute_request":
            content["execution_count"] = self.shell.execution_count
        self.reply(socket, idents, parent, content)

    def _answer(self, answer: Callable[[PyO3Shell, dict[str, Any]], dict[str, Any]]) -> Handler:
        """A handler that replies with ``answer(shell, content)``."""

        def handler(socket: Any, idents: list[bytes], msg: Message) -> None:
            self.reply(socket, idents, msg, answer(self.shell, msg["content"]))

        return handler

    # --- execution -----------------------------------------------------------------
    def execute_request(self, socket: Any, idents: list[bytes], msg: Message) -> None:
        content = msg["content"]
        code = content.get("code")
        if not isinstance(code, str):
            raise TypeError(
                f"execute_request needs 'code' to be a string, got {type(code).__name__}"
            )
        silent = bool(content.get("silent", False))
        store_history = bool(content.get("store_history", not silent))
        shell = self.shell
        if not silent:
            self.iopub.send(
                "execute_input", {"code": code, "execution_count": shell.execution_count}, msg
            )
        self.stdin.set_parent(idents, msg, bool(content.get("allow_stdin", False)))
        started = wire.now_iso()
        result = self._run_cell(code, store_history, silent, msg)
        if isinstance(result.error, KeyboardInterrupt) and self._debugger_holds_a_thread():
            self.control.resume_debugger(timeout=debugger.REQUEST_TIMEOUT)
        for capture in self.fd_captures:
            capture.drain()
        sys.stdout.flush()
        sys.stderr.flush()

        error = result.error
        reply: dict[str, Any] = {"execution_count": shell.execution_count - 1}
        if error is None:
            reply["status"] = "ok"
            reply["user_expressions"] = shell.user_expressions(
                content.get("user_expressions") or {}
            )
        else:
            reply.update(
                status="error",
                ename=type(error).__name__,
                evalue=str(error),
                traceback=result.traceback,
                user_expressions={},
            )
        payloads = shell.payload_manager
        assert payloads is not None  # made with the shell (init_payload)
        reply["payload"] = payloads.read_payload()
        if reply["payload"]:
            payloads.clear_payload()
        subshell = self._subshell()
        queued: list[Received] = []
        if error is not None and not silent and content.get("stop_on_error", True):
            # Requests already queued behind the failed cell are aborted, answered
            # after the error reply (as ipykernel orders them). They are read before
            # the reply is sent, so a request sent after the client saw the error is
            # never among them.
            queued = subshell.queued() if subshell is not None else self._read_queued()
        if subshell is None:
            self._await_capture_echoes(msg)
        metadata = {"started": started, "dependencies_met": True, "status": reply["status"]}
        self.session.send(socket, "execute_reply", reply, msg, ident=idents, metadata=metadata)
        self._abort(queued)
        if shell.exit_now and self._exit_at is None and subshell is None:
            self._exit_at = time.monotonic() + EXIT_GRACE

    def _run_cell(self, code: str, store_history: bool, silent: bool, msg: Message) -> CellResult:
        """Run the cell with interrupts enabled (on the main shell; a subshell's cell
        is not interrupted); its result holds the error it ended with, if any."""
        shell = self.shell
        cell_id = (msg.get("metadata") or {}).get("cellId")
        if threading.get_ident() != self._main_ident:
            return shell.execute(code, store_history, silent, cell_id)
        # If the cell awaits, the loop hears of shell messages (a comm message the cell
        # waits for) from the descriptors; one already waiting (read into the inbox at
        # start-up, or signalled before the descriptors were watched) is looked at once
        # the cell has started.
        loop = shell.bridge.event_loop
        self.idle.watch(loop)
        if self.port.ready():
            self.idle.nudge(loop)
        self.executing = True
        try:
            with gate.user_code():
                return shell.execute(code, store_history, silent, cell_id)
        except KeyboardInterrupt as interrupt:  # landed in the shell, outside user code
            gate.disarm()
            return shell.report_interrupt(interrupt)
        finally:
            self.executing = False

    def _read_queued(self) -> list[Received]:
        """The main shell's requests waiting now."""
        queued = []
        while (received := self.port.take()) is not None:
            queued.append(received)
        return queued

    def _abort(self, queued: list[Received]) -> None:
        """Answer execute requests with status 'aborted'; other requests normally."""
        for received in queued:
            idents, msg = received
            if msg["header"]["msg_type"] == "execute_request":
                self.handle(self.port, idents, msg, self._aborted, "shell")
            else:
                self.dispatch_received(received)

    def _aborted(self, socket: Any, idents: list[bytes], msg: Message) -> None:
        self.reply(socket, idents, msg, {"status": "aborted"})

    # --- kernel info ---------------------------------------------------------------
    def kernel_info_request(self, socket: Any, idents: list[bytes], msg: Message) -> None:
        self.reply(socket, idents, msg, self.kernel_info())

    def kernel_info(self) -> dict[str, Any]:
        return info.kernel_info(debugger=self.debugger is not None)

    # --- the debugger (debugger.py; its requests come on the control thread) --------
    def _make_debugger(self, context: zmq.SyncContext) -> debugger.Debugger:
        # What the kernel itself loaded (before any cell): never stepped into.
        kernel_paths = [
            path
            for module in list(sys.modules.values())
            if isinstance(path := getattr(module, "__file__", None), str)
        ]
        return debugger.Debugger(
            context,
            publish=self._publish_debug_event,
            run_on_main=lambda function: self.control.run_on_main(
                function, debugger.LISTEN_TIMEOUT
            ),
            namespace=lambda: self.shell.user_ns,
            rich_value=lambda name: self.shell.user_expressions({name: name})[name],
            set_keep_leading_lines=self.shell.keep_leading_empty_lines,
            kernel_paths=kernel_paths,
            traced=lambda directory: gate.debugger_attached(
                directory, lambda: self.relay.send(INTERRUPT_IN_DEBUGGER, [])
            ),
        )

    def _debugger_holds_a_thread(self) -> bool:
        return self.debugger is not None and bool(self.debugger.stopped_threads)

    def _publish_debug_event(self, event: dict[str, Any]) -> None:
        self.iopub.send("debug_event", event, self.get_parent("control"))

    def debugger_on_readable(self) -> None:
        if self.debugger is not None:
            self.debugger.on_readable()

    def connect_request(self, socket: Any, idents: list[bytes], msg: Message) -> None:
        """The ports of this kernel's channels (an old request some clients send)."""
        content: dict[str, Any] = {f"{name}_port": port for name, port in self.ports.items()}
        content["status"] = "ok"
        self.reply(socket, idents, msg, content)

    def comm_route(self, content: dict[str, Any], subshell_id: str | None) -> str | None:
        """The shell a comm message from the frontend goes to (control thread)."""
        return comms.reply_route(self.comm_manager, content, subshell_id)

    def comm_info_request(self, socket: Any, idents: list[bytes], msg: Message) -> None:
        target = msg["content"].get("target_name")
        self.reply(socket, idents, msg, comms.comm_info(self.comm_manager, target))

    def _comm_handler(self, handle: Callable[[Any, Any, Message], None]) -> Handler:
        """Comm messages run user callbacks: outputs go to this message, interrupts
        stop the callback, not the kernel."""

        def handler(socket: Any, idents: list[bytes], msg: Message) -> None:
            if self.executing or threading.get_ident() != self._main_ident:
                # Handled while an awaiting cell runs (an interrupt is the cell's), or
                # on a subshell (never interrupted).
                try:
                    handle(socket, idents, msg)
                finally:
                    sys.stdout.flush()
                    sys.stderr.flush()
                return
            self.executing = True
            try:
                with gate.user_code():
                    handle(socket, idents, msg)
            except KeyboardInterrupt:
                gate.disarm()
            finally:
                self.executing = False
                sys.stdout.flush()
                sys.stderr.flush()

        return handler

    # --- lifecycle -----------------------------------------------------------------
    def shutdown_request(self, socket: Any, idents: list[bytes], msg: Message) -> None:
        """Shut the kernel down: normally asked on control (answered there while a
        cell runs), by older clients on shell."""
        restart = bool(msg["content"].get("restart", False))
        content = {"status": "ok", "restart": restart}
        self.reply(socket, idents, msg, content)
        self.iopub.send("shutdown_reply", content, msg)
        if threading.get_ident() == self._main_ident:
            self._running = False
        elif self._subshell() is not None:
            self.relay.send(STOP_KERNEL, [])  # the control thread stops it
        else:
            self.control.stop_kernel()
