"""Protocol 5.5 as ipykernel 7.4 speaks it, beyond subshells (test_subshells.py) and
iopub_welcome (test_conformance.py): usage_request and CurveZMQ transport encryption."""

from __future__ import annotations

import queue

import pytest
import zmq
from fidelity_helpers import KERNELS
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from kernel_helpers import eval_text, start_kernel, stop_kernel

QUICK = 10


@pytest.mark.parametrize("name", KERNELS)
def test_usage_reply_has_ipykernels_fields(name: str):
    km, kc = start_kernel(name)
    try:
        pid = int(eval_text(kc, "import os; os.getpid()"))
        for _ in range(2):  # the second request measures CPU since the first
            msg = kc.session.msg("usage_request", {})
            kc.control_channel.send(msg)
            reply = kc.get_control_msg(timeout=QUICK)
            while reply["parent_header"].get("msg_id") != msg["header"]["msg_id"]:
                reply = kc.get_control_msg(timeout=QUICK)
        assert reply["msg_type"] == "usage_reply"
        usage = reply["content"]
        assert usage["pid"] == pid and isinstance(usage["hostname"], str) and usage["hostname"]
        assert isinstance(usage["kernel_cpu"], (int, float)) and usage["kernel_cpu"] >= 0
        assert isinstance(usage["kernel_memory"], int) and usage["kernel_memory"] > 10_000_000
        assert isinstance(usage["cpu_count"], int) and usage["cpu_count"] >= 1
        memory = usage["host_virtual_memory"]
        assert memory["total"] >= memory["available"] > 0, memory
    finally:
        stop_kernel(km, kc)


def test_kernelspec_advertises_curve_encryption(kernelspec_installed):
    spec = KernelSpecManager().get_kernel_spec(kernelspec_installed)
    assert "curve" in spec.metadata.get("supported_encryption", []), spec.metadata


@pytest.mark.skipif(not zmq.has("curve"), reason="this pyzmq has no CurveZMQ")
@pytest.mark.parametrize("name", KERNELS)
def test_encrypted_kernel_answers_its_client_and_nobody_else(name: str):
    km = KernelManager(kernel_name=name, transport_encryption="required")
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        assert km.curve_publickey and km.curve_secretkey
        assert eval_text(kc, "6 * 7") == "42"
        # A client that does not know the kernel's key cannot even connect.
        intruder = KernelManager(kernel_name=name)
        intruder.load_connection_info(
            {**km.get_connection_info(), "curve_publickey": None, "curve_secretkey": None}
        )
        other = intruder.client()
        other.curve_publickey = other.curve_secretkey = None
        other.start_channels()
        # Once the kernel refuses the handshake the intruder's socket has no peer, and
        # a send would wait for one forever: bounded, and refusal either way.
        other.shell_channel.socket.setsockopt(zmq.SNDTIMEO, 2000)
        try:
            try:
                other.kernel_info()
            except zmq.Again:
                pass  # not even connected
            else:
                with pytest.raises(queue.Empty):
                    other.get_shell_msg(timeout=2)
        finally:
            other.stop_channels()
        assert eval_text(kc, "1 + 1") == "2"  # the real client is unharmed
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
