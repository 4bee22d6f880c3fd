"""Building blocks for the fidelity tests: the same check run on ``pyo3`` and ``python3``.

Every fidelity test runs once per kernelspec in :data:`KERNELS`; ipykernel (``python3``)
is the reference, so a test that fails there is a wrong test, and one that fails only on
``pyo3`` is a difference a user would meet. Each test module defines its own fixtures
(module-scoped shared kernel, function-scoped fresh kernel) on top of
:func:`running_kernel`.

Like :mod:`kernel_helpers`, every wait is bounded by a deadline and ends on the message
that proves the behaviour, never on a fixed sleep.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jupyter_client.manager import KernelManager
from kernel_helpers import _get, collect_iopub, start_kernel, stop_kernel, wait_for_shell_reply

# PYO3_FIDELITY_KERNELS=pyo3: ours only (tools/matrix.py, on the other Pythons: the
# reference was checked in the main run).
KERNELS = os.environ.get("PYO3_FIDELITY_KERNELS", "pyo3,python3").split(",")
# Replies that any kernel sends at once (no user code runs first).
QUICK = 10


@dataclass
class RunningKernel:
    """A kernel under test: its kernelspec name, manager, client and working directory."""

    name: str
    km: KernelManager
    kc: Any
    cwd: Path | None = None


@contextmanager
def running_kernel(name: str, cwd: Path | None = None, **kw: Any) -> Iterator[RunningKernel]:
    """Start kernelspec ``name`` (in ``cwd`` if given), yield it, shut it down.

    Extra keyword arguments go to ``KernelManager.start_kernel`` (``env``,
    ``extra_arguments``, ...).
    """
    if cwd is not None:
        kw["cwd"] = str(cwd)
    km, kc = start_kernel(name, **kw)
    try:
        yield RunningKernel(name, km, kc, cwd)
    finally:
        stop_kernel(km, kc)


def execute_with_id(
    kc: Any, code: str, timeout: float = 30, **kw: Any
) -> tuple[str, dict, list[dict]]:
    """Run ``code``; return ``(msg_id, reply_content, outputs)`` (outputs up to idle)."""
    msg_id = kc.execute(code, **kw)
    outputs = collect_iopub(kc, msg_id, timeout)
    reply = wait_for_shell_reply(kc, msg_id, timeout)
    return msg_id, reply["content"], outputs


def send_request(kc: Any, channel: str, msg_type: str, content: dict | None = None) -> str:
    """Send ``msg_type`` on the ``shell`` or ``control`` channel; return its msg_id."""
    msg = kc.session.msg(msg_type, content or {})
    getattr(kc, f"{channel}_channel").send(msg)
    return msg["header"]["msg_id"]


def execute_content(code: str, **overrides: Any) -> dict:
    """A complete execute_request content, as ``KernelClient.execute`` builds it."""
    content = {
        "code": code,
        "silent": False,
        "store_history": True,
        "user_expressions": {},
        "allow_stdin": False,
        "stop_on_error": True,
    }
    content.update(overrides)
    return content


def control_reply(kc: Any, msg_id: str, timeout: float = QUICK) -> dict:
    """The control-channel reply whose parent msg_id is ``msg_id`` (others are dropped)."""
    deadline = time.monotonic() + timeout
    what = f"control reply to {msg_id} ({timeout}s)"
    while True:
        msg = _get(kc.get_control_msg, kc, deadline, what)
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg


def shell_replies_in_order(kc: Any, msg_ids: list[str], timeout: float = 30) -> list[dict]:
    """The shell replies to ``msg_ids`` in the order they arrived (other replies dropped)."""
    deadline = time.monotonic() + timeout
    wanted = set(msg_ids)
    replies: list[dict] = []
    while len(replies) < len(msg_ids):
        what = (
            f"shell replies to {len(msg_ids)} requests ({timeout}s); "
            f"got {[(r['msg_type'], r['content'].get('status')) for r in replies]}"
        )
        msg = _get(kc.get_shell_msg, kc, deadline, what)
        if msg["parent_header"].get("msg_id") in wanted:
            replies.append(msg)
    return replies


def iopub_until(
    kc: Any, done: Callable[[list[dict]], bool], what: str, timeout: float = 10
) -> list[dict]:
    """Whole iopub messages (any parent) in arrival order, until ``done(messages)``.

    Raises AssertionError naming ``what`` and the messages seen at the deadline.
    """
    deadline = time.monotonic() + timeout
    messages: list[dict] = []
    while not done(messages):
        try:
            messages.append(_get(kc.get_iopub_msg, kc, deadline, what))
        except AssertionError as exc:
            seen = [(m["msg_type"], m["content"]) for m in messages]
            raise AssertionError(f"{exc}; iopub so far: {seen!r}") from None
    return messages


def is_idle_of(msg: dict, msg_id: str) -> bool:
    """Whether ``msg`` is the ``status: idle`` that ends request ``msg_id``."""
    return (
        msg["msg_type"] == "status"
        and msg["content"].get("execution_state") == "idle"
        and msg["parent_header"].get("msg_id") == msg_id
    )


def output_by_cell(messages: list[dict]) -> dict[str, dict[str, Any]]:
    """Stream text and display_data text/plain of ``messages``, grouped by parent msg_id.

    ``{msg_id: {"stdout": str, "stderr": str, "display": [text/plain, ...]}}``.
    """
    cells: dict[str, dict[str, Any]] = {}
    for msg in messages:
        if msg["msg_type"] not in ("stream", "display_data"):
            continue
        cell = cells.setdefault(
            msg["parent_header"].get("msg_id"), {"stdout": "", "stderr": "", "display": []}
        )
        content = msg["content"]
        if msg["msg_type"] == "stream":
            cell[content["name"]] += content["text"]
        else:
            cell["display"].append(content["data"].get("text/plain"))
    return cells


def stream_runs(outputs: list[dict]) -> list[tuple[str, str]]:
    """``(name, text)`` of the stream outputs, consecutive same-name messages joined."""
    runs: list[tuple[str, str]] = []
    for out in outputs:
        if out["msg_type"] != "stream":
            continue
        name, text = out["content"]["name"], out["content"]["text"]
        if runs and runs[-1][0] == name:
            runs[-1] = (name, runs[-1][1] + text)
        else:
            runs.append((name, text))
    return runs


def as_datetime(value: str | datetime) -> datetime:
    """A header/metadata date, whether jupyter_client parsed it or left it a string."""
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
