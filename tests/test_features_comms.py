"""Comms (the channel under ipywidgets and other interactive libraries), both ways.

Client-to-kernel comm messages have no reply; a cell executed afterwards
reports what the kernel-side handlers saw (shell requests are handled in order).
"""

import ast
import time
import uuid

import pytest
from feature_helpers import REQUEST_TIMEOUT, request, send_shell
from kernel_helpers import _get, eval_text, of_type, run_ok


def comm_opens(outputs, target_name):
    return [c for c in of_type(outputs, "comm_open") if c["target_name"] == target_name]


def open_kernel_comm(kc, var, target_name, data):
    """Create comm ``var`` in the kernel; return the comm_open content the client got."""
    code = (
        "from comm import create_comm\n"
        f"{var}_received = []\n"
        f"{var} = create_comm(target_name={target_name!r}, data={data!r})\n"
        f"{var}.on_msg(lambda msg: {var}_received.append(msg['content']['data']))\n"
        f"{var}.on_close(lambda msg: {var}_received.append(('closed', msg['content']['data'])))\n"
    )
    opens = comm_opens(run_ok(kc, code), target_name)
    assert len(opens) == 1, f"expected one comm_open for {target_name!r}, got {opens!r}"
    return opens[0]


def kernel_value(kc, expr):
    return ast.literal_eval(eval_text(kc, expr))


def wait_for_iopub(kc, msg_type, comm_id, timeout=REQUEST_TIMEOUT):
    """The next iopub ``msg_type`` message for ``comm_id`` (other messages are dropped)."""
    deadline = time.monotonic() + timeout
    while True:
        msg = _get(kc.get_iopub_msg, kc, deadline, f"{msg_type} on comm {comm_id}")
        if msg["msg_type"] == msg_type and msg["content"].get("comm_id") == comm_id:
            return msg


def test_kernel_created_comm_sends_comm_open(kernel):
    opened = open_kernel_comm(kernel, "comm_a", "pyo3.test.a", {"hello": 1})
    assert opened["data"] == {"hello": 1}, opened
    assert opened["comm_id"] == kernel_value(kernel, "comm_a.comm_id")


def test_client_comm_msg_reaches_kernel_on_msg_handler(kernel):
    comm_id = open_kernel_comm(kernel, "comm_b", "pyo3.test.b", {})["comm_id"]
    send_shell(kernel, "comm_msg", {"comm_id": comm_id, "data": {"x": 5}})
    send_shell(kernel, "comm_msg", {"comm_id": comm_id, "data": {"x": 6}})
    assert kernel_value(kernel, "comm_b_received") == [{"x": 5}, {"x": 6}]


def test_kernel_comm_send_reaches_client(kernel):
    comm_id = open_kernel_comm(kernel, "comm_c", "pyo3.test.c", {})["comm_id"]
    outputs = run_ok(kernel, "comm_c.send({'from': 'kernel'})")
    msgs = [m for m in of_type(outputs, "comm_msg") if m["comm_id"] == comm_id]
    assert [m["data"] for m in msgs] == [{"from": "kernel"}], outputs


def test_client_comm_close_runs_kernel_on_close(kernel):
    comm_id = open_kernel_comm(kernel, "comm_d", "pyo3.test.d", {})["comm_id"]
    send_shell(kernel, "comm_close", {"comm_id": comm_id, "data": {"bye": True}})
    assert kernel_value(kernel, "comm_d_received") == [("closed", {"bye": True})]
    assert request(kernel, "comm_info", "pyo3.test.d")["comms"] == {}


def test_kernel_comm_close_sends_comm_close(kernel):
    comm_id = open_kernel_comm(kernel, "comm_e", "pyo3.test.e", {})["comm_id"]
    outputs = run_ok(kernel, "comm_e.close({'reason': 'done'})")
    closes = [c for c in of_type(outputs, "comm_close") if c["comm_id"] == comm_id]
    assert [c["data"] for c in closes] == [{"reason": "done"}], outputs
    assert request(kernel, "comm_info", "pyo3.test.e")["comms"] == {}


REGISTER_TARGET = """
import comm
target_log = []
def on_target_open(c, msg):
    target_log.append(('open', c.comm_id, msg['content']['data']))
    c.on_msg(lambda m: target_log.append(('msg', m['content']['data'])))
    c.on_close(lambda m: target_log.append(('close', m['content']['data'])))
    c.send({'ack': msg['content']['data']})
comm.get_comm_manager().register_target('pyo3.test.target', on_target_open)
"""


@pytest.fixture
def target(kernel):
    run_ok(kernel, REGISTER_TARGET)
    yield "pyo3.test.target"
    run_ok(kernel, "comm.get_comm_manager().unregister_target('pyo3.test.target', None)")


def test_client_comm_open_runs_registered_target(kernel, target):
    comm_id = uuid.uuid4().hex
    send_shell(kernel, "comm_open", {"comm_id": comm_id, "target_name": target, "data": {"k": 1}})
    assert kernel_value(kernel, "target_log") == [("open", comm_id, {"k": 1})]


def test_target_handler_send_reaches_client(kernel, target):
    comm_id = uuid.uuid4().hex
    send_shell(kernel, "comm_open", {"comm_id": comm_id, "target_name": target, "data": {"k": 2}})
    msg = wait_for_iopub(kernel, "comm_msg", comm_id, timeout=10)
    assert msg["content"]["data"] == {"ack": {"k": 2}}, msg


def test_client_opened_comm_receives_msgs_and_close(kernel, target):
    comm_id = uuid.uuid4().hex
    send_shell(kernel, "comm_open", {"comm_id": comm_id, "target_name": target, "data": {}})
    send_shell(kernel, "comm_msg", {"comm_id": comm_id, "data": {"n": 1}})
    send_shell(kernel, "comm_close", {"comm_id": comm_id, "data": {"end": 1}})
    assert kernel_value(kernel, "target_log") == [
        ("open", comm_id, {}),
        ("msg", {"n": 1}),
        ("close", {"end": 1}),
    ]


def test_comm_info_lists_open_comms_filtered_by_target(kernel, target):
    kernel_side = open_kernel_comm(kernel, "comm_f", "pyo3.test.f", {})["comm_id"]
    client_side = uuid.uuid4().hex
    send_shell(kernel, "comm_open", {"comm_id": client_side, "target_name": target, "data": {}})
    only_f = request(kernel, "comm_info", "pyo3.test.f")
    assert only_f["status"] == "ok", only_f
    assert only_f["comms"] == {kernel_side: {"target_name": "pyo3.test.f"}}, only_f
    everything = request(kernel, "comm_info")["comms"]
    assert everything[kernel_side] == {"target_name": "pyo3.test.f"}, everything
    assert everything[client_side] == {"target_name": target}, everything


# --- ipywidgets -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def slider(kernel):
    """An IntSlider created and displayed in the kernel; yields the cell's outputs."""
    outputs = run_ok(
        kernel,
        "import ipywidgets as widgets\nslider = widgets.IntSlider(value=3)\ndisplay(slider)",
    )
    return outputs


def slider_open(outputs):
    opens = [
        c
        for c in comm_opens(outputs, "jupyter.widget")
        if c["data"]["state"].get("_model_name") == "IntSliderModel"
    ]
    assert len(opens) == 1, f"expected one IntSliderModel comm_open, got {outputs!r}"
    return opens[0]


def test_widget_opens_jupyter_widget_comm_with_state(kernel, slider):
    opened = slider_open(slider)
    assert opened["data"]["state"]["value"] == 3, opened
    assert opened["data"]["buffer_paths"] == [], opened
    assert opened["comm_id"] == kernel_value(kernel, "slider.model_id")


def test_displayed_widget_sends_widget_view_mimetype(kernel, slider):
    model_id = slider_open(slider)["comm_id"]
    views = [
        d["data"]["application/vnd.jupyter.widget-view+json"]
        for d in of_type(slider, "display_data")
        if "application/vnd.jupyter.widget-view+json" in d["data"]
    ]
    assert [v["model_id"] for v in views] == [model_id], slider


def test_widget_update_from_client_sets_value(kernel, slider):
    comm_id = slider_open(slider)["comm_id"]
    content = {
        "comm_id": comm_id,
        "data": {"method": "update", "state": {"value": 7}, "buffer_paths": []},
    }
    send_shell(kernel, "comm_msg", content)
    assert eval_text(kernel, "slider.value") == "7"


def test_widget_value_change_in_kernel_sends_update(kernel, slider):
    comm_id = slider_open(slider)["comm_id"]
    outputs = run_ok(kernel, "slider.value = 9")
    updates = [
        m["data"]
        for m in of_type(outputs, "comm_msg")
        if m["comm_id"] == comm_id and m["data"].get("method") == "update"
    ]
    assert {"method": "update", "state": {"value": 9}, "buffer_paths": []} in updates, outputs
