"""The Jupyter wire format, lean: signing, JSON frames and multipart sends.

Standard library and ZeroMQ only, so the bootstrap (which answers ``kernel_info``
before jupyter_client is imported) and the kernel's session share one encoder.
Why not just ``Session.send``: it spends ~70 µs per message on trait lookups, a new
JSON encoder per frame and pyzmq's per-frame Python wrappers, and a cell sends five
messages; these helpers do the same work in ~15 µs.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import os
import time
from collections.abc import Callable, Sequence
from typing import Any, cast

import zmq

from .compat import get_option as _get_option
from .compat import recv_frame as _recv_frame
from .compat import send_frame as _send_frame

DELIMITER = b"<IDS|MSG>"
# Frames shorter than this are copied into ZeroMQ; longer ones are sent without a
# copy (jupyter_client's Session.copy_threshold).
COPY_THRESHOLD = 2**16
_SNDMORE = int(zmq.SNDMORE)
_RCVMORE = int(zmq.RCVMORE)
_EVENTS = int(zmq.EVENTS)
_POLLIN = int(zmq.POLLIN)


class Signer:
    """The HMAC signature of the Jupyter wire protocol (empty without a key)."""

    def __init__(self, key: bytes, scheme: str = "hmac-sha256") -> None:
        digest = scheme.split("-", 1)[-1] if scheme.startswith("hmac-") else "sha256"
        self._mac = hmac.new(key, digestmod=getattr(hashlib, digest)) if key else None

    @property
    def signs(self) -> bool:
        """Whether there is a key (without one, messages are not signed)."""
        return self._mac is not None

    def sign(self, parts: Sequence[bytes]) -> bytes:
        if self._mac is None:
            return b""
        mac = self._mac.copy()
        for part in parts:
            mac.update(part)
        return mac.hexdigest().encode()


class Verifier:
    """Checks received messages as jupyter_client's Session does: a valid signature,
    never seen before (a replayed message is dropped). One per kernel, shared by the
    bootstrap and the session, so a message answered early cannot be replayed later."""

    HISTORY = 2**16  # signatures remembered (Session.digest_history_size)

    def __init__(self, signer: Signer) -> None:
        self._signer = signer
        self._seen: dict[bytes, None] = {}  # insertion-ordered: oldest first

    def check(self, signature: bytes, frames: Sequence[bytes], record: bool = True) -> None:
        """Raise ValueError unless ``signature`` signs the four ``frames`` and is new;
        remember it (unless ``record`` is False: the message is read again later)."""
        if not self._signer.signs:
            return  # no key: messages are not signed
        if not signature:
            raise ValueError("Unsigned Message")
        if signature in self._seen:
            raise ValueError(f"Duplicate Signature: {signature!r}")
        if not hmac.compare_digest(signature, self._signer.sign(frames)):
            raise ValueError(f"Invalid Signature: {signature!r}")
        if record:
            self._seen[signature] = None
            if len(self._seen) > self.HISTORY:
                for old in list(self._seen)[: self.HISTORY // 10]:
                    del self._seen[old]


_json_pack: Callable[[Any, Callable[[Any], Any] | None], bytes] | None
try:  # built into the host; absent where this module is imported by plain Python
    from rust_bridge import json_pack as _json_pack
except ImportError:
    _json_pack = None


class Packer:
    """JSON frames as jupyter_client packs them (UTF-8, no NaN), with one reusable
    encoder. ``default`` converts what JSON cannot hold (dates, bytes, ...).

    In the kernel the engine's ``json_pack`` writes the same bytes, a 10 MB output in
    ~1/6 of the time (it copies long strings instead of escaping them character by
    character); what it refuses (a lone surrogate, which ``surrogateescape`` encodes;
    an error to report) goes through the standard library's encoder, which calls
    ``default`` again for what it converts (the kernel's messages hold no iterators
    that a second call would find spent)."""

    def __init__(self, default: Callable[[Any], Any] | None = None) -> None:
        self._default = default
        self._encode = json.JSONEncoder(
            ensure_ascii=False, allow_nan=False, default=default, separators=(",", ":")
        ).encode

    def pack(self, obj: Any) -> bytes:
        if _json_pack is not None:
            try:
                return _json_pack(obj, self._default)
            except Exception:
                pass  # the standard library's encoder encodes it or raises its error
        return self._encode(obj).encode("utf8", errors="surrogateescape")


_second_text: tuple[int, str] = (-1, "")


def now_iso() -> str:
    """The current UTC time as the protocol writes it (``2026-11-30T13:50:38.538022Z``).
    Formatted by hand, the date part once per second: ``datetime.isoformat`` was a
    noticeable part of sending a message."""
    global _second_text
    seconds, nanoseconds = divmod(time.time_ns(), 1_000_000_000)
    cached_second, text = _second_text
    if seconds != cached_second:
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
        _second_text = (seconds, text)
    return f"{text}.{nanoseconds // 1000:06d}Z"


class MessageIds:
    """Message ids unique per process and session, as jupyter_client makes them
    (``<session>_<pid>_<n>``); ``itertools.count`` is safe across threads."""

    def __init__(self, session_id: str) -> None:
        self._prefix = f"{session_id}_{os.getpid()}_"
        self._count = itertools.count()

    def next(self) -> str:
        return f"{self._prefix}{next(self._count)}"


def send_multipart(socket: zmq.SyncSocket, parts: Sequence[Any], copy: bool = True) -> None:
    """Send ``parts`` as one multipart message. The caller makes sure no interrupt
    lands between frames (a message cut short would corrupt the next one)."""
    last = len(parts) - 1
    for index, part in enumerate(parts):
        _send_frame(socket, part, _SNDMORE if index < last else 0, copy)


def recv_multipart(socket: zmq.SyncSocket, flags: int = 0) -> list[bytes]:
    """Receive one multipart message as bytes (``zmq.Again`` if none, with NOBLOCK)."""
    parts = [_recv_frame(socket, flags)]
    while _get_option(socket, _RCVMORE):
        parts.append(_recv_frame(socket, flags))
    return parts


def readable(socket: zmq.SyncSocket) -> bool:
    """Whether ``socket`` has a message to read. Reading its events also re-arms its
    descriptor, which ZeroMQ signals only on changes (a send or receive can use the
    signal up): code that waits on the descriptor must call this after using it."""
    # (pyzmq types every option as ``int | bytes``; EVENTS is an int.)
    return bool(cast(int, _get_option(socket, _EVENTS)) & _POLLIN)
