"""Unit tests (no kernel process) of ``pyo3_kernel.fdcapture.FdCapture``.

What C code and child processes write to a file descriptor must reach the stream
the capture feeds: bytes decoded as UTF-8 (even when a character is split between
writes, with replacement for invalid bytes), nothing lost when the kernel drains the
pipe itself, and the descriptor pointed back where it was on ``restore``. The tests
capture a descriptor of a temporary file, never the real 1 and 2; the stream is a
small recorder of the text written to it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from pyo3_kernel.fdcapture import FdCapture


class Recorder:
    """Stands in for the OutStream the capture writes to."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._parts: list[str] = []

    def write(self, text: str) -> int:
        with self._lock:
            self._parts.append(text)
        return len(text)

    @property
    def text(self) -> str:
        with self._lock:
            return "".join(self._parts)


def wait_for_text(capture: FdCapture, recorder: Recorder, expected: str) -> None:
    """Wait (bounded) until ``expected`` has reached the stream, draining meanwhile
    as the kernel does at the end of a cell."""
    deadline = time.monotonic() + 5
    while recorder.text != expected:
        assert time.monotonic() < deadline, f"got {recorder.text!r}, want {expected!r}"
        capture.drain()
        time.sleep(0.005)


@pytest.fixture
def target(tmp_path) -> Iterator[tuple[int, str]]:
    """A descriptor (of a temporary file) to capture, and the file's path."""
    path = str(tmp_path / "original-output.txt")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    yield fd, path
    os.close(fd)


@pytest.fixture
def captured(target) -> Iterator[tuple[FdCapture, Recorder, int, str]]:
    fd, path = target
    recorder = Recorder()
    capture = FdCapture(recorder, fd)  # type: ignore[arg-type]
    yield capture, recorder, fd, path
    capture.restore()
    os.close(capture.original)


def test_writes_to_the_descriptor_reach_the_stream(captured):
    capture, recorder, fd, path = captured
    os.write(fd, b"hello from C\n")
    wait_for_text(capture, recorder, "hello from C\n")
    with open(path, "rb") as original:
        assert original.read() == b""  # not written to the original file


def test_drain_moves_everything_written_so_far(captured):
    capture, recorder, fd, _ = captured
    for n in range(100):
        os.write(fd, b"line %d\n" % n)
    assert capture.drain() is True
    # Whether the reader thread or drain() took each piece, all of it is there now.
    assert recorder.text == "".join(f"line {n}\n" for n in range(100))


def test_utf8_split_between_writes_is_decoded_once(captured):
    capture, recorder, fd, _ = captured
    data = "\u00e9t\u00e9 \u2603 \U0001f600\n".encode()
    for i in range(len(data)):
        os.write(fd, data[i : i + 1])
    wait_for_text(capture, recorder, data.decode())


def test_invalid_utf8_is_replaced(captured):
    capture, recorder, fd, _ = captured
    os.write(fd, b"bad \xff\xfe bytes\n")
    wait_for_text(capture, recorder, "bad \ufffd\ufffd bytes\n")


def test_large_output_arrives_whole(captured):
    capture, recorder, fd, _ = captured
    payload = ("0123456789abcdef" * 8192 + "\n") * 4  # several pipe buffers
    writer = threading.Thread(target=lambda: os.write(fd, payload.encode()))
    writer.start()
    writer.join(timeout=10)
    assert not writer.is_alive(), "the writer blocked: the pipe was not read"
    wait_for_text(capture, recorder, payload)


def test_child_process_output_is_captured(captured):
    capture, recorder, fd, _ = captured
    subprocess.run(
        [sys.executable, "-c", "import os; os.write(1, b'from a child\\n')"],
        stdout=fd,
        check=True,
        timeout=30,
    )
    wait_for_text(capture, recorder, "from a child\n")


def test_restore_points_the_descriptor_back(target):
    fd, path = target
    recorder = Recorder()
    capture = FdCapture(recorder, fd)  # type: ignore[arg-type]
    os.write(fd, b"captured\n")
    capture.restore()
    os.close(capture.original)
    assert recorder.text == "captured\n"  # drained before restoring
    os.write(fd, b"after restore\n")
    with open(path, "rb") as original:
        assert original.read() == b"after restore\n"
    assert recorder.text == "captured\n"
    assert capture.drain() is False  # the pipe is closed


def test_original_is_where_the_descriptor_pointed(captured):
    capture, _, _, path = captured
    os.write(capture.original, b"straight to the file\n")
    with open(path, "rb") as original:
        assert original.read() == b"straight to the file\n"
