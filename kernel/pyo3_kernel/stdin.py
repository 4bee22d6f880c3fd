"""``input()`` and ``getpass.getpass()`` for cells: asked of the frontend on stdin."""

from __future__ import annotations

import builtins
import getpass
import sys
import threading
from typing import TYPE_CHECKING, Any

import zmq
from IPython.core.error import StdinNotImplementedError

from .interrupts import gate

if TYPE_CHECKING:
    from .kernel import Kernel


class StdinForwarder:
    """Replaces ``input`` and ``getpass`` with requests to the frontend."""

    def __init__(self, kernel: Kernel, socket: zmq.SyncSocket) -> None:
        self.kernel = kernel
        self.socket = socket
        # Each thread answers its own request (the main shell's, a subshell's).
        self._local = threading.local()
        # One input request at a time on the socket, whichever thread asks.
        self._lock = threading.Lock()

    def install(self) -> None:
        self._saved = (builtins.input, getpass.getpass)
        builtins.input = self.input
        getpass.getpass = self.getpass

    def uninstall(self) -> None:
        """Give ``input``/``getpass`` back (a kernel embedded in an app has ended)."""
        builtins.input, getpass.getpass = self._saved

    def set_parent(self, idents: list[bytes], parent: dict[str, Any], allow: bool) -> None:
        """This thread's input requests go to the client of this execute request, if it
        allows them."""
        self._local.parent = (idents, parent)
        self._local.allow = allow

    def input(self, prompt: object = "") -> str:
        try:
            return self.request(str(prompt), password=False)
        except KeyboardInterrupt:
            # A fresh exception: its traceback is the cell's line and this frame, not
            # the kernel's and pyzmq's internals (which are also slow to render).
            raise KeyboardInterrupt from None

    def getpass(self, prompt: str = "Password: ", stream: Any = None) -> str:
        try:
            return self.request(prompt, password=True)
        except KeyboardInterrupt:
            raise KeyboardInterrupt from None

    def request(self, prompt: str, password: bool) -> str:
        if not getattr(self._local, "allow", False):
            # IPython's exception and ipykernel's words: code catches the one and
            # tests match the other.
            raise StdinNotImplementedError(
                "raw_input was called, but this frontend does not support input requests."
            )
        sys.stdout.flush()
        sys.stderr.flush()
        idents, parent = self._local.parent
        with self._lock:
            return self._ask(idents, parent, prompt, password)

    def _ask(self, idents: list[bytes], parent: dict[str, Any], prompt: str, password: bool) -> str:
        session = self.kernel.session
        with gate.critical():
            while self.socket.poll(0):  # stale replies from an interrupted request
                self.socket.recv_multipart()
            content = {"prompt": prompt, "password": password}
            session.send(self.socket, "input_request", content, parent, ident=idents)
        while True:
            self.socket.poll()  # an interrupt raises KeyboardInterrupt here
            received = self.kernel.receive(self.socket)
            if received is None:
                continue
            reply = received[1]
            if reply["header"].get("msg_type") != "input_reply":
                continue
            value = reply["content"].get("value", "")
            if value == "\x04":  # Ctrl-D in the frontend
                raise EOFError
            return str(value)
