"""Replies sent by a thread that does not own the socket they go out on.

A ZeroMQ socket belongs to one thread. The control thread owns the control socket,
and the shell socket too while subshells exist (shellport.py); a reply made on
another thread (the main shell answering a request that came on control, a subshell
answering its request) is handed to the control thread as ``[target, *frames]`` on an
in-process PUSH socket of the sending thread, and the control thread sends it on.
"""

from __future__ import annotations

import threading
from typing import Any

import zmq

ADDRESS = "inproc://pyo3-kernel-replies"
CONTROL, SHELL = b"control", b"shell"
# Not replies: a shutdown a subshell answered, for the control thread to carry out; a
# debugger to resume after an interrupt ended a cell stopped at a breakpoint; an
# interrupt that landed inside the debugger's code (interrupts.py), to deliver again.
STOP_KERNEL = b"stop-kernel"
RESUME_DEBUGGER = b"resume-debugger"
INTERRUPT_IN_DEBUGGER = b"interrupt-in-debugger"


class Relay:
    """Each thread's PUSH socket to the control thread."""

    def __init__(self, context: zmq.SyncContext) -> None:
        self._context = context
        self._local = threading.local()

    def send(self, target: bytes, parts: list[Any], copy: bool = True) -> None:
        push = getattr(self._local, "socket", None)
        if push is None:
            push = self._context.socket(zmq.PUSH)
            push.linger = 1000
            push.connect(ADDRESS)
            self._local.socket = push
        push.send_multipart([target, *parts], copy=copy)

    def release(self) -> None:
        """Close the calling thread's socket (a subshell thread ending)."""
        push = getattr(self._local, "socket", None)
        if push is not None:
            self._local.socket = None
            push.close(linger=1000)


class RelayedSocket:
    """A send-only stand-in for the control thread's ``target`` socket."""

    def __init__(self, relay: Relay, target: bytes) -> None:
        self._relay = relay
        self._target = target

    def send_multipart(
        self, parts: list[Any], flags: int = 0, copy: bool = True, track: bool = False
    ) -> None:
        self._relay.send(self._target, parts, copy=copy)
