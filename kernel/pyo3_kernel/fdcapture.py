"""What C code and child processes write to file descriptors 1 and 2 (``os.system``,
``printf`` in an extension, a Rust ``eprintln!``) goes to the notebook too, as in
ipykernel: the descriptor is pointed at a pipe whose reader feeds the stream.

A reader thread forwards output while a cell runs; at the end of the cell the kernel
drains the pipe itself, so output of a finished child process is sent before the
cell's reply, never attributed to the next cell.
"""

from __future__ import annotations

import codecs
import os
import select
import threading

from .interrupts import threads_started_here_ignore_sigint
from .iostream import OutStream

CHUNK = 65536


class FdCapture:
    """Feeds what is written to file descriptor ``fd`` into ``stream``."""

    def __init__(self, stream: OutStream, fd: int) -> None:
        self.stream = stream
        self.fd = fd
        self.original = os.dup(fd)  # where the descriptor pointed before (a terminal, a log)
        reader, writer = os.pipe()
        os.dup2(writer, fd)
        os.close(writer)
        os.set_blocking(reader, False)
        self._reader = reader
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._lock = threading.Lock()
        with threads_started_here_ignore_sigint():
            threading.Thread(target=self._forward, daemon=True, name=f"fd{fd}-capture").start()

    def _forward(self) -> None:
        while True:
            try:
                select.select([self._reader], [], [])
            except (OSError, ValueError):
                return  # restored: the pipe is closed
            if not self.drain():
                return

    def restore(self) -> None:
        """Point the descriptor back where it was (an embedded kernel has ended)."""
        self.drain()
        with self._lock:
            os.dup2(self.original, self.fd)
            os.close(self._reader)
            self._reader = -1

    def drain(self) -> bool:
        """Move everything in the pipe now into the stream; False once it is closed."""
        with self._lock:
            while True:
                try:
                    data = os.read(self._reader, CHUNK)
                except BlockingIOError:
                    return True
                except OSError:
                    return False
                if not data:
                    return False
                text = self._decoder.decode(data)
                if text:
                    self.stream.write(text)
