"""Unit tests (no kernel process) of ``pyo3_kernel.children``: processes started by
cells do not outlive the kernel.

``terminate_children`` signals every process in the kernel's process group, so it
is run in a small Python process of its own (never in the test process, whose other
children it would end): that process starts children, a grandchild and a child in a
session of its own, and reports what was found and what survived.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
from pyo3_kernel import children

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc")

SCRIPT = r"""
import json, os, subprocess, sys, time
from pyo3_kernel import children

child = subprocess.Popen(["sleep", "60"])
stubborn = subprocess.Popen(
    [sys.executable, "-c",
     "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
     "print('ready', flush=True); time.sleep(60)"],
    stdout=subprocess.PIPE,
)
assert stubborn.stdout.readline() == b"ready\n"
parent = subprocess.Popen(["sh", "-c", "sleep 60 & echo $!; wait"], stdout=subprocess.PIPE)
grandchild = int(parent.stdout.readline())
own_group = subprocess.Popen(["sleep", "60"], start_new_session=True)

found = children.process_group_children()
started = time.monotonic()
children.terminate_children()
took = time.monotonic() - started
after = children.process_group_children()

def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False

report = {
    "found": sorted(found),
    "expected": sorted([child.pid, stubborn.pid, parent.pid, grandchild]),
    "own_group": own_group.pid,
    "after": after,
    "alive": {name: alive(p.pid) for name, p in
              [("child", child), ("stubborn", stubborn), ("parent", parent),
               ("own_group", own_group)]},
    "grandchild_alive": alive(grandchild),
    "took": took,
}
own_group.kill()
own_group.wait()
print(json.dumps(report))
"""


def test_terminate_children_ends_the_process_group_but_not_other_sessions():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["found"] == report["expected"]
    assert report["own_group"] not in report["found"]
    assert report["after"] == []
    assert report["alive"] == {
        "child": False,
        "stubborn": False,  # ignores SIGTERM: SIGKILL follows
        "parent": False,
        "own_group": True,
    }
    assert report["grandchild_alive"] is False
    assert report["took"] < 5


def test_a_living_child_is_listed_and_an_ended_one_is_not():
    # In the test process: only read, never signal.
    found = children.process_group_children()
    assert os.getpid() not in found
    probe = subprocess.Popen(["sleep", "30"])
    try:
        assert probe.pid in children.process_group_children()
    finally:
        probe.send_signal(signal.SIGKILL)
        probe.wait(timeout=10)
    assert probe.pid not in children.process_group_children()


def test_a_child_in_its_own_session_is_left_alone():
    own = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        assert own.pid not in children.process_group_children()
    finally:
        own.kill()
        own.wait(timeout=10)


TRACKER_SCRIPT = r"""
import json, os
from multiprocessing import resource_tracker
from pyo3_kernel import children

resource_tracker.ensure_running()
tracker = resource_tracker._resource_tracker._pid
children.terminate_children()
print(json.dumps({"tracker": tracker, "after": children.process_group_children()}))
"""


def test_the_multiprocessing_resource_tracker_outlives_terminate_children():
    """It must still be there for the exit handlers that unregister semaphores; it
    ends by itself when the kernel process exits (the test process's exit here)."""
    result = subprocess.run(
        [sys.executable, "-c", TRACKER_SCRIPT], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["after"] == [report["tracker"]]
    assert "resource_tracker" not in result.stderr, result.stderr
