"""Fidelity with ipykernel: asyncio in cells, tasks that outlive their cell, ContextVars.

Each test runs on both kernelspecs (``pyo3`` and the reference ``python3``), except the
one marked pyo3-only.
"""

from __future__ import annotations

from typing import Any

import pytest
from fidelity_helpers import KERNELS, iopub_until
from jupyter_client.manager import KernelManager
from kernel_helpers import eval_text, run_ok, stop_kernel, wait_for_shell_reply

TICK_CELL = (
    "import asyncio\n"
    "async def tick():\n"
    "    for i in range(3):\n"
    "        print(i, flush=True)\n"
    "        await asyncio.sleep(0.05)\n"
    "task = asyncio.get_event_loop().create_task(tick())"
)
LATER_AWAITED_CELL = (
    "import asyncio\n"
    "async def g():\n"
    "    await asyncio.sleep(0.1)\n"
    "    return 'done'\n"
    "t2 = asyncio.get_event_loop().create_task(g())"
)


def _stdout_text(messages: list[dict]) -> str:
    return "".join(
        m["content"]["text"]
        for m in messages
        if m["msg_type"] == "stream" and m["content"]["name"] == "stdout"
    )


def check_task_from_sync_cell_prints_while_idle(kc: Any) -> None:
    """Run TICK_CELL; its task's prints arrive with no other cell run, parented to it."""
    msg_id = kc.execute(TICK_CELL)
    messages = iopub_until(
        kc,
        lambda ms: _stdout_text(ms) == "0\n1\n2\n",
        "the task's output 0, 1, 2 while the kernel is idle",
    )
    streams = [m for m in messages if m["msg_type"] == "stream"]
    assert {m["parent_header"]["msg_id"] for m in streams} == {msg_id}, (
        "task output not parented to the cell that created the task"
    )
    assert wait_for_shell_reply(kc, msg_id)["content"]["status"] == "ok"


def check_task_created_in_one_cell_awaited_in_next(kc: Any) -> None:
    run_ok(kc, LATER_AWAITED_CELL)
    assert eval_text(kc, "await t2") == "'done'"


def test_task_created_and_awaited_in_one_cell(shared):
    code = "import asyncio\nasync def f(): return 7\nt = asyncio.create_task(f())\nawait t"
    assert eval_text(shared.kc, code) == "7"


def test_awaiting_cell_runs_in_a_running_loop(shared):
    code = (
        "import asyncio\nloop = asyncio.get_running_loop()\n"
        "await asyncio.sleep(0)\nloop.is_running()"
    )
    assert eval_text(shared.kc, code) == "True"


def test_task_from_synchronous_cell_runs_while_kernel_idle(shared):
    check_task_from_sync_cell_prints_while_idle(shared.kc)


def test_task_created_in_one_cell_awaited_in_next(shared):
    check_task_created_in_one_cell_awaited_in_next(shared.kc)


# ipykernel fails this by design: its cells run inside its running event loop, so
# asyncio.run() raises "asyncio.run() cannot be called from a running event loop".
# pyo3-kernel runs plain cells outside the loop, so the call works there and must not
# break the loop that later cells and idle-time tasks use.
@pytest.mark.parametrize("fresh", ["pyo3"], indirect=True)
def test_asyncio_run_in_plain_cell_keeps_kernel_loop_working(fresh):
    code = "import asyncio\nasync def h(): return 3\nasyncio.run(h())"
    assert eval_text(fresh.kc, code) == "3"
    check_task_from_sync_cell_prints_while_idle(fresh.kc)
    check_task_created_in_one_cell_awaited_in_next(fresh.kc)


def test_context_variable_set_in_one_cell_is_seen_in_later_cells(shared):
    run_ok(shared.kc, "from contextvars import ContextVar\nv = ContextVar('v', default='d')")
    run_ok(shared.kc, "v.set('s')")
    assert eval_text(shared.kc, "v.get()") == "'s'"


# A cell that awaits a widget's reply must get it even when it is the first request
# the kernel serves (sent before the kernel is ready: the kernel never idled before
# it). ipykernel's test_async_cell_waiting_for_comm_reply hit this on a loaded machine.
AWAIT_COMM_REPLY_CELL = (
    "import asyncio, comm\n"
    "reply = asyncio.get_running_loop().create_future()\n"
    "widget = comm.create_comm(target_name='comm-reply-test', comm_id='first-cell-comm')\n"
    "widget.on_msg(lambda msg: reply.set_result(msg['content']['data']['value']))\n"
    "result = await asyncio.wait_for(reply, 20)"
)


@pytest.mark.parametrize("name", KERNELS)
def test_first_cell_awaiting_a_comm_reply_gets_it(name):
    km = KernelManager(kernel_name=name)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        # Both sent at once: the comm message waits in the shell queue behind the cell,
        # which must read it while it awaits.
        msg_id = kc.execute(AWAIT_COMM_REPLY_CELL)
        comm_msg = kc.session.msg("comm_msg", {"comm_id": "first-cell-comm", "data": {"value": 42}})
        kc.shell_channel.send(comm_msg)
        reply = wait_for_shell_reply(kc, msg_id, timeout=60)
        assert reply["content"]["status"] == "ok", reply["content"]
        # Read back on the shell channel: this client never waited for IOPub to join.
        msg_id = kc.execute("", user_expressions={"r": "result"})
        expressions = wait_for_shell_reply(kc, msg_id, timeout=60)["content"]["user_expressions"]
        assert expressions["r"]["data"]["text/plain"] == "42"
    finally:
        stop_kernel(km, kc)
