"""stdout/stderr for the kernel: text is batched and sent on IOPub from the writing thread.

A write only appends to a buffer; the buffer goes out as one ``stream`` message when
the cell ends, before any other output (display, result, error) so order is kept,
when it grows large, or when its oldest text has waited ``flush_interval`` (checked
on the next write, and by a small timer thread so a cell that prints and then sleeps
still shows its output live). Nothing on the execute path waits for another thread.
"""

from __future__ import annotations

import io
import threading
import time
from typing import Any

from .iopub import IOPub

FLUSH_INTERVAL = 0.05  # seconds the oldest buffered text may wait
FLUSH_SIZE = 1 << 20  # characters that force a flush


class OutStream(io.TextIOBase):
    """A text stream whose output becomes IOPub ``stream`` messages."""

    def __init__(self, iopub: IOPub, name: str, flush_interval: float = FLUSH_INTERVAL) -> None:
        super().__init__()
        self._iopub = iopub
        self.name = name
        self._flush_interval = flush_interval
        self._lock = threading.RLock()
        self._chunks: list[str] = []
        self._size = 0
        self._first_write = 0.0
        self._parent: dict[str, Any] = {}
        self._wakeup = threading.Event()
        self._timer = threading.Thread(
            target=self._flush_when_due, daemon=True, name=f"{name}-flush"
        )
        self._timer.start()

    # --- io.TextIOBase -------------------------------------------------------------
    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

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
        try:
            with self._lock:
                if not self._chunks:
                    self._first_write = time.monotonic()
                    self._wakeup.set()
                self._chunks.append(text)
                self._size += len(text)
                due = time.monotonic() - self._first_write >= self._flush_interval
                if due or self._size >= FLUSH_SIZE:
                    self._send()
        except KeyboardInterrupt:
            # An interrupt that arrived while output was being sent is raised afresh
            # here, at the boundary with user code: its traceback shows the cell's
            # print, not the kernel's send path (which is also slow to render).
            raise KeyboardInterrupt from None
        return len(text)

    def flush(self) -> None:
        try:
            with self._lock:
                self._send()
        except KeyboardInterrupt:
            raise KeyboardInterrupt from None  # as in write()

    # --- kernel side ---------------------------------------------------------------
    def set_parent(self, parent: dict[str, Any]) -> None:
        """Attribute later output to ``parent`` (flushing what belongs to the previous one)."""
        with self._lock:
            self._send()
            self._parent = parent

    def _send(self) -> None:
        if not self._chunks:
            return
        text = "".join(self._chunks)
        self._chunks.clear()
        self._size = 0
        self._iopub.send("stream", {"name": self.name, "text": text}, self._parent)

    def _flush_when_due(self) -> None:
        while True:
            self._wakeup.wait()
            self._wakeup.clear()
            time.sleep(self._flush_interval)
            with self._lock:
                if self._chunks and time.monotonic() - self._first_write >= self._flush_interval:
                    self._send()
                elif self._chunks:
                    self._wakeup.set()
