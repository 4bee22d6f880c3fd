"""Bounded waits on a kernel's channels: the messages of one request, timed on arrival.

One poller watches shell, iopub and stdin together, so the time a message arrives is
recorded when it arrives, whichever channel it comes on (an iopub ``idle`` that
overtakes its ``execute_reply`` is timed correctly). Messages that belong to other
requests are dropped. Every wait has a deadline and notices a dead kernel process.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import zmq
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager

Message = dict[str, Any]
# How long a quiet wait blocks before it checks that the kernel process is alive.
ALIVE_CHECK_S = 0.5


class KernelDied(RuntimeError):
    """The kernel process exited while we waited for it."""


class NoReply(TimeoutError):
    """The kernel did not send what we waited for before the deadline."""


@dataclass
class Exchange:
    """Everything the kernel sent about one request, with arrival times (perf_counter)."""

    msg_id: str
    sent_at: float
    reply: Message | None = None
    reply_at: float | None = None
    idle_at: float | None = None
    iopub: list[Message] = field(default_factory=list)
    input_requests: list[Message] = field(default_factory=list)

    @property
    def replied(self) -> bool:
        return self.reply is not None

    @property
    def idle(self) -> bool:
        return self.idle_at is not None

    @property
    def done(self) -> bool:
        return self.replied and self.idle

    @property
    def progress(self) -> int:
        """Grows with every message recorded: tells a slow kernel from a silent one."""
        return len(self.iopub) + len(self.input_requests) + self.replied + self.idle

    @property
    def reply_content(self) -> dict[str, Any]:
        return self.reply["content"] if self.reply else {}

    def of_type(self, msg_type: str) -> list[Message]:
        return [m for m in self.iopub if m["msg_type"] == msg_type]

    def stream_text(self, name: str = "stdout") -> str:
        return "".join(
            m["content"]["text"] for m in self.of_type("stream") if m["content"]["name"] == name
        )

    def record(self, channel: str, msg: Message, at: float) -> None:
        """File one message of this request that arrived on ``channel`` at ``at``."""
        if channel == "shell":
            self.reply, self.reply_at = msg, at
        elif channel == "stdin":
            self.input_requests.append(msg)
        elif msg["msg_type"] == "status":
            if msg["content"].get("execution_state") == "idle":
                self.idle_at = at
        else:
            self.iopub.append(msg)


class Channels:
    """Reads shell, iopub and stdin of one client through a single poller."""

    def __init__(self, km: KernelManager, kc: BlockingKernelClient) -> None:
        self.km = km
        self._by_socket = {
            kc.shell_channel.socket: ("shell", kc.shell_channel),
            kc.iopub_channel.socket: ("iopub", kc.iopub_channel),
            kc.stdin_channel.socket: ("stdin", kc.stdin_channel),
        }
        self._poller = zmq.Poller()
        for socket in self._by_socket:
            self._poller.register(socket, zmq.POLLIN)

    def pump(
        self,
        exchange: Exchange,
        until: Callable[[Exchange], bool],
        timeout: float,
        what: str,
    ) -> None:
        """Record messages for ``exchange`` until ``until(exchange)`` holds.

        Raises ``NoReply`` after ``timeout`` seconds and ``KernelDied`` if the kernel
        process is gone.
        """
        deadline = time.monotonic() + timeout
        while not until(exchange):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise NoReply(f"no {what} within {timeout:g} s")
            events = self._poller.poll(int(min(remaining, ALIVE_CHECK_S) * 1000) + 1)
            if not events:
                if not self.km.is_alive():
                    raise KernelDied(f"kernel died while waiting for {what}")
                continue
            for socket, _ in events:
                self._read_one(socket, exchange)

    def _read_one(self, socket: zmq.Socket, exchange: Exchange) -> None:
        name, channel = self._by_socket[socket]
        msg = channel.get_msg(timeout=0)
        at = time.perf_counter()
        parent = msg.get("parent_header") or {}  # xeus sends null for unsolicited messages
        if parent.get("msg_id") == exchange.msg_id:
            exchange.record(name, msg, at)


def until_done(exchange: Exchange) -> bool:
    return exchange.done


def until_replied(exchange: Exchange) -> bool:
    return exchange.replied
