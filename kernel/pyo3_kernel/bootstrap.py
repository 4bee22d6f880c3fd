"""Startup that answers ``kernel_info`` while the rest of the kernel is imported.

Importing IPython, ipykernel and jupyter_client takes most of a kernel's startup.
The sockets are bound first, with only ZeroMQ and the standard library loaded, and
those imports then run on a helper thread while this thread answers the clients'
``kernel_info_request`` handshakes (all a client waits for before it sends work).
Other requests stay queued in their sockets until the kernel is built, and are then
served in order. Messages here are signed and checked like everywhere else.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from typing import Any

import zmq

from . import info, pubsocket, wire
from .interrupts import threads_started_here_ignore_sigint
from .pubsocket import LockedSocket


class EarlyReplies:
    """Answers kernel_info requests with a minimal, standard-library session."""

    def __init__(
        self,
        verifier: wire.Verifier,
        signer: wire.Signer,
        session_id: str,
        sockets: dict[str, zmq.SyncSocket],
        iopub: LockedSocket,
    ):
        self.verifier = verifier
        self.signer = signer
        self.packer = wire.Packer()
        self.session_id = session_id
        self.sockets = sockets
        self.iopub = iopub
        self.held: list[tuple[zmq.SyncSocket, list[bytes]]] = []

    def _header(self, msg_type: str) -> dict[str, Any]:
        return {
            "msg_id": uuid.uuid4().hex,  # the kernel's own ids are counted from 0
            "session": self.session_id,
            "username": "kernel",
            "date": wire.now_iso(),
            "msg_type": msg_type,
            "version": info.PROTOCOL_VERSION,
        }

    def _send(
        self,
        socket: zmq.SyncSocket | LockedSocket,
        idents: list[bytes],
        msg_type: str,
        parent: Any,
        content: Any,
    ) -> None:
        pack = self.packer.pack
        frames = [pack(self._header(msg_type)), pack(parent), b"{}", pack(content)]
        socket.send_multipart([*idents, wire.DELIMITER, self.signer.sign(frames), *frames])

    def _status(self, state: str, parent: Any) -> None:
        topic = pubsocket.topic(self.session_id, "status")
        self._send(self.iopub, [topic], "status", parent, {"execution_state": state})

    def answer(self, socket: zmq.SyncSocket) -> bool:
        """Answer the next message if it is a valid kernel_info_request; False if it is
        something else (then it is held, for the kernel to answer once built)."""
        parts = socket.recv_multipart(zmq.NOBLOCK)
        try:
            split = parts.index(wire.DELIMITER)
            idents, signature, frames = parts[:split], parts[split + 1], parts[split + 2 :]
            # Checked as the kernel's session checks (its verifier); recorded only when
            # answered here: a held message is checked again by the kernel.
            self.verifier.check(signature, frames[:4], record=False)
            header = json.loads(frames[0])
        except (ValueError, IndexError, RecursionError):
            return True  # invalid or malformed: dropped, as the kernel would
        if not isinstance(header, dict):
            return True  # malformed: dropped
        if header.get("msg_type") != "kernel_info_request":
            self.held.append((socket, parts))
            return False
        self.verifier.check(signature, frames[:4])  # remembered: never answered twice
        self._status("busy", header)
        self._send(socket, idents, "kernel_info_reply", header, info.kernel_info())
        self._status("idle", header)
        return True

    def serve_until(self, done: threading.Event) -> list[tuple[zmq.SyncSocket, list[bytes]]]:
        """Answer kernel_info until ``done``; return the first other message of each
        socket, read but not handled, for the kernel to take over."""
        # First on IOPub, as in ipykernel: a status sent later (after kernel_info was
        # answered) would reach a client that already waits for its first cell's.
        self._status("starting", {})
        poller = zmq.Poller()
        waiting = [self.sockets["shell"], self.sockets["control"]]
        for socket in waiting:
            poller.register(socket, zmq.POLLIN)
        while not done.is_set() and waiting:
            for socket, _ in poller.poll(5):
                if not self.answer(socket):
                    poller.unregister(socket)
                    waiting.remove(socket)
        return self.held


def import_in_background(work: Callable[[], None]) -> threading.Event:
    """Run ``work`` (imports) on a helper thread; the event is set when it ends."""
    done = threading.Event()

    def run() -> None:
        try:
            work()
        finally:
            done.set()

    with threads_started_here_ignore_sigint():
        threading.Thread(target=run, daemon=True, name="warm-imports").start()
    return done
