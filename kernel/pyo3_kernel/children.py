"""Processes started by cells do not outlive the kernel (as in ipykernel), and the
kernel does not outlive the client process that launched it."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time

from .interrupts import threads_started_here_ignore_sigint

log = logging.getLogger("pyo3_kernel")
# Waits between checks while children end; SIGKILL follows SIGTERM after the last.
PATIENCE = (0.01, 0.03, 0.1, 0.3)


def _stat(pid: str) -> tuple[int, int, str] | None:
    """(parent pid, process group, state) from /proc, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read()
    except OSError:
        return None
    rest = fields[fields.rindex(b")") + 2 :].split()
    return int(rest[1]), int(rest[2]), rest[0].decode()


def process_group_children() -> list[int]:
    """Living descendants of this process that stayed in its process group (ones that
    started a group of their own are left alone, like ipykernel does)."""
    if not os.path.isdir("/proc"):
        return []
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (info := _stat(entry)) is not None:
            table[int(entry)] = info
    group = os.getpgrp()
    found, frontier = [], [os.getpid()]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, pgrp, state) in table.items():
            if ppid == parent:
                frontier.append(pid)
                if pgrp == group and state != "Z":
                    found.append(pid)
    return found


def _spared() -> set[int]:
    """Children that must outlive the kernel's last Python code: multiprocessing's
    resource tracker unlinks the semaphores and shared memory cells leave behind, when
    the kernel's exit handlers have run and closed its pipe (it ignores SIGTERM and
    exits on that EOF). Killed first, the exit handlers start a new one, which prints
    a warning and a KeyError per semaphore (ipykernel never gets that far: it waits
    14 s for children, and the client kills it after 5)."""
    tracker_module = sys.modules.get("multiprocessing.resource_tracker")
    tracker = getattr(tracker_module, "_resource_tracker", None)
    pid = getattr(tracker, "_pid", None)
    return {pid} if isinstance(pid, int) else set()


def terminate_children() -> None:
    """SIGTERM, then SIGKILL, the kernel's children; returns within about half a second."""
    spared = _spared()
    for signum in (signal.SIGTERM, signal.SIGKILL):
        for delay in PATIENCE:
            children = [pid for pid in process_group_children() if pid not in spared]
            if not children:
                return
            for pid in children:
                try:
                    os.kill(pid, signum)
                except OSError:
                    pass
            time.sleep(delay)
            _reap()
    if remaining := [pid for pid in process_group_children() if pid not in spared]:
        log.warning("child processes still running at shutdown: %s", remaining)


def _reap() -> None:
    """Collect exit statuses of our own ended children so they do not linger as zombies."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def exit_with_parent() -> None:
    """When launched by a Jupyter client (JPY_PARENT_PID set), exit if that process dies,
    so no kernel is orphaned."""
    if not os.environ.get("JPY_PARENT_PID"):
        return
    parent = os.getppid()
    if parent == 1:
        return  # already adopted: nothing to watch

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        log.warning("the process that started this kernel is gone; exiting")
        terminate_children()
        os._exit(1)

    with threads_started_here_ignore_sigint():
        threading.Thread(target=watch, daemon=True, name="parent-watch").start()
