"""Errors are reported (reply + iopub error) and the kernel survives them."""

import pytest
from kernel_helpers import errors, eval_text, execute, run_ok, traceback_text


def _run_error(kc, code, ename, timeout=30):
    """Execute ``code`` expecting an error ``ename``; return the iopub error content."""
    reply, outputs = execute(kc, code, timeout=timeout)
    assert reply["status"] == "error", (reply, outputs)
    assert reply["ename"] == ename, reply
    errs = errors(outputs)
    assert len(errs) == 1, outputs
    assert errs[0]["ename"] == ename, errs
    return errs[0]


def _assert_survived(kc, var, value):
    assert eval_text(kc, "1+1") == "2"
    assert eval_text(kc, var) == repr(value)


def test_zero_division_reports_error_with_cell_line(kernel):
    run_ok(kernel, "err_keep_zd = 'before zd'")
    err = _run_error(kernel, "1/0", "ZeroDivisionError")
    tb = traceback_text(err)
    assert "1/0" in tb, tb
    assert "Cell In[" in tb, tb
    _assert_survived(kernel, "err_keep_zd", "before zd")


def test_error_in_function_from_earlier_cell_shows_that_cells_source(kernel):
    run_ok(kernel, "err_keep_fn = ('fn', 1)")
    define_reply, _ = execute(
        kernel, "def err_raiser():\n    raise KeyError('boom_marker')  # src-marker"
    )
    assert define_reply["status"] == "ok", define_reply
    define_n = define_reply["execution_count"]
    err = _run_error(kernel, "err_raiser()", "KeyError")
    tb = traceback_text(err)
    # The line as the cell had it (IPython's tracebacks drop its comment on Python 3.10,
    # in ipykernel as here).
    assert "raise KeyError('boom_marker')" in tb, tb
    assert f"Cell In[{define_n}]" in tb, tb
    _assert_survived(kernel, "err_keep_fn", ("fn", 1))


def test_syntax_error_is_reported_and_kernel_survives(kernel):
    run_ok(kernel, "err_keep_syn = 11")
    _run_error(kernel, "def (", "SyntaxError")
    _assert_survived(kernel, "err_keep_syn", 11)


def test_name_error_is_reported_and_kernel_survives(kernel):
    run_ok(kernel, "err_keep_name = [1, 2]")
    err = _run_error(kernel, "err_undefined_name_xyz + 1", "NameError")
    assert "err_undefined_name_xyz" in err["evalue"], err
    _assert_survived(kernel, "err_keep_name", [1, 2])


def test_result_whose_repr_raises_is_an_error(kernel):
    run_ok(kernel, "err_keep_repr = 'r'")
    _run_error(
        kernel,
        "class R:\n    def __repr__(self): raise ValueError('bad repr')\nR()",
        "ValueError",
    )
    _assert_survived(kernel, "err_keep_repr", "r")


def test_infinite_recursion_raises_recursion_error(fresh_kernel):
    run_ok(fresh_kernel, "err_keep_rec = 3.5")
    run_ok(fresh_kernel, "def err_recurse(n):\n    return err_recurse(n + 1)")
    _run_error(fresh_kernel, "err_recurse(0)", "RecursionError", timeout=60)
    _assert_survived(fresh_kernel, "err_keep_rec", 3.5)


@pytest.mark.parametrize("code", ["raise SystemExit(3)", "import sys; sys.exit(3)"])
def test_system_exit_is_an_error_and_kernel_keeps_running(fresh_kernel, code):
    run_ok(fresh_kernel, "err_keep_exit = 'still here'")
    _run_error(fresh_kernel, code, "SystemExit")
    _assert_survived(fresh_kernel, "err_keep_exit", "still here")
