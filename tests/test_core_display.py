"""Which cell values are displayed, and the execution counter."""

from kernel_helpers import (
    eval_text,
    execute,
    execute_results,
    result_data,
    run_ok,
    stream_text,
)


def test_last_expression_is_execute_result_with_reply_execution_count(kernel):
    reply, outputs = execute(kernel, "1+1")
    assert reply["status"] == "ok", reply
    results = execute_results(outputs)
    assert len(results) == 1, outputs
    assert results[0]["data"] == {"text/plain": "2"}
    assert results[0]["execution_count"] == reply["execution_count"]


def test_execution_count_increments_by_one_per_cell(kernel):
    counts = [execute(kernel, code)[0]["execution_count"] for code in ("1", "a_cnt = 2", "3")]
    assert counts == [counts[0], counts[0] + 1, counts[0] + 2]


def test_assignment_shows_no_execute_result(kernel):
    assert execute_results(run_ok(kernel, "disp_assigned = 5")) == []


def test_stdout_stream_arrives_before_execute_result(kernel):
    outputs = run_ok(kernel, "print(1); 2")
    kinds = [o["msg_type"] for o in outputs if o["msg_type"] in ("stream", "execute_result")]
    assert stream_text(outputs) == "1\n"
    assert result_data(outputs) == {"text/plain": "2"}
    assert kinds.index("stream") < kinds.index("execute_result"), outputs


def test_trailing_semicolon_suppresses_result(kernel):
    assert execute_results(run_ok(kernel, "1+1;")) == []


def test_mid_cell_expression_is_not_shown(kernel):
    outputs = run_ok(kernel, "3\ndisp_mid = 5")
    assert execute_results(outputs) == []
    assert stream_text(outputs) == ""


def test_underscore_holds_previous_result(kernel):
    assert eval_text(kernel, "10*2") == "20"
    assert eval_text(kernel, "_ + 1") == "21"


def test_out_n_holds_result_of_cell_n(kernel):
    reply, outputs = execute(kernel, "'out_marker_value'")
    assert reply["status"] == "ok", reply
    n = reply["execution_count"]
    assert eval_text(kernel, "'x'") == "'x'"  # another cell in between
    assert eval_text(kernel, f"Out[{n}]") == "'out_marker_value'"


def test_none_is_not_shown(kernel):
    assert execute_results(run_ok(kernel, "None")) == []


def test_silent_execution_has_no_result_and_keeps_execution_count(kernel):
    before = execute(kernel, "1")[0]["execution_count"]
    reply, outputs = execute(kernel, "disp_silent = 41\ndisp_silent + 1", silent=True)
    assert reply["status"] == "ok", reply
    assert execute_results(outputs) == []
    after_reply, after_outputs = execute(kernel, "disp_silent")
    assert result_data(after_outputs) == {"text/plain": "41"}  # silent code did run
    assert after_reply["execution_count"] == before + 1
