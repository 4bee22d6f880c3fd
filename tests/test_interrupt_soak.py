"""Soak: 200 interrupts at random moments across a mix of cells, in each interrupt mode.

Zero kernel deaths, zero lost replies, every error a KeyboardInterrupt, and the
namespace intact at the end.
"""

from __future__ import annotations

import random
import time

from interrupt_helpers import kernel_manager, start
from kernel_helpers import collect_iopub, eval_text, execute, wait_for_shell_reply

CELLS = [
    "time.sleep({r})",
    "total = 0\nfor i in range(100_000):\n    total += i",
    "rust_bridge.sleep({r})",
    "rust_bridge.count_primes(2_000_000)",
    "for i in range(50):\n    print('line', i)",
    "try:\n    time.sleep({r})\nexcept KeyboardInterrupt:\n    caught += 1",
    "try:\n    time.sleep({r})\nfinally:\n    finished += 1",
    "await asyncio.sleep({r})",
    "sum(range(10_000))",
]


def soak(mode: str, interrupts: int, spec_root, seed: int) -> None:
    rng = random.Random(seed)
    km = kernel_manager(mode, spec_root)
    kc = start(km)
    try:
        pid = km.provisioner.pid
        setup = "import asyncio, time, rust_bridge\nkept = list(range(5)); caught = finished = 0"
        reply, _ = execute(kc, setup)
        assert reply["status"] == "ok"
        for n in range(interrupts):
            cell = rng.choice(CELLS).format(r=round(rng.uniform(0, 0.05), 3))
            msg_id = kc.execute(cell)
            time.sleep(rng.uniform(0, 0.03))  # a random moment: before, during or after
            km.interrupt_kernel()
            reply = wait_for_shell_reply(kc, msg_id, timeout=30)["content"]
            collect_iopub(kc, msg_id, timeout=30)
            assert reply["status"] in ("ok", "error"), (n, cell, reply)
            if reply["status"] == "error":
                assert reply["ename"] == "KeyboardInterrupt", (n, cell, reply)
            assert km.is_alive(), f"kernel died at interrupt {n} during {cell!r}"
        assert km.provisioner.pid == pid, "the kernel was restarted"
        assert eval_text(kc, "kept") == "[0, 1, 2, 3, 4]"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_soak_signal_mode(tmp_path):
    soak("signal", 200, tmp_path, seed=1)


def test_soak_message_mode(tmp_path):
    soak("message", 200, tmp_path, seed=2)
