"""Unit tests (no kernel process) of the thread helpers of ``pyo3_kernel.interrupts``.

SIGINT is meant for the main thread (where the interrupt gate turns it into
``KeyboardInterrupt`` in the running cell); helper threads must never take it, so
they are started with SIGINT blocked. The gate itself needs the host's
``rust_bridge`` and is exercised by the kernel tests.
"""

from __future__ import annotations

import signal
import threading

from pyo3_kernel.interrupts import (
    block_sigint_in_this_thread,
    threads_started_here_ignore_sigint,
)


def blocked_in_thread(before_start=None, in_thread=None) -> bool:
    """Whether SIGINT is blocked in a new thread."""
    result: dict[str, bool] = {}

    def run() -> None:
        if in_thread is not None:
            in_thread()
        result["blocked"] = signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, [])

    thread = threading.Thread(target=run)
    if before_start is not None:
        with before_start():
            thread.start()
    else:
        thread.start()
    thread.join(timeout=5)
    return result["blocked"]


def main_thread_blocks_sigint() -> bool:
    return signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, [])


def test_threads_take_sigint_by_default():
    assert not main_thread_blocks_sigint()
    assert not blocked_in_thread()


def test_threads_started_in_the_block_ignore_sigint():
    assert blocked_in_thread(before_start=threads_started_here_ignore_sigint)
    assert not main_thread_blocks_sigint()  # restored after the block


def test_the_block_restores_the_mask_after_an_exception():
    try:
        with threads_started_here_ignore_sigint():
            raise RuntimeError("while starting threads")
    except RuntimeError:
        pass
    assert not main_thread_blocks_sigint()


def test_a_thread_can_block_sigint_for_itself_only():
    assert blocked_in_thread(in_thread=block_sigint_in_this_thread)
    assert not main_thread_blocks_sigint()
    assert not blocked_in_thread()
