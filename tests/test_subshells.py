"""Kernel subshells (JEP 91), on pyo3 and on ipykernel alike.

ipykernel's own test_subshells.py runs in the peer suites; these add what users meet:
one namespace for all shells, a subshell answering while the main shell is busy, an
interrupt that stops only the main shell, widgets that answer during a long cell, and
no threads or descriptors left behind by subshells that come and go.
"""

from __future__ import annotations

import time

import pytest
from kernel_helpers import collect_iopub, stream_text, wait_for_shell_reply

QUICK = 10


def control(kc, msg_type: str, content: dict | None = None) -> dict:
    msg = kc.session.msg(msg_type, content or {})
    kc.control_channel.send(msg)
    deadline = time.monotonic() + QUICK
    while time.monotonic() < deadline:
        reply = kc.get_control_msg(timeout=QUICK)
        if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
            return reply["content"]
    raise AssertionError(f"no reply to {msg_type}")


def send(kc, code: str, subshell_id: str | None = None, **content) -> str:
    msg = kc.session.msg("execute_request", {"code": code, "silent": False, **content})
    msg["header"]["subshell_id"] = subshell_id
    kc.shell_channel.send(msg)
    return msg["header"]["msg_id"]


def run(kc, code: str, subshell_id: str | None = None, timeout: float = 30) -> tuple[dict, str]:
    """Execute ``code`` on a shell; (reply content, stdout)."""
    msg_id = send(kc, code, subshell_id)
    outputs = collect_iopub(kc, msg_id, timeout)
    return wait_for_shell_reply(kc, msg_id, timeout)["content"], stream_text(outputs)


def test_kernel_info_advertises_subshells(fresh):
    kc = fresh.kc
    kc.kernel_info()
    reply = kc.get_shell_msg(timeout=QUICK)
    assert "kernel subshells" in reply["content"]["supported_features"], reply["content"]


def test_shells_share_one_namespace(fresh):
    kc = fresh.kc
    sub = control(kc, "create_subshell_request")["subshell_id"]
    assert run(kc, "x = 'from main'")[0]["status"] == "ok"
    assert run(kc, "print(x); y = 'from subshell'", sub)[1] == "from main\n"
    assert run(kc, "print(y)")[1] == "from subshell\n"
    control(kc, "delete_subshell_request", {"subshell_id": sub})


def test_subshell_answers_while_the_main_shell_sleeps(fresh):
    kc = fresh.kc
    sub = control(kc, "create_subshell_request")["subshell_id"]
    run(kc, "import time, threading\nx = 7\nstarted = threading.Event()")
    sleeping = send(kc, "started.set()\ntime.sleep(5)")
    # Waits on the proof that the main shell's cell runs, then asks the subshell.
    reply, out = run(kc, "started.wait(5)\nprint(x)", sub, timeout=4)
    assert reply["status"] == "ok" and out == "7\n", (reply, out)
    assert wait_for_shell_reply(kc, sleeping, 15)["content"]["status"] == "ok"
    control(kc, "delete_subshell_request", {"subshell_id": sub})


def test_interrupt_stops_the_main_shell_only(fresh):
    kc = fresh.kc
    sub = control(kc, "create_subshell_request")["subshell_id"]
    run(kc, "import time, threading\nboth = threading.Barrier(3)")
    main = send(kc, "both.wait()\ntime.sleep(30)")
    other = send(kc, "both.wait()\ntime.sleep(1)\nprint('subshell done')", sub)
    run(kc, "both.wait()", control_free_subshell(kc))  # all three are running now
    fresh.km.interrupt_kernel()
    main_reply = wait_for_shell_reply(kc, main, QUICK)["content"]
    assert main_reply["status"] == "error" and main_reply["ename"] == "KeyboardInterrupt"
    assert wait_for_shell_reply(kc, other, QUICK)["content"]["status"] == "ok"
    assert run(kc, "1 + 1")[0]["status"] == "ok"
    control(kc, "delete_subshell_request", {"subshell_id": sub})


def control_free_subshell(kc) -> str:
    """A second subshell, to join a barrier from while the others run."""
    return control(kc, "create_subshell_request")["subshell_id"]


def test_request_to_a_deleted_subshell_gets_an_error_reply(fresh):
    kc = fresh.kc
    sub = control(kc, "create_subshell_request")["subshell_id"]
    assert control(kc, "delete_subshell_request", {"subshell_id": sub})["status"] == "ok"
    reply, _ = run(kc, "1", sub)
    assert reply["status"] == "error" and reply["ename"] == "UnknownSubshellError", reply


def test_fifty_subshells_come_and_go_leaving_no_thread_or_descriptor(fresh):
    kc = fresh.kc
    count = (
        "import os, threading\nprint(threading.active_count(), len(os.listdir('/proc/self/fd')))"
    )
    before = run(kc, count)[1]
    for _ in range(50):
        sub = control(kc, "create_subshell_request")["subshell_id"]
        assert run(kc, "z = 1", sub)[0]["status"] == "ok"
        assert control(kc, "delete_subshell_request", {"subshell_id": sub})["status"] == "ok"
    assert control(kc, "list_subshell_request")["subshell_id"] == []
    threads_before, fds_before = map(int, before.split())
    threads_after, fds_after = map(int, run(kc, count)[1].split())
    assert threads_after == threads_before, (before, threads_after)
    if fresh.name == "pyo3":  # ipykernel 7.4 keeps about one descriptor per subshell made
        assert fds_after <= fds_before + 2, (before, fds_after)


def test_widget_value_set_through_a_subshell_while_the_main_shell_is_busy(fresh):
    if fresh.name != "pyo3":
        pytest.skip("ipykernel 7.4 routes a widget's messages to the shell that made it")
    kc = fresh.kc
    sub = control(kc, "create_subshell_request")["subshell_id"]
    reply, comm_id = run(
        kc, "import ipywidgets as w, time\nslider = w.IntSlider()\nprint(slider.comm.comm_id)"
    )
    comm_id = comm_id.strip()
    busy = send(kc, "time.sleep(5)")
    update = kc.session.msg(
        "comm_msg",
        {
            "comm_id": comm_id,
            "data": {"method": "update", "state": {"value": 42}, "buffer_paths": []},
        },
    )
    update["header"]["subshell_id"] = sub
    kc.shell_channel.send(update)
    # Handled on the subshell (its idle arrived) long before the 5 s cell ends.
    collect_iopub(kc, update["header"]["msg_id"], 3)
    reply, out = run(kc, "print(slider.value)", sub, timeout=4)
    assert out == "42\n", (reply, out)
    assert wait_for_shell_reply(kc, busy, 15)["content"]["status"] == "ok"
    control(kc, "delete_subshell_request", {"subshell_id": sub})


def test_awaiting_cells_run_in_subshells_and_the_main_shell_at_once(fresh):
    kc = fresh.kc
    sub = control(kc, "create_subshell_request")["subshell_id"]
    run(kc, "import asyncio, threading\nboth = threading.Barrier(2)")
    # Each shell awaits on its own event loop; neither is "already running" for the other.
    main = send(kc, "both.wait()\nawait asyncio.sleep(0.2)\nprint('main done')")
    reply, out = run(kc, "both.wait()\nawait asyncio.sleep(0.1)\nprint('subshell done')", sub)
    assert reply["status"] == "ok" and out == "subshell done\n", (reply, out)
    assert wait_for_shell_reply(kc, main, QUICK)["content"]["status"] == "ok"
    reply, out = run(kc, "await asyncio.sleep(0)\nprint('again')", sub)
    assert out == "again\n", reply
    control(kc, "delete_subshell_request", {"subshell_id": sub})


def test_kernel_info_is_answered_while_the_main_shell_is_busy(fresh):
    if fresh.name != "pyo3":
        pytest.skip("ipykernel 7.4 answers a shell kernel_info on the busy main shell")
    kc = fresh.kc
    sub = control(kc, "create_subshell_request")["subshell_id"]
    run(kc, "import time, threading\nstarted = threading.Event()")
    busy = send(kc, "started.set()\ntime.sleep(5)")
    run(kc, "started.wait(5)", sub)  # the main shell's cell is running now
    info = kc.kernel_info()  # no subshell_id: JupyterLab's consoles ask this way
    reply = wait_for_shell_reply(kc, info, 2)
    assert reply["content"]["status"] == "ok", reply
    assert wait_for_shell_reply(kc, busy, 15)["content"]["status"] == "ok"
    control(kc, "delete_subshell_request", {"subshell_id": sub})


def test_output_of_post_execute_hooks_and_comm_handlers_on_subshells_arrives(fresh):
    # ipykernel#1564: output from post_execute during a subshell's comm message was lost.
    kc = fresh.kc
    sub = control(kc, "create_subshell_request")["subshell_id"]
    setup = (
        "import comm\n"
        "c = comm.create_comm(target_name='echo-test')\n"
        "c.on_msg(lambda msg: print('comm handler got', msg['content']['data']['n']))\n"
        "print(c.comm_id)"
    )
    comm_id = run(kc, setup)[1].strip()
    run(kc, "def hook():\n    print('post_execute ran')")
    run(kc, "get_ipython().events.register('post_execute', hook)")
    reply, out = run(kc, "x = 1", sub)
    assert "post_execute ran" in out, (reply, out)
    msg = kc.session.msg("comm_msg", {"comm_id": comm_id, "data": {"n": 5}})
    msg["header"]["subshell_id"] = sub
    kc.shell_channel.send(msg)
    outputs = collect_iopub(kc, msg["header"]["msg_id"], QUICK)
    assert "comm handler got 5" in stream_text(outputs), outputs
    control(kc, "delete_subshell_request", {"subshell_id": sub})
