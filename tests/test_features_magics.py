"""IPython magics, shell escapes and ``?`` help, as typed in notebook cells."""

import ast

from feature_helpers import kernel_env_prefix, page_text
from kernel_helpers import (
    errors,
    eval_text,
    execute,
    execute_results,
    result_data,
    run_ok,
    stream_text,
)


def test_time_magic_reports_wall_time_and_returns_value(kernel):
    outputs = run_ok(kernel, "%time sum(range(10))")
    assert "Wall time" in stream_text(outputs), outputs
    assert result_data(outputs) == {"text/plain": "45"}


def test_time_cell_magic_runs_the_cell(kernel):
    outputs = run_ok(kernel, "%%time\nmagic_timed = 6 * 7\nprint(magic_timed)")
    text = stream_text(outputs)
    assert "42" in text and "Wall time" in text, outputs


def test_timeit_one_loop_one_run(kernel):
    text = stream_text(run_ok(kernel, "%timeit -n1 -r1 sum(range(10))"))
    assert "per loop" in text and "1 run, 1 loop each" in text, text


def test_who_lists_user_variables(kernel):
    text = stream_text(run_ok(kernel, "magic_who_var = 1\n%who"))
    assert "magic_who_var" in text.split(), text


def test_env_sets_and_reads_environment_variable(kernel):
    outputs = run_ok(kernel, "%env PYO3_MAGIC_ENV=set-by-magic")
    assert "PYO3_MAGIC_ENV=set-by-magic" in stream_text(outputs), outputs
    assert eval_text(kernel, "import os; os.environ['PYO3_MAGIC_ENV']") == "'set-by-magic'"
    assert eval_text(kernel, "%env PYO3_MAGIC_ENV") == "'set-by-magic'"


def test_env_without_arguments_lists_environment(kernel):
    run_ok(kernel, "import os; os.environ['PYO3_MAGIC_LIST'] = 'listed'")
    assert "PYO3_MAGIC_LIST" in eval_text(kernel, "%env")


def test_cd_changes_working_directory(kernel, tmp_path):
    before = ast.literal_eval(eval_text(kernel, "import os; os.getcwd()"))
    try:
        outputs = run_ok(kernel, f"%cd {tmp_path}")
        assert str(tmp_path) in stream_text(outputs), outputs
        assert ast.literal_eval(eval_text(kernel, "os.getcwd()")) == str(tmp_path)
    finally:
        run_ok(kernel, f"os.chdir({before!r})")


def test_writefile_writes_cell_body(kernel, tmp_path):
    target = tmp_path / "written.py"
    outputs = run_ok(kernel, f"%%writefile {target}\nline one\nline two\n")
    assert "Writing" in stream_text(outputs), outputs
    assert target.read_text() == "line one\nline two\n"


def test_capture_hides_output_and_keeps_it_in_variable(kernel):
    code = (
        "%%capture captured\nprint('captured text')\nimport sys; print('err text', file=sys.stderr)"
    )
    outputs = run_ok(kernel, code)
    assert [o for o in outputs if o["msg_type"] != "execute_input"] == [], outputs
    assert eval_text(kernel, "captured.stdout") == "'captured text\\n'"
    assert eval_text(kernel, "captured.stderr") == "'err text\\n'"


def test_capture_keeps_rich_displays(kernel):
    run_ok(
        kernel,
        "%%capture cap_disp\nfrom IPython.display import HTML, display\ndisplay(HTML('<u>x</u>'))",
    )
    assert eval_text(kernel, "cap_disp.outputs[0].data['text/html']") == "'<u>x</u>'"


def test_pip_magic_uses_kernel_environment(kernel):
    text = stream_text(run_ok(kernel, "%pip --version", timeout=120))
    assert text.startswith("pip "), text
    assert str(kernel_env_prefix()) in text, text


def test_shell_escape_output_is_streamed(kernel):
    outputs = run_ok(kernel, "!echo shell-escape-output")
    assert "shell-escape-output" in stream_text(outputs), outputs


def test_shell_escape_assignment_captures_lines(kernel):
    run_ok(kernel, "escaped = !printf 'a\\nb\\n'")
    assert eval_text(kernel, "list(escaped)") == "['a', 'b']"


def test_unknown_magic_is_a_usage_error_on_stderr(kernel):
    reply, outputs = execute(kernel, "%no_such_magic_pyo3")
    assert reply["status"] == "error", reply
    assert reply["ename"] == "UsageError", reply
    assert "Line magic function `%no_such_magic_pyo3` not found" in stream_text(outputs, "stderr")
    assert errors(outputs) == [], "IPython shows usage errors without a traceback"


_FUNC = "def magic_help_fn(x, y=3):\n    'Help text of magic_help_fn.'\n    return x * y\n"


def test_question_mark_pages_signature_and_docstring(kernel):
    run_ok(kernel, _FUNC)
    reply, outputs = execute(kernel, "magic_help_fn?")
    assert reply["status"] == "ok", reply
    text = page_text(reply)
    assert "magic_help_fn(x, y=3)" in text, text
    assert "Help text of magic_help_fn." in text, text
    assert execute_results(outputs) == []


def test_double_question_mark_pages_source(kernel):
    run_ok(kernel, _FUNC)
    reply, _ = execute(kernel, "magic_help_fn??")
    assert reply["status"] == "ok", reply
    assert "return x * y" in page_text(reply)


def test_question_mark_on_builtin(kernel):
    reply, _ = execute(kernel, "print?")
    assert "Prints the values to a stream" in page_text(reply)
