"""The IOPub socket, shared by the kernel thread and the stream flush timers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import zmq
from jupyter_client.session import Session

from . import wire
from .interrupts import gate
from .outputcapture import OutputCaptures


class LockedSocket:
    """A send-only view of a ZeroMQ socket that one thread at a time may use.

    ZeroMQ sockets must not be used by two threads at once; the lock serialises the
    (rare) timer-thread stream flushes with the kernel thread's own inline sends.
    An interrupt never splits a multipart message: sends are critical sections.
    ``Session.send`` only needs ``send_multipart``.
    """

    def __init__(self, socket: zmq.Socket) -> None:
        self.socket = socket
        self._lock = threading.Lock()
        # Told of every message the kernel's session publishes here, before it goes.
        self.observer: Callable[[dict[str, Any]], None] | None = None

    def send_multipart(
        self, parts: list[Any], flags: int = 0, copy: bool = True, track: bool = False
    ) -> Any:
        with gate.critical(), self._lock:
            if flags or track:
                return self.socket.send_multipart(parts, flags, copy=copy, track=track)
            wire.send_multipart(self.socket, parts, copy=copy)
            return None


class IOPub:
    """Publishes IOPub messages inline from whichever thread produced them."""

    def __init__(self, session: Session, socket: zmq.Socket) -> None:
        self.session = session
        self.socket = LockedSocket(socket)
        self._topic_prefix = f"kernel.{session.session}."
        self.captures = OutputCaptures()
        self.socket.observer = self.captures.published

    def send(
        self,
        msg_type: str,
        content: dict[str, Any],
        parent: dict[str, Any],
        metadata: dict[str, Any] | None = None,
        buffers: list[Any] | None = None,
        topic: bytes | None = None,
    ) -> None:
        if topic is None:
            if msg_type == "stream":
                topic = f"stream.{content['name']}".encode()
            else:
                topic = self.topic(msg_type)
        self.session.send(
            self.socket,
            msg_type,
            content,
            parent=parent,
            ident=topic,
            metadata=metadata,
            buffers=buffers,
        )

    def topic(self, msg_type: str) -> bytes:
        """The ZeroMQ topic a message of ``msg_type`` is published under."""
        return f"{self._topic_prefix}{msg_type}".encode()

    def status(self, state: str, parent: dict[str, Any]) -> None:
        self.send("status", {"execution_state": state}, parent)
