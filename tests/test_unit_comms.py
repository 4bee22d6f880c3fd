"""Unit tests (no kernel process) of ``pyo3_kernel.comms`` that need no kernel:
``comm_info`` replies, the default routing of frontend comm messages, and comms that
stay inert when no kernel runs in the process (as in plain IPython).

Comms are created with ``primary=False`` and registered with a private
``CommManager``, so the process-wide comm manager of the ``comm`` package is left
untouched.
"""

from __future__ import annotations

import uuid

import pytest
from comm.base_comm import CommManager
from pyo3_kernel import comms
from pyo3_kernel.comms import KernelComm


@pytest.fixture
def manager() -> CommManager:
    return CommManager()


def register(manager: CommManager, target_name: str) -> KernelComm:
    comm = KernelComm(target_name=target_name, comm_id=uuid.uuid4().hex, primary=False)
    manager.register_comm(comm)
    return comm


def test_comm_info_lists_every_comm(manager):
    a = register(manager, "jupyter.widget")
    b = register(manager, "other")
    reply = comms.comm_info(manager, None)
    assert reply == {
        "status": "ok",
        "comms": {
            a.comm_id: {"target_name": "jupyter.widget"},
            b.comm_id: {"target_name": "other"},
        },
    }


def test_comm_info_filters_by_target(manager):
    a = register(manager, "jupyter.widget")
    register(manager, "other")
    reply = comms.comm_info(manager, "jupyter.widget")
    assert reply["comms"] == {a.comm_id: {"target_name": "jupyter.widget"}}
    assert comms.comm_info(manager, "missing")["comms"] == {}


def test_comm_info_without_comms(manager):
    assert comms.comm_info(manager, None) == {"status": "ok", "comms": {}}


def test_messages_for_unknown_comms_go_to_the_default_shell(manager):
    content = {"comm_id": "nope", "data": {"content": {"id": "r1"}}}
    assert comms.reply_route(manager, content, "sub-1") == "sub-1"
    assert comms.reply_route(manager, {}, None) is None


def test_messages_that_answer_no_request_go_to_the_default_shell(manager):
    comm = register(manager, "jupyter.widget")
    for data in ({"method": "update"}, {"content": {"id": "never-sent"}}, None, "text"):
        content = {"comm_id": comm.comm_id, "data": data}
        assert comms.reply_route(manager, content, "sub-2") == "sub-2"
        assert comms.reply_route(manager, content, None) is None


def test_without_a_kernel_comms_are_inert(manager):
    assert KernelComm.kernel is None
    comm = register(manager, "t")
    comm.send({"x": 1})  # published nowhere, without error
    comm.publish_msg("comm_msg", data={"y": 2})
    assert manager.get_comm(comm.comm_id) is comm
