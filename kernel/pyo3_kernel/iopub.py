"""Publishing on IOPub, from the kernel thread, the stream flush timer and subshells."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import pubsocket
from .outputcapture import OutputCaptures
from .pubsocket import LockedSocket

if TYPE_CHECKING:
    from .session import KernelSession


class IOPub:
    """Publishes IOPub messages inline from whichever thread produced them."""

    def __init__(self, session: KernelSession, socket: LockedSocket) -> None:
        self.session = session
        self.socket = socket
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
        return pubsocket.topic(self.session.session, msg_type)

    def status(self, state: str, parent: dict[str, Any]) -> None:
        self.send("status", {"execution_state": state}, parent)
