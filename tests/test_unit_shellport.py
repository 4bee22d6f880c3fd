"""Unit tests (no kernel process) of ``pyo3_kernel.shellport.ShellPort`` and
``pyo3_kernel.replies`` (the relay of replies made on threads that do not own the
socket they go out on).

Without subshells the main thread reads and answers the shell socket itself; with
subshells the control thread owns it (``routed``), routes requests into the port's
``inbox`` with a wake-up byte, and replies reach it through the relay. Both modes
are driven here on real in-process ZeroMQ sockets; ``parse`` is the small callable
the port is built with (the kernel's checks the signature and decodes the message).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import zmq
from pyo3_kernel import replies
from pyo3_kernel.replies import Relay, RelayedSocket
from pyo3_kernel.shellport import ShellPort


class Sockets:
    """The shell socket with a client, the main thread's wake socket with its sender,
    and the control thread's end of the relay."""

    def __init__(self) -> None:
        self.context = zmq.Context()
        address = f"inproc://shell-{uuid.uuid4().hex}"
        self.shell = self.context.socket(zmq.ROUTER)
        self.shell.bind(address)
        self.client = self.context.socket(zmq.DEALER)
        self.client.connect(address)
        wake_address = f"inproc://wake-{uuid.uuid4().hex}"
        self.wake = self.context.socket(zmq.PAIR)
        self.wake.bind(wake_address)
        self.wake_sender = self.context.socket(zmq.PAIR)
        self.wake_sender.connect(wake_address)
        self.relayed = self.context.socket(zmq.PULL)
        self.relayed.bind(replies.ADDRESS)
        self.relay = Relay(self.context)

    def close(self) -> None:
        self.relay.release()
        for s in (self.shell, self.client, self.wake, self.wake_sender, self.relayed):
            s.close(linger=0)
        self.context.term()


def parse(parts: list[Any]) -> tuple[list[bytes], dict] | None:
    """Identities and 'message' of a request; None for an invalid one (dropped)."""
    identity, *frames = parts
    if frames[:1] == [b"invalid"]:
        return None
    return [identity], {"frames": frames}


@pytest.fixture
def sockets() -> Iterator[Sockets]:
    s = Sockets()
    yield s
    s.close()


@pytest.fixture
def port(sockets: Sockets) -> ShellPort:
    return ShellPort(sockets.shell, sockets.relay, parse, sockets.wake)


def wait_readable(port: ShellPort, timeout: float = 5.0) -> None:
    """Wait (bounded) for the port to say a request is there."""
    poller = zmq.Poller()
    poller.register(port.socket, zmq.POLLIN)
    poller.register(port.wake, zmq.POLLIN)
    assert poller.poll(timeout * 1000), "nothing arrived"


def take_within(port: ShellPort, timeout: float = 5.0) -> tuple[list[bytes], dict]:
    """The next request, waiting (bounded) for it to arrive."""
    deadline = time.monotonic() + timeout
    while (received := port.take()) is None:
        remaining = deadline - time.monotonic()
        assert remaining > 0, "no request arrived"
        port.poll(min(remaining, 0.5))
    return received


# --- direct mode: the main thread owns the socket -------------------------------------


def test_take_without_a_request_returns_none(port):
    assert port.take() is None
    assert not port.ready()


def test_take_reads_and_parses_a_request(sockets, port):
    sockets.client.send_multipart([b"execute", b"body"])
    assert port.poll(5)
    assert port.ready()
    idents, msg = port.take()
    assert msg == {"frames": [b"execute", b"body"]}
    assert len(idents) == 1  # the client's routing identity
    assert port.take() is None
    assert not port.ready()


def test_invalid_requests_are_skipped(sockets, port):
    sockets.client.send_multipart([b"invalid"])
    sockets.client.send_multipart([b"valid"])
    _, msg = take_within(port)
    assert msg == {"frames": [b"valid"]}
    assert port.take() is None


def test_requests_are_taken_in_order(sockets, port):
    for n in range(5):
        sockets.client.send_multipart([b"req", str(n).encode()])
    got = [take_within(port)[1]["frames"][1] for _ in range(5)]
    assert got == [b"0", b"1", b"2", b"3", b"4"]


def test_poll_times_out_without_a_request(port):
    assert port.poll(0.05) is False


def test_replies_go_out_on_the_socket(sockets, port):
    sockets.client.send_multipart([b"req"])
    idents, _ = take_within(port)
    port.send_multipart([*idents, b"reply", b"frames"])
    assert sockets.client.poll(5000)
    assert sockets.client.recv_multipart() == [b"reply", b"frames"]
    assert not sockets.relayed.poll(0)


def test_watched_is_the_shell_socket_descriptor(sockets, port):
    assert port.watched() == [sockets.shell.getsockopt(zmq.FD)]


def test_inbox_requests_come_first(sockets, port):
    sockets.client.send_multipart([b"from socket"])
    assert port.poll(5)
    port.inbox.append(([b"id"], {"frames": [b"from inbox"]}))
    assert port.take()[1] == {"frames": [b"from inbox"]}
    assert port.take()[1] == {"frames": [b"from socket"]}


# --- routed mode: the control thread owns the socket ----------------------------------


def test_routed_requests_arrive_through_the_inbox(sockets, port):
    port.routed = True
    assert not port.ready()
    port.inbox.append(([b"id"], {"frames": [b"routed"]}))
    sockets.wake_sender.send(b"1")
    assert port.ready()
    assert port.take() == ([b"id"], {"frames": [b"routed"]})
    assert port.take() is None
    assert not port.ready()


def test_routed_port_does_not_read_the_shell_socket(sockets, port):
    port.routed = True
    sockets.client.send_multipart([b"for the control thread"])
    assert sockets.shell.poll(5000)
    assert port.take() is None
    assert not port.ready()
    assert port.poll(0.01) is False  # routed: never waits on the socket
    assert sockets.shell.poll(0)  # still there, for its owner


def test_routed_wake_signals_readiness_and_take_drains_it(sockets, port):
    port.routed = True
    sockets.wake_sender.send(b"1")
    sockets.wake_sender.send(b"1")
    wait_readable(port)
    assert port.ready()  # the wake-up byte is there
    port.inbox.append(([b"id"], {"frames": [b"x"]}))
    assert port.take()[1] == {"frames": [b"x"]}
    assert port.take() is None  # wake-up bytes consumed
    assert not port.ready()


def test_routed_watched_is_the_wake_socket_descriptor(sockets, port):
    port.routed = True
    assert port.watched() == [sockets.wake.getsockopt(zmq.FD)]
    port.routed = False
    assert port.watched() == [sockets.shell.getsockopt(zmq.FD)]


def test_routed_replies_go_through_the_relay(sockets, port):
    port.routed = True
    port.send_multipart([b"ident", b"<IDS|MSG>", b"reply"])
    assert sockets.relayed.poll(5000)
    assert sockets.relayed.recv_multipart() == [replies.SHELL, b"ident", b"<IDS|MSG>", b"reply"]
    assert not sockets.client.poll(0)


def test_routed_replies_from_other_threads_use_their_own_relay_sockets(sockets, port):
    port.routed = True
    errors: list[BaseException] = []

    def reply(n: int) -> None:
        try:
            for i in range(50):
                port.send_multipart([b"thread-%d" % n, b"%d" % i])
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)
        finally:
            sockets.relay.release()

    threads = [threading.Thread(target=reply, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not errors
    received: dict[bytes, list[bytes]] = {}
    for _ in range(150):
        assert sockets.relayed.poll(5000)
        target, sender, n = sockets.relayed.recv_multipart()
        assert target == replies.SHELL
        received.setdefault(sender, []).append(n)
    # Each thread's replies arrive whole and in its order.
    assert received == {b"thread-%d" % n: [b"%d" % i for i in range(50)] for n in range(3)}


# --- the relay itself -----------------------------------------------------------------


def test_relayed_socket_sends_to_its_target(sockets):
    control = RelayedSocket(sockets.relay, replies.CONTROL)
    control.send_multipart([b"a", b"b"])
    assert sockets.relayed.poll(5000)
    assert sockets.relayed.recv_multipart() == [replies.CONTROL, b"a", b"b"]


def test_relay_release_then_send_opens_a_new_socket(sockets):
    sockets.relay.send(replies.STOP_KERNEL, [])
    sockets.relay.release()
    sockets.relay.release()  # twice: nothing to close
    sockets.relay.send(replies.SHELL, [b"again"])
    got = []
    for _ in range(2):
        assert sockets.relayed.poll(5000)
        got.append(sockets.relayed.recv_multipart())
    assert got == [[replies.STOP_KERNEL], [replies.SHELL, b"again"]]
