"""Unit tests (no kernel process) of ``pyo3_kernel.idle.IdleWaiter``.

Between requests the kernel waits inside the namespace's asyncio loop, so tasks
started by cells go on running; the wait ends when a watched descriptor signals and
``ready()`` says a request is there, or on timeout. While the loop runs for
something else (an awaiting cell), a signal calls ``busy`` instead. These tests use
a real asyncio loop and a socketpair as the request channel; ``ready`` and ``busy``
are the small callables the waiter is built with.
"""

from __future__ import annotations

import asyncio
import logging
import select
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from pyo3_kernel.idle import IdleWaiter


class Channel:
    """A socketpair standing in for a request socket: written to by 'the client'."""

    def __init__(self) -> None:
        self.reader, self.writer = socket.socketpair()
        self.reader.setblocking(False)

    def ready(self) -> bool:
        return bool(select.select([self.reader], [], [], 0)[0])

    def take(self) -> bytes:
        return self.reader.recv(4096)

    def close(self) -> None:
        self.reader.close()
        self.writer.close()


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture
def channel() -> Iterator[Channel]:
    ch = Channel()
    yield ch
    ch.close()


def waiter_for(channel: Channel, busy=lambda: None) -> IdleWaiter:
    return IdleWaiter(lambda: [channel.reader.fileno()], channel.ready, busy)


def test_returns_at_once_when_a_request_is_waiting(loop, channel):
    channel.writer.send(b"request")
    ran: list[str] = []
    loop.call_soon(ran.append, "loop ran")
    start = time.monotonic()
    waiter_for(channel).wait(loop, timeout=10)
    assert time.monotonic() - start < 1
    assert ran == []  # the loop was not even run


def test_returns_when_a_request_arrives(loop, channel):
    waiter = waiter_for(channel)
    loop.call_later(0.05, channel.writer.send, b"request")
    start = time.monotonic()
    waiter.wait(loop, timeout=10)
    assert time.monotonic() - start < 5
    assert channel.take() == b"request"


def test_returns_when_a_request_arrives_from_another_thread(loop, channel):
    waiter = waiter_for(channel)
    sender = threading.Timer(0.05, channel.writer.send, args=(b"from thread",))
    sender.start()
    try:
        start = time.monotonic()
        waiter.wait(loop, timeout=10)
        assert time.monotonic() - start < 5
        assert channel.take() == b"from thread"
    finally:
        sender.join(timeout=5)


def test_times_out_without_requests(loop, channel):
    start = time.monotonic()
    waiter_for(channel).wait(loop, timeout=0.1)
    elapsed = time.monotonic() - start
    assert 0.09 <= elapsed < 5


def test_negative_timeout_returns_promptly(loop, channel):
    start = time.monotonic()
    waiter_for(channel).wait(loop, timeout=-1)
    assert time.monotonic() - start < 1


def test_without_timeout_waits_until_a_request(loop, channel):
    loop.call_later(0.05, channel.writer.send, b"x")
    waiter_for(channel).wait(loop, timeout=None)
    assert channel.ready()


def test_tasks_started_earlier_run_while_waiting(loop, channel):
    progress: list[int] = []

    async def background() -> None:
        for step in range(3):
            progress.append(step)
            await asyncio.sleep(0)
        channel.writer.send(b"done")  # the task's work ends the wait

    task = loop.create_task(background())
    waiter_for(channel).wait(loop, timeout=10)
    assert progress == [0, 1, 2]
    assert task.done()


def test_activity_without_a_request_does_not_end_the_wait(loop, channel):
    # The descriptor signals but ready() says no (e.g. ZeroMQ's signal without a
    # complete message): only the timeout ends the wait.
    checks: list[bool] = []

    def never_ready() -> bool:
        checks.append(True)
        return False

    channel.writer.send(b"noise")
    waiter = IdleWaiter(lambda: [channel.reader.fileno()], never_ready, lambda: None)
    start = time.monotonic()
    waiter.wait(loop, timeout=0.1)
    assert time.monotonic() - start >= 0.09
    assert len(checks) > 1  # asked again when the descriptor signalled


def test_busy_is_called_when_a_request_comes_while_the_loop_runs_a_cell(loop, channel):
    heard = asyncio.Event()
    busy_calls: list[bytes] = []

    def busy() -> None:
        busy_calls.append(channel.take())
        heard.set()

    waiter = waiter_for(channel, busy)
    waiter.watch(loop)  # before an awaiting cell runs

    async def awaiting_cell() -> None:
        channel.writer.send(b"comm message")
        await asyncio.wait_for(heard.wait(), timeout=5)

    loop.run_until_complete(awaiting_cell())
    assert busy_calls == [b"comm message"]


def test_busy_is_not_called_during_a_wait(loop, channel):
    busy_calls: list[str] = []
    waiter = waiter_for(channel, lambda: busy_calls.append("busy"))
    loop.call_later(0.02, channel.writer.send, b"request")
    waiter.wait(loop, timeout=10)
    assert busy_calls == []


def test_busy_is_called_after_a_wait_has_ended(loop, channel):
    heard = asyncio.Event()
    waiter = waiter_for(channel, lambda: (channel.take(), heard.set()))
    waiter.wait(loop, timeout=0.01)  # timed out: watching continues

    async def awaiting_cell() -> None:
        channel.writer.send(b"x")
        await asyncio.wait_for(heard.wait(), timeout=5)

    loop.run_until_complete(awaiting_cell())
    assert heard.is_set()


def test_a_task_stopping_the_loop_ends_the_wait_and_is_logged(loop, channel, caplog):
    async def exits() -> None:
        raise SystemExit(3)

    task = loop.create_task(exits())
    waiter = waiter_for(channel)
    with caplog.at_level(logging.WARNING, logger="pyo3_kernel"):
        start = time.monotonic()
        waiter.wait(loop, timeout=10)
    assert time.monotonic() - start < 5
    # Retrieved here: a task whose exception is never retrieved logs a traceback when
    # collected, and on CPython 3.11 that logging, if it happens inside an ast.parse
    # (pytest's assertion rewriting), corrupts the parse with a SystemError.
    assert isinstance(task.exception(), SystemExit)
    assert "background task stopped the event loop" in caplog.text
    assert "SystemExit" in caplog.text
    # The kernel goes on: the next wait works.
    loop.call_later(0.01, channel.writer.send, b"next")
    waiter.wait(loop, timeout=10)
    assert channel.take() == b"next"


def test_changed_descriptors_are_watched_and_old_ones_dropped(loop):
    first, second = Channel(), Channel()
    try:
        current = [first]
        waiter = IdleWaiter(
            lambda: [current[0].reader.fileno()],
            lambda: current[0].ready(),
            lambda: None,
        )
        waiter.wait(loop, timeout=0.01)
        current[0] = second  # e.g. the shell socket changed hands
        first.writer.send(b"old socket")  # no longer watched
        loop.call_later(0.05, second.writer.send, b"new socket")
        start = time.monotonic()
        waiter.wait(loop, timeout=10)
        assert time.monotonic() - start < 5
        assert second.take() == b"new socket"
        # The old descriptor is no longer registered with the loop; the new one is.
        assert loop.remove_reader(first.reader.fileno()) is False
        assert loop.remove_reader(second.reader.fileno()) is True
    finally:
        first.close()
        second.close()


def test_a_new_loop_is_watched_after_the_old_one_closed(channel):
    waiter = waiter_for(channel)
    old = asyncio.new_event_loop()
    waiter.wait(old, timeout=0.01)
    old.close()
    new = asyncio.new_event_loop()
    try:
        new.call_later(0.02, channel.writer.send, b"x")
        start = time.monotonic()
        waiter.wait(new, timeout=10)
        assert time.monotonic() - start < 5
        assert channel.ready()
    finally:
        new.close()


def test_several_descriptors_are_watched(loop):
    channels = [Channel(), Channel()]
    try:
        waiter = IdleWaiter(
            lambda: [c.reader.fileno() for c in channels],
            lambda: any(c.ready() for c in channels),
            lambda: None,
        )
        loop.call_later(0.02, channels[1].writer.send, b"second")
        waiter.wait(loop, timeout=10)
        assert channels[1].take() == b"second"
        loop.call_later(0.02, channels[0].writer.send, b"first")
        waiter.wait(loop, timeout=10)
        assert channels[0].take() == b"first"
    finally:
        for c in channels:
            c.close()
