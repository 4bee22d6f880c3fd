"""Helpers for the feature tests: shell requests, raw shell messages, stdin.

Like :mod:`kernel_helpers`, every wait is bounded by a deadline and keyed on the
request's msg_id.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

from jupyter_client.kernelspec import KernelSpecManager
from kernel_helpers import _get, kernel_name, strip_ansi, wait_for_shell_reply

REQUEST_TIMEOUT = 30


def request(kc: Any, method: str, *args: Any, timeout: float = REQUEST_TIMEOUT, **kw: Any) -> dict:
    """Call ``kc.<method>(...)`` (complete, inspect, history, ...) and return the reply.

    The reply's ``msg_type`` is checked against the request's; returns its content.
    """
    msg_id = getattr(kc, method)(*args, **kw)
    reply = wait_for_shell_reply(kc, msg_id, timeout)
    assert reply["msg_type"] == f"{method}_reply", reply
    return reply["content"]


def send_shell(kc: Any, msg_type: str, content: dict) -> str:
    """Send a raw ``msg_type`` message on the shell channel; return its msg_id.

    For messages that have no reply (comm_open, comm_msg, comm_close): to know
    the kernel handled one, execute a cell afterwards (shell requests are
    handled in order).
    """
    msg = kc.session.msg(msg_type, content)
    kc.shell_channel.send(msg)
    return msg["header"]["msg_id"]


def wait_for_input_request(kc: Any, msg_id: str, timeout: float = REQUEST_TIMEOUT) -> dict:
    """The ``input_request`` on the stdin channel whose parent is ``msg_id``."""
    deadline = time.monotonic() + timeout
    while True:
        msg = _get(kc.get_stdin_msg, kc, deadline, f"input_request of {msg_id}")
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "input_request":
            return msg


def page_text(reply: dict) -> str:
    """text/plain of the ``page`` payload of an execute_reply (ANSI removed)."""
    pages = [p for p in reply.get("payload", []) if p.get("source") == "page"]
    assert len(pages) == 1, f"expected one page payload, got {reply.get('payload')!r}"
    return strip_ansi(pages[0]["data"]["text/plain"])


def kernel_env_prefix() -> Path:
    """The environment the kernel under test runs in: where its executable lives."""
    argv0 = KernelSpecManager().get_kernel_spec(kernel_name()).argv[0]
    exe = argv0 if os.path.isabs(argv0) else shutil.which(argv0)
    assert exe, f"cannot locate kernel executable {argv0!r}"
    return Path(exe).parent.parent


def is_pyo3() -> bool:
    return kernel_name() == "pyo3"
