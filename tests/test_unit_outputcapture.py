"""Unit tests (no kernel process) of ``pyo3_kernel.outputcapture.OutputCaptures``.

The kernel holds back an execute_reply until the frontend has echoed the outputs an
ipywidgets ``Output`` widget captured; this counter decides how many echoes to wait
for. It learns what is captured from the widget's own comm updates (``msg_id`` set:
capturing that request; cleared: done) and counts the captured output messages of
that request only, as a frontend's Output widget takes them in.
"""

from __future__ import annotations

import threading
from typing import Any

from pyo3_kernel.outputcapture import CAPTURED, OutputCaptures


def iopub(msg_type: str, content: dict[str, Any], request: str | None = None) -> dict:
    """An IOPub message as the session builds it (only the fields the counter reads)."""
    parent = {"msg_id": request, "msg_type": "execute_request"} if request else {}
    return {"msg_type": msg_type, "content": content, "parent_header": parent}


def widget_update(comm_id: str, msg_id: str, request: str = "cell") -> dict:
    state = {"msg_id": msg_id}
    content = {"comm_id": comm_id, "data": {"method": "update", "state": state}}
    return iopub("comm_msg", content, request)


def stream(request: str, text: str = "x") -> dict:
    return iopub("stream", {"name": "stdout", "text": text}, request)


def test_nothing_is_counted_without_a_capturing_widget():
    captures = OutputCaptures()
    captures.published(stream("r1"))
    captures.published(iopub("display_data", {"data": {}}, "r1"))
    assert captures.take("r1") == 0


def test_outputs_of_the_captured_request_are_counted():
    captures = OutputCaptures()
    captures.published(widget_update("out-1", "r1"))
    captures.published(stream("r1", "a"))
    captures.published(stream("r1", "b"))
    captures.published(iopub("display_data", {"data": {"text/plain": "x"}}, "r1"))
    captures.published(iopub("execute_result", {"data": {}, "execution_count": 1}, "r1"))
    captures.published(iopub("error", {"ename": "E", "evalue": "", "traceback": []}, "r1"))
    assert captures.take("r1") == 5


def test_every_captured_kind_counts_and_other_kinds_do_not():
    assert frozenset({"stream", "display_data", "execute_result", "error"}) == CAPTURED
    captures = OutputCaptures()
    captures.published(widget_update("w", "r"))
    for msg_type in ("status", "execute_input", "update_display_data", "comm_open"):
        captures.published(iopub(msg_type, {}, "r"))
    assert captures.take("r") == 0


def test_clear_output_counts_only_without_wait():
    captures = OutputCaptures()
    captures.published(widget_update("w", "r"))
    captures.published(iopub("clear_output", {"wait": False}, "r"))
    captures.published(iopub("clear_output", {}, "r"))
    captures.published(iopub("clear_output", {"wait": True}, "r"))
    assert captures.take("r") == 2


def test_outputs_of_other_requests_are_not_counted():
    captures = OutputCaptures()
    captures.published(widget_update("w", "r1"))
    captures.published(stream("r2"))
    captures.published(stream("r1"))
    captures.published(iopub("stream", {"name": "stdout", "text": "no parent"}))
    assert captures.take("r2") == 0
    assert captures.take("r1") == 1


def test_clearing_the_widget_msg_id_stops_the_capture():
    captures = OutputCaptures()
    captures.published(widget_update("w", "r1"))
    captures.published(stream("r1"))
    captures.published(widget_update("w", ""))
    captures.published(stream("r1"))
    assert captures.take("r1") == 1


def test_take_forgets_the_count():
    captures = OutputCaptures()
    captures.published(widget_update("w", "r1"))
    captures.published(stream("r1"))
    assert captures.take("r1") == 1
    assert captures.take("r1") == 0
    captures.published(stream("r1"))  # still capturing: counted afresh
    assert captures.take("r1") == 1


def test_several_widgets_capture_different_requests():
    captures = OutputCaptures()
    captures.published(widget_update("w1", "r1"))
    captures.published(widget_update("w2", "r2"))
    captures.published(stream("r1"))
    captures.published(stream("r2"))
    captures.published(stream("r2"))
    captures.published(widget_update("w1", ""))
    captures.published(stream("r1"))
    captures.published(stream("r2"))
    assert captures.take("r1") == 1
    assert captures.take("r2") == 3


def test_a_widget_moving_to_another_request():
    captures = OutputCaptures()
    captures.published(widget_update("w", "r1"))
    captures.published(widget_update("w", "r2"))
    captures.published(stream("r1"))
    captures.published(stream("r2"))
    assert captures.take("r1") == 0
    assert captures.take("r2") == 1


def test_comm_messages_that_are_not_msg_id_updates_are_ignored():
    captures = OutputCaptures()
    for content in (
        {"comm_id": "w", "data": {"method": "update", "state": {"value": 3}}},
        {"comm_id": "w", "data": {"method": "custom", "state": {"msg_id": "r"}}},
        {"comm_id": "w", "data": {"method": "update", "state": "not a dict"}},
        {"comm_id": "w", "data": "not a dict"},
        {"comm_id": "w"},
    ):
        captures.published(iopub("comm_msg", content, "r"))
    captures.published(stream("r"))
    assert captures.take("r") == 0


def test_counts_from_several_threads_add_up():
    captures = OutputCaptures()
    captures.published(widget_update("w", "r"))

    def publish() -> None:
        for _ in range(500):
            captures.published(stream("r"))

    threads = [threading.Thread(target=publish) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert captures.take("r") == 2000
