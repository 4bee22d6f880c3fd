"""The Debug Adapter Protocol on the wire: framing, and the kernel's link to debugpy.

DAP messages are JSON bodies each preceded by a ``Content-Length: N`` header and a
blank line. The kernel reaches debugpy's adapter (a process debugpy starts) over TCP,
through a ZeroMQ STREAM socket that the control thread polls with its other sockets.
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import zmq

log = logging.getLogger("pyo3_kernel")

HEADER = b"Content-Length: "
SEPARATOR = b"\r\n\r\n"

Message = dict[str, Any]


def frame(message: Message) -> bytes:
    """One DAP message as sent on the wire."""
    body = json.dumps(message, ensure_ascii=False, allow_nan=False, default=str).encode()
    return HEADER + str(len(body)).encode() + SEPARATOR + body


class Deframer:
    """Splits the bytes read from a DAP stream into messages (a read may hold several
    messages or part of one)."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Message]:
        self._buffer += data
        messages: list[Message] = []
        while True:
            start = self._buffer.find(HEADER)
            if start < 0:
                return messages
            end = self._buffer.find(SEPARATOR, start)
            if end < 0:
                return messages
            try:
                length = int(self._buffer[start + len(HEADER) : end])
            except ValueError:
                log.warning("debugger: bad DAP header dropped")
                del self._buffer[: end + len(SEPARATOR)]
                continue
            body_start = end + len(SEPARATOR)
            if len(self._buffer) - body_start < length:
                return messages
            body = bytes(self._buffer[body_start : body_start + length])
            del self._buffer[: body_start + length]
            try:
                messages.append(json.loads(body))
            except ValueError:
                log.warning("debugger: a DAP message that is not JSON was dropped")


class AdapterLink:
    """The TCP connection to debugpy's adapter.

    ``request`` sends a request and reads until its response (events read meanwhile
    are queued: ``take_events``); ``read`` takes what arrived when the socket is
    readable with no request waiting."""

    def __init__(self, context: zmq.SyncContext, host: str = "127.0.0.1") -> None:
        self.host = host
        self.socket: zmq.SyncSocket = context.socket(zmq.STREAM)
        self.socket.linger = 0
        self.port = self._free_port()
        self._routing_id: bytes | None = None
        self._deframer = Deframer()
        self._responses: deque[Message] = deque()
        self._events: deque[Message] = deque()

    def _free_port(self) -> int:
        port = self.socket.bind_to_random_port(f"tcp://{self.host}")
        self.socket.unbind(self.socket.getsockopt_string(zmq.LAST_ENDPOINT))
        return port

    @property
    def connected(self) -> bool:
        return self._routing_id is not None

    def connect(self) -> None:
        self.socket.connect(f"tcp://{self.host}:{self.port}")
        routing_id = self.socket.getsockopt(zmq.ROUTING_ID)
        assert isinstance(routing_id, bytes)  # a bytes-valued option
        self._routing_id = routing_id

    def disconnect(self) -> None:
        if self._routing_id is not None:
            self.socket.disconnect(f"tcp://{self.host}:{self.port}")
        self._routing_id = None
        self._deframer = Deframer()
        self._responses.clear()

    def close(self) -> None:
        self.socket.close(linger=0)

    def send(self, message: Message) -> None:
        if self._routing_id is None:
            raise ConnectionError("the debugger is not connected to debugpy")
        self.socket.send_multipart([self._routing_id, frame(message)])

    def read(self) -> None:
        """Take in whatever has arrived (never blocks)."""
        while True:
            try:
                parts = self.socket.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            if len(parts) < 2 or not parts[1]:
                continue  # a connection opened or closed (STREAM sockets say so)
            for message in self._deframer.feed(parts[1]):
                kind = message.get("type")
                if kind == "event":
                    self._events.append(message)
                elif kind == "response":
                    self._responses.append(message)

    def take_events(self) -> list[Message]:
        events = list(self._events)
        self._events.clear()
        return events

    def wait_for(self, found: Callable[[], Message | None], timeout: float) -> Message | None:
        """Read until ``found()`` returns a message, or ``timeout`` seconds pass."""
        deadline = time.monotonic() + timeout
        while True:
            hit = found()
            if hit is not None:
                return hit
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            if self.socket.poll(int(remaining * 1000) + 1, zmq.POLLIN):
                self.read()

    def request(self, message: Message, timeout: float) -> Message:
        """Send a request and return debugpy's response to it (a failure response of our
        own if none comes within ``timeout`` seconds)."""
        self.send(message)
        response = self.wait_for(lambda: self.response_to(message), timeout)
        if response is None:
            return failure(message, f"debugpy did not answer {message.get('command')!r}")
        return response

    def response_to(self, message: Message) -> Message | None:
        """debugpy's response to ``message``, if read yet (older ones are dropped)."""
        while self._responses:
            response = self._responses.popleft()
            if response.get("request_seq") == message.get("seq") and response.get(
                "command"
            ) == message.get("command"):
                return response
            log.debug("debugger: a late DAP response was dropped: %s", response.get("command"))
        return None

    def event_named(self, name: str) -> Message | None:
        """Take the first queued event called ``name``, if any."""
        for event in self._events:
            if event.get("event") == name:
                self._events.remove(event)
                return event
        return None


def response(request: Message, body: dict[str, Any] | None = None, success: bool = True) -> Message:
    """A DAP response to ``request``."""
    reply: Message = {
        "type": "response",
        "seq": request.get("seq", 0),
        "request_seq": request.get("seq", 0),
        "command": request.get("command"),
        "success": success,
    }
    if body is not None:
        reply["body"] = body
    return reply


def failure(request: Message, message: str) -> Message:
    """A failed DAP response to ``request`` saying why."""
    reply = response(request, {}, success=False)
    reply["message"] = message
    return reply
