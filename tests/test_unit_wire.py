"""Unit tests (no kernel process) of ``pyo3_kernel.wire``, the lean wire format.

The kernel signs, packs and checks every message with these helpers instead of
jupyter_client's ``Session``, so each one is checked against ``Session`` itself: the
same key and scheme give the same HMAC, frames built here deserialize with
``Session.deserialize`` and frames ``Session.serialize`` makes pass the ``Verifier``,
which rejects what ``Session`` rejects (unsigned, tampered and replayed messages).
The socket helpers are exercised on real in-process ZeroMQ sockets.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
import zmq
from jupyter_client.jsonutil import json_default
from jupyter_client.session import Session, json_unpacker
from pyo3_kernel import wire

KEY = b"a0436f6c-1916-498b-8eb9-e81ab9368e84"
FRAMES = [b'{"msg_id":"1"}', b"{}", b"{}", '{"text":"h\u00e9llo \u2603"}'.encode()]


@pytest.fixture
def pair():
    """Two connected in-process PAIR sockets."""
    context = zmq.Context()
    a, b = context.socket(zmq.PAIR), context.socket(zmq.PAIR)
    address = f"inproc://wire-{uuid.uuid4().hex}"
    a.bind(address)
    b.connect(address)
    yield a, b
    a.close(linger=0)
    b.close(linger=0)
    context.term()


def frames_of(session: Session, msg_type: str, content: dict) -> list[bytes]:
    """[signature, header, parent, metadata, content] as ``session`` serializes them."""
    parts = session.serialize(session.msg(msg_type, content))
    return parts[parts.index(wire.DELIMITER) + 1 :]


# --- Signer ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "scheme", ["hmac-sha256", "hmac-sha512", "hmac-sha1", "hmac-md5", "hmac-sha3_256"]
)
def test_signer_gives_the_same_hmac_as_jupyter_client_session(scheme):
    signer = wire.Signer(KEY, scheme)
    session = Session(key=KEY, signature_scheme=scheme)
    assert signer.signs
    assert signer.sign(FRAMES) == session.sign(FRAMES)
    assert signer.sign([]) == session.sign([])


def test_signer_defaults_to_hmac_sha256():
    assert wire.Signer(KEY).sign(FRAMES) == Session(key=KEY).sign(FRAMES)


def test_signer_signature_depends_on_key_and_every_frame():
    signature = wire.Signer(KEY).sign(FRAMES)
    assert wire.Signer(b"other key").sign(FRAMES) != signature
    for index in range(len(FRAMES)):
        changed = list(FRAMES)
        changed[index] += b" "
        assert wire.Signer(KEY).sign(changed) != signature


def test_signer_is_reusable_and_accepts_memoryviews():
    signer = wire.Signer(KEY)
    first = signer.sign(FRAMES)
    assert signer.sign([memoryview(f) for f in FRAMES]) == first
    assert signer.sign(FRAMES) == first  # the base MAC was not consumed by a sign


def test_signer_without_key_does_not_sign_like_session():
    signer = wire.Signer(b"")
    assert not signer.signs
    assert signer.sign(FRAMES) == b""
    assert Session(key=b"").sign(FRAMES) == b""


# --- Verifier -------------------------------------------------------------------------


def test_verifier_accepts_a_message_serialized_by_session():
    session = Session(key=KEY)
    signature, *frames = frames_of(session, "execute_request", {"code": "1"})
    wire.Verifier(wire.Signer(KEY)).check(signature, frames)


def test_verifier_rejects_a_replayed_message():
    verifier = wire.Verifier(wire.Signer(KEY))
    signature, *frames = frames_of(Session(key=KEY), "execute_request", {"code": "1"})
    verifier.check(signature, frames)
    with pytest.raises(ValueError, match="Duplicate Signature"):
        verifier.check(signature, frames)


def test_verifier_rejects_tampered_frames_and_signatures():
    verifier = wire.Verifier(wire.Signer(KEY))
    signature, *frames = frames_of(Session(key=KEY), "execute_request", {"code": "1"})
    tampered = [*frames[:3], frames[3].replace(b'"1"', b'"2"')]
    with pytest.raises(ValueError, match="Invalid Signature"):
        verifier.check(signature, tampered)
    forged = (b"0" if signature[:1] != b"0" else b"1") + signature[1:]
    with pytest.raises(ValueError, match="Invalid Signature"):
        verifier.check(forged, frames)
    # A message signed with another key is not accepted either.
    other_frames = frames_of(Session(key=b"another key"), "execute_request", {})
    with pytest.raises(ValueError, match="Invalid Signature"):
        verifier.check(other_frames[0], other_frames[1:])


def test_verifier_does_not_remember_rejected_messages():
    verifier = wire.Verifier(wire.Signer(KEY))
    signature, *frames = frames_of(Session(key=KEY), "execute_request", {"code": "1"})
    with pytest.raises(ValueError, match="Invalid Signature"):
        verifier.check(signature, [*frames[:3], b'{"code":"2"}'])
    verifier.check(signature, frames)  # the genuine message is still new


def test_verifier_rejects_unsigned_messages_when_there_is_a_key():
    verifier = wire.Verifier(wire.Signer(KEY))
    with pytest.raises(ValueError, match="Unsigned Message"):
        verifier.check(b"", FRAMES)


def test_verifier_without_key_accepts_anything():
    verifier = wire.Verifier(wire.Signer(b""))
    verifier.check(b"", FRAMES)
    verifier.check(b"", FRAMES)  # no signature, so no replay check either
    verifier.check(b"garbage", FRAMES)


def test_verifier_check_without_record_allows_a_later_check():
    verifier = wire.Verifier(wire.Signer(KEY))
    signature = wire.Signer(KEY).sign(FRAMES)
    verifier.check(signature, FRAMES, record=False)
    verifier.check(signature, FRAMES, record=False)
    verifier.check(signature, FRAMES)
    with pytest.raises(ValueError, match="Duplicate Signature"):
        verifier.check(signature, FRAMES, record=False)


def test_verifier_signs_only_the_four_frames_it_is_given():
    signer = wire.Signer(KEY)
    signature = signer.sign(FRAMES)
    with pytest.raises(ValueError, match="Invalid Signature"):
        wire.Verifier(signer).check(signature, [*FRAMES, b"buffer"])


def test_verifier_forgets_the_oldest_signatures_beyond_its_history(monkeypatch):
    signer = wire.Signer(KEY)
    verifier = wire.Verifier(signer)
    monkeypatch.setattr(verifier, "HISTORY", 20)
    messages = [[b"{}", b"{}", b"{}", b'{"n":%d}' % n] for n in range(21)]
    for frames in messages:
        verifier.check(signer.sign(frames), frames)
    # 21 > 20 remembered: the oldest 10% (two) are forgotten, the newest are kept.
    verifier.check(signer.sign(messages[0]), messages[0])
    for frames in messages[-5:]:
        with pytest.raises(ValueError, match="Duplicate Signature"):
            verifier.check(signer.sign(frames), frames)


# --- Packer ---------------------------------------------------------------------------


def test_packer_output_is_what_jupyter_client_unpacks():
    obj = {
        "text": "h\u00e9llo \u2603 \U0001f600",
        "n": [1, 2.5, -3, 10**30],
        "nested": {"a": None, "b": True, "c": {"d": []}},
    }
    packed = wire.Packer().pack(obj)
    assert json_unpacker(packed) == obj
    assert packed == json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def test_packer_writes_compact_utf8_not_ascii_escapes():
    assert wire.Packer().pack({"a": "\u00e9"}) == '{"a":"\u00e9"}'.encode()


def test_packer_refuses_nan_like_jupyter_client():
    with pytest.raises(ValueError):
        wire.Packer().pack({"x": math.nan})
    with pytest.raises(ValueError):
        wire.Packer().pack([math.inf])


def test_packer_without_default_refuses_non_json_objects():
    with pytest.raises(TypeError):
        wire.Packer().pack({"when": datetime(2020, 1, 1)})


def test_packer_default_converts_like_session_packer():
    obj = {
        "when": datetime(2021, 3, 4, 5, 6, 7, 890, tzinfo=timezone.utc),
        "day": date(2021, 3, 4),
        "data": b"\x00\x01",
    }
    packed = wire.Packer(default=json_default).pack(obj)
    assert json_unpacker(packed) == json_unpacker(Session().pack(obj))


# --- now_iso --------------------------------------------------------------------------

ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


def test_now_iso_is_the_current_utc_time_in_protocol_format():
    before = datetime.now(timezone.utc)
    text = wire.now_iso()
    after = datetime.now(timezone.utc)
    assert ISO.fullmatch(text), text
    stamp = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    assert before - timedelta(milliseconds=1) <= stamp <= after + timedelta(milliseconds=1)


def test_now_iso_formats_given_instants_exactly(monkeypatch):
    # The date part is cached per second: crossing seconds (and days) must update it.
    instants = {
        1_700_000_000_123_456_789: "2023-11-14T22:13:20.123456Z",
        1_700_000_000_999_999_999: "2023-11-14T22:13:20.999999Z",
        1_700_000_001_000_000_000: "2023-11-14T22:13:21.000000Z",
        1_700_006_400_000_001_000: "2023-11-15T00:00:00.000001Z",
        1_700_000_000_000_000_000: "2023-11-14T22:13:20.000000Z",
    }
    for ns, expected in instants.items():
        monkeypatch.setattr(time, "time_ns", lambda ns=ns: ns)
        assert wire.now_iso() == expected


def test_now_iso_never_goes_back_within_a_run():
    stamps = [wire.now_iso() for _ in range(2000)]
    assert stamps == sorted(stamps)


# --- MessageIds -----------------------------------------------------------------------


def test_message_ids_are_session_pid_counter():
    import os

    ids = wire.MessageIds("abc")
    assert [ids.next() for _ in range(3)] == [f"abc_{os.getpid()}_{n}" for n in range(3)]
    assert wire.MessageIds("abc").next() == f"abc_{os.getpid()}_0"


def test_message_ids_are_unique_across_threads():
    ids = wire.MessageIds("s")
    results: list[list[str]] = [[] for _ in range(8)]

    def take(out: list[str]) -> None:
        out.extend(ids.next() for _ in range(2000))

    threads = [threading.Thread(target=take, args=(out,)) for out in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    every = [i for out in results for i in out]
    assert len(every) == 16000
    assert len(set(every)) == 16000


# --- sockets --------------------------------------------------------------------------


def test_send_and_recv_multipart_round_trip(pair):
    a, b = pair
    big = b"x" * (wire.COPY_THRESHOLD + 1)
    wire.send_multipart(a, [b"one", memoryview(b"two"), big], copy=False)
    assert b.poll(5000)
    assert wire.recv_multipart(b) == [b"one", b"two", big]


def test_single_frame_message(pair):
    a, b = pair
    wire.send_multipart(a, [b"only"])
    assert b.poll(5000)
    assert wire.recv_multipart(b) == [b"only"]


def test_messages_stay_separate(pair):
    a, b = pair
    wire.send_multipart(a, [b"1", b"2"])
    wire.send_multipart(a, [b"3"])
    assert b.poll(5000)
    assert wire.recv_multipart(b) == [b"1", b"2"]
    assert wire.recv_multipart(b) == [b"3"]


def test_recv_multipart_without_a_message_raises_again(pair):
    _, b = pair
    with pytest.raises(zmq.Again):
        wire.recv_multipart(b, zmq.NOBLOCK)


def test_readable_follows_the_queue(pair):
    a, b = pair
    assert not wire.readable(b)
    wire.send_multipart(a, [b"x", b"y"])
    assert b.poll(5000)
    assert wire.readable(b)
    wire.recv_multipart(b)
    assert not wire.readable(b)


# --- whole messages, against jupyter_client -------------------------------------------


def wire_message(signer: wire.Signer, header: dict, content: dict) -> list[bytes]:
    """A message built with wire's helpers only, as the bootstrap builds them."""
    pack = wire.Packer().pack
    frames = [pack(header), pack({}), b"{}", pack(content)]
    return [b"client-id", wire.DELIMITER, signer.sign(frames), *frames]


def test_message_built_with_wire_deserializes_with_session(pair):
    a, b = pair
    header = {
        "msg_id": wire.MessageIds("sess").next(),
        "msg_type": "stream",
        "username": "kernel",
        "session": "sess",
        "date": wire.now_iso(),
        "version": "5.3",
    }
    content = {"name": "stdout", "text": "h\u00e9llo \u2603\n"}
    wire.send_multipart(a, wire_message(wire.Signer(KEY), header, content))
    assert b.poll(5000)
    session = Session(key=KEY)
    idents, msg_list = session.feed_identities(wire.recv_multipart(b))
    msg = session.deserialize(msg_list)
    assert idents == [b"client-id"]
    assert msg["content"] == content
    assert msg["msg_type"] == "stream"
    assert msg["header"]["msg_id"] == header["msg_id"]
    assert msg["header"]["date"].tzinfo is not None  # Session parsed our date


def test_session_rejects_a_wire_message_signed_with_another_key():
    parts = wire_message(wire.Signer(b"wrong"), {"msg_id": "1", "msg_type": "x"}, {})
    session = Session(key=KEY)
    _, msg_list = session.feed_identities(parts)
    with pytest.raises(ValueError, match="Invalid Signature"):
        session.deserialize(msg_list)


def test_session_message_sent_through_wire_passes_the_verifier(pair):
    a, b = pair
    session = Session(key=KEY)
    session.send(a, "execute_request", {"code": "print('\u00e9')"}, ident=b"client")
    assert b.poll(5000)
    parts = wire.recv_multipart(b)
    split = parts.index(wire.DELIMITER)
    assert parts[:split] == [b"client"]
    verifier = wire.Verifier(wire.Signer(KEY, session.signature_scheme))
    verifier.check(parts[split + 1], parts[split + 2 : split + 6])
    assert json_unpacker(parts[split + 5]) == {"code": "print('\u00e9')"}
