"""Fidelity with ipykernel: where output goes (threads, forked children, stream order) and
the kernel-object API that libraries such as ipywidgets call.

Each test runs on both kernelspecs (``pyo3`` and the reference ``python3``).
"""

from __future__ import annotations

from typing import Any

import pytest
from fidelity_helpers import (
    execute_with_id,
    iopub_until,
    is_idle_of,
    output_by_cell,
    stream_runs,
)
from kernel_helpers import errors, eval_text, execute, run_ok, stream_text

# A thread started by cell 1 prints and displays three times: during cell 1, during cell 2,
# during cell 3. Events make every step happen inside the cell meant for it; the thread
# either sets the parent ("global": set_parent, "thread-local": set_thread_parent) or
# leaves it alone ("none"), in which case its output follows whichever cell is running.
THREAD_CELL = """\
from threading import Event, Thread
from IPython.display import display

mode = {mode!r}
parent = get_ipython().get_parent()
go, step_done = Event(), Event()

def thread_target():
    token = None
    if mode == "global":
        get_ipython().set_parent(parent)
    elif mode == "thread-local":
        token = get_ipython().set_thread_parent(parent)
    print("before", flush=True)
    display(1)
    step_done.set()
    for word, number in (("during", 2), ("after", 3)):
        go.wait(10)
        go.clear()
        print(word, flush=True)
        display(number)
        step_done.set()
    if token is not None:
        get_ipython().reset_thread_parent(token)

thread = Thread(target=thread_target)
thread.start()
step_done.wait(10)
step_done.clear()
"""
NEXT_STEP = "go.set()\nstep_done.wait(10)\nstep_done.clear()"

CHILD_THREAD_CELL = """\
from threading import Event, Thread

parent = get_ipython().get_parent()
release = Event()

def child_target():
    get_ipython().set_parent(parent)
    release.wait(10)
    for i in range(3):
        print(i, flush=True)

def parent_target():
    child = Thread(target=child_target)
    child.start()
    child.join()

outer = Thread(target=parent_target)
outer.start()
"""

# A forked child's output travels to the kernel process on its own path (ipykernel: a zmq
# pipe its IOPub thread polls), so a cell that ends right after join() can race its idle
# status. ipykernel's own tests end such cells with time.sleep(0.5); so do these, inside the
# cell: the output must still arrive before the cell's idle.
FORK_PRINT_CELL = """\
import time
import multiprocessing as mp
ctx = mp.get_context('fork')
ps = [ctx.Process(target=print, args=('hello', i)) for i in range(3)]
for p in ps: p.start()
for p in ps: p.join()
time.sleep(0.5)
"""
FORK_RAISE_CELL = """\
import time
import multiprocessing as mp
ctx = mp.get_context('fork')
p = ctx.Process(target=int, args=('hi',))
p.start()
p.join()
time.sleep(0.5)
"""


def run_cells_collecting_iopub(kc: Any, cells: list[str]) -> tuple[list[str], list[dict]]:
    """Run ``cells`` one after the other; return their msg_ids and every iopub message.

    Each cell is sent once the previous one is idle; all iopub messages up to the last
    cell's idle are returned (any parent), so output sent to the wrong cell is kept.
    """
    msg_ids: list[str] = []
    messages: list[dict] = []
    for code in cells:
        msg_id = kc.execute(code)
        msg_ids.append(msg_id)
        messages += iopub_until(
            kc, lambda ms, m=msg_id: bool(ms) and is_idle_of(ms[-1], m), f"idle of {code!r}"
        )
    return msg_ids, messages


# -- threads -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["global", "thread-local", "none"])
def test_thread_output_goes_to_the_cell_its_parent_names(fresh, mode: str):
    cells = [THREAD_CELL.format(mode=mode), NEXT_STEP, f"{NEXT_STEP}\nthread.join(10)"]
    msg_ids, messages = run_cells_collecting_iopub(fresh.kc, cells)
    assert not [m for m in messages if m["msg_type"] == "error"], "a cell failed"
    by_cell = output_by_cell(messages)
    got = {
        i: (by_cell.get(m, {}).get("stdout", ""), by_cell.get(m, {}).get("display", []))
        for i, m in enumerate(msg_ids, 1)
    }
    if mode == "none":
        expected = {1: ("before\n", ["1"]), 2: ("during\n", ["2"]), 3: ("after\n", ["3"])}
    else:
        expected = {1: ("before\nduring\nafter\n", ["1", "2", "3"]), 2: ("", []), 3: ("", [])}
    assert got == expected


def test_child_thread_output_goes_to_cell_that_set_parent(fresh):
    msg_ids, messages = run_cells_collecting_iopub(
        fresh.kc, [CHILD_THREAD_CELL, "release.set()\nouter.join(10)"]
    )
    by_cell = output_by_cell(messages)
    assert by_cell.get(msg_ids[0], {}).get("stdout") == "0\n1\n2\n", by_cell
    assert not by_cell.get(msg_ids[1], {}).get("stdout"), "child output went to the running cell"


# -- forked children -----------------------------------------------------------------------


def test_forked_children_print_to_the_cell(fresh):
    reply, outputs = execute(fresh.kc, FORK_PRINT_CELL)
    assert reply["status"] == "ok", reply
    out = stream_text(outputs)
    # print() writes its words and the newline separately, and ipykernel forwards each
    # write of a forked child as it comes, so children's words may interleave
    # ("hellohello  1\n2\n..."): count words, as ipykernel's own test does.
    assert out.count("hello") == 3, out
    for i in range(3):
        assert out.count(str(i)) == 1, out
    assert stream_text(outputs, "stderr") == ""
    assert eval_text(fresh.kc, "import sys\nsys.stdout._is_master_process()") == "True"


def test_forked_child_traceback_reaches_stderr_and_kernel_continues(fresh):
    reply, outputs = execute(fresh.kc, FORK_RAISE_CELL)
    assert reply["status"] == "ok", reply
    assert "ValueError" in stream_text(outputs, "stderr"), outputs
    assert eval_text(fresh.kc, "p.exitcode, 2 + 2") == "(1, 4)"


# -- streams -------------------------------------------------------------------------------


def test_stdout_and_stderr_arrive_in_the_order_written(shared):
    # ipykernel buffers stdout and stderr apart and sends each on a timer, so without
    # flush=True it shows 'hello\nagain\n' before 'err\n'; flushing is what keeps the
    # order there, and what this checks on both kernels.
    code = (
        "import sys\nprint('hello', flush=True)\n"
        "print('err', file=sys.stderr, flush=True)\nprint('again', flush=True)"
    )
    outputs = run_ok(shared.kc, code)
    assert stream_runs(outputs) == [
        ("stdout", "hello\n"),
        ("stderr", "err\n"),
        ("stdout", "again\n"),
    ]


# -- the kernel object libraries use -------------------------------------------------------


def test_kernel_get_parent_is_the_current_execute_request(shared):
    msg_id, reply, outputs = execute_with_id(
        shared.kc, "print(get_ipython().kernel.get_parent()['header']['msg_id'])"
    )
    assert reply["status"] == "ok", errors(outputs)
    assert stream_text(outputs) == f"{msg_id}\n"


def test_kernel_session_and_iopub_socket_send_display_data_to_the_cell(shared):
    code = (
        "ip = get_ipython()\n"
        "ip.kernel.session.send(ip.kernel.iopub_socket, 'display_data',\n"
        "    {'data': {'text/plain': 'hi'}, 'metadata': {}}, parent=ip.kernel.get_parent())"
    )
    outputs = run_ok(shared.kc, code)
    displays = [o["content"]["data"] for o in outputs if o["msg_type"] == "display_data"]
    assert displays == [{"text/plain": "hi"}]


def test_stdout_is_master_process_in_kernel(shared):
    assert eval_text(shared.kc, "import sys\nsys.stdout._is_master_process()") == "True"
