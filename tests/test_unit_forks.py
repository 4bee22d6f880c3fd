"""Unit tests (no kernel process) of ``pyo3_kernel.forks``.

A child forked from the kernel (``multiprocessing`` with fork) must know it is one,
and the modules holding the kernel's sockets and threads must be told, through the
callbacks they register, before the child runs any code. The tests fork the test
process; the child only checks what it was told and reports through a pipe.
"""

from __future__ import annotations

import os
import select

import pytest
from pyo3_kernel import forks

calls: list[str] = []


def note_fork() -> None:
    calls.append("forked")


def run_in_child(check) -> bytes:
    """Fork; the child writes ``check()`` to a pipe and exits at once."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.write(writer, check())
        finally:
            os._exit(0)
    os.close(writer)
    try:
        ready, _, _ = select.select([reader], [], [], 10)
        assert ready, "the child did not report"
        return os.read(reader, 1024)
    finally:
        os.close(reader)
        os.waitpid(pid, 0)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_callbacks_run_once_in_the_child_only():
    forks.after_fork_in_child(note_fork)
    forks.after_fork_in_child(note_fork)  # registered twice: called once
    calls.clear()

    def check() -> bytes:
        return f"{forks.in_child()} {calls.count('forked')}".encode()

    assert run_in_child(check) == b"True 1"
    assert calls == []
    assert forks.in_child() is False
