"""The IOPub socket: sends from any thread, and a welcome for every new subscriber.

ZeroMQ sockets must not be used by two threads at once; a lock serialises the kernel
thread's inline sends with the stream flush timer's, subshells' and this module's own.
An interrupt never splits a multipart message: sends are critical sections.

IOPub is an XPUB socket (protocol 5.4): each subscription a client makes arrives as a
message, and the kernel answers it with ``iopub_welcome``, so a client knows when it
is subscribed and loses none of a cell's messages. Subscriptions are read under the
lock after each send (a send can use up the descriptor's signal) and by a small
thread that waits on the descriptor otherwise. Standard library and ZeroMQ only: the
bootstrap publishes through it before jupyter_client is imported.
"""

from __future__ import annotations

import select
import threading
import uuid
from collections.abc import Callable
from typing import Any, cast

import zmq

from . import info, wire
from .interrupts import gate, threads_started_here_ignore_sigint

SUBSCRIBE = 1


def topic(session_id: str, msg_type: str) -> bytes:
    """The ZeroMQ topic a message of ``msg_type`` is published under."""
    return f"kernel.{session_id}.{msg_type}".encode()


class Welcomer:
    """Builds a signed ``iopub_welcome`` for a subscription topic."""

    def __init__(self, signer: wire.Signer, session_id: str) -> None:
        self._signer = signer
        self._packer = wire.Packer()
        self._session_id = session_id

    def frames(self, topic: bytes) -> list[bytes]:
        pack = self._packer.pack
        header = {
            "msg_id": uuid.uuid4().hex,
            "session": self._session_id,
            "username": "kernel",
            "date": wire.now_iso(),
            "msg_type": "iopub_welcome",
            "version": info.PROTOCOL_VERSION,
        }
        content = {"subscription": topic.decode("utf-8", "replace")}
        frames = [pack(header), b"{}", b"{}", pack(content)]
        prefix = [topic] if topic else []
        return [*prefix, wire.DELIMITER, self._signer.sign(frames), *frames]


class LockedSocket:
    """A send-only view of the IOPub socket that one thread at a time may use."""

    def __init__(self, socket: zmq.SyncSocket, welcomer: Welcomer | None = None) -> None:
        self.socket = socket
        self._lock = threading.Lock()
        self._welcomer = welcomer
        self._closed = False
        # Told of every message the kernel's session publishes here, before it goes.
        self.observer: Callable[[dict[str, Any]], None] | None = None
        if welcomer is not None:
            with threads_started_here_ignore_sigint():
                threading.Thread(target=self._watch, daemon=True, name="iopub-welcome").start()

    def send_multipart(
        self, parts: list[Any], flags: int = 0, copy: bool = True, track: bool = False
    ) -> Any:
        with gate.critical(), self._lock:
            if flags or track:
                result = self.socket.send_multipart(parts, flags, copy=copy, track=track)
            else:
                wire.send_multipart(self.socket, parts, copy=copy)
                result = None
            self._welcome_subscribers()
            return result

    def close(self) -> None:
        """Stop welcoming (the socket is about to be closed)."""
        with self._lock:
            self._closed = True

    def _welcome_subscribers(self) -> None:
        """Answer the subscriptions waiting in the socket (the lock is held)."""
        if self._welcomer is None or self._closed:
            return
        while wire.readable(self.socket):
            event = self.socket.recv(zmq.NOBLOCK)
            if event[:1] == bytes([SUBSCRIBE]):
                wire.send_multipart(self.socket, self._welcomer.frames(event[1:]), copy=True)

    def _watch(self) -> None:
        """Welcome subscribers that arrive while nothing is being sent."""
        fd = cast(int, self.socket.getsockopt(zmq.FD))  # (FD is an int option)
        while not self._closed:
            try:
                select.select([fd], [], [], 1.0)
            except (OSError, ValueError):
                return
            with self._lock:
                if self._closed:
                    return
                self._welcome_subscribers()
