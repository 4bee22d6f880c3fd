"""Helpers for driving real kernel processes through jupyter_client.

Every wait here is bounded by a deadline and keyed on message ids: iopub
messages are matched on ``parent_header.msg_id`` and collected until the
``status: idle`` message for the request, shell replies are matched on
``parent_header.msg_id``. Messages that belong to other requests are skipped.
"""

from __future__ import annotations

import os
import queue
import re
import time
from typing import Any

from jupyter_client.manager import KernelManager

DEFAULT_KERNEL = "pyo3"
ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
# How often a blocked wait wakes up to check that the kernel process is alive.
_POLL = 1.0


def kernel_name() -> str:
    """Name of the kernelspec under test (PYO3_TEST_KERNEL overrides 'pyo3')."""
    return os.environ.get("PYO3_TEST_KERNEL", DEFAULT_KERNEL)


def start_kernel(
    name: str | None = None, ready_timeout: float = 60, **kw: Any
) -> tuple[KernelManager, Any]:
    """Start kernel ``name`` and return ``(km, kc)`` once it answers kernel_info.

    Extra keyword arguments go to ``KernelManager.start_kernel`` (e.g. ``env``).
    """
    km = KernelManager(kernel_name=name or kernel_name())
    km.start_kernel(**kw)
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=ready_timeout)
    except BaseException:
        stop_kernel(km, kc)
        raise
    return km, kc


def stop_kernel(km: KernelManager, kc: Any) -> None:
    try:
        kc.stop_channels()
    finally:
        if km.has_kernel:
            km.shutdown_kernel(now=True)


def _check_alive(kc: Any, what: str) -> None:
    km = getattr(kc, "parent", None)
    if isinstance(km, KernelManager) and km.has_kernel and not km.is_alive():
        raise AssertionError(f"kernel process died while waiting for {what}")


def _get(channel_get, kc: Any, deadline: float, what: str) -> dict:
    """One message from a channel, or AssertionError at the deadline."""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"timed out waiting for {what}")
        try:
            return channel_get(timeout=min(remaining, _POLL))
        except queue.Empty:
            _check_alive(kc, what)


def wait_for_shell_reply(kc: Any, msg_id: str, timeout: float = 30) -> dict:
    """The shell reply whose parent msg_id is ``msg_id`` (others are dropped)."""
    deadline = time.monotonic() + timeout
    what = f"shell reply to {msg_id} ({timeout}s)"
    while True:
        msg = _get(kc.get_shell_msg, kc, deadline, what)
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg


def collect_iopub(kc: Any, msg_id: str, timeout: float = 30) -> list[dict]:
    """iopub messages of request ``msg_id`` up to its ``status: idle``.

    Returns ``[{"msg_type": ..., "content": ...}, ...]`` in arrival order,
    without the busy/idle status messages.
    """
    deadline = time.monotonic() + timeout
    outputs: list[dict] = []
    while True:
        try:
            msg = _get(
                kc.get_iopub_msg,
                kc,
                deadline,
                f"iopub status idle for {msg_id} ({timeout}s)",
            )
        except AssertionError as exc:
            raise AssertionError(f"{exc}; outputs so far: {outputs!r}") from None
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        msg_type = msg["msg_type"]
        if msg_type == "status":
            if msg["content"].get("execution_state") == "idle":
                return outputs
            continue
        outputs.append({"msg_type": msg_type, "content": msg["content"]})


def execute(kc: Any, code: str, timeout: float = 30, **kw: Any) -> tuple[dict, list]:
    """Run ``code``; return ``(reply_content, outputs)``.

    ``outputs`` are the iopub messages of this request between busy and idle
    (see :func:`collect_iopub`). Extra keyword arguments go to ``kc.execute``
    (``silent``, ``store_history``, ``user_expressions``, ...).
    """
    deadline = time.monotonic() + timeout
    msg_id = kc.execute(code, **kw)
    try:
        outputs = collect_iopub(kc, msg_id, timeout)
        reply = wait_for_shell_reply(kc, msg_id, max(deadline - time.monotonic(), 0.1))
    except AssertionError as exc:
        raise AssertionError(f"executing {code[:200]!r}: {exc}") from None
    return reply["content"], outputs


def of_type(outputs: list[dict], msg_type: str) -> list[dict]:
    return [o["content"] for o in outputs if o["msg_type"] == msg_type]


def stream_text(outputs: list[dict], name: str = "stdout") -> str:
    """Concatenated text of the ``name`` stream messages."""
    return "".join(c["text"] for c in of_type(outputs, "stream") if c["name"] == name)


def execute_results(outputs: list[dict]) -> list[dict]:
    return of_type(outputs, "execute_result")


def result_data(outputs: list[dict]) -> dict | None:
    """``data`` of the execute_result (None if there is none; fails if several)."""
    results = execute_results(outputs)
    assert len(results) <= 1, f"more than one execute_result: {results!r}"
    return results[0]["data"] if results else None


def errors(outputs: list[dict]) -> list[dict]:
    """Contents of the iopub ``error`` messages."""
    return of_type(outputs, "error")


def strip_ansi(text: str) -> str:
    return ANSI_RE.sub("", text)


def traceback_text(error_content: dict) -> str:
    """The error's traceback lines joined, ANSI escapes removed."""
    return strip_ansi("\n".join(error_content.get("traceback", [])))


def eval_text(kc: Any, code: str, timeout: float = 30) -> str:
    """Execute ``code``, assert success, return the execute_result text/plain."""
    reply, outputs = execute(kc, code, timeout=timeout)
    assert reply["status"] == "ok", f"{code!r} failed: {reply!r} {errors(outputs)!r}"
    data = result_data(outputs)
    assert data is not None, f"{code!r} produced no execute_result: {outputs!r}"
    return data["text/plain"]


def run_ok(kc: Any, code: str, timeout: float = 30) -> list[dict]:
    """Execute ``code``, assert status ok, return the outputs."""
    reply, outputs = execute(kc, code, timeout=timeout)
    assert reply["status"] == "ok", f"{code!r} failed: {reply!r} {errors(outputs)!r}"
    return outputs
