"""A client of a Jupyter gateway's REST API and kernel websockets (Kernel Gateway,
Enterprise Gateway, a Jupyter server): what JupyterLab's `--gateway-url` client does,
for tests/test_remote_kernel_gateway.py and tests/test_remote_enterprise_gateway.py."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import websocket
from fidelity_helpers import execute_content

# Bounds, in seconds, for a loaded 2-core machine; each wait ends as soon as it can.
KERNEL_READY = 90  # the websocket opens once the kernel answered kernel_info
CELL = 30  # a cell's reply and its iopub up to idle


def rest_call(
    url: str, method: str, path: str, body: Any, token: str | None, timeout: float
) -> tuple[int, Any]:
    """``(status, decoded JSON body or None)`` of one REST call; HTTP errors are returned,
    not raised, so that tests can assert on 401 and 404."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"token {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{url}{path}", data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw) if raw.strip() else None
    except ValueError:  # not JSON: an HTML error page, say
        return status, raw.decode(errors="replace")


@dataclass
class Execution:
    """One request's messages as they arrive: its shell reply, its iopub outputs (no
    status messages), and whether its `status: idle` came."""

    msg_id: str
    reply: dict | None = None
    outputs: list[tuple[str, dict]] = field(default_factory=list)
    idle: bool = False
    states: list[str] = field(default_factory=list)  # its iopub statuses, in order

    @property
    def done(self) -> bool:
        return self.reply is not None and self.idle

    def of_type(self, msg_type: str) -> list[dict]:
        return [content for kind, content in self.outputs if kind == msg_type]


class KernelChannels:
    """The gateway's websocket of one kernel: every channel on one socket, each message
    JSON with a `channel` field (the default protocol, no subprotocol)."""

    def __init__(self, ws_url: str, token: str, kernel_id: str) -> None:
        self.session = uuid.uuid4().hex
        # The gateway accepts it once the kernel answered kernel_info, and reads from it
        # once its iopub subscription is live (jupyter_server's nudge): the first cell's
        # output is not lost.
        self.ws = websocket.create_connection(
            f"{ws_url}/api/kernels/{kernel_id}/channels?session_id={self.session}",
            header=[f"Authorization: token {token}"],
            timeout=KERNEL_READY,
        )

    def close(self) -> None:
        self.ws.close()

    def send(self, channel: str, msg_type: str, content: dict) -> str:
        msg_id = uuid.uuid4().hex
        header = {
            "msg_id": msg_id,
            "msg_type": msg_type,
            "username": "pytest",
            "session": self.session,
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "version": "5.3",
        }
        message = {
            "header": header,
            "parent_header": {},
            "metadata": {},
            "content": content,
            "channel": channel,
            "buffers": [],
        }
        self.ws.send(json.dumps(message))
        return msg_id

    def receive(self, deadline: float, what: str) -> dict:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"timed out waiting for {what}")
        self.ws.settimeout(remaining)
        try:
            return json.loads(self.ws.recv())
        except websocket.WebSocketTimeoutException:
            raise AssertionError(f"timed out waiting for {what}") from None

    def follow(
        self, executions: list[Execution], until: Callable[[], bool], timeout: float, what: str
    ) -> None:
        """Sort incoming messages into ``executions`` (others are dropped) until
        ``until()``, or AssertionError naming ``what`` at the deadline."""
        by_id = {e.msg_id: e for e in executions}
        deadline = time.monotonic() + timeout
        while not until():
            try:
                msg = self.receive(deadline, what)
            except AssertionError as exc:
                seen = [(e.msg_id[:8], e.reply, e.outputs, e.idle) for e in executions]
                raise AssertionError(f"{exc}; so far: {seen!r}") from None
            execution = by_id.get(msg["parent_header"].get("msg_id"))
            if execution is None:
                continue
            if msg["channel"] == "shell":
                execution.reply = msg["content"]
            elif msg["channel"] == "iopub" and msg["msg_type"] == "status":
                execution.states.append(msg["content"]["execution_state"])
                execution.idle |= msg["content"]["execution_state"] == "idle"
            elif msg["channel"] == "iopub":
                execution.outputs.append((msg["msg_type"], msg["content"]))

    def start_execute(self, code: str) -> Execution:
        return Execution(self.send("shell", "execute_request", execute_content(code)))

    def execute(self, code: str, timeout: float = CELL) -> Execution:
        """Run ``code``: its reply and outputs once both the reply and idle came."""
        execution = self.start_execute(code)
        self.follow([execution], lambda: execution.done, timeout, f"{code[:80]!r} to finish")
        return execution

    def wait_ready(self, timeout: float = KERNEL_READY) -> None:
        """kernel_info until one is answered on shell and on iopub: after a restart the
        gateway's sockets reconnect to the new kernel, and iopub messages published
        before the subscription reaches it are lost, so one request may not be seen."""
        deadline = time.monotonic() + timeout
        probes: list[Execution] = []
        while not any(p.done for p in probes):
            probes.append(Execution(self.send("shell", "kernel_info_request", {})))
            wait = min(2.0, max(deadline - time.monotonic(), 0.0))
            try:
                self.follow(probes, lambda: any(p.done for p in probes), wait, "kernel_info")
            except AssertionError:
                assert time.monotonic() < deadline, (
                    f"no kernel_info answered on shell and iopub in {timeout} s"
                )
