"""The Jupyter debugger (debug_request / debug_reply on control, debug_event on IOPub)
as JupyterLab drives it, beyond what ipykernel's own test_debugger.py (run by the peer
suites) covers. Each test runs on both kernelspecs; ipykernel is the reference.
"""

from __future__ import annotations

import itertools
import os
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fidelity_helpers import KERNELS, RunningKernel, running_kernel
from kernel_helpers import _get, eval_text, execute, run_ok, wait_for_shell_reply

pytest.importorskip("debugpy")

_seq = itertools.count(1)
INITIALIZE = {
    "clientID": "pyo3-tests",
    "clientName": "pyo3-tests",
    "adapterID": "",
    "pathFormat": "path",
    "linesStartAt1": True,
    "columnsStartAt1": True,
    "supportsVariableType": True,
    "supportsVariablePaging": True,
    "supportsRunInTerminalRequest": True,
    "locale": "en",
}


def debug(kc: Any, command: str, arguments: dict | None = None, timeout: float = 30) -> dict:
    """Send one debug request on control; return the debug_reply content."""
    msg = kc.session.msg(
        "debug_request",
        {"type": "request", "seq": next(_seq), "command": command, "arguments": arguments or {}},
    )
    kc.control_channel.send(msg)
    deadline = time.monotonic() + timeout
    while True:
        reply = _get(kc.get_control_msg, kc, deadline, f"debug_reply to {command}")
        if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
            return reply["content"]


def wait_for_event(kc: Any, name: str, timeout: float = 30) -> dict:
    """The next debug_event called ``name`` on IOPub (other messages are dropped)."""
    deadline = time.monotonic() + timeout
    while True:
        msg = _get(kc.get_iopub_msg, kc, deadline, f"debug_event {name}")
        if msg["msg_type"] == "debug_event" and msg["content"].get("event") == name:
            return msg["content"]


@pytest.fixture(params=KERNELS)
def debugging(request: pytest.FixtureRequest) -> Iterator[RunningKernel]:
    """A kernel with the debugger initialized and attached, as JupyterLab leaves it."""
    with running_kernel(request.param) as k:
        assert debug(k.kc, "initialize", INITIALIZE)["success"]
        assert debug(k.kc, "attach")["success"]
        try:
            yield k
        finally:
            # As JupyterLab turns its debugger off (terminateDebuggee would end the kernel).
            debug(k.kc, "disconnect", {"restart": False, "terminateDebuggee": False})


def set_breakpoint(kc: Any, code: str, line: int) -> str:
    """Dump ``code`` as a cell file and set a breakpoint at ``line``; its path."""
    source = debug(kc, "dumpCell", {"code": code})["body"]["sourcePath"]
    reply = debug(
        kc,
        "setBreakpoints",
        {"breakpoints": [{"line": line}], "source": {"path": source}, "sourceModified": False},
    )
    assert reply["success"] and reply["body"]["breakpoints"][0]["verified"], reply
    assert debug(kc, "configurationDone")["success"]
    return source


def top_frame(kc: Any, thread_id: int) -> dict:
    frames = debug(kc, "stackTrace", {"threadId": thread_id})["body"]["stackFrames"]
    return frames[0]


def frame_variables(kc: Any, frame_id: int, scope: str = "Locals") -> dict[str, dict]:
    scopes = debug(kc, "scopes", {"frameId": frame_id})["body"]["scopes"]
    reference = next(s["variablesReference"] for s in scopes if s["name"] == scope)
    variables = debug(kc, "variables", {"variablesReference": reference})["body"]["variables"]
    return {v["name"]: v for v in variables}


DEFINE_G = "def g(x):\n    y = x * 2\n    return y\n"


def test_kernel_info_and_debug_info_advertise_the_debugger(debugging):
    kc = debugging.kc
    msg_id = kc.kernel_info()
    content = wait_for_shell_reply(kc, msg_id)["content"]
    assert "debugger" in content["supported_features"]
    if debugging.name == "pyo3":  # ipykernel 7 dropped the older field (protocol 5.5)
        assert content["debugger"] is True
    body = debug(kc, "debugInfo")["body"]
    assert body["isStarted"] is True
    assert body["hashMethod"] == "Murmur2"
    assert body["tmpFileSuffix"] == ".py"


def test_dump_cell_path_is_the_murmur2_name_of_the_code(debugging):
    from ipykernel.compiler import murmur2_x86

    kc = debugging.kc
    body = debug(kc, "debugInfo")["body"]
    code = "x = 'é'\nprint(x)\n"
    path = debug(kc, "dumpCell", {"code": code})["body"]["sourcePath"]
    assert path == f"{body['tmpFilePrefix']}{murmur2_x86(code, body['hashSeed'])}.py"
    assert Path(path).read_text(encoding="utf-8") == code


def test_breakpoint_in_a_function_from_an_earlier_cell(debugging):
    kc = debugging.kc
    run_ok(kc, DEFINE_G)
    set_breakpoint(kc, DEFINE_G, 2)
    msg_id = kc.execute("result = g(21)")
    stopped = wait_for_event(kc, "stopped")["body"]
    assert stopped["reason"] == "breakpoint"
    frame = top_frame(kc, stopped["threadId"])
    assert frame["name"] == "g" and frame["line"] == 2
    assert frame_variables(kc, frame["id"])["x"]["value"] == "21"
    assert debug(kc, "continue", {"threadId": stopped["threadId"]})["success"]
    assert wait_for_shell_reply(kc, msg_id)["content"]["status"] == "ok"
    assert eval_text(kc, "result") == "42"


def test_step_into_a_function_and_out(debugging):
    kc = debugging.kc
    run_ok(kc, DEFINE_G)
    caller = "a = 1\nb = g(a)\nc = b + 1\n"
    set_breakpoint(kc, caller, 2)
    msg_id = kc.execute(caller)
    thread = wait_for_event(kc, "stopped")["body"]["threadId"]
    assert top_frame(kc, thread)["line"] == 2
    assert debug(kc, "stepIn", {"threadId": thread})["success"]
    assert wait_for_event(kc, "stopped")["body"]["reason"] == "step"
    frame = top_frame(kc, thread)
    assert frame["name"] == "g"
    assert debug(kc, "next", {"threadId": thread})["success"]
    wait_for_event(kc, "stopped")
    assert top_frame(kc, thread)["line"] == 3
    assert debug(kc, "stepOut", {"threadId": thread})["success"]
    wait_for_event(kc, "stopped")
    assert top_frame(kc, thread)["name"] == "<module>"
    assert debug(kc, "continue", {"threadId": thread})["success"]
    assert wait_for_shell_reply(kc, msg_id)["content"]["status"] == "ok"
    assert eval_text(kc, "c") == "3"


def test_rich_inspect_of_a_dataframe_not_stopped(debugging):
    pytest.importorskip("pandas")
    kc = debugging.kc
    run_ok(kc, "import pandas as pd\nframe = pd.DataFrame({'a': [1, 2], 'b': ['x', 'y']})")
    names = [v["name"] for v in debug(kc, "inspectVariables")["body"]["variables"]]
    assert "frame" in names
    reply = debug(kc, "richInspectVariables", {"variableName": "frame"})
    assert reply["success"]
    data = reply["body"]["data"]
    assert "text/html" in data and "<table" in data["text/html"]
    assert "text/plain" in data


def test_rich_inspect_of_a_dataframe_while_stopped(debugging):
    pytest.importorskip("pandas")
    kc = debugging.kc
    code = textwrap.dedent(
        """\
        import pandas as pd
        def show():
            local_frame = pd.DataFrame({'n': [1, 2, 3]})
            return local_frame
        show()
        """
    )
    set_breakpoint(kc, code, 4)
    msg_id = kc.execute(code)
    thread = wait_for_event(kc, "stopped")["body"]["threadId"]
    frame = top_frame(kc, thread)
    reply = debug(
        kc, "richInspectVariables", {"variableName": "local_frame", "frameId": frame["id"]}
    )
    assert reply["success"]
    assert "<table" in reply["body"]["data"].get("text/html", "")
    debug(kc, "continue", {"threadId": thread})
    wait_for_shell_reply(kc, msg_id)


def test_copy_to_globals_makes_a_local_a_notebook_variable(debugging):
    kc = debugging.kc
    code = "def keep():\n    secret = [1, 2, 3]\n    return None\nkeep()\n"
    set_breakpoint(kc, code, 3)
    msg_id = kc.execute(code)
    thread = wait_for_event(kc, "stopped")["body"]["threadId"]
    frame = top_frame(kc, thread)
    reply = debug(
        kc,
        "copyToGlobals",
        {"srcVariableName": "secret", "dstVariableName": "kept", "srcFrameId": frame["id"]},
    )
    assert reply["success"], reply
    debug(kc, "continue", {"threadId": thread})
    assert wait_for_shell_reply(kc, msg_id)["content"]["status"] == "ok"
    assert eval_text(kc, "kept") == "[1, 2, 3]"


def test_variables_of_the_notebook_expand_when_not_stopped(debugging):
    kc = debugging.kc
    run_ok(kc, "nested = {'inner': [10, 20]}")
    variables = {v["name"]: v for v in debug(kc, "inspectVariables")["body"]["variables"]}
    assert "nested" in variables and "In" not in variables and "_i1" not in variables
    reference = variables["nested"]["variablesReference"]
    assert reference
    children = debug(kc, "variables", {"variablesReference": reference})["body"]["variables"]
    assert any("inner" in child["name"] for child in children)


def test_interrupt_while_stopped_ends_the_cell_and_keeps_the_kernel(debugging):
    kc = debugging.kc
    run_ok(kc, "kept_value = 7")
    run_ok(kc, DEFINE_G)
    set_breakpoint(kc, DEFINE_G, 2)
    # After the breakpoint the cell would run for a minute: the interrupt must end it.
    msg_id = kc.execute("g(1)\nimport time\nfor _ in range(6000):\n    time.sleep(0.01)")
    wait_for_event(kc, "stopped")
    debugging.km.interrupt_kernel()
    reply = wait_for_shell_reply(kc, msg_id)["content"]
    assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt"
    # The control channel still answers, the namespace is intact.
    assert debug(kc, "debugInfo")["success"]
    assert eval_text(kc, "kept_value") == "7"
    if debugging.name == "python3":
        return  # ipykernel misses every breakpoint from here on (jupyterlab#15012)
    # The breakpoint is hit again in the next cell, and the debugger works as before.
    msg_id = kc.execute("g(2)")
    thread = wait_for_event(kc, "stopped")["body"]["threadId"]
    assert frame_variables(kc, top_frame(kc, thread)["id"])["x"]["value"] == "2"
    assert debug(kc, "continue", {"threadId": thread})["success"]
    assert wait_for_shell_reply(kc, msg_id)["content"]["status"] == "ok"


def test_disconnect_keeps_the_kernel_working(debugging):
    kc = debugging.kc
    assert debug(kc, "disconnect", {"restart": False, "terminateDebuggee": False})["success"]
    assert eval_text(kc, "1 + 1") == "2"
    assert debug(kc, "debugInfo")["body"]["isStarted"] is False
    assert debug(kc, "initialize", INITIALIZE)["success"]
    assert debug(kc, "attach")["success"]


BLOCK_DEBUGPY = textwrap.dedent(
    """\
    import sys

    class _NoDebugpy:
        def find_spec(self, name, path=None, target=None):
            if name == "debugpy" or name.startswith("debugpy."):
                raise ModuleNotFoundError(f"No module named {name!r}")
            return None

    sys.meta_path.insert(0, _NoDebugpy())
    """
)


@pytest.mark.parametrize("name", KERNELS)
def test_without_debugpy_no_debugger_is_advertised_and_nothing_breaks(name, tmp_path):
    (tmp_path / "sitecustomize.py").write_text(BLOCK_DEBUGPY)
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    with running_kernel(name, env=env) as k:
        msg_id = k.kc.kernel_info()
        content = wait_for_shell_reply(k.kc, msg_id)["content"]
        assert not content.get("debugger")
        assert "debugger" not in content.get("supported_features", [])
        reply = debug(k.kc, "initialize", INITIALIZE)
        assert not reply.get("success")
        assert eval_text(k.kc, "1 + 1") == "2"
        reply, _ = execute(k.kc, "import debugpy")
        assert reply["status"] == "error"


@pytest.mark.parametrize("debugging", ["pyo3"], indirect=True)
def test_malformed_debug_requests_get_a_failure_and_lose_nothing(debugging):
    kc = debugging.kc
    run_ok(kc, "survivor = 'still here'")
    reply = debug(kc, "dumpCell", {"code": 42})
    assert reply["success"] is False and "code" in reply["message"]
    reply = debug(kc, "setBreakpoints", {"source": "not a mapping", "breakpoints": 3})
    assert reply["success"] is False and reply["message"]
    msg = kc.session.msg("debug_request", {"no": "command"})
    kc.control_channel.send(msg)
    deadline = time.monotonic() + 30
    while True:
        answer = _get(kc.get_control_msg, kc, deadline, "debug_reply to a request without command")
        if answer["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
            break
    assert answer["msg_type"] == "debug_reply" and answer["content"] == {}
    assert debug(kc, "debugInfo")["success"]
    assert eval_text(kc, "survivor") == "'still here'"
