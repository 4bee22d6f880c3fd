"""Requests that reach the kernel while it is still starting are answered.

Frontends do not always wait for a kernel_info reply before sending: `jupyter console`
sends a history_request as soon as its channels are up, and any client may queue
requests right after starting the kernel (ZeroMQ delivers them once the kernel has
bound its ports). ipykernel answers all of them, in order.
"""

from __future__ import annotations

import time

from jupyter_client.manager import KernelManager
from kernel_helpers import _get, collect_iopub, result_data


def test_requests_sent_before_the_kernel_is_ready_are_answered(kernelspec_installed):
    km = KernelManager(kernel_name=kernelspec_installed)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()  # sends a kernel_info_request too
    try:
        # Queued at once, before the kernel has answered anything.
        sent = {
            kc.history(hist_access_type="tail", n=5): "history_reply",
            kc.execute("1 + 1"): "execute_reply",
            kc.kernel_info(): "kernel_info_reply",
        }
        execute_id = next(k for k, v in sent.items() if v == "execute_reply")
        replies = {}
        deadline = time.monotonic() + 30
        while len(replies) < len(sent):
            try:
                msg = _get(kc.get_shell_msg, kc, deadline, "the replies")
            except AssertionError:
                missing = sorted(v for k, v in sent.items() if k not in replies)
                raise AssertionError(f"no {missing} within 30 s; got {replies}") from None
            parent = msg["parent_header"].get("msg_id")
            if parent in sent:
                replies[parent] = (msg["msg_type"], msg["content"]["status"])
        assert sorted(replies.values()) == sorted((t, "ok") for t in sent.values())
        outputs = collect_iopub(kc, execute_id, timeout=30)
        assert result_data(outputs)["text/plain"] == "2"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_control_request_sent_before_the_kernel_is_ready_is_answered(kernelspec_installed):
    km = KernelManager(kernel_name=kernelspec_installed)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        # An interrupt while nothing runs does nothing, but it is answered.
        msg = kc.session.msg("interrupt_request", {})
        kc.control_channel.send(msg)
        deadline = time.monotonic() + 30
        while True:
            try:
                reply = _get(kc.get_control_msg, kc, deadline, "interrupt_reply")
            except AssertionError:
                raise AssertionError("no interrupt_reply within 30 s") from None
            if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
                break
        assert reply["msg_type"] == "interrupt_reply"
        assert reply["content"]["status"] == "ok"
        kc.wait_for_ready(timeout=30)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
