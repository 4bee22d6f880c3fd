"""input()/getpass through the stdin channel, and the history a console recalls.

History lives in IPython's sqlite database under ``$IPYTHONDIR``; the history
tests start kernels with a temporary ``IPYTHONDIR`` so they see only their own
cells.
"""

import os

import pytest
from feature_helpers import request, wait_for_input_request
from kernel_helpers import (
    collect_iopub,
    errors,
    eval_text,
    execute,
    result_data,
    run_ok,
    start_kernel,
    stop_kernel,
    stream_text,
    wait_for_shell_reply,
)

# --- stdin ----------------------------------------------------------------------------


def run_with_input(kc, code, answer):
    """Execute ``code`` (allow_stdin), answer its one input_request with ``answer``.

    Returns ``(input_request_content, reply_content, outputs)``.
    """
    msg_id = kc.execute(code, allow_stdin=True)
    req = wait_for_input_request(kc, msg_id)
    kc.input(answer)
    outputs = collect_iopub(kc, msg_id)
    reply = wait_for_shell_reply(kc, msg_id)["content"]
    return req["content"], reply, outputs


def test_input_is_answered_through_stdin_channel(fresh_kernel):
    code = "answer = input('Your name: ')\nprint('hello', answer)"
    req, reply, outputs = run_with_input(fresh_kernel, code, "world")
    assert req == {"prompt": "Your name: ", "password": False}, req
    assert reply["status"] == "ok", reply
    assert stream_text(outputs) == "hello world\n", outputs


def test_input_value_is_returned_as_str(fresh_kernel):
    _, reply, outputs = run_with_input(fresh_kernel, "input()", "42")
    assert reply["status"] == "ok", reply
    assert result_data(outputs) == {"text/plain": "'42'"}


def test_getpass_requests_password_input(fresh_kernel):
    code = "import getpass\nsecret = getpass.getpass('Secret: ')\nlen(secret)"
    req, reply, outputs = run_with_input(fresh_kernel, code, "hunter2")
    assert req == {"prompt": "Secret: ", "password": True}, req
    assert reply["status"] == "ok", reply
    assert result_data(outputs) == {"text/plain": "7"}
    assert "hunter2" not in stream_text(outputs), "the password is not echoed"


def test_two_inputs_in_one_cell(fresh_kernel):
    kc = fresh_kernel
    msg_id = kc.execute("a = input('a? ')\nb = input('b? ')\na + b", allow_stdin=True)
    assert wait_for_input_request(kc, msg_id)["content"]["prompt"] == "a? "
    kc.input("x")
    assert wait_for_input_request(kc, msg_id)["content"]["prompt"] == "b? "
    kc.input("y")
    outputs = collect_iopub(kc, msg_id)
    assert wait_for_shell_reply(kc, msg_id)["content"]["status"] == "ok"
    assert result_data(outputs) == {"text/plain": "'xy'"}


@pytest.mark.parametrize("code", ["input('prompt')", "import getpass\ngetpass.getpass()"])
def test_stdin_not_allowed_is_error_and_kernel_survives(kernel, code):
    reply, outputs = execute(kernel, code, allow_stdin=False)
    assert reply["status"] == "error", reply
    assert reply["ename"] == "StdinNotImplementedError", reply
    assert [e["ename"] for e in errors(outputs)] == ["StdinNotImplementedError"], outputs
    assert eval_text(kernel, "'still alive'") == "'still alive'"


# --- history --------------------------------------------------------------------------

HIST_CELLS = ["hist_alpha = 1", "hist_beta = 2", "hist_alpha + hist_beta"]


def ipython_env(ipython_dir):
    return {**os.environ, "IPYTHONDIR": str(ipython_dir)}


@pytest.fixture(scope="module")
def hist(kernelspec_installed, tmp_path_factory):
    """A kernel with its own IPYTHONDIR that ran HIST_CELLS; yields (kc, their numbers)."""
    ipython_dir = tmp_path_factory.mktemp("ipython")
    km, kc = start_kernel(kernelspec_installed, env=ipython_env(ipython_dir))
    try:
        numbers = []
        for code in HIST_CELLS:
            reply, outputs = execute(kc, code)
            assert reply["status"] == "ok", (reply, outputs)
            numbers.append(reply["execution_count"])
        yield kc, numbers
    finally:
        stop_kernel(km, kc)


def history(kc, **kw):
    kw.setdefault("raw", True)
    kw.setdefault("output", False)
    reply = request(kc, "history", **kw)
    assert reply["status"] == "ok", reply
    return reply["history"]


def test_history_tail_returns_last_n_cells(hist):
    kc, numbers = hist
    entries = history(kc, hist_access_type="tail", n=3)
    assert [e[2] for e in entries] == HIST_CELLS, entries
    assert [e[1] for e in entries] == numbers, entries
    assert len({e[0] for e in entries}) == 1, "one session"


def test_history_tail_with_output_gives_input_output_pairs(hist):
    kc, _ = hist
    entries = history(kc, hist_access_type="tail", n=3, output=True)
    assert [e[2][0] for e in entries] == HIST_CELLS, entries
    assert all(len(e[2]) == 2 for e in entries), entries


def test_history_range_of_current_session(hist):
    kc, numbers = hist
    entries = history(kc, hist_access_type="range", session=0, start=numbers[0], stop=numbers[2])
    assert [(e[0], e[1], e[2]) for e in entries] == [
        (0, numbers[0], HIST_CELLS[0]),
        (0, numbers[1], HIST_CELLS[1]),
    ], entries


def test_history_search_with_glob_pattern(hist):
    kc, _ = hist
    entries = history(kc, hist_access_type="search", pattern="hist_*")
    assert [e[2] for e in entries] == HIST_CELLS, entries


def test_history_search_pattern_matches_whole_cell(hist):
    kc, _ = hist
    entries = history(kc, hist_access_type="search", pattern="*+ hist_beta")
    assert [e[2] for e in entries] == ["hist_alpha + hist_beta"], entries


def test_history_search_n_limits_to_latest(hist):
    kc, _ = hist
    entries = history(kc, hist_access_type="search", pattern="hist_*", n=1)
    assert [e[2] for e in entries] == [HIST_CELLS[-1]], entries


def test_history_is_kept_across_restart(kernelspec_installed, tmp_path):
    km, kc = start_kernel(kernelspec_installed, env=ipython_env(tmp_path))
    try:
        for code in HIST_CELLS:
            run_ok(kc, code)
        first_session = history(kc, hist_access_type="tail", n=1)[0][0]
        km.restart_kernel()
        kc.wait_for_ready(timeout=60)
        entries = history(kc, hist_access_type="tail", n=3, output=False)
        assert [e[2] for e in entries] == HIST_CELLS, entries
        assert {e[0] for e in entries} == {first_session}, entries
        run_ok(kc, "hist_after_restart = 3")
        latest = history(kc, hist_access_type="tail", n=1)
        assert latest[0][2] == "hist_after_restart = 3", latest
        assert latest[0][0] == first_session + 1, "the restarted kernel is a new session"
    finally:
        stop_kernel(km, kc)


def _history_off_by_argv(ipython_dir):
    return {"extra_arguments": ["--HistoryManager.enabled=False"]}


def _history_off_by_config_file(ipython_dir):
    profile = ipython_dir / "profile_default"
    profile.mkdir(parents=True)
    (profile / "ipython_kernel_config.py").write_text("c.HistoryManager.enabled = False\n")
    return {}


@pytest.mark.parametrize(
    "switch_off",
    [_history_off_by_argv, _history_off_by_config_file],
    ids=["argv", "ipython_kernel_config"],
)
def test_history_can_be_switched_off(kernelspec_installed, tmp_path, switch_off):
    extra = switch_off(tmp_path)
    km, kc = start_kernel(kernelspec_installed, env=ipython_env(tmp_path), **extra)
    try:
        for code in HIST_CELLS:
            run_ok(kc, code)
        assert history(kc, hist_access_type="tail", n=3) == []
        assert history(kc, hist_access_type="search", pattern="hist_*") == []
    finally:
        stop_kernel(km, kc)
    assert not (tmp_path / "profile_default" / "history.sqlite").exists()
