"""Unit tests (no kernel process) of ``pyo3_kernel.usage.UsageMeter``, the content of
``usage_reply`` (asked by jupyter-resource-usage).

The reply must have ipykernel's fields with the right types; CPU shares are measured
since the previous request, for the kernel process and its children (so the meter
keeps the processes between requests), and a child that has just ended counts as
zero instead of failing the request.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from pyo3_kernel.usage import UsageMeter

psutil = pytest.importorskip("psutil")

# The fields of ipykernel's usage_reply (kernelbase.Kernel.usage_request).
IPYKERNEL_FIELDS = {
    "hostname",
    "pid",
    "kernel_cpu",
    "kernel_memory",
    "cpu_count",
    "host_virtual_memory",
    "host_cpu_percent",
}


def test_usage_has_ipykernels_fields_with_their_types():
    meter = UsageMeter()
    meter.usage()  # the first measure of CPU shares is meaningless (0.0)
    content = meter.usage()
    assert set(content) <= IPYKERNEL_FIELDS
    assert set(content) >= IPYKERNEL_FIELDS - {"host_cpu_percent"}
    assert content["hostname"] == socket.gethostname()
    assert content["pid"] == os.getpid()
    assert isinstance(content["kernel_cpu"], (int, float)) and content["kernel_cpu"] >= 0
    assert isinstance(content["kernel_memory"], int) and content["kernel_memory"] > 0
    assert isinstance(content["cpu_count"], int) and content["cpu_count"] >= 1
    memory = content["host_virtual_memory"]
    assert isinstance(memory, dict)
    assert {"total", "available", "percent", "used"} <= set(memory)
    assert memory["total"] >= memory["available"] > 0
    if "host_cpu_percent" in content:
        assert 0 < content["host_cpu_percent"] <= 100


def test_kernel_memory_is_the_processes_memory():
    content = UsageMeter().usage()
    me = psutil.Process().memory_full_info()
    measure = me.pss if hasattr(me, "pss") else me.rss
    # Same process, a moment apart: within a factor of two.
    assert measure / 2 <= content["kernel_memory"] <= measure * 2


def test_usage_is_plain_json():
    import json

    content = UsageMeter().usage()
    assert json.loads(json.dumps(content)) == content


def test_cpu_share_is_measured_since_the_previous_request():
    meter = UsageMeter()
    meter.usage()
    deadline = time.monotonic() + 0.3
    while time.monotonic() < deadline:  # keep this process busy between requests
        pass
    assert meter.usage()["kernel_cpu"] > 20


def test_children_are_measured_and_kept_between_requests():
    meter = UsageMeter()
    child = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        meter.usage()  # starts measuring the child
        deadline = time.monotonic() + 10
        cpu = 0.0
        while cpu <= 20 and time.monotonic() < deadline:
            time.sleep(0.2)  # this process idles: CPU seen must be the child's
            cpu = meter.usage()["kernel_cpu"]
        assert cpu > 20
    finally:
        child.kill()
        child.wait(timeout=10)


def test_a_child_that_has_ended_does_not_fail_the_request():
    meter = UsageMeter()
    child = subprocess.Popen(["sleep", "30"])
    try:
        meter.usage()
        os.kill(child.pid, signal.SIGKILL)  # a zombie until reaped: still listed
        deadline = time.monotonic() + 5
        while psutil.Process(child.pid).status() != psutil.STATUS_ZOMBIE:
            assert time.monotonic() < deadline, "the killed child did not end"
            time.sleep(0.01)
        content = meter.usage()
        assert content["kernel_memory"] > 0
        assert content["kernel_cpu"] >= 0
    finally:
        child.kill()
        child.wait(timeout=10)
    assert meter.usage()["pid"] == os.getpid()  # reaped: gone from the next request


def test_without_psutil_the_reply_has_the_basics(monkeypatch):
    monkeypatch.setitem(sys.modules, "psutil", None)  # import psutil -> ImportError
    content = UsageMeter().usage()
    assert content == {
        "hostname": socket.gethostname(),
        "pid": os.getpid(),
        "cpu_count": os.cpu_count(),
    }
