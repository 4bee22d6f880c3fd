"""Helpers of the hardening tests: raw ZeroMQ access to a kernel's channels, the kernel
process as psutil sees it, and the sizes of the soak-style tests.

``RawChannel`` talks the Jupyter wire protocol by hand on a DEALER socket connected to
one of the kernel's ROUTER channels (shell or control), so a test can send what no
well-behaved client sends: bad signatures, missing frames, wrong types, garbage. Every
wait is bounded and keyed on the request's msg_id.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from datetime import datetime, timezone
from typing import Any

import psutil
import zmq
from jupyter_client.manager import KernelManager
from jupyter_client.session import Session

DELIM = b"<IDS|MSG>"
# Bench runs (PYO3_SOAK_FULL=1) use the full sizes; CI uses the small ones.
SOAK_FULL = os.environ.get("PYO3_SOAK_FULL") == "1"
MB = 1 << 20


def soak_size(default: int, full: int) -> int:
    """``full`` when PYO3_SOAK_FULL=1, else ``default``."""
    return full if SOAK_FULL else default


def kernel_process(km: KernelManager) -> psutil.Process:
    """The kernel's own process (the provisioner started it directly)."""
    pid = km.provisioner.pid if km.provisioner else None
    assert pid, "the kernel has no process"
    return psutil.Process(pid)


def rss_mb(proc: psutil.Process) -> float:
    return proc.memory_info().rss / MB


def wait_exit(proc: psutil.Process, timeout: float) -> float | None:
    """Seconds until ``proc`` exits (zombies count as exited), None if still alive."""
    start = time.monotonic()
    try:
        proc.wait(timeout=timeout)
    except psutil.TimeoutExpired:
        return None
    return time.monotonic() - start


def is_gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (exited, or a zombie waiting to be reaped)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_gone(pid: int, timeout: float) -> bool:
    """Wait (bounded) until ``pid`` is gone; True if it went."""
    deadline = time.monotonic() + timeout
    while not is_gone(pid):
        if time.monotonic() >= deadline:
            return False
        try:
            psutil.Process(pid).wait(timeout=min(0.1, max(deadline - time.monotonic(), 0.01)))
        except (psutil.TimeoutExpired, psutil.NoSuchProcess, ChildProcessError):
            pass
    return True


def ascii_json(obj: Any) -> bytes:
    """JSON with every non-ASCII character escaped: lone surrogates survive as ``\\udXXX``
    escapes (jupyter_client's own packer cannot encode them)."""
    return json.dumps(obj, ensure_ascii=True).encode("ascii")


class RawChannel:
    """A DEALER socket on the kernel's ``channel`` (shell or control) port."""

    def __init__(self, km: KernelManager, channel: str = "shell") -> None:
        info = km.get_connection_info()
        self.session = Session(
            key=info["key"], signature_scheme=info["signature_scheme"], username="hardening"
        )
        self.socket = zmq.Context.instance().socket(zmq.DEALER)
        self.socket.linger = 0
        self.socket.connect(f"{info['transport']}://{info['ip']}:{info[f'{channel}_port']}")
        self.seen: list[dict] = []  # every message received, in order

    def close(self) -> None:
        self.socket.close(linger=0)

    def __enter__(self) -> RawChannel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- building and sending --------------------------------------------------------
    def header(self, msg_type: str, **extra: Any) -> dict[str, Any]:
        return {
            "msg_id": uuid.uuid4().hex,
            "session": self.session.session,
            "username": "hardening",
            "date": datetime.now(timezone.utc).isoformat(),
            "msg_type": msg_type,
            "version": "5.3",
            **extra,
        }

    def frames(self, msg_type: str, content: Any) -> tuple[str, list[bytes]]:
        """(msg_id, [header, parent, metadata, content]) of a well-formed request."""
        header = self.header(msg_type)
        return header["msg_id"], [
            ascii_json(header),
            b"{}",
            b"{}",
            ascii_json(content),
        ]

    def sign(self, frames: list[bytes]) -> bytes:
        return self.session.sign(frames[:4])

    def send_parts(self, parts: list[bytes]) -> None:
        """Send exactly ``parts`` (the kernel's ROUTER prepends our identity)."""
        self.socket.send_multipart(parts)

    def send_frames(self, frames: list[bytes], signature: bytes | None = None) -> None:
        """Send ``frames`` after the delimiter, signed correctly unless ``signature``."""
        sig = self.sign(frames) if signature is None else signature
        self.send_parts([DELIM, sig, *frames])

    def request(self, msg_type: str, content: Any) -> str:
        """Send a correctly signed request; return its msg_id."""
        msg_id, frames = self.frames(msg_type, content)
        self.send_frames(frames)
        return msg_id

    # --- receiving -------------------------------------------------------------------
    def recv(self, timeout: float) -> dict | None:
        """The next message (signature checked), or None after ``timeout`` seconds."""
        if not self.socket.poll(timeout * 1000):
            return None
        parts = self.socket.recv_multipart()
        idents, frames = self.session.feed_identities(parts)
        msg = self.session.deserialize(frames)
        self.seen.append(msg)
        return msg

    def reply_to(self, msg_id: str, timeout: float = 30, km: KernelManager | None = None) -> dict:
        """The reply whose parent is ``msg_id``; AssertionError after ``timeout``, or as
        soon as the process of ``km`` (if given) has died."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no reply to {msg_id} within {timeout}s")
            msg = self.recv(min(remaining, 0.5))
            if msg is not None and msg["parent_header"].get("msg_id") == msg_id:
                return msg
            if msg is None and km is not None and not km.is_alive():
                raise AssertionError(f"the kernel process died before replying to {msg_id}")

    def replies_to(self, msg_id: str) -> list[dict]:
        """Messages received so far whose parent is ``msg_id``."""
        return [m for m in self.seen if m["parent_header"].get("msg_id") == msg_id]

    def kernel_info(self, timeout: float = 30, km: KernelManager | None = None) -> dict:
        """A signed kernel_info_request on this channel, answered within ``timeout``."""
        reply = self.reply_to(self.request("kernel_info_request", {}), timeout, km)
        assert reply["msg_type"] == "kernel_info_reply", reply
        return reply["content"]


def execute_content(code: Any, **extra: Any) -> dict[str, Any]:
    """The content of an execute_request for ``code``."""
    return {
        "code": code,
        "silent": False,
        "store_history": True,
        "user_expressions": {},
        "allow_stdin": False,
        "stop_on_error": False,
        **extra,
    }


def settle(kc: Any, timeout: float = 60) -> int:
    """Retry a silent no-op cell until one is answered; return how many were lost.

    For tests about something else than startup: pyo3-kernel may drop a request that
    arrives while it is still starting (see test_hardening_fuzz_protocol), and a lost
    request would otherwise show up as a timeout far from its cause.
    """
    from kernel_helpers import wait_for_shell_reply

    deadline = time.monotonic() + timeout
    lost = 0
    while True:
        msg_id = kc.execute("None", silent=True, store_history=False)
        try:
            wait_for_shell_reply(kc, msg_id, timeout=5)
            return lost
        except AssertionError:
            lost += 1
            if time.monotonic() > deadline:
                raise


def start_settled(name: str, **kw: Any) -> tuple[KernelManager, Any]:
    """``kernel_helpers.start_kernel`` followed by :func:`settle`."""
    from kernel_helpers import start_kernel, stop_kernel

    km, kc = start_kernel(name, **kw)
    try:
        settle(kc)
    except BaseException:
        stop_kernel(km, kc)
        raise
    return km, kc
