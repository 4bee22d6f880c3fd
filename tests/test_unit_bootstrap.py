"""Unit tests (no kernel process) of ``pyo3_kernel.bootstrap``: the early answers to
``kernel_info_request`` while the kernel is still importing.

These replies are built with wire.py alone (no jupyter_client), so they are checked
with jupyter_client's ``Session``: the reply and its busy/idle statuses deserialize,
answer the request, and carry the kernel's info. Only valid kernel_info requests are
answered; anything else is held for the kernel (and stays acceptable to it), and
tampered, malformed or replayed messages are dropped. Real in-process sockets.
"""

from __future__ import annotations

import signal
import threading
import uuid
from collections.abc import Iterator

import pytest
import zmq
from jupyter_client.session import Session
from pyo3_kernel import bootstrap, info, pubsocket, wire
from pyo3_kernel.pubsocket import LockedSocket
from pyo3_kernel.session import KernelSession

KEY = b"bootstrap-test-key"
SESSION_ID = "kernel-sid"


class Setup:
    """Kernel-side sockets as the kernel binds them, clients, and EarlyReplies."""

    def __init__(self) -> None:
        self.context = zmq.Context()
        tag = uuid.uuid4().hex
        kinds = {"shell": zmq.ROUTER, "control": zmq.ROUTER, "iopub": zmq.XPUB}
        self.sockets = {}
        for name, kind in kinds.items():
            socket = self.context.socket(kind)
            socket.bind(f"inproc://{name}-{tag}")
            self.sockets[name] = socket
        self.shell_client = self.context.socket(zmq.DEALER)
        self.shell_client.connect(f"inproc://shell-{tag}")
        self.control_client = self.context.socket(zmq.DEALER)
        self.control_client.connect(f"inproc://control-{tag}")
        self.iopub_client = self.context.socket(zmq.SUB)
        self.iopub_client.connect(f"inproc://iopub-{tag}")
        self.iopub_client.subscribe(b"")
        assert self.sockets["iopub"].poll(5000)  # the subscription has arrived
        self.sockets["iopub"].recv()
        self.signer = wire.Signer(KEY)
        self.verifier = wire.Verifier(self.signer)
        self.early = bootstrap.EarlyReplies(
            self.verifier,
            self.signer,
            SESSION_ID,
            self.sockets,
            LockedSocket(self.sockets["iopub"]),
        )
        self.client = Session(key=KEY, session="client-sid")

    def request(self, socket: zmq.Socket, msg_type: str, content: dict | None = None) -> dict:
        return self.client.send(socket, msg_type, content or {})

    def reply(self, socket: zmq.Socket) -> dict:
        assert socket.poll(5000), "no reply"
        _, msg_list = self.client.feed_identities(socket.recv_multipart())
        return self.client.deserialize(msg_list)

    def published(self) -> tuple[bytes, dict]:
        assert self.iopub_client.poll(5000), "nothing published"
        idents, msg_list = self.client.feed_identities(self.iopub_client.recv_multipart())
        return idents[0], self.client.deserialize(msg_list)

    def wait_request(self, name: str) -> zmq.Socket:
        socket = self.sockets[name]
        assert socket.poll(5000), "the request did not arrive"
        return socket

    def close(self) -> None:
        for s in [*self.sockets.values(), self.shell_client, self.control_client]:
            s.close(linger=0)
        self.iopub_client.close(linger=0)
        self.context.term()


@pytest.fixture
def setup() -> Iterator[Setup]:
    s = Setup()
    yield s
    s.close()


def test_kernel_info_is_answered_with_statuses_around_it(setup):
    request = setup.request(setup.shell_client, "kernel_info_request")
    assert setup.early.answer(setup.wait_request("shell")) is True
    reply = setup.reply(setup.shell_client)
    assert reply["msg_type"] == "kernel_info_reply"
    assert reply["parent_header"]["msg_id"] == request["msg_id"]
    assert reply["content"] == info.kernel_info()
    assert reply["header"]["session"] == SESSION_ID
    assert reply["header"]["version"] == info.PROTOCOL_VERSION
    statuses = [setup.published(), setup.published()]
    for topic, msg in statuses:
        assert topic == pubsocket.topic(SESSION_ID, "status")
        assert msg["msg_type"] == "status"
        assert msg["parent_header"]["msg_id"] == request["msg_id"]
    assert [m["content"]["execution_state"] for _, m in statuses] == ["busy", "idle"]
    assert not setup.early.held


def test_kernel_info_on_control_is_answered_on_control(setup):
    request = setup.request(setup.control_client, "kernel_info_request")
    assert setup.early.answer(setup.wait_request("control")) is True
    reply = setup.reply(setup.control_client)
    assert reply["parent_header"]["msg_id"] == request["msg_id"]
    assert not setup.shell_client.poll(0)


def test_other_requests_are_held_and_stay_acceptable_to_the_kernel(setup):
    request = setup.request(setup.shell_client, "execute_request", {"code": "1"})
    shell = setup.wait_request("shell")
    assert setup.early.answer(shell) is False
    assert len(setup.early.held) == 1
    socket, parts = setup.early.held[0]
    assert socket is shell
    assert not setup.shell_client.poll(50)  # not answered here
    # The kernel's session (sharing the verifier) accepts it once, later.
    session = KernelSession(key=KEY, verifier=setup.verifier)
    _, msg_list = session.feed_identities(parts)
    assert session.deserialize(list(msg_list))["msg_id"] == request["msg_id"]
    with pytest.raises(ValueError, match="Duplicate Signature"):
        session.deserialize(list(msg_list))


def client_frames(setup: Setup, msg_type: str) -> list[bytes]:
    """Frames of a signed client message, as a client puts them on the wire."""
    msg = setup.client.msg(msg_type, {})
    return setup.client.serialize(msg)


def test_replayed_and_tampered_messages_are_dropped(setup):
    frames = client_frames(setup, "kernel_info_request")
    setup.shell_client.send_multipart(frames)
    assert setup.early.answer(setup.wait_request("shell")) is True
    assert setup.reply(setup.shell_client)["msg_type"] == "kernel_info_reply"
    for _ in range(2):  # busy, idle
        assert setup.published()[1]["msg_type"] == "status"
    # The same frames again: a replay, dropped without a reply or a status.
    setup.shell_client.send_multipart(frames)
    assert setup.early.answer(setup.wait_request("shell")) is True
    # Tampered content: dropped too.
    tampered = client_frames(setup, "kernel_info_request")
    tampered[-1] = b'{"x":1}'
    setup.shell_client.send_multipart(tampered)
    assert setup.early.answer(setup.wait_request("shell")) is True
    assert not setup.shell_client.poll(100)
    assert not setup.iopub_client.poll(0)
    assert not setup.early.held


@pytest.mark.parametrize(
    "frames",
    [
        [b"no delimiter at all"],
        [wire.DELIMITER],
        [wire.DELIMITER, b"signature-only"],
    ],
    ids=["no-delimiter", "delimiter-only", "signature-only"],
)
def test_malformed_messages_are_dropped(setup, frames):
    setup.shell_client.send_multipart(frames)
    assert setup.early.answer(setup.wait_request("shell")) is True
    assert not setup.early.held
    assert not setup.shell_client.poll(50)


@pytest.mark.parametrize("header", [b"[1, 2]", b"not json", b"[" * 100_000])
def test_signed_messages_with_a_bad_header_are_dropped(setup, header):
    body = [header, b"{}", b"{}", b"{}"]
    setup.shell_client.send_multipart([wire.DELIMITER, setup.signer.sign(body), *body])
    assert setup.early.answer(setup.wait_request("shell")) is True
    assert not setup.early.held
    assert not setup.shell_client.poll(50)


def test_serve_until_answers_kernel_info_and_returns_what_it_held(setup):
    info_request = setup.request(setup.shell_client, "kernel_info_request")
    held_shell = setup.request(setup.shell_client, "execute_request", {"code": "a"})
    held_control = setup.request(setup.control_client, "shutdown_request", {"restart": False})
    held = setup.early.serve_until(threading.Event())
    # Starting first, then the statuses of the kernel_info request.
    topic, starting = setup.published()
    assert topic == pubsocket.topic(SESSION_ID, "status")
    assert starting["content"] == {"execution_state": "starting"}
    assert starting["parent_header"] == {}
    reply = setup.reply(setup.shell_client)
    assert reply["parent_header"]["msg_id"] == info_request["msg_id"]
    # The first other message of each socket is held, for the kernel to handle first.
    assert len(held) == 2
    ids = {}
    for socket, parts in held:
        _, msg_list = setup.client.feed_identities(parts)
        ids[socket] = setup.client.deserialize(msg_list)["msg_id"]
    assert ids == {
        setup.sockets["shell"]: held_shell["msg_id"],
        setup.sockets["control"]: held_control["msg_id"],
    }


def test_serve_until_returns_when_done(setup):
    done = threading.Event()
    done.set()
    assert setup.early.serve_until(done) == []
    _, starting = setup.published()
    assert starting["content"] == {"execution_state": "starting"}


def test_import_in_background_runs_the_work_on_a_thread_without_sigint():
    seen: dict[str, object] = {}

    def work() -> None:
        seen["thread"] = threading.current_thread().name
        seen["sigint_blocked"] = signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, [])

    done = bootstrap.import_in_background(work)
    assert done.wait(5)
    assert seen == {"thread": "warm-imports", "sigint_blocked": True}
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, [])
