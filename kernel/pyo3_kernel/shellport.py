"""The shell channel as the kernel's threads use it.

Without subshells the main thread owns the shell socket: it reads each request and
sends its replies itself, one thread on the execute path. Once a subshell exists, the
control thread takes the socket over (``routed``): it reads every request and routes
it to the main shell (``inbox``) or to a subshell, and replies reach it through the
relay (replies.py). When the last subshell is gone it hands the socket back. Every
use of the socket by the main thread happens under ``lock``, and the switch too, so
the socket is never used by two threads at once.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any, cast

import zmq

from . import wire
from .interrupts import gate
from .replies import SHELL, Relay

Message = dict[str, Any]
Received = tuple[list[bytes], Message]


class ShellPort:
    """Reading and replying on the shell channel, whoever owns its socket now."""

    def __init__(
        self,
        socket: zmq.SyncSocket,
        relay: Relay,
        parse: Callable[[list[Any]], Received | None],
        wake: zmq.SyncSocket,
    ) -> None:
        self.socket = socket
        self.lock = threading.Lock()
        self.routed = False
        # Requests for the main shell waiting their turn: routed here by the control
        # thread, or read while a cell awaited; ``wake`` gets a byte for each routed one.
        self.inbox: deque[Received] = deque()
        self.wake = wake
        self._relay = relay
        self._parse = parse

    # --- main thread ---------------------------------------------------------------
    def take(self) -> Received | None:
        """The next request for the main shell, if one is waiting (never blocks)."""
        while True:
            if self.inbox:
                return self.inbox.popleft()
            with self.lock:
                if self.routed:
                    self._drain_wake()
                    if self.inbox:
                        continue
                    return None
                try:
                    with gate.critical():
                        parts = wire.recv_multipart(self.socket, zmq.NOBLOCK)
                        wire.readable(self.socket)  # re-arms its descriptor (idle.py)
                except zmq.Again:
                    return None
            received = self._parse(parts)
            if received is not None:
                return received

    def ready(self) -> bool:
        """Whether a request for the main shell is waiting."""
        if self.inbox:
            return True
        with self.lock:
            if self.routed:
                return wire.readable(self.wake)
            return wire.readable(self.socket)

    def watched(self) -> list[int]:
        """The descriptors that signal a request for the main shell."""
        with self.lock:
            sock = self.wake if self.routed else self.socket
            return [cast(int, sock.getsockopt(zmq.FD))]  # (FD is an int option)

    def poll(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a request (direct mode only: when routed,
        False at once)."""
        if self.inbox:
            return True
        with self.lock:
            if self.routed:
                return False
            # pyzmq's stub says int milliseconds; poll takes a float (Poller.poll truncates it).
            return bool(self.socket.poll(timeout * 1000))  # type: ignore[arg-type]

    def _drain_wake(self) -> None:
        try:
            while True:
                self.wake.recv(zmq.NOBLOCK)
        except zmq.Again:
            pass

    # --- any thread ----------------------------------------------------------------
    def send_multipart(
        self, parts: list[Any], flags: int = 0, copy: bool = True, track: bool = False
    ) -> None:
        """Send a reply: on the socket (its owner is the main thread), or through the
        control thread (subshells exist, or this is a subshell's thread)."""
        with self.lock:
            if not self.routed:
                wire.send_multipart(self.socket, parts, copy=copy)
                return
        self._relay.send(SHELL, parts, copy=copy)
