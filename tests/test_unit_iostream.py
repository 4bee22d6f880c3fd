"""Unit tests (no kernel process) of ``pyo3_kernel.iostream``: ``sys.stdout`` and
``sys.stderr`` of the kernel.

Text written to either stream is buffered in one ``StreamBuffer`` and sent as IOPub
``stream`` messages: in the order written, one message per run of the same stream
and request, on ``flush``, when it grows large, or when its oldest text has waited
the flush interval (a timer thread sends it even if nothing else is written). Each
piece of text is attributed to the request set by ``set_parent``, or to the one the
writing thread or task set with ``set_thread_parent``. The IOPub publisher the
buffer is built with is replaced by a small recorder of what it is asked to send.
"""

from __future__ import annotations

import asyncio
import io
import threading
import time
from typing import Any

import pytest
from pyo3_kernel import iostream
from pyo3_kernel.iostream import OutStream, StreamBuffer


class Recorder:
    """Stands in for IOPub: records (msg_type, content, parent header) sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        self.lock = threading.Lock()
        self.arrived = threading.Event()

    def send(self, msg_type: str, content: dict[str, Any], parent: dict[str, Any]) -> None:
        with self.lock:
            self.sent.append((msg_type, content, parent))
        self.arrived.set()

    def texts(self) -> list[tuple[str, str, Any]]:
        """(stream name, text, request msg_id) per message sent."""
        with self.lock:
            return [(c["name"], c["text"], p.get("msg_id")) for _, c, p in self.sent]


def request(msg_id: str) -> dict[str, Any]:
    return {"header": {"msg_id": msg_id, "msg_type": "execute_request"}, "content": {}}


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def streams(recorder: Recorder) -> tuple[StreamBuffer, OutStream, OutStream]:
    # A long interval: only explicit flushes send, unless a test says otherwise.
    buffer = StreamBuffer(recorder, flush_interval=60)  # type: ignore[arg-type]
    return buffer, OutStream(buffer, "stdout", 1), OutStream(buffer, "stderr", 2)


def test_writes_are_batched_until_flushed(recorder, streams):
    _, stdout, _ = streams
    stdout.set_parent(request("r1"))
    assert stdout.write("hello ") == 6
    assert stdout.write("world\n") == 6
    assert recorder.sent == []
    stdout.flush()
    assert recorder.texts() == [("stdout", "hello world\n", "r1")]
    assert all(msg_type == "stream" for msg_type, _, _ in recorder.sent)


def test_stdout_and_stderr_keep_the_order_they_were_written_in(recorder, streams):
    _, stdout, stderr = streams
    stdout.set_parent(request("r"))
    stderr.set_parent(request("r"))
    stdout.write("a")
    stdout.write("b")
    stderr.write("E1")
    stdout.write("c")
    stderr.write("E2")
    stderr.write("E3")
    stdout.flush()
    assert recorder.texts() == [
        ("stdout", "ab", "r"),
        ("stderr", "E1", "r"),
        ("stdout", "c", "r"),
        ("stderr", "E2E3", "r"),
    ]


def test_empty_writes_send_nothing(recorder, streams):
    _, stdout, _ = streams
    assert stdout.write("") == 0
    stdout.flush()
    assert recorder.sent == []


def test_only_text_can_be_written(streams):
    _, stdout, _ = streams
    with pytest.raises(TypeError, match="must be str, not bytes"):
        stdout.write(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        stdout.write(None)  # type: ignore[arg-type]


def test_unicode_text_goes_out_unchanged(recorder, streams):
    _, stdout, _ = streams
    text = "h\u00e9llo \u2603 \U0001f600 \u05e9\u05dc\u05d5\u05dd\n"
    stdout.write(text)
    stdout.flush()
    assert recorder.texts()[0][1] == text


def test_set_parent_sends_earlier_text_under_the_earlier_request(recorder, streams):
    _, stdout, _ = streams
    stdout.set_parent(request("cell-1"))
    stdout.write("first cell\n")
    stdout.set_parent(request("cell-2"))  # flushes what cell 1 wrote
    assert recorder.texts() == [("stdout", "first cell\n", "cell-1")]
    stdout.write("second cell\n")
    stdout.flush()
    assert recorder.texts()[1] == ("stdout", "second cell\n", "cell-2")


def test_parent_header_is_the_requests_header(streams):
    _, stdout, _ = streams
    assert stdout.parent_header == {}
    stdout.set_parent(request("x"))
    assert stdout.parent_header == {"msg_id": "x", "msg_type": "execute_request"}


def test_a_thread_keeps_writing_to_the_cell_that_started_it(recorder, streams):
    _, stdout, _ = streams
    stdout.set_parent(request("cell-1"))
    started, go_on, finished = threading.Event(), threading.Event(), threading.Event()

    def worker() -> None:
        stdout.set_thread_parent(request("cell-1"))
        started.set()
        assert go_on.wait(5)
        stdout.write("from thread\n")
        finished.set()

    thread = threading.Thread(target=worker)
    thread.start()
    assert started.wait(5)
    stdout.set_parent(request("cell-2"))  # the next cell runs
    stdout.write("from cell 2\n")
    go_on.set()
    assert finished.wait(5)
    thread.join(timeout=5)
    stdout.flush()
    assert sorted(recorder.texts()) == [
        ("stdout", "from cell 2\n", "cell-2"),
        ("stdout", "from thread\n", "cell-1"),
    ]


def test_a_thread_without_its_own_parent_follows_set_parent(recorder, streams):
    _, stdout, _ = streams
    stdout.set_parent(request("latest"))
    thread = threading.Thread(target=stdout.write, args=("plain thread\n",))
    thread.start()
    thread.join(timeout=5)
    stdout.flush()
    assert recorder.texts() == [("stdout", "plain thread\n", "latest")]


def test_asyncio_tasks_have_their_own_parent(recorder, streams):
    _, stdout, _ = streams
    stdout.set_parent(request("main"))

    async def task(name: str) -> None:
        token = stdout.set_thread_parent(request(name))
        await asyncio.sleep(0)
        stdout.write(f"{name}\n")
        stdout.reset_thread_parent(token)
        stdout.write(f"{name} after reset\n")

    async def both() -> None:
        await asyncio.gather(task("task-a"), task("task-b"))

    asyncio.run(both())
    stdout.flush()
    texts = recorder.texts()
    assert ("stdout", "task-a\n", "task-a") in texts
    assert ("stdout", "task-b\n", "task-b") in texts
    # After reset each task is back to the parent of the context it was created in.
    after = [t for t in texts if "after reset" in t[1]]
    assert after and all(msg_id == "main" for _, _, msg_id in after)
    assert stdout.parent_header["msg_id"] == "main"


def test_large_output_is_sent_without_waiting(recorder, streams, monkeypatch):
    _, stdout, _ = streams
    monkeypatch.setattr(iostream, "FLUSH_SIZE", 100)
    stdout.write("x" * 60)
    assert recorder.sent == []
    stdout.write("y" * 60)  # 120 >= 100: sent now
    assert recorder.texts() == [("stdout", "x" * 60 + "y" * 60, None)]


def test_old_text_is_sent_by_the_next_write_after_the_interval(recorder, monkeypatch):
    # A clock the test moves: the timer thread sleeps the (long) interval in real
    # time, so only the write can find the text due.
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    buffer = StreamBuffer(recorder, flush_interval=30)  # type: ignore[arg-type]
    stdout = OutStream(buffer, "stdout", 1)
    stdout.write("early ")
    now[0] += 10
    stdout.write("still batched ")
    assert recorder.sent == []
    now[0] += 25  # the first text has waited 35 s > 30 s
    stdout.write("late")
    assert recorder.texts() == [("stdout", "early still batched late", None)]


def test_timer_sends_text_left_waiting(recorder):
    buffer = StreamBuffer(recorder, flush_interval=0.02)  # type: ignore[arg-type]
    stdout = OutStream(buffer, "stdout", 1)
    stdout.set_parent(request("sleepy"))
    stdout.write("printed before a long sleep\n")
    assert recorder.arrived.wait(5), "the timer did not send the waiting text"
    assert recorder.texts() == [("stdout", "printed before a long sleep\n", "sleepy")]


def test_concurrent_writes_lose_nothing(recorder, streams):
    buffer, stdout, stderr = streams

    def write(stream: OutStream, n: int) -> None:
        for i in range(300):
            stream.write(f"{n}:{i};")

    threads = [
        threading.Thread(target=write, args=(stream, n))
        for n, stream in enumerate([stdout, stderr, stdout, stderr])
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    buffer.flush()
    pieces = "".join(text for _, text, _ in recorder.texts()).split(";")[:-1]
    assert sorted(pieces) == sorted(f"{n}:{i}" for n in range(4) for i in range(300))


def test_stream_properties():
    buffer = StreamBuffer(Recorder(), flush_interval=60)  # type: ignore[arg-type]
    stdout = OutStream(buffer, "stdout", 1)
    assert stdout.name == "stdout"
    assert stdout.encoding == "UTF-8"
    assert stdout.writable() and not stdout.readable()
    assert not stdout.isatty()
    assert stdout._is_master_process()
    with pytest.raises(io.UnsupportedOperation):
        stdout.fileno()
    stdout.original_fd = 7
    assert stdout.fileno() == 7


def test_print_writes_through_the_stream(recorder, streams):
    _, stdout, stderr = streams
    stdout.set_parent(request("p"))
    stderr.set_parent(request("p"))
    print("value", 42, sep="=", file=stdout)
    print("warning", file=stderr)
    stdout.flush()
    assert recorder.texts() == [("stdout", "value=42\n", "p"), ("stderr", "warning\n", "p")]
