"""Fidelity with ipykernel: import paths, profile dir, and how errors reach the user.

Each test runs on both kernelspecs (``pyo3`` and the reference ``python3``).
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest
from fidelity_helpers import KERNELS, running_kernel
from kernel_helpers import (
    errors,
    eval_text,
    execute,
    result_data,
    run_ok,
    stream_text,
    traceback_text,
)

STDIN_MESSAGE = "raw_input was called, but this frontend does not support input requests."
FIVE_LINE_CELL = "a = 1\nb = 2\nc = 3\nd = 4\nraise ValueError('line 5')"


# -- sys.path and the working directory ---------------------------------------------------


def test_empty_string_is_on_sys_path(nb):
    assert eval_text(nb.kc, "import sys\n'' in sys.path") == "True"


def test_kernel_runs_in_the_directory_it_was_started_in(nb):
    cwd = eval_text(nb.kc, "import os\nos.getcwd()")
    assert os.path.realpath(ast.literal_eval(cwd)) == os.path.realpath(nb.cwd)


def test_helpers_module_next_to_notebook_imports(nb):
    (nb.cwd / "helpers.py").write_text("ANSWER = 'from helpers.py'\n")
    assert eval_text(nb.kc, "import helpers\nhelpers.ANSWER") == "'from helpers.py'"


def test_file_magic_writes_module_that_next_cell_imports(nb):
    run_ok(nb.kc, "%%file mod.py\nVALUE = 'written by %%file'\n")
    assert (nb.cwd / "mod.py").is_file(), "%%file did not write mod.py in the kernel's cwd"
    assert eval_text(nb.kc, "import mod\nmod.VALUE") == "'written by %%file'"


@pytest.mark.parametrize("name", KERNELS)
def test_profile_dir_argument_is_used_and_keeps_empty_path(name: str, tmp_path: Path):
    profile = tmp_path / "profile"
    profile.mkdir()
    with running_kernel(name, extra_arguments=["--profile-dir", str(profile)]) as k:
        assert eval_text(k.kc, "import sys\n'' in sys.path") == "True"
        location = ast.literal_eval(eval_text(k.kc, "get_ipython().profile_dir.location"))
    assert os.path.realpath(location) == os.path.realpath(profile)


# -- showtraceback and errors --------------------------------------------------------------


def test_showtraceback_in_except_block_keeps_cell_ok(nb):
    reply, outputs = execute(
        nb.kc, "try:\n    1/0\nexcept Exception:\n    get_ipython().showtraceback()"
    )
    assert reply["status"] == "ok", f"a handled, shown exception failed the cell: {reply!r}"
    assert [e["ename"] for e in errors(outputs)] == ["ZeroDivisionError"]
    assert eval_text(nb.kc, "20 + 1") == "21"


def test_output_widget_swallowing_exception_keeps_cell_ok(nb):
    reply, outputs = execute(
        nb.kc,
        "import ipywidgets as w\nout = w.Output()\nwith out:\n    raise ValueError('inside')",
    )
    assert reply["status"] == "ok", f"Output widget's suppressed exception failed: {reply!r}"
    assert [(e["ename"], e["evalue"]) for e in errors(outputs)] == [("ValueError", "inside")]


def test_raising_cell_reports_error_in_reply(nb):
    reply, outputs = execute(nb.kc, "raise KeyError('really')")
    assert reply["status"] == "error"
    assert (reply["ename"], reply["evalue"]) == ("KeyError", "'really'")
    assert "KeyError" in traceback_text(reply)
    assert [e["ename"] for e in errors(outputs)] == ["KeyError"]


def test_input_without_stdin_raises_stdin_not_implemented(nb):
    reply, _ = execute(nb.kc, "input()", allow_stdin=False)
    assert reply["status"] == "error"
    assert (reply["ename"], reply["evalue"]) == ("StdinNotImplementedError", STDIN_MESSAGE)


def test_stdin_not_implemented_error_is_catchable_by_ipython_class(nb):
    code = (
        "from IPython.core.error import StdinNotImplementedError\n"
        "try:\n    input()\nexcept StdinNotImplementedError:\n    print('caught')"
    )
    reply, outputs = execute(nb.kc, code, allow_stdin=False)
    assert reply["status"] == "ok", f"IPython's StdinNotImplementedError did not catch: {reply!r}"
    assert stream_text(outputs) == "caught\n"


# -- tracebacks name the cell -------------------------------------------------------------


def test_syntax_error_traceback_names_cell_and_line(nb):
    reply, outputs = execute(nb.kc, "a = (1,\n  2 +\n )")
    assert reply["status"] == "error" and reply["ename"] == "SyntaxError"
    n = reply["execution_count"]
    shown = traceback_text(errors(outputs)[0])
    assert f"Cell In[{n}], line 3" in shown, shown


def test_traceback_names_cell_and_failing_line(nb):
    reply, outputs = execute(nb.kc, FIVE_LINE_CELL)
    n = reply["execution_count"]
    shown = traceback_text(errors(outputs)[0])
    assert f"Cell In[{n}], line 5" in shown, shown
    assert re.search(r"^-+> 5 raise ValueError", shown, re.M), shown


def _context_lines(traceback: str) -> list[int]:
    """Numbers of the source lines shown before the failing (``---->``) line."""
    return [int(m) for m in re.findall(r"^ +(\d+) \w = \d$", traceback, re.M)]


@pytest.mark.parametrize("name", KERNELS)
def test_ipykernel_cell_name_env_shows_two_context_lines(name: str):
    env = {**os.environ, "IPYKERNEL_CELL_NAME": "<IPY-INPUT>"}
    with running_kernel(name, env=env) as k:
        reply, outputs = execute(k.kc, FIVE_LINE_CELL)
    assert reply["status"] == "error"
    shown = traceback_text(errors(outputs)[0])
    assert "Cell In[1], line 5" in shown, shown
    assert _context_lines(shown) == [3, 4], shown


# -- %pdb without stdin ---------------------------------------------------------------------


def test_automatic_pdb_without_stdin_fails_cell_and_kernel_stays_usable(fresh):
    kc = fresh.kc
    run_ok(kc, "%pdb on")
    reply, outputs = execute(kc, "1/0", timeout=20, allow_stdin=False)
    assert reply["status"] == "error", reply
    [execute_input] = [o["content"] for o in outputs if o["msg_type"] == "execute_input"]
    assert reply["execution_count"] == execute_input["execution_count"], (reply, execute_input)
    shown = [e["ename"] + traceback_text(e) for e in errors(outputs)]
    assert any("ZeroDivisionError" in text for text in shown), outputs

    reply2, outputs2 = execute(kc, "6 * 7", allow_stdin=False)
    assert reply2["status"] == "ok", reply2
    assert reply2["execution_count"] == reply["execution_count"] + 1
    assert result_data(outputs2) == {"text/plain": "42"}


def test_debug_magic_without_stdin_fails_the_cell(fresh):
    kc = fresh.kc
    run_ok(kc, "def f():\n    return 1 / 0")
    reply, _ = execute(kc, "f()", allow_stdin=False)
    assert reply["status"] == "error", reply
    # %debug needs input; without stdin the cell fails (nbclient then stops, as it should).
    reply, outputs = execute(kc, "%debug", timeout=20, allow_stdin=False)
    assert reply["status"] == "error", (reply, outputs)
    assert reply["ename"] == "StdinNotImplementedError", reply
    assert result_data(execute(kc, "6 * 7")[1]) == {"text/plain": "42"}


@pytest.mark.parametrize("backend", ["notebook", "nbagg", "webagg"])
def test_matplotlib_backends_drawn_in_the_frontend_need_no_event_loop(fresh, backend):
    kc = fresh.kc
    reply, outputs = execute(kc, f"%matplotlib {backend}", timeout=60)
    assert reply["status"] == "ok", (reply, errors(outputs))
    reply, outputs = execute(kc, "import matplotlib.pyplot as plt\nfig = plt.figure()", timeout=60)
    assert reply["status"] == "ok", (reply, errors(outputs))
