"""``usage_request`` on the control channel: the kernel's and the host's resource use.

Not in the messaging spec, but jupyter-resource-usage asks every kernel for it (and
logs an error for each kernel that does not answer); the reply has ipykernel's fields.
"""

from __future__ import annotations

import os
import socket
from typing import Any


class UsageMeter:
    """Measures the kernel process and its children; CPU shares are since the last
    request (psutil counts them between calls, so processes are kept)."""

    def __init__(self) -> None:
        self._processes: dict[int, Any] = {}

    def usage(self) -> dict[str, Any]:
        content: dict[str, Any] = {"hostname": socket.gethostname(), "pid": os.getpid()}
        try:
            import psutil
        except ImportError:
            content["cpu_count"] = os.cpu_count()
            return content
        me = psutil.Process()
        family = [me, *me.children(recursive=True)]
        self._processes = {p.pid: self._processes.get(p.pid, p) for p in family}
        content["kernel_cpu"] = sum(_metric(p, "cpu_percent") for p in self._processes.values())
        kind = "pss" if hasattr(me.memory_full_info(), "pss") else "rss"
        content["kernel_memory"] = sum(
            _metric(p, "memory_full_info", kind) for p in self._processes.values()
        )
        host_cpu = psutil.cpu_percent()
        if host_cpu:  # the first call measures nothing and says 0.0
            content["host_cpu_percent"] = host_cpu
        content["cpu_count"] = psutil.cpu_count(logical=True)
        content["host_virtual_memory"] = dict(psutil.virtual_memory()._asdict())
        return content


def _metric(process: Any, name: str, field: str | None = None) -> Any:
    """One measure of a process (a number); 0 for a process that has just ended."""
    try:
        value = getattr(process, name)()
        return getattr(value, field) if field else value
    except Exception:
        return 0
