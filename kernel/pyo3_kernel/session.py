"""The kernel's jupyter_client Session, with a lean send and receive.

IPython's display hook and publisher, comms and our own code all send through
``Session.send``; it is kept as the interface, with the common case (a message built
from a type and content, JSON, no tracking) done by ``wire``'s encoder: ~15 µs per
message instead of ~70, for the five messages of every cell. Received messages are
checked exactly as jupyter_client checks them (signature, replayed signatures), but
their dates stay strings (nothing in the kernel reads them; parsing them was a third
of the decoding) and their parent header is packed once for all the replies to it.
"""

from __future__ import annotations

import json
from typing import Any

import zmq
from jupyter_client.adapter import adapt
from jupyter_client.jsonutil import json_default
from jupyter_client.session import DONE, Session, extract_header
from traitlets import observe

from . import forks, info, wire
from .pubsocket import LockedSocket
from .wire import DELIMITER

Message = dict[str, Any]
_OWN_SOCKETS = (zmq.Socket, LockedSocket)
_json_loads = json.JSONDecoder().decode


def _unpack(frame: bytes) -> Any:
    """A JSON frame, read as jupyter_client's json_unpacker reads it."""
    return _json_loads(frame.decode("utf8", "replace"))


# Set in a child forked from the kernel (multiprocessing in a cell): the kernel's
# sockets are not the child's to use. Cheaper than comparing os.getpid() per send.
_forked_child = False


def _after_fork_in_child() -> None:
    global _forked_child
    _forked_child = True


_PACKER = wire.Packer(default=json_default)
_HEADER_END = b',"version":%s}' % _PACKER.pack(info.PROTOCOL_VERSION)


class KernelSession(Session):
    """``Session`` with the kernel's hot paths (send, deserialize) made lean."""

    def __init__(self, verifier: wire.Verifier | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        forks.after_fork_in_child(_after_fork_in_child)
        # Checks received messages (shared with the bootstrap, which answered the
        # first kernel_info requests: no message is accepted twice).
        self.verifier = verifier or wire.Verifier(wire.Signer(self.key, self.signature_scheme))
        # (parent header, its items when packed, its JSON): the replies and outputs of
        # one request share it. The items tell whether a caller changed it since.
        self._packed_parent: tuple[Any, tuple[Any, ...], bytes] = (None, (), b"{}")
        # (header, its items, its JSON) of the last header made here, from a template.
        self._packed_header: tuple[Any, tuple[Any, ...], bytes] = (None, (), b"{}")
        self._identity_changed()

    @observe("username", "session")
    def _identity_changed(self, change: Any = None) -> None:
        self._username, self._session_id = self.username, self.session
        self._ids = wire.MessageIds(self._session_id)
        quote = _PACKER.pack
        self._header_identity = b',"username":%s,"session":%s,"date":' % (
            quote(self._username),
            quote(self._session_id),
        )

    # --- sending ---------------------------------------------------------------------
    def msg_header(self, msg_type: str) -> dict[str, Any]:
        msg_id, date = self._ids.next(), wire.now_iso()
        header = {
            "msg_id": msg_id,
            "msg_type": msg_type,
            "username": self._username,
            "session": self._session_id,
            "date": date,
            "version": info.PROTOCOL_VERSION,
        }
        quote = _PACKER.pack
        packed = b"".join(
            (
                b'{"msg_id":',
                quote(msg_id),
                b',"msg_type":',
                quote(msg_type),
                self._header_identity,
                quote(date),
                _HEADER_END,
            )
        )
        self._packed_header = (header, tuple(header.items()), packed)
        return header

    def pack_frame(self, obj: Any) -> bytes:
        """One JSON frame; objects plain JSON cannot hold go through jupyter_client's
        own packer (which cleans them, with its deprecation warning)."""
        try:
            return _PACKER.pack(obj)
        except (TypeError, ValueError):
            packed: bytes = self.pack(obj)  # (a Callable trait: untyped)
            return packed

    def _pack_parent(self, parent_header: Any) -> bytes:
        packed_for, packed_items, packed = self._packed_parent
        items = tuple(parent_header.items()) if isinstance(parent_header, dict) else ()
        if parent_header is not packed_for or items != packed_items:
            packed = self.pack_frame(parent_header)
            self._packed_parent = (parent_header, items, packed)
        return packed

    def serialize(self, msg: Message, ident: list[bytes] | bytes | None = None) -> list[bytes]:
        content = msg.get("content", {})
        if not isinstance(content, dict):
            return super().serialize(msg, ident)  # packed already, or None
        header, metadata = msg["header"], msg["metadata"]
        packed_for, items, packed_header = self._packed_header
        if header is not packed_for or tuple(header.items()) != items:
            packed_header = self.pack_frame(header)  # not made here, or changed since
        frames = [
            packed_header,
            self._pack_parent(msg["parent_header"]),
            self.pack_frame(metadata) if metadata else b"{}",
            self.pack_frame(content),
        ]
        if ident is None:
            ident = []
        elif not isinstance(ident, list):
            ident = [ident]
        return [*ident, DELIMITER, self.sign(frames), *frames]

    def send(
        self,
        stream: Any,
        msg_or_type: Message | str,
        content: dict[str, Any] | None = None,
        parent: Message | None = None,
        ident: bytes | list[bytes] | None = None,
        buffers: list[Any] | None = None,
        track: bool = False,
        header: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Message | None:
        if track or not isinstance(stream, _OWN_SOCKETS) or _forked_child:
            # (In a forked child, Session refuses to send, with a warning.)
            return super().send(
                stream, msg_or_type, content, parent, ident, buffers, track, header, metadata
            )
        if isinstance(msg_or_type, str):
            msg = self.msg(msg_or_type, content, parent, header, metadata)
        else:
            msg = msg_or_type
            buffers = buffers or msg.get("buffers", [])
        parts = self.serialize(msg, ident)
        if buffers:
            for buffer in buffers:
                view = buffer if isinstance(buffer, memoryview) else memoryview(buffer)
                if not view.contiguous:
                    raise ValueError("buffers sent in a message must be contiguous")
            parts.extend(buffers)
        copy = max(map(len, parts)) < wire.COPY_THRESHOLD
        if isinstance(stream, LockedSocket):
            if stream.observer is not None:
                stream.observer(msg)
            stream.send_multipart(parts, copy=copy)
        else:
            wire.send_multipart(stream, parts, copy=copy)
        msg["tracker"] = DONE
        return msg

    def msg(
        self,
        msg_type: str,
        content: dict[str, Any] | None = None,
        parent: Message | None = None,
        header: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Message:
        header = self.msg_header(msg_type) if header is None else header
        merged = dict(self.metadata)
        if metadata:
            merged.update(metadata)
        return {
            "header": header,
            "msg_id": header["msg_id"],
            "msg_type": header["msg_type"],
            "parent_header": {} if parent is None else extract_header(parent),
            "content": {} if content is None else content,
            "metadata": merged,
        }

    # --- receiving -------------------------------------------------------------------
    def deserialize(self, msg_list: list[Any], content: bool = True, copy: bool = True) -> Message:
        if not (content and copy):
            return super().deserialize(msg_list, content=content, copy=copy)
        if len(msg_list) < 5:
            raise TypeError("malformed message, must have at least 5 elements")
        self.verifier.check(msg_list[0], msg_list[1:5])
        unpack = _unpack
        header = unpack(msg_list[1])
        message = {
            "header": header,
            "msg_id": header["msg_id"],
            "msg_type": header["msg_type"],
            "parent_header": unpack(msg_list[2]),
            "metadata": unpack(msg_list[3]),
            "content": unpack(msg_list[4]),
            "buffers": [memoryview(b) for b in msg_list[5:]],
        }
        version = header.get("version")
        if not (isinstance(version, str) and version.startswith("5")) or "date" not in header:
            message = adapt(message)  # an older protocol version: converted as Session does
        return message
