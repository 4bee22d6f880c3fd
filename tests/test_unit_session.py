"""Unit tests (no kernel process) of ``pyo3_kernel.session.KernelSession``.

Every message the kernel sends or receives goes through this ``Session`` subclass,
whose send and deserialize replace jupyter_client's with leaner code (wire.py). The
tests hold it to jupyter_client's ``Session``: what it sends deserializes with a plain
``Session`` to the same message, what a plain ``Session`` sends it reads the same
(its dates stay strings, by design), and it rejects what ``Session`` rejects.
"""

from __future__ import annotations

import os
import re
import uuid
from datetime import datetime, timezone

import pytest
import zmq
from jupyter_client.jsonutil import extract_dates
from jupyter_client.session import Session, json_unpacker
from pyo3_kernel import info, wire
from pyo3_kernel.pubsocket import LockedSocket
from pyo3_kernel.session import KernelSession

KEY = b"5e1b2d3c-unit-test-key"


@pytest.fixture
def pair():
    """Two connected in-process PAIR sockets: (kernel side, client side)."""
    context = zmq.Context()
    a, b = context.socket(zmq.PAIR), context.socket(zmq.PAIR)
    address = f"inproc://session-{uuid.uuid4().hex}"
    a.bind(address)
    b.connect(address)
    yield a, b
    a.close(linger=0)
    b.close(linger=0)
    context.term()


def receive(session: Session, socket: zmq.Socket) -> tuple[list[bytes], dict]:
    assert socket.poll(5000), "no message arrived"
    idents, msg_list = session.feed_identities(socket.recv_multipart())
    return idents, session.deserialize(msg_list)


def comparable(msg: dict) -> dict:
    """``msg`` with its header dates parsed (KernelSession leaves them as text) and
    its buffers as bytes."""
    plain = {k: v for k, v in msg.items() if k != "buffers"}
    plain["header"] = extract_dates(dict(msg["header"]))
    plain["parent_header"] = extract_dates(dict(msg["parent_header"]))
    plain["buffers"] = [bytes(b) for b in msg.get("buffers", [])]
    return plain


def parse_date(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


# --- sending --------------------------------------------------------------------------


def test_sent_message_deserializes_with_plain_session(pair):
    kernel_side, client_side = pair
    session = KernelSession(key=KEY, session="kernel-session", username="kernel")
    parent = {
        "header": {"msg_id": "req-1", "msg_type": "execute_request", "session": "client"},
        "content": {"code": "1"},
    }
    content = {"name": "stdout", "text": "h\u00e9llo \u2603\n"}
    sent = session.send(
        kernel_side, "stream", content, parent=parent, ident=b"topic", metadata={"m": 1}
    )
    idents, msg = receive(Session(key=KEY), client_side)
    assert idents == [b"topic"]
    assert msg["content"] == content
    assert msg["parent_header"] == parent["header"]
    assert msg["metadata"] == {"m": 1}
    assert msg["msg_id"] == sent["msg_id"]
    assert msg["header"]["msg_type"] == "stream"
    assert msg["header"]["session"] == "kernel-session"
    assert msg["header"]["username"] == "kernel"
    assert msg["header"]["version"] == info.PROTOCOL_VERSION
    assert msg["header"]["date"] == parse_date(sent["header"]["date"])


def test_serialize_matches_session_serialize_frame_by_frame():
    kernel = KernelSession(key=KEY, session="s", username="u")
    reference = Session(key=KEY, session="s", username="u")
    msg = kernel.msg(
        "display_data",
        {"data": {"text/plain": "\u00e9"}, "metadata": {}, "transient": {}},
        parent={"header": {"msg_id": "p", "msg_type": "execute_request"}},
        metadata={"k": [1, 2]},
    )
    ours = kernel.serialize(msg, ident=[b"a", b"b"])
    theirs = reference.serialize(msg, ident=[b"a", b"b"])
    split = ours.index(wire.DELIMITER)
    assert split == theirs.index(wire.DELIMITER) == 2
    assert ours[:split] == theirs[:split]
    for mine, reference_frame in zip(ours[split + 2 :], theirs[split + 2 :], strict=True):
        assert json_unpacker(mine) == json_unpacker(reference_frame)
    assert ours[split + 1] == reference.sign(ours[split + 2 :])


def test_message_ids_count_up_from_zero_per_session():
    session = KernelSession(key=KEY, session="sid")
    ids = [session.msg("status", {})["msg_id"] for _ in range(3)]
    assert ids == [f"sid_{os.getpid()}_{n}" for n in range(3)]


def test_header_has_the_fields_of_session_msg_header():
    session = KernelSession(key=KEY, session="sid", username="me")
    header = session.msg_header("kernel_info_reply")
    assert set(header) == set(Session(key=KEY).msg_header("x"))
    assert header["msg_type"] == "kernel_info_reply"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", header["date"])


def test_changing_username_and_session_id_shows_in_later_messages(pair):
    kernel_side, client_side = pair
    session = KernelSession(key=KEY, session="first", username="a")
    session.session = "second"
    session.username = "b"
    session.send(kernel_side, "status", {"execution_state": "idle"})
    _, msg = receive(Session(key=KEY), client_side)
    assert msg["header"]["session"] == "second"
    assert msg["header"]["username"] == "b"
    assert msg["msg_id"].startswith("second_")


def test_session_metadata_is_merged_into_every_message(pair):
    kernel_side, client_side = pair
    session = KernelSession(key=KEY, metadata={"shared": 1})
    session.send(kernel_side, "status", {"execution_state": "idle"}, metadata={"own": 2})
    _, msg = receive(Session(key=KEY), client_side)
    assert msg["metadata"] == {"shared": 1, "own": 2}


def test_content_json_cannot_hold_is_converted_like_session(pair):
    kernel_side, client_side = pair
    when = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=timezone.utc)
    content = {"when": when, "raw": b"\x00\xff"}
    KernelSession(key=KEY).send(kernel_side, "custom", content)
    _, ours = receive(Session(key=KEY), client_side)
    Session(key=KEY).send(kernel_side, "custom", content)
    _, theirs = receive(Session(key=KEY), client_side)
    assert ours["content"] == theirs["content"]


def test_buffers_are_sent_after_the_frames(pair):
    kernel_side, client_side = pair
    big = bytes(range(256)) * 512  # above the copy threshold
    KernelSession(key=KEY).send(
        kernel_side, "comm_msg", {"comm_id": "c"}, buffers=[b"abc", memoryview(big)]
    )
    _, msg = receive(Session(key=KEY), client_side)
    assert [bytes(b) for b in msg["buffers"]] == [b"abc", big]


def test_non_contiguous_buffers_are_refused(pair):
    kernel_side, _ = pair
    strided = memoryview(bytearray(b"abcdef"))[::2]
    with pytest.raises(ValueError, match="contiguous"):
        KernelSession(key=KEY).send(kernel_side, "comm_msg", {}, buffers=[strided])


def test_sending_a_prebuilt_message_dict(pair):
    kernel_side, client_side = pair
    session = KernelSession(key=KEY)
    msg = session.msg("execute_result", {"data": {}, "metadata": {}, "execution_count": 3})
    session.send(kernel_side, msg, ident=[b"x"])
    idents, received = receive(Session(key=KEY), client_side)
    assert idents == [b"x"]
    assert received["msg_id"] == msg["msg_id"]
    assert received["content"]["execution_count"] == 3


def test_locked_socket_observer_sees_each_message_before_it_goes(pair):
    kernel_side, client_side = pair
    locked = LockedSocket(kernel_side)
    seen: list[str] = []
    locked.observer = lambda msg: seen.append(msg["msg_type"])
    KernelSession(key=KEY).send(locked, "stream", {"name": "stdout", "text": "x"})
    _, msg = receive(Session(key=KEY), client_side)
    assert seen == ["stream"]
    assert msg["content"]["text"] == "x"


def test_header_changed_before_sending_is_sent_as_changed(pair):
    kernel_side, client_side = pair
    session = KernelSession(key=KEY)
    msg = session.msg("comm_msg", {"comm_id": "c", "data": {}})
    msg["header"]["subshell_id"] = "sub-1"
    session.send(kernel_side, msg)
    _, received = receive(Session(key=KEY), client_side)
    assert received["header"].get("subshell_id") == "sub-1"


def test_parent_header_changed_between_sends_is_sent_as_changed(pair):
    kernel_side, client_side = pair
    session = KernelSession(key=KEY)
    parent = {"header": {"msg_id": "first", "msg_type": "execute_request"}}
    session.send(kernel_side, "status", {"execution_state": "busy"}, parent=parent)
    parent["header"]["msg_id"] = "second"
    session.send(kernel_side, "status", {"execution_state": "idle"}, parent=parent)
    client = Session(key=KEY)
    assert receive(client, client_side)[1]["parent_header"]["msg_id"] == "first"
    assert receive(client, client_side)[1]["parent_header"]["msg_id"] == "second"


# --- receiving ------------------------------------------------------------------------


def client_frames(client: Session, msg_type: str, content: dict, **kwargs) -> list[bytes]:
    """What a client sends, from the signature on (identities and delimiter removed)."""
    parts = client.serialize(client.msg(msg_type, content, **kwargs))
    return parts[parts.index(wire.DELIMITER) + 1 :]


def test_deserialize_reads_what_session_reads_with_dates_as_text():
    client = Session(key=KEY, session="client")
    parent = {"header": client.msg_header("execute_request")}
    frames = client_frames(client, "comm_msg", {"data": {"x": "\u00e9"}}, parent=parent)
    frames.append(b"buffer")
    ours = KernelSession(key=KEY).deserialize(list(frames))
    theirs = Session(key=KEY).deserialize(list(frames))
    assert isinstance(ours["header"]["date"], str)
    assert comparable(ours) == comparable(theirs)


def test_deserialize_rejects_replayed_messages():
    frames = client_frames(Session(key=KEY), "execute_request", {"code": "1"})
    session = KernelSession(key=KEY)
    session.deserialize(list(frames))
    with pytest.raises(ValueError, match="Duplicate Signature"):
        session.deserialize(list(frames))


def test_a_shared_verifier_rejects_a_replay_across_sessions():
    verifier = wire.Verifier(wire.Signer(KEY))
    frames = client_frames(Session(key=KEY), "kernel_info_request", {})
    KernelSession(key=KEY, verifier=verifier).deserialize(list(frames))
    with pytest.raises(ValueError, match="Duplicate Signature"):
        KernelSession(key=KEY, verifier=verifier).deserialize(list(frames))


def test_deserialize_rejects_tampered_and_unsigned_messages():
    session = KernelSession(key=KEY)
    frames = client_frames(Session(key=KEY), "execute_request", {"code": "1"})
    tampered = [*frames[:4], frames[4].replace(b'"1"', b'"2"')]
    with pytest.raises(ValueError, match="Invalid Signature"):
        session.deserialize(tampered)
    with pytest.raises(ValueError, match="Unsigned Message"):
        session.deserialize([b"", *frames[1:]])
    other = client_frames(Session(key=b"not the key"), "execute_request", {})
    with pytest.raises(ValueError, match="Invalid Signature"):
        session.deserialize(other)


def test_deserialize_refuses_short_messages():
    with pytest.raises(TypeError, match="malformed"):
        KernelSession(key=KEY).deserialize([b"sig", b"{}", b"{}"])


def test_deserialize_without_key_accepts_unsigned_messages():
    frames = client_frames(Session(key=b""), "execute_request", {"code": "1"})
    assert frames[0] == b""
    msg = KernelSession(key=b"").deserialize(frames)
    assert msg["content"] == {"code": "1"}


@pytest.mark.parametrize(
    "header",
    [
        {"msg_id": "a", "msg_type": "complete_request", "session": "s", "username": "u"},
        {"msg_id": "b", "msg_type": "complete_request", "version": "4.1", "date": "x"},
    ],
    ids=["no-version", "version-4"],
)
def test_old_protocol_messages_are_adapted_like_session(header):
    pack = wire.Packer().pack
    content = {"text": "pri", "line": "x = pri", "block": None, "cursor_pos": 7}
    body = [pack(header), b"{}", b"{}", pack(content)]
    frames = [wire.Signer(KEY).sign(body), *body]
    ours = KernelSession(key=KEY).deserialize(list(frames))
    theirs = Session(key=KEY).deserialize(list(frames))
    assert ours["content"] == theirs["content"] == {"code": "x = pri", "cursor_pos": 7}
    assert ours["header"]["version"] == theirs["header"]["version"]


def test_sent_then_received_round_trip_between_two_kernel_sessions(pair):
    kernel_side, client_side = pair
    sender, receiver = KernelSession(key=KEY), KernelSession(key=KEY)
    sender.send(kernel_side, "execute_request", {"code": "x = '\u2603'"}, ident=b"id")
    assert client_side.poll(5000)
    idents, msg_list = receiver.feed_identities(client_side.recv_multipart())
    msg = receiver.deserialize(msg_list)
    assert idents == [b"id"]
    assert msg["content"] == {"code": "x = '\u2603'"}
    assert isinstance(msg["header"]["date"], str)
