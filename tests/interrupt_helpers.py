"""Start a cell, wait until it is surely running, interrupt it, collect the outcome."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from kernel_helpers import _get, collect_iopub, kernel_name, wait_for_shell_reply

MARKER = "<<running>>"


def kernel_manager(mode: str, spec_root: Path) -> KernelManager:
    """A manager for the kernel under test with ``interrupt_mode`` set to ``mode``."""
    base = KernelSpecManager().get_kernel_spec(kernel_name())
    spec_dir = spec_root / f"interrupt-{mode}"
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = base.to_dict()
    spec["interrupt_mode"] = mode
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    ksm = KernelSpecManager(kernel_dirs=[str(spec_root)])
    return KernelManager(kernel_name=spec_dir.name, kernel_spec_manager=ksm)


def start(km: KernelManager) -> Any:
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    return kc


def wait_until_running(kc: Any, msg_id: str, waits_for_input: bool, timeout: float = 30) -> None:
    """Block until the cell printed MARKER (or asked for input)."""
    deadline = time.monotonic() + timeout
    if waits_for_input:
        while True:
            msg = _get(kc.get_stdin_msg, kc, deadline, "input_request")
            if msg["msg_type"] == "input_request":
                return
    seen = ""
    while MARKER not in seen:
        msg = _get(kc.get_iopub_msg, kc, deadline, f"the cell to print {MARKER}")
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream":
            seen += msg["content"]["text"]


def interrupt_cell(
    km: KernelManager, kc: Any, code: str, waits_for_input: bool = False
) -> tuple[dict, list[dict]]:
    """Run ``code``, interrupt it once it runs; return (reply content, iopub outputs)."""
    msg_id = kc.execute(code, allow_stdin=waits_for_input)
    wait_until_running(kc, msg_id, waits_for_input)
    km.interrupt_kernel()
    reply = wait_for_shell_reply(kc, msg_id, timeout=30)
    outputs = collect_iopub(kc, msg_id, timeout=30)
    return reply["content"], outputs
