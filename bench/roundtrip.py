"""Startup and execute round-trip, our kernel against others, measured in one run.

Usage: python bench/roundtrip.py [--kernels pyo3,python3] [--starts 10] [--executes 500]
Prints medians/p90 in milliseconds and the ratio to the last kernel listed (ipykernel).
"""

from __future__ import annotations

import argparse
import statistics
import time

from jupyter_client.manager import KernelManager


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def startup(name: str) -> float:
    """Process launch to the first kernel_info_reply, in seconds."""
    km = KernelManager(kernel_name=name)
    start = time.perf_counter()
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        return time.perf_counter() - start
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def execute_round_trips(name: str, n: int) -> tuple[list[float], list[float]]:
    """Times from sending `1+1` to its execute_reply and to its iopub idle."""
    km = KernelManager(kernel_name=name)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    to_reply, to_idle = [], []
    try:
        for i in range(n + 50):  # the first 50 are warm-up
            start = time.perf_counter()
            msg_id = kc.execute("1+1")
            while True:
                reply = kc.get_shell_msg(timeout=10)
                if reply["parent_header"].get("msg_id") == msg_id:
                    break
            t_reply = time.perf_counter() - start
            while True:
                msg = kc.get_iopub_msg(timeout=10)
                if (
                    msg["parent_header"].get("msg_id") == msg_id
                    and msg["msg_type"] == "status"
                    and msg["content"]["execution_state"] == "idle"
                ):
                    break
            t_idle = time.perf_counter() - start
            if i >= 50:
                to_reply.append(t_reply)
                to_idle.append(t_idle)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return to_reply, to_idle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernels", default="pyo3,python3")
    parser.add_argument("--starts", type=int, default=10)
    parser.add_argument("--executes", type=int, default=500)
    args = parser.parse_args()
    rows = {}
    for name in args.kernels.split(","):
        starts = [startup(name) for _ in range(args.starts)]
        to_reply, to_idle = execute_round_trips(name, args.executes)
        rows[name] = {
            "startup_ms": statistics.median(starts) * 1e3,
            "reply_median_ms": statistics.median(to_reply) * 1e3,
            "reply_p90_ms": percentile(to_reply, 0.9) * 1e3,
            "idle_median_ms": statistics.median(to_idle) * 1e3,
        }
    base = rows[args.kernels.split(",")[-1]]
    print(f"{'kernel':10} " + " ".join(f"{k:>18}" for k in base))
    for name, row in rows.items():
        cells = " ".join(f"{v:10.2f} ({v / base[k]:4.2f}x)" for k, v in row.items())
        print(f"{name:10} {cells}")


if __name__ == "__main__":
    main()
