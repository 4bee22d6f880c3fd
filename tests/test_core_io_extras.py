"""Behaviour users rely on from ipykernel, around output and matplotlib."""

from __future__ import annotations

from kernel_helpers import execute, run_ok, stream_text


def test_matplotlib_inline_magic_works(kernel):
    outputs = run_ok(kernel, "%matplotlib inline")
    assert not [o for o in outputs if o["msg_type"] == "error"]
    outputs = run_ok(kernel, "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.show()")
    assert any(
        o["msg_type"] == "display_data" and "image/png" in o["content"]["data"] for o in outputs
    )


def test_gui_event_loops_are_refused_with_a_clear_message(kernel):
    reply, outputs = execute(kernel, "%gui qt")
    assert "not supported by pyo3-kernel" in stream_text(outputs, "stderr") + str(reply)
    assert run_ok(kernel, "1 + 1")


def test_output_of_child_processes_and_c_code_reaches_the_cell(kernel):
    outputs = run_ok(kernel, "import os\nos.system('echo from-a-child-process')")
    assert "from-a-child-process" in stream_text(outputs)
    outputs = run_ok(kernel, "os.system('echo to-stderr >&2')")
    assert "to-stderr" in stream_text(outputs, "stderr")


def test_user_logging_shows_in_the_notebook(kernel):
    outputs = run_ok(kernel, "import logging\nlogging.getLogger('mine').warning('careful')")
    assert "careful" in stream_text(outputs, "stderr")


def test_stdout_has_a_file_descriptor(kernel):
    outputs = run_ok(kernel, "import sys\nprint(isinstance(sys.stdout.fileno(), int))")
    assert stream_text(outputs).strip() == "True"


def test_connect_info_shows_the_connection_file(kernel):
    outputs = run_ok(kernel, "%connect_info")
    text = stream_text(outputs)
    assert '"shell_port"' in text and "--existing" in text
