"""stdout/stderr are forwarded as iopub stream messages, complete and in order."""

from kernel_helpers import of_type, run_ok, stream_text


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
