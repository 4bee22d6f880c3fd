"""The kernel: one thread that reads requests and answers them, sending IOPub inline.

One ``do_*``-style handler per request type behind a table, like ipykernel, but no
threads, queues or waiting flushes on the execute path: a request is read, its
busy/outputs/reply/idle are sent from this thread as they happen.
"""

from __future__ import annotations

import builtins
import getpass
import logging
import platform
import signal
import sys
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import zmq
from IPython.core.completer import provisionalcompleter, rectify_completions
from IPython.utils.tokenutil import token_at_cursor
from jupyter_client.session import Session

from . import __version__
from .iopub import IOPub
from .iostream import OutStream
from .shell import PyO3Shell

PROTOCOL_VERSION = "5.3"
log = logging.getLogger("pyo3_kernel")

Message = dict[str, Any]
Handler = Callable[[zmq.Socket, list[bytes], Message], None]


class StdinNotImplementedError(RuntimeError):
    """``input()`` was called but the frontend does not accept input requests."""


class Kernel:
    """Serves the shell and control channels of one kernel process."""

    implementation = "pyo3-kernel"

    def __init__(
        self,
        session: Session,
        shell_socket: zmq.Socket,
        control_socket: zmq.Socket,
        stdin_socket: zmq.Socket,
        iopub_socket: zmq.Socket,
    ) -> None:
        self.session = session
        self.shell_socket = shell_socket
        self.control_socket = control_socket
        self.stdin_socket = stdin_socket
        self.iopub = IOPub(session, iopub_socket)
        self.eventloop = None  # ZMQInteractiveShell asks for it when exiting
        self._running = True
        self._allow_stdin = False
        self._stdin_parent: tuple[list[bytes], Message] = ([], {})

        sys.stdout = OutStream(self.iopub, "stdout")
        sys.stderr = OutStream(self.iopub, "stderr")
        self.shell = PyO3Shell.instance(kernel=self)
        for publisher in (self.shell.displayhook, self.shell.display_pub):
            publisher.session = session
            publisher.pub_socket = self.iopub.socket
        self.shell.displayhook.topic = f"kernel.{session.session}.execute_result".encode()
        builtins.input = self._input
        getpass.getpass = self._getpass

        self.handlers: dict[str, Handler] = {
            "execute_request": self.execute_request,
            "kernel_info_request": self.kernel_info_request,
            "complete_request": self.complete_request,
            "inspect_request": self.inspect_request,
            "is_complete_request": self.is_complete_request,
            "history_request": self.history_request,
            "comm_info_request": self.comm_info_request,
            "shutdown_request": self.shutdown_request,
            "interrupt_request": self.interrupt_request,
        }

    # --- the loop ------------------------------------------------------------------
    def run(self) -> None:
        """Serve requests until a shutdown request (or ``exit()``) ends the kernel."""
        signal.signal(signal.SIGINT, self._interrupt_while_idle)
        poller = zmq.Poller()
        poller.register(self.control_socket, zmq.POLLIN)
        poller.register(self.shell_socket, zmq.POLLIN)
        self.iopub.status("starting", {})
        while self._running:
            try:
                ready = dict(poller.poll())
            except KeyboardInterrupt:
                continue
            # Control first: it is the channel for shutdown and interrupts.
            for socket in (self.control_socket, self.shell_socket):
                if ready.get(socket) and self._running:
                    self.dispatch(socket)

    def dispatch(self, socket: zmq.Socket) -> None:
        """Read one message from ``socket`` and answer it."""
        try:
            parts = socket.recv_multipart(zmq.NOBLOCK, copy=False)
        except zmq.Again:
            return
        try:
            idents, frames = self.session.feed_identities(parts, copy=False)
            msg = self.session.deserialize(frames, content=True, copy=False)
        except Exception as err:  # bad signature, truncated or malformed frames
            log.warning("dropped an invalid message: %s", err)
            return
        msg_type = msg.get("header", {}).get("msg_type")
        handler = self.handlers.get(msg_type)
        if handler is None:
            log.warning("unknown message type %r ignored", msg_type)
            return
        self.iopub.status("busy", msg)
        try:
            handler(socket, idents, msg)
        except Exception as err:
            log.error("error handling %s:\n%s", msg_type, traceback.format_exc())
            self._send_error_reply(socket, idents, msg, err)
        finally:
            self.iopub.status("idle", msg)

    def _reply(
        self, socket: zmq.Socket, idents: list[bytes], parent: Message, content: dict[str, Any]
    ) -> None:
        msg_type = parent["header"]["msg_type"].replace("_request", "_reply")
        metadata = {"status": content.get("status", "ok")}
        self.session.send(socket, msg_type, content, parent, ident=idents, metadata=metadata)

    def _send_error_reply(
        self, socket: zmq.Socket, idents: list[bytes], parent: Message, err: BaseException
    ) -> None:
        content = {
            "status": "error",
            "ename": type(err).__name__,
            "evalue": str(err),
            "traceback": traceback.format_exception(err),
        }
        if parent["header"]["msg_type"] == "execute_request":
            content["execution_count"] = self.shell.execution_count
        self._reply(socket, idents, parent, content)

    def _interrupt_while_idle(self, signum: int, frame: Any) -> None:
        """SIGINT with no cell running: nothing to interrupt, nothing changes."""

    # --- execution -----------------------------------------------------------------
    def execute_request(self, socket: zmq.Socket, idents: list[bytes], msg: Message) -> None:
        content = msg["content"]
        code = content.get("code")
        if not isinstance(code, str):
            raise TypeError(
                f"execute_request needs 'code' to be a string, got {type(code).__name__}"
            )
        silent = bool(content.get("silent", False))
        store_history = bool(content.get("store_history", not silent))
        shell = self.shell
        shell.set_parent(msg)
        if not silent:
            self.iopub.send(
                "execute_input", {"code": code, "execution_count": shell.execution_count}, msg
            )
        self._allow_stdin = bool(content.get("allow_stdin", False))
        self._stdin_parent = (idents, msg)
        started = datetime.now(timezone.utc).isoformat()

        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            result = shell.run_cell(
                code,
                store_history=store_history,
                silent=silent,
                cell_id=(msg.get("metadata") or {}).get("cellId"),
            )
            error = shell.cell_error or result.error_before_exec or result.error_in_exec
        except KeyboardInterrupt as interrupt:  # landed between the cell and its display
            shell.showtraceback((type(interrupt), interrupt, None))
            error = interrupt
        finally:
            signal.signal(signal.SIGINT, self._interrupt_while_idle)
        sys.stdout.flush()
        sys.stderr.flush()

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
                traceback=shell.cell_traceback,
                user_expressions={},
            )
        reply["payload"] = shell.payload_manager.read_payload()
        shell.payload_manager.clear_payload()
        self.session.send(
            socket,
            "execute_reply",
            reply,
            msg,
            ident=idents,
            metadata={"started": started, "dependencies_met": True, "status": reply["status"]},
        )
        if error is not None and content.get("stop_on_error", True):
            self._abort_queued_executions()
        if shell.exit_now:
            self._running = False

    def _abort_queued_executions(self) -> None:
        """After an error, answer already-queued execute requests with status 'aborted'."""
        while self.shell_socket.poll(0):
            parts = self.shell_socket.recv_multipart(copy=False)
            try:
                idents, frames = self.session.feed_identities(parts, copy=False)
                msg = self.session.deserialize(frames, content=True, copy=False)
            except Exception as err:
                log.warning("dropped an invalid message: %s", err)
                continue
            if msg["header"].get("msg_type") != "execute_request":
                handler = self.handlers.get(msg["header"].get("msg_type"))
                if handler is not None:
                    self.iopub.status("busy", msg)
                    handler(self.shell_socket, idents, msg)
                    self.iopub.status("idle", msg)
                continue
            self.iopub.status("busy", msg)
            self._reply(self.shell_socket, idents, msg, {"status": "aborted"})
            self.iopub.status("idle", msg)

    # --- stdin -----------------------------------------------------------------------
    def _input(self, prompt: object = "") -> str:
        return self._request_input(str(prompt), password=False)

    def _getpass(self, prompt: str = "Password: ", stream: Any = None) -> str:
        return self._request_input(prompt, password=True)

    def _request_input(self, prompt: str, password: bool) -> str:
        if not self._allow_stdin:
            raise StdinNotImplementedError(
                "input() was called, but this frontend does not support input requests."
            )
        sys.stdout.flush()
        sys.stderr.flush()
        while self.stdin_socket.poll(0):  # stale replies from an interrupted request
            self.stdin_socket.recv_multipart()
        idents, parent = self._stdin_parent
        self.session.send(
            self.stdin_socket,
            "input_request",
            {"prompt": prompt, "password": password},
            parent,
            ident=idents,
        )
        while True:
            if not self.stdin_socket.poll(100):
                continue
            _, reply = self.session.recv(self.stdin_socket, mode=0)
            if reply is None or reply["header"].get("msg_type") != "input_reply":
                continue
            value = reply["content"].get("value", "")
            if value == "\x04":  # Ctrl-D in the frontend
                raise EOFError
            return value

    # --- introspection -------------------------------------------------------------
    def kernel_info_request(self, socket: zmq.Socket, idents: list[bytes], msg: Message) -> None:
        self._reply(socket, idents, msg, self.kernel_info())

    def kernel_info(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "protocol_version": PROTOCOL_VERSION,
            "implementation": self.implementation,
            "implementation_version": __version__,
            "language_info": {
                "name": "python",
                "version": platform.python_version(),
                "mimetype": "text/x-python",
                "codemirror_mode": {"name": "ipython", "version": 3},
                "pygments_lexer": "ipython3",
                "nbconvert_exporter": "python",
                "file_extension": ".py",
            },
            "banner": self.banner,
            "help_links": [
                {"text": "Python Reference", "url": "https://docs.python.org/3/"},
                {"text": "IPython Reference", "url": "https://ipython.readthedocs.io/"},
            ],
            "debugger": False,
        }

    @property
    def banner(self) -> str:
        return (
            f"Python {sys.version.split()[0]} embedded in Rust (pyo3-kernel {__version__})\n"
            f"{self.shell.banner}"
        )

    def complete_request(self, socket: zmq.Socket, idents: list[bytes], msg: Message) -> None:
        code = msg["content"]["code"]
        cursor_pos = msg["content"].get("cursor_pos")
        if cursor_pos is None:
            cursor_pos = len(code)
        with provisionalcompleter():
            completions = list(
                rectify_completions(code, self.shell.Completer.completions(code, cursor_pos))
            )
        details = [
            {
                "start": c.start,
                "end": c.end,
                "text": c.text,
                "type": c.type,
                "signature": c.signature,
            }
            for c in completions
        ]
        start = completions[0].start if completions else cursor_pos
        end = completions[0].end if completions else cursor_pos
        self._reply(
            socket,
            idents,
            msg,
            {
                "status": "ok",
                "matches": [c.text for c in completions],
                "cursor_start": start,
                "cursor_end": end,
                "metadata": {"_jupyter_types_experimental": details},
            },
        )

    def inspect_request(self, socket: zmq.Socket, idents: list[bytes], msg: Message) -> None:
        content = msg["content"]
        name = token_at_cursor(content["code"], content.get("cursor_pos", len(content["code"])))
        reply: dict[str, Any] = {"status": "ok", "data": {}, "metadata": {}, "found": False}
        try:
            bundle = self.shell.object_inspect_mime(
                name,
                detail_level=content.get("detail_level", 0),
                omit_sections=content.get("omit_sections", ()),
            )
            if not self.shell.enable_html_pager:
                bundle.pop("text/html", None)
            reply["data"] = bundle
            reply["found"] = True
        except KeyError:
            pass
        self._reply(socket, idents, msg, reply)

    def is_complete_request(self, socket: zmq.Socket, idents: list[bytes], msg: Message) -> None:
        status, indent = self.shell.input_transformer_manager.check_complete(msg["content"]["code"])
        reply: dict[str, Any] = {"status": status}
        if status == "incomplete":
            reply["indent"] = " " * (indent or 0)
        self._reply(socket, idents, msg, reply)

    def history_request(self, socket: zmq.Socket, idents: list[bytes], msg: Message) -> None:
        content = msg["content"]
        history = self.shell.history_manager
        kind = content.get("hist_access_type")
        raw = content.get("raw", True)
        output = content.get("output", False)
        if kind == "tail":
            hist = history.get_tail(
                content.get("n", 10), raw=raw, output=output, include_latest=True
            )
        elif kind == "range":
            hist = history.get_range(
                content.get("session", 0),
                content.get("start", 0),
                content.get("stop"),
                raw=raw,
                output=output,
            )
        elif kind == "search":
            hist = history.search(
                content.get("pattern", "*"),
                raw=raw,
                output=output,
                n=content.get("n"),
                unique=content.get("unique", False),
            )
        else:
            hist = []
        self._reply(socket, idents, msg, {"status": "ok", "history": list(hist)})

    def comm_info_request(self, socket: zmq.Socket, idents: list[bytes], msg: Message) -> None:
        self._reply(socket, idents, msg, {"status": "ok", "comms": {}})

    # --- lifecycle -----------------------------------------------------------------
    def shutdown_request(self, socket: zmq.Socket, idents: list[bytes], msg: Message) -> None:
        restart = bool(msg["content"].get("restart", False))
        self._reply(socket, idents, msg, {"status": "ok", "restart": restart})
        self.iopub.send("shutdown_reply", {"status": "ok", "restart": restart}, msg)
        self._running = False

    def interrupt_request(self, socket: zmq.Socket, idents: list[bytes], msg: Message) -> None:
        # Read between requests, so no cell is running: there is nothing to interrupt.
        self._reply(socket, idents, msg, {"status": "ok"})
