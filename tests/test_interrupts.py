"""Interrupts in both modes: the running cell gets KeyboardInterrupt, nothing else changes.

Every case ends with: execute_reply status 'error', ename 'KeyboardInterrupt', an iopub
error whose traceback shows the line that was running, the kernel alive, and the
variables defined before still holding their values.
"""

from __future__ import annotations

import os
import signal

import pytest
from interrupt_helpers import MARKER, interrupt_cell, kernel_manager, start
from kernel_helpers import errors, eval_text, execute, kernel_name, stream_text, traceback_text

GO = f"print({MARKER!r}, flush=True)"

CASES = {
    "busy_loop": (f"{GO}\nwhile True:\n    pass", "while True:", False),
    "time_sleep": (f"import time\n{GO}\ntime.sleep(30)", "time.sleep(30)", False),
    "input": ("answer = input('waiting> ')", "answer = input('waiting> ')", True),
    "native_sleep": (
        f"import rust_bridge\n{GO}\nrust_bridge.sleep(30)",
        "rust_bridge.sleep(30)",
        False,
    ),
    "native_compute": (
        f"import rust_bridge\n{GO}\nrust_bridge.count_primes(10**13)",
        "rust_bridge.count_primes(10**13)",
        False,
    ),
    "top_level_await": (
        f"import asyncio\n{GO}\nawait asyncio.sleep(30)",
        "await asyncio.sleep(30)",
        False,
    ),
}


@pytest.fixture(scope="module", params=["signal", "message"])
def interruptible(request, tmp_path_factory):
    """(km, kc) of a kernel whose kernelspec says interrupt_mode=<param>."""
    km = kernel_manager(request.param, tmp_path_factory.mktemp("specs"))
    kc = start(km)
    execute(kc, "kept = {'a': 1}; counter = 41")
    yield km, kc
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def assert_survived(kc) -> None:
    assert eval_text(kc, "kept, counter + 1") == "({'a': 1}, 42)"


@pytest.mark.parametrize("case", CASES)
def test_interrupt_stops_the_cell_and_keeps_the_namespace(interruptible, case):
    km, kc = interruptible
    code, running_line, waits_for_input = CASES[case]
    reply, outputs = interrupt_cell(km, kc, code, waits_for_input)
    assert reply["status"] == "error", reply
    assert reply["ename"] == "KeyboardInterrupt", reply
    [error] = errors(outputs)
    assert error["ename"] == "KeyboardInterrupt"
    assert running_line in traceback_text(error), traceback_text(error)
    assert km.is_alive()
    assert_survived(kc)


def test_interrupt_runs_finally_blocks_and_delivers_their_output(interruptible):
    km, kc = interruptible
    code = f"import time\ntry:\n    {GO}\n    time.sleep(30)\nfinally:\n    print('finally ran')"
    reply, outputs = interrupt_cell(km, kc, code)
    assert reply["ename"] == "KeyboardInterrupt"
    assert "finally ran" in stream_text(outputs)
    assert "time.sleep(30)" in traceback_text(errors(outputs)[0])
    assert_survived(kc)


def test_cell_that_catches_keyboard_interrupt_completes_normally(interruptible):
    km, kc = interruptible
    code = (
        f"import time\ntry:\n    {GO}\n    time.sleep(30)\n"
        "except KeyboardInterrupt:\n    print('handled it')\n'finished'"
    )
    reply, outputs = interrupt_cell(km, kc, code)
    assert reply["status"] == "ok", reply
    assert "handled it" in stream_text(outputs)
    assert not errors(outputs)
    assert_survived(kc)


def send_interrupt(km, kc) -> str | None:
    """Interrupt; in message mode return the interrupt_request's id (else None)."""
    if km.kernel_spec.interrupt_mode != "message":
        km.interrupt_kernel()
        return None
    msg = kc.session.msg("interrupt_request", {})
    kc.control_channel.send(msg)
    return msg["header"]["msg_id"]


def wait_for_interrupt_replies(kc, msg_ids: list[str | None], timeout: float = 10) -> None:
    """The interrupt_reply of each request (message mode): the control thread has sent
    its signal, so it is handled before the next request (channels are not ordered
    between them, and the control thread needs the GIL a cell in C may hold)."""
    waiting = {msg_id for msg_id in msg_ids if msg_id is not None}
    while waiting:
        reply = kc.get_control_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") in waiting:
            assert reply["msg_type"] == "interrupt_reply"
            assert reply["content"]["status"] == "ok"
            waiting.discard(reply["parent_header"]["msg_id"])


def interrupt_and_wait_until_delivered(km, kc) -> None:
    """Interrupt, and in message mode wait until the control thread delivered it."""
    wait_for_interrupt_replies(kc, [send_interrupt(km, kc)])


def test_interrupt_while_idle_changes_nothing(interruptible):
    km, kc = interruptible
    for _ in range(3):
        interrupt_and_wait_until_delivered(km, kc)
    assert eval_text(kc, "counter") == "41"
    interrupt_and_wait_until_delivered(km, kc)
    assert eval_text(kc, "counter + 2") == "43"
    assert_survived(kc)


def test_two_interrupts_of_code_stuck_in_c_do_not_crash(interruptible):
    """A regular expression backtracking in C checks no signals: the interrupt lands
    when it returns. A second interrupt meanwhile must not hurt the kernel."""
    km, kc = interruptible
    code = f"import re\n{GO}\nre.match(r'(a+)+$', 'a' * 25 + 'b')"
    msg_id = kc.execute(code)
    from interrupt_helpers import wait_until_running
    from kernel_helpers import collect_iopub, wait_for_shell_reply

    wait_until_running(kc, msg_id, waits_for_input=False)
    interrupts = [send_interrupt(km, kc), send_interrupt(km, kc)]
    reply = wait_for_shell_reply(kc, msg_id, timeout=120)
    collect_iopub(kc, msg_id)
    # Message mode: both requests handled before the next cell is sent (a request still
    # unread then would interrupt that cell, as a late SIGINT would).
    wait_for_interrupt_replies(kc, interrupts, timeout=120)
    assert reply["content"]["status"] in ("ok", "error")
    if reply["content"]["status"] == "error":
        assert reply["content"]["ename"] == "KeyboardInterrupt"
    assert km.is_alive()
    assert_survived(kc)


def test_a_burst_of_signals_never_crashes_the_kernel(interruptible):
    """Signals landing while the handler of the one before still runs (an interrupt, a
    gateway's SIGTERM right after, a cell's own SIGUSR1 handler) each need room on the
    main thread's alternate signal stack; Rust's default few KiB overflowed (SIGSEGV)."""
    km, kc = interruptible
    if km.kernel_spec.interrupt_mode != "signal":
        pytest.skip("signals are sent to the process in signal mode only")
    execute(
        kc, "import os, signal\nusr1 = []\nsignal.signal(signal.SIGUSR1, lambda *a: usr1.append(1))"
    )
    pid = int(eval_text(kc, "os.getpid()"))
    for _ in range(200):  # idle: SIGINT does nothing, SIGUSR1 runs the cell's handler
        os.kill(pid, signal.SIGUSR1)
        os.kill(pid, signal.SIGINT)
    assert km.is_alive()
    assert int(eval_text(kc, "len(usr1)")) >= 1
    assert_survived(kc)


def test_signal_handlers_have_room_on_the_main_thread(interruptible):
    """The thread that runs Python (and takes SIGINT) has an alternate signal stack of
    at least 256 KiB (host/signal_stack.rs), read with sigaltstack from a cell."""
    km, kc = interruptible
    if kernel_name() != "pyo3":
        pytest.skip("a property of pyo3-kernel's host")
    code = (
        "import ctypes, threading\n"
        "class StackT(ctypes.Structure):\n"
        "    _fields_ = [\n"
        "        ('sp', ctypes.c_void_p), ('flags', ctypes.c_int), ('size', ctypes.c_size_t)\n"
        "    ]\n"
        "now = StackT()\n"
        "assert ctypes.CDLL(None).sigaltstack(None, ctypes.byref(now)) == 0\n"
        "(threading.current_thread() is threading.main_thread(), now.flags & 2, now.size)"
    )
    main, disabled, size = eval(eval_text(kc, code))  # noqa: S307 (a tuple of ints we made)
    assert main and not disabled
    assert size >= 256 * 1024
