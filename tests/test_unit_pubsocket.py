"""Unit tests (no kernel process) of ``pyo3_kernel.pubsocket``: the IOPub socket.

Clients learn they are subscribed from ``iopub_welcome`` (protocol 5.4): every
subscription that reaches the XPUB socket must be answered with a signed welcome
that jupyter_client's ``Session`` accepts, on the subscription's own topic. Sends
come from several threads and must never interleave frames of different messages.
Real ZeroMQ sockets, in process.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
import zmq
from jupyter_client.session import Session
from pyo3_kernel import info, pubsocket, wire
from pyo3_kernel.pubsocket import LockedSocket, Welcomer

KEY = b"pubsocket-test-key"


def test_topic_names_session_and_type():
    assert pubsocket.topic("abc", "status") == b"kernel.abc.status"
    assert pubsocket.topic("s-1", "execute_result") == b"kernel.s-1.execute_result"


def deserialize(parts: list[bytes]) -> tuple[list[bytes], dict]:
    session = Session(key=KEY)
    idents, msg_list = session.feed_identities(parts)
    return idents, session.deserialize(msg_list)


def test_welcome_is_a_signed_message_session_accepts():
    frames = Welcomer(wire.Signer(KEY), "kernel-session").frames(b"kernel.x.status")
    idents, msg = deserialize(frames)
    assert idents == [b"kernel.x.status"]
    assert msg["msg_type"] == "iopub_welcome"
    assert msg["content"] == {"subscription": "kernel.x.status"}
    assert msg["header"]["session"] == "kernel-session"
    assert msg["header"]["version"] == info.PROTOCOL_VERSION
    assert msg["parent_header"] == {}


def test_welcome_for_everything_has_no_topic_frame():
    frames = Welcomer(wire.Signer(KEY), "s").frames(b"")
    assert frames[0] == wire.DELIMITER
    idents, msg = deserialize(frames)
    assert idents == []
    assert msg["content"] == {"subscription": ""}


def test_each_welcome_is_a_new_message():
    welcomer = Welcomer(wire.Signer(KEY), "s")
    first, second = welcomer.frames(b""), welcomer.frames(b"")
    assert deserialize(first)[1]["msg_id"] != deserialize(second)[1]["msg_id"]


def test_welcome_with_a_non_utf8_topic():
    _, msg = deserialize(Welcomer(wire.Signer(KEY), "s").frames(b"\xff\xfe"))
    assert msg["content"] == {"subscription": "\ufffd\ufffd"}


class IOPub:
    """An XPUB socket bound as the kernel binds it, and a way to add subscribers."""

    def __init__(self) -> None:
        self.context = zmq.Context()
        self.address = f"inproc://iopub-{uuid.uuid4().hex}"
        self.xpub = self.context.socket(zmq.XPUB)
        self.xpub.xpub_verbose = 1
        self.xpub.sndhwm = 0
        self.xpub.bind(self.address)
        self.subscribers: list[zmq.Socket] = []

    def subscriber(self, topic: bytes = b"") -> zmq.Socket:
        sub = self.context.socket(zmq.SUB)
        sub.rcvhwm = 0
        sub.connect(self.address)
        sub.subscribe(topic)
        self.subscribers.append(sub)
        return sub

    def close(self) -> None:
        for s in [*self.subscribers, self.xpub]:
            s.close(linger=0)
        self.context.term()


@pytest.fixture
def iopub() -> Iterator[IOPub]:
    io = IOPub()
    yield io
    io.close()


def next_message(sub: zmq.Socket) -> tuple[list[bytes], dict]:
    assert sub.poll(5000), "nothing arrived"
    return deserialize(sub.recv_multipart())


def test_a_new_subscriber_is_welcomed_without_any_send(iopub):
    locked = LockedSocket(iopub.xpub, Welcomer(wire.Signer(KEY), "sid"))
    try:
        sub = iopub.subscriber(b"")
        _, msg = next_message(sub)
        assert msg["msg_type"] == "iopub_welcome"
        assert msg["content"] == {"subscription": ""}
    finally:
        locked.close()


def test_every_subscription_is_welcomed_on_its_topic(iopub):
    locked = LockedSocket(iopub.xpub, Welcomer(wire.Signer(KEY), "sid"))
    try:
        everything = iopub.subscriber(b"")
        assert next_message(everything)[1]["content"] == {"subscription": ""}
        status_only = iopub.subscriber(b"kernel.sid.status")
        idents, msg = next_message(status_only)
        assert idents == [b"kernel.sid.status"]
        assert msg["content"] == {"subscription": "kernel.sid.status"}
        # The subscriber to everything sees that welcome too (same topic prefix).
        assert next_message(everything)[1]["content"] == {"subscription": "kernel.sid.status"}
    finally:
        locked.close()


def test_without_a_welcomer_nothing_is_sent_to_subscribers(iopub):
    locked = LockedSocket(iopub.xpub)
    sub = iopub.subscriber(b"")
    assert iopub.xpub.poll(5000)  # the subscription reached the socket
    locked.send_multipart([b"topic", b"payload"])
    assert sub.poll(5000)
    assert sub.recv_multipart() == [b"topic", b"payload"]
    assert not sub.poll(100)


def test_after_close_new_subscribers_are_not_welcomed(iopub):
    locked = LockedSocket(iopub.xpub, Welcomer(wire.Signer(KEY), "sid"))
    locked.close()
    sub = iopub.subscriber(b"")
    assert iopub.xpub.poll(5000)  # the subscription is there, unanswered
    locked.send_multipart([b"after", b"close"])
    assert sub.poll(5000)
    assert sub.recv_multipart() == [b"after", b"close"]  # no welcome before it


def test_sends_from_many_threads_never_interleave(iopub):
    locked = LockedSocket(iopub.xpub, Welcomer(wire.Signer(KEY), "sid"))
    try:
        sub = iopub.subscriber(b"t")
        assert next_message(sub)[1]["msg_type"] == "iopub_welcome"

        def send(n: int) -> None:
            for i in range(100):
                locked.send_multipart([b"t%d" % n, b"%d" % i, b"x" * (i * 10), b"end"])

        threads = [threading.Thread(target=send, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
        seen: dict[bytes, list[int]] = {}
        for _ in range(400):
            assert sub.poll(5000)
            topic, number, padding, end = sub.recv_multipart()
            assert end == b"end"
            assert len(padding) == int(number) * 10
            seen.setdefault(topic, []).append(int(number))
        assert seen == {b"t%d" % n: list(range(100)) for n in range(4)}
    finally:
        locked.close()


def test_tracked_send_returns_a_tracker(iopub):
    locked = LockedSocket(iopub.xpub)
    sub = iopub.subscriber(b"")
    assert iopub.xpub.poll(5000)
    tracker = locked.send_multipart([b"topic", b"x" * 100_000], copy=False, track=True)
    assert isinstance(tracker, zmq.MessageTracker)
    assert sub.poll(5000)
    assert sub.recv_multipart() == [b"topic", b"x" * 100_000]
    tracker.wait(5)
    assert tracker.done
