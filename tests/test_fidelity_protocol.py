"""Fidelity with ipykernel: request ordering after errors, interrupting pdb, connect and
control-channel requests, kernel_info.

Each test runs on both kernelspecs (``pyo3`` and the reference ``python3``).
"""

from __future__ import annotations

import pytest
from feature_helpers import wait_for_input_request
from fidelity_helpers import (
    QUICK,
    as_datetime,
    control_reply,
    execute_content,
    send_request,
    shell_replies_in_order,
)
from kernel_helpers import collect_iopub, eval_text, result_data, wait_for_shell_reply
from packaging.version import Version

SLOW_FAILING_CELL = "import time\ntime.sleep(0.5)\nraise ValueError('x')"


def _statuses(replies: list[dict]) -> list[tuple[str, str]]:
    return [(r["parent_header"]["msg_id"], r["content"]["status"]) for r in replies]


# -- stop_on_error -------------------------------------------------------------------------


def test_requests_queued_behind_failing_cell_are_aborted_after_its_error(fresh):
    kc = fresh.kc
    ids = [kc.execute(SLOW_FAILING_CELL), kc.execute("print('a')"), kc.execute("print('b')")]
    replies = shell_replies_in_order(kc, ids)
    assert _statuses(replies) == [(ids[0], "error"), (ids[1], "aborted"), (ids[2], "aborted")]
    assert replies[0]["content"]["ename"] == "ValueError"
    assert eval_text(kc, "'after the aborts'") == "'after the aborts'"


def test_stop_on_error_false_lets_next_request_run(fresh):
    kc = fresh.kc
    ids = [kc.execute(SLOW_FAILING_CELL, stop_on_error=False), kc.execute("print('a')")]
    replies = shell_replies_in_order(kc, ids)
    assert _statuses(replies) == [(ids[0], "error"), (ids[1], "ok")]


def test_non_execute_requests_behind_failing_cell_are_answered_after_error(fresh):
    kc = fresh.kc
    failing = kc.execute(SLOW_FAILING_CELL)
    queued = {kc.kernel_info(): "kernel_info_reply", kc.comm_info(): "comm_info_reply"}
    queued[kc.inspect("print", 5)] = "inspect_reply"
    replies = shell_replies_in_order(kc, [failing, *queued])
    assert _statuses(replies)[0] == (failing, "error")
    answered = {
        r["parent_header"]["msg_id"]: (r["msg_type"], r["content"]["status"]) for r in replies[1:]
    }
    assert answered == {msg_id: (reply_type, "ok") for msg_id, reply_type in queued.items()}


def test_request_sent_after_error_reply_is_not_aborted(fresh):
    kc = fresh.kc
    failing = kc.execute("raise ValueError('quick')")
    assert wait_for_shell_reply(kc, failing)["content"]["status"] == "error"
    after = kc.execute("'sent after the error reply'")
    status = wait_for_shell_reply(kc, after)["content"]["status"]
    if fresh.name == "python3" and status == "aborted":
        # ipykernel 7 stops aborting when a message it posts to its own shell thread
        # arrives; on a loaded machine the client's next request can get there first.
        pytest.xfail("ipykernel's abort window raced the next request (its bug)")
    assert status == "ok"


# -- interrupting pdb ----------------------------------------------------------------------


def test_pdb_set_trace_is_interrupted_and_queued_cell_runs(fresh):
    kc = fresh.kc
    pdb_cell = kc.execute("import pdb; pdb.set_trace()", allow_stdin=True)
    wait_for_input_request(kc, pdb_cell)
    queued = kc.execute("3 + 4")
    fresh.km.interrupt_kernel()
    wait_for_shell_reply(kc, pdb_cell, timeout=QUICK)
    reply = wait_for_shell_reply(kc, queued, timeout=QUICK)
    assert reply["content"]["status"] == "ok", reply["content"]
    assert result_data(collect_iopub(kc, queued)) == {"text/plain": "7"}
    assert fresh.km.is_alive()
    assert eval_text(kc, "'alive'") == "'alive'"


# -- connect and the control channel -------------------------------------------------------


def test_connect_request_reports_the_connection_ports(shared):
    kc = shared.kc
    reply = wait_for_shell_reply(kc, send_request(kc, "shell", "connect_request"), QUICK)
    assert reply["msg_type"] == "connect_reply"
    info = kc.get_connection_info()
    names = ["shell_port", "iopub_port", "stdin_port", "hb_port", "control_port"]
    ports = {name: reply["content"].get(name) for name in names}
    assert all(isinstance(port, int) for port in ports.values()), ports
    assert ports == {name: info[name] for name in names}


def test_execute_requests_on_control_channel_run_one_at_a_time_in_order(shared):
    kc = shared.kc
    eval_text(kc, "import time\n'ready'")
    sleeps = [0.3, 0.2, 0.1]
    ids = [
        send_request(kc, "control", "execute_request", execute_content(f"time.sleep({s})"))
        for s in sleeps
    ]
    replies = [control_reply(kc, msg_id) for msg_id in ids]
    assert [r["content"]["status"] for r in replies] == ["ok"] * 3
    previous_end = None
    for reply, sleep in zip(replies, sleeps, strict=True):
        start = as_datetime(reply["metadata"]["started"])
        end = as_datetime(reply["header"]["date"])
        if previous_end is not None:
            assert start >= previous_end, "control requests overlapped or ran out of order"
        assert (end - start).total_seconds() >= sleep
        previous_end = end


def test_kernel_info_request_on_control_channel_is_answered(shared):
    kc = shared.kc
    reply = control_reply(kc, send_request(kc, "control", "kernel_info_request"))
    assert reply["msg_type"] == "kernel_info_reply"
    assert reply["content"]["status"] == "ok"
    assert reply["content"]["language_info"]["name"] == "python"


def test_kernel_info_reply_versions_pass_ipykernel_validation(shared):
    kc = shared.kc
    content = wait_for_shell_reply(kc, kc.kernel_info(), QUICK)["content"]
    # ipykernel's message-spec test: implementation_version >= 2.1, protocol_version >= 5.0.
    assert Version(content["implementation_version"]) >= Version("2.1"), content
    assert Version(content["protocol_version"]) >= Version("5.0"), content
