"""Malformed execute_requests get an error reply; the kernel keeps working."""

import pytest
from kernel_helpers import eval_text, run_ok, wait_for_shell_reply

BASE_CONTENT = {
    "silent": False,
    "store_history": True,
    "user_expressions": {},
    "allow_stdin": False,
    "stop_on_error": True,
}


def _send_raw_execute(kc, content):
    msg = kc.session.msg("execute_request", content=content)
    kc.shell_channel.send(msg)
    return msg["header"]["msg_id"]


@pytest.mark.parametrize(
    "content",
    [BASE_CONTENT, {**BASE_CONTENT, "code": None}],
    ids=["code_missing", "code_none"],
)
def test_malformed_execute_request_gets_error_reply(fresh_kernel, content):
    run_ok(fresh_kernel, "malformed_keep = 'kept'")
    msg_id = _send_raw_execute(fresh_kernel, content)
    reply = wait_for_shell_reply(fresh_kernel, msg_id, timeout=30)
    assert reply["msg_type"] == "execute_reply", reply["msg_type"]
    assert reply["content"]["status"] == "error", reply["content"]
    assert eval_text(fresh_kernel, "1+1") == "2"
    assert eval_text(fresh_kernel, "malformed_keep") == "'kept'"
