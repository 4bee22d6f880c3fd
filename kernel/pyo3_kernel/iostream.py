"""stdout/stderr for the kernel: text is batched and sent on IOPub from the writing thread.

A write only appends to a buffer shared by stdout and stderr, so text goes out in the
order it was written, each piece attributed to the request it belongs to. The buffer
goes out as ``stream`` messages when the cell ends, before any other output (display,
result, error) so order is kept, when it grows large, or when its oldest text has
waited ``flush_interval`` (checked on the next write, and by a small timer thread so a
cell that prints and then sleeps still shows its output live). Nothing on the execute
path waits for another thread.

Which request output belongs to follows ipykernel: ``set_parent`` (each new request)
sets it for everyone; ``set_thread_parent`` sets it for the calling thread or asyncio
task only (a context variable), so a thread or task keeps writing to the cell that
started it while later cells run.

In a child forked from the kernel (``multiprocessing`` with fork) the kernel's sockets
are not the child's to use: its text is written, a line at a time, to file descriptors
1 and 2, which the kernel captures (fdcapture.py) and sends on as the cell's output.
"""

from __future__ import annotations

import io
import os
import threading
import time
import weakref
from contextvars import ContextVar, Token
from typing import Any

from jupyter_client.session import extract_header

from . import forks
from .iopub import IOPub

FLUSH_INTERVAL = 0.05  # seconds the oldest buffered text may wait
FLUSH_SIZE = 1 << 20  # characters that force a flush

Header = dict[str, Any]

# Set in a child forked from the kernel (cheaper than comparing os.getpid() per write).
_forked_child = False
_buffers: weakref.WeakSet[StreamBuffer] = weakref.WeakSet()
_streams: weakref.WeakSet[OutStream] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    global _forked_child
    _forked_child = True
    for buffer in list(_buffers):
        buffer.forget_after_fork()
    for stream in list(_streams):
        stream.forget_after_fork()


class StreamBuffer:
    """stdout and stderr text not yet sent, in the order it was written.

    Segments are ``[stream name, parent header, chunks]``; consecutive writes to the
    same stream for the same request share a segment, so a cell's output is one
    message per stream switch, not one per write.
    """

    def __init__(self, iopub: IOPub, flush_interval: float = FLUSH_INTERVAL) -> None:
        self._iopub = iopub
        self._flush_interval = flush_interval
        self._lock = threading.RLock()
        self._segments: list[tuple[str, Header, list[str]]] = []
        self._size = 0
        self._first_write = 0.0
        self._wakeup = threading.Event()
        self._timer = threading.Thread(
            target=self._flush_when_due, daemon=True, name="stream-flush"
        )
        self._timer.start()
        _buffers.add(self)
        forks.after_fork_in_child(_after_fork_in_child)

    def write(self, name: str, parent: Header, text: str) -> None:
        with self._lock:
            segments = self._segments
            if not segments:
                self._first_write = time.monotonic()
                self._wakeup.set()
            if segments and segments[-1][0] == name and segments[-1][1] is parent:
                segments[-1][2].append(text)
            else:
                segments.append((name, parent, [text]))
            self._size += len(text)
            due = time.monotonic() - self._first_write >= self._flush_interval
            if due or self._size >= FLUSH_SIZE:
                self._send()

    def flush(self) -> None:
        with self._lock:
            self._send()

    def _send(self) -> None:
        if not self._segments:
            return
        segments = self._segments
        self._segments = []
        self._size = 0
        for name, parent, chunks in segments:
            self._iopub.send("stream", {"name": name, "text": "".join(chunks)}, parent)

    def _flush_when_due(self) -> None:
        while True:
            self._wakeup.wait()
            self._wakeup.clear()
            time.sleep(self._flush_interval)
            with self._lock:
                waited = time.monotonic() - self._first_write
                if self._segments and waited >= self._flush_interval:
                    self._send()
                elif self._segments:
                    self._wakeup.set()

    def forget_after_fork(self) -> None:
        """In a forked child: the text belongs to the parent (which sends it), and a
        lock held by one of the parent's threads at the fork would never be released."""
        self._lock = threading.RLock()
        self._segments = []
        self._size = 0


class OutStream(io.TextIOBase):
    """A text stream whose output becomes IOPub ``stream`` messages."""

    def __init__(self, buffer: StreamBuffer, name: str, fd: int) -> None:
        super().__init__()
        self._buffer = buffer
        self.name = name
        self._fd = fd
        self._master_pid = os.getpid()
        self._parent: ContextVar[Header] = ContextVar(f"{name}_parent")
        self._parent.set({})
        self._parent_global: Header = {}
        self._child_line: list[str] = []
        _streams.add(self)

    # --- io.TextIOBase -------------------------------------------------------------
    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "UTF-8"  # spelled as ipykernel's streams spell it

    def readable(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    original_fd: int | None = None  # set when the descriptor itself is captured

    def fileno(self) -> int:
        """The stream's original descriptor (a terminal or log), as in ipykernel, for
        code that writes to ``sys.stdout.fileno()`` directly."""
        if self.original_fd is None:
            raise io.UnsupportedOperation("fileno")
        return self.original_fd

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if not text:
            return 0
        if _forked_child:
            self._write_in_child(text)
            return len(text)
        try:
            self._buffer.write(self.name, self.parent_header, text)
        except KeyboardInterrupt:
            # An interrupt that arrived while output was being sent is raised afresh
            # here, at the boundary with user code: its traceback shows the cell's
            # print, not the kernel's send path (which is also slow to render).
            raise KeyboardInterrupt from None
        return len(text)

    def flush(self) -> None:
        if _forked_child:
            self._flush_in_child()
            return
        try:
            self._buffer.flush()
        except KeyboardInterrupt:
            raise KeyboardInterrupt from None  # as in write()

    # --- which request the output belongs to ---------------------------------------
    @property
    def parent_header(self) -> Header:
        """The header of the request output is attributed to: this thread's or task's
        own (set_thread_parent), else the one the kernel set last (set_parent)."""
        try:
            return self._parent.get()
        except LookupError:
            return self._parent_global

    def set_parent(self, parent: dict[str, Any]) -> None:
        """Attribute later output to ``parent`` (flushing what is already written)."""
        header = extract_header(parent)
        self._buffer.flush()
        self._parent.set(header)
        self._parent_global = header

    def set_thread_parent(self, parent: dict[str, Any]) -> Token[Header]:
        """Attribute this thread's (or asyncio task's) later output to ``parent``;
        returns the token for ``reset_thread_parent``."""
        return self._parent.set(extract_header(parent))

    def reset_thread_parent(self, token: Token[Header]) -> None:
        self._parent.reset(token)

    def _is_master_process(self) -> bool:
        """False in a process forked from the kernel (ipykernel's name, which tests and
        libraries call)."""
        return not _forked_child and os.getpid() == self._master_pid

    # --- in a forked child ---------------------------------------------------------
    def _write_in_child(self, text: str) -> None:
        """Whole lines go to the descriptor in one write each, so the lines of several
        children do not interleave mid-line."""
        self._child_line.append(text)
        if "\n" in text:
            pending = "".join(self._child_line)
            end = pending.rindex("\n") + 1
            self._child_line = [pending[end:]] if end < len(pending) else []
            self._write_fd(pending[:end])

    def _flush_in_child(self) -> None:
        if self._child_line:
            pending = "".join(self._child_line)
            self._child_line = []
            self._write_fd(pending)

    def _write_fd(self, text: str) -> None:
        data = text.encode("utf-8", "replace")
        while data:
            try:
                written = os.write(self._fd, data)
            except OSError:
                return  # nowhere to write to: the output is lost, as with a closed stdout
            data = data[written:]

    def forget_after_fork(self) -> None:
        self._child_line = []
