"""Fidelity with ipykernel: IPython's cell pipeline settings and hooks act on our cells.

The engine runs the statements, but which ones show their value
(``ast_node_interactivity``), how a cell's error is handled (custom exception
handlers, ``sys.excepthook``, quitting the debugger) and what ``run_cell`` returns
are IPython's, as in ipykernel. Each test runs on both kernelspecs.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kernel_helpers import errors, eval_text, execute, execute_results, run_ok, stream_text

INTERACTIVITY = "from IPython.core.interactiveshell import InteractiveShell\n"


@pytest.fixture
def interactivity(shared) -> Iterator:
    """The shared kernel; ``ast_node_interactivity`` put back to its default after."""
    yield shared.kc
    run_ok(shared.kc, INTERACTIVITY + "InteractiveShell.ast_node_interactivity = 'last_expr'")


def shown_values(outputs: list[dict]) -> list[str]:
    return [r["data"]["text/plain"] for r in execute_results(outputs)]


def test_interactivity_all_shows_every_expression(interactivity):
    run_ok(interactivity, INTERACTIVITY + "InteractiveShell.ast_node_interactivity = 'all'")
    assert shown_values(run_ok(interactivity, "1\n'two'\nv = 3\nv * 2")) == ["1", "'two'", "6"]


def test_interactivity_all_respects_a_trailing_semicolon(interactivity):
    run_ok(interactivity, INTERACTIVITY + "InteractiveShell.ast_node_interactivity = 'all'")
    assert shown_values(run_ok(interactivity, "1\n2;")) == []


def test_interactivity_last_expr_or_assign_shows_the_assigned_value(interactivity):
    run_ok(
        interactivity,
        INTERACTIVITY + "InteractiveShell.ast_node_interactivity = 'last_expr_or_assign'",
    )
    assert shown_values(run_ok(interactivity, "w = 40 + 2")) == ["42"]
    assert shown_values(run_ok(interactivity, "w += 1")) == ["43"]
    assert shown_values(run_ok(interactivity, "a, b = 1, 2")) == []


def test_interactivity_none_shows_nothing(interactivity):
    run_ok(interactivity, INTERACTIVITY + "InteractiveShell.ast_node_interactivity = 'none'")
    assert shown_values(run_ok(interactivity, "1 + 1")) == []


def test_quitting_the_debugger_ends_the_cell_without_a_traceback(shared):
    reply, outputs = execute(shared.kc, "import bdb\nprint('before')\nraise bdb.BdbQuit()")
    assert reply["status"] == "error" and reply["ename"] == "BdbQuit"
    assert errors(outputs) == []
    assert stream_text(outputs) == "before\n"


def test_custom_exception_handler_handles_the_cells_error(shared):
    run_ok(
        shared.kc,
        "def on_zero(shell, etype, value, tb, tb_offset=None):\n"
        "    print('handled', etype.__name__)\n"
        "get_ipython().set_custom_exc((ZeroDivisionError,), on_zero)",
    )
    try:
        reply, outputs = execute(shared.kc, "1 / 0")
        assert reply["status"] == "error" and reply["ename"] == "ZeroDivisionError"
        assert stream_text(outputs) == "handled ZeroDivisionError\n"
        assert errors(outputs) == []
    finally:
        run_ok(shared.kc, "get_ipython().set_custom_exc((), None)")


def test_excepthook_is_the_shells_while_a_cell_runs(shared):
    assert eval_text(shared.kc, "import sys\nsys.excepthook == get_ipython().excepthook") == (
        "True"
    )


def test_run_cell_from_a_cell_returns_ipythons_result(shared):
    code = "r = get_ipython().run_cell('nested = 6 * 7')\ntype(r).__name__, r.success, nested"
    assert eval_text(shared.kc, code) == "('ExecutionResult', True, 42)"
    code = "r = get_ipython().run_cell('1 / 0')\ntype(r.error_in_exec).__name__, r.success"
    reply, outputs = execute(shared.kc, code)
    assert reply["status"] == "ok"
    assert shown_values(outputs) == ["('ZeroDivisionError', False)"]


def test_statement_that_parses_but_does_not_compile_is_a_syntax_error(shared):
    reply, outputs = execute(shared.kc, "x_before = 1\nreturn 5")
    assert reply["status"] == "error" and reply["ename"] == "SyntaxError"
    assert [e["ename"] for e in errors(outputs)] == ["SyntaxError"]
    assert "'return' outside function" in reply["evalue"]
