"""Children forked from the kernel (``multiprocessing`` with fork, ``os.fork``).

The kernel's sockets and threads are not a forked child's: the modules that hold them
ask ``in_child()`` and are told, through ``after_fork_in_child``, to forget what the
parent owns. The fork hook is registered with the first callback, not on import.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

_lock = threading.Lock()
_callbacks: list[Callable[[], None]] = []
_in_child = False


def in_child() -> bool:
    """Whether this process was forked from the kernel."""
    return _in_child


def after_fork_in_child(callback: Callable[[], None]) -> None:
    """Call ``callback`` in every child forked from now on (once, however often it
    is registered)."""
    with _lock:
        if not _callbacks:
            os.register_at_fork(after_in_child=_forked)
        if callback not in _callbacks:
            _callbacks.append(callback)


def _forked() -> None:
    global _in_child
    _in_child = True
    for callback in _callbacks:
        callback()
