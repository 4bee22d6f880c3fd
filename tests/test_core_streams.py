"""stdout/stderr are forwarded as iopub stream messages, complete and in order."""

import time

from kernel_helpers import _get, collect_iopub, of_type, run_ok, stream_text


def _chunk_index(outputs, name, needle):
    """Index (among stream messages) of the first ``name`` chunk containing ``needle``."""
    streams = of_type(outputs, "stream")
    for i, chunk in enumerate(streams):
        if chunk["name"] == name and needle in chunk["text"]:
            return i
    raise AssertionError(f"no {name} chunk containing {needle!r}: {streams!r}")


def test_stdout_and_stderr_stream_names(kernel):
    outputs = run_ok(kernel, "import sys\nprint('to out')\nprint('to err', file=sys.stderr)")
    assert stream_text(outputs, "stdout") == "to out\n"
    assert stream_text(outputs, "stderr") == "to err\n"
    assert {c["name"] for c in of_type(outputs, "stream")} == {"stdout", "stderr"}


def test_interleaved_prints_keep_order_within_each_stream(kernel):
    outputs = run_ok(
        kernel,
        "import sys\n"
        "for i in range(20):\n"
        "    print(f'o{i}', file=sys.stdout)\n"
        "    print(f'e{i}', file=sys.stderr)",
    )
    assert stream_text(outputs, "stdout") == "".join(f"o{i}\n" for i in range(20))
    assert stream_text(outputs, "stderr") == "".join(f"e{i}\n" for i in range(20))


def test_explicitly_flushed_chunks_keep_order_across_streams(kernel):
    outputs = run_ok(
        kernel,
        "import sys\n"
        "print('a', flush=True)\n"
        "print('b', file=sys.stderr, flush=True)\n"
        "print('c', flush=True)",
    )
    assert stream_text(outputs, "stdout") == "a\nc\n"
    assert stream_text(outputs, "stderr") == "b\n"
    a = _chunk_index(outputs, "stdout", "a")
    b = _chunk_index(outputs, "stderr", "b")
    c = _chunk_index(outputs, "stdout", "c")
    assert a < b < c, of_type(outputs, "stream")


def test_output_without_newline_arrives_by_end_of_cell(kernel):
    assert stream_text(run_ok(kernel, "print('x', end='')")) == "x"


def test_one_megabyte_line_arrives_intact(kernel):
    outputs = run_ok(kernel, "print('a' * 1_000_000)", timeout=60)
    text = stream_text(outputs)
    assert len(text) == 1_000_001
    assert text == "a" * 1_000_000 + "\n"


def test_non_ascii_text_is_exact(kernel):
    assert stream_text(run_ok(kernel, "print('héllo ✓ 日本')")) == "héllo ✓ 日本\n"


def test_hundred_thousand_prints_arrive_whole_in_few_messages(kernel):
    """Printing is batched (xeus-python sends a message per print and loses most of
    them under load): every character, in order, in at most 100 stream messages."""
    outputs = run_ok(kernel, "for i in range(100_000):\n    print(i)", timeout=120)
    assert stream_text(outputs) == "".join(f"{i}\n" for i in range(100_000))
    assert len(of_type(outputs, "stream")) <= 100, len(of_type(outputs, "stream"))


def test_progress_updates_arrive_while_the_cell_runs(kernel, tmp_path):
    """A progress line rewritten every 0.1 s without flushing still shows live: three
    separate updates arrive while the cell is still running (it runs until the test,
    having seen them, tells it to stop)."""
    stop = tmp_path / "stop"
    code = (
        "import os, time\n"
        "step = 0\n"
        f"while not os.path.exists({str(stop)!r}):\n"
        "    print(f'\\rstep {step}', end='')\n"
        "    step += 1\n"
        "    time.sleep(0.1)\n"
        "print(' done')"
    )
    msg_id = kernel.execute(code)
    updates = []
    deadline = time.monotonic() + 30
    try:
        while len(updates) < 3:
            msg = _get(kernel.get_iopub_msg, kernel, deadline, "live progress output")
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            assert msg["content"].get("execution_state") != "idle", updates
            if msg["msg_type"] == "stream":
                updates.append(msg["content"]["text"])
    finally:
        stop.touch()
    text = "".join(updates) + stream_text(collect_iopub(kernel, msg_id))
    assert text.startswith("\rstep 0\rstep 1") and text.endswith(" done\n"), text
