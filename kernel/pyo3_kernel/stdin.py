"""``input()`` and ``getpass.getpass()`` for cells: asked of the frontend on stdin."""

from __future__ import annotations

import builtins
import getpass
import sys
from typing import TYPE_CHECKING, Any

import zmq
from IPython.core.error import StdinNotImplementedError

from .interrupts import gate

if TYPE_CHECKING:
    from .kernel import Kernel


class StdinForwarder:
    """Replaces ``input`` and ``getpass`` with requests to the frontend."""

    def __init__(self, kernel: Kernel, socket: zmq.Socket) -> None:
        self.kernel = kernel
        self.socket = socket
        self.allow = False
        self.parent: tuple[list[bytes], dict[str, Any]] = ([], {})

    def install(self) -> None:
        self._saved = (builtins.input, getpass.getpass)
        builtins.input = self.input
        getpass.getpass = self.getpass

    def uninstall(self) -> None:
        """Give ``input``/``getpass`` back (a kernel embedded in an app has ended)."""
        builtins.input, getpass.getpass = self._saved

    def set_parent(self, idents: list[bytes], parent: dict[str, Any], allow: bool) -> None:
        """Input requests go to the client of this execute request, if it allows them."""
        self.parent = (idents, parent)
        self.allow = allow

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
        if not self.allow:
            # IPython's exception and ipykernel's words: code catches the one and
            # tests match the other.
            raise StdinNotImplementedError(
                "raw_input was called, but this frontend does not support input requests."
            )
        sys.stdout.flush()
        sys.stderr.flush()
        idents, parent = self.parent
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
