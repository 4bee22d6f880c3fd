"""Hardening, fuzzing the wire protocol: malformed traffic on shell and control (raw ZeroMQ,
correctly signed wherever a signature is needed to reach the parser) never kills the kernel
or one of its channels, and valid requests are answered afterwards.

After every malformed message a signed kernel_info_request goes out on the same socket:
each channel serves its socket in order, so its reply proves the malformed message was
read and survived. A case that breaks the kernel fails, and the next case gets a new one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable

import pytest
from hardening_helpers import DELIM, MB, RawChannel, execute_content, settle, start_settled
from jupyter_client.manager import KernelManager
from kernel_helpers import eval_text, stop_kernel

Build = Callable[[RawChannel, str], list[bytes]]


def _json(obj) -> bytes:
    return obj if isinstance(obj, bytes) else json.dumps(obj).encode()


def signed(raw: RawChannel, header, content, parent=b"{}", metadata=b"{}", extra=()) -> list:
    """A message whose (possibly nonsensical) frames carry a valid signature."""
    frames = [_json(header), _json(parent), _json(metadata), _json(content)]
    return [DELIM, raw.sign(frames), *frames, *extra]


def _header(raw: RawChannel, kind: str, /, **changes) -> dict:
    """A valid header of a ``kind`` request, with ``changes`` (``_DROP`` removes a key)."""
    header = raw.header(kind)
    header.update(changes)
    return {k: v for k, v in header.items() if v is not _DROP}


_DROP = object()
_BIG = 20 * MB


def _content_for(base: str, **extra) -> dict:
    return execute_content("1", **extra) if base == "execute_request" else dict(extra)


# Every case builds its frames from the raw channel and the channel's ordinary request
# type (execute_request on shell, kernel_info_request on control).
CASES: dict[str, Build] = {
    # content of the wrong type
    "content_list": lambda r, t: signed(r, _header(r, t), []),
    "content_null": lambda r, t: signed(r, _header(r, t), None),
    "content_string": lambda r, t: signed(r, _header(r, t), "1 + 1"),
    "content_number": lambda r, t: signed(r, _header(r, t), 42),
    # header missing fields, or not an object
    "header_without_msg_type": lambda r, t: signed(r, _header(r, t, msg_type=_DROP), {}),
    "header_without_msg_id": lambda r, t: signed(r, _header(r, t, msg_id=_DROP), {}),
    "header_without_session": lambda r, t: signed(r, _header(r, t, session=_DROP), {}),
    "header_empty": lambda r, t: signed(r, {}, _content_for(t)),
    "header_list": lambda r, t: signed(r, [t], _content_for(t)),
    "header_null": lambda r, t: signed(r, None, _content_for(t)),
    "header_string": lambda r, t: signed(r, t, _content_for(t)),
    # header fields of the wrong type
    "msg_type_list": lambda r, t: signed(r, _header(r, t, msg_type=[t]), _content_for(t)),
    "msg_type_object": lambda r, t: signed(r, _header(r, t, msg_type={t: 1}), _content_for(t)),
    "msg_type_number": lambda r, t: signed(r, _header(r, t, msg_type=7), _content_for(t)),
    "msg_type_null": lambda r, t: signed(r, _header(r, t, msg_type=None), _content_for(t)),
    "msg_id_list": lambda r, t: signed(r, _header(r, t, msg_id=["x"]), _content_for(t)),
    "msg_id_object": lambda r, t: signed(r, _header(r, t, msg_id={"x": 1}), _content_for(t)),
    "session_list": lambda r, t: signed(r, _header(r, t, session=[1]), _content_for(t)),
    "date_garbage": lambda r, t: signed(r, _header(r, t, date="yesterday"), _content_for(t)),
    "date_number": lambda r, t: signed(r, _header(r, t, date=12), _content_for(t)),
    "version_object": lambda r, t: signed(r, _header(r, t, version={}), _content_for(t)),
    # request fields of the wrong type
    "code_int": lambda r, t: signed(r, _header(r, t), execute_content(5)),
    "code_list": lambda r, t: signed(r, _header(r, t), execute_content(["1"])),
    "code_nan": lambda r, t: signed(r, _header(r, t), b'{"code": NaN, "silent": false}'),
    "user_expressions_list": lambda r, t: signed(
        r, _header(r, t), execute_content("1", user_expressions=["1"])
    ),
    "user_expression_not_string": lambda r, t: signed(
        r, _header(r, t), execute_content("1", user_expressions={"a": 1, "b": None})
    ),
    "silent_string": lambda r, t: signed(r, _header(r, t), execute_content("1", silent="no")),
    "store_history_list": lambda r, t: signed(
        r, _header(r, t), execute_content("1", store_history=[])
    ),
    "allow_stdin_object": lambda r, t: signed(
        r, _header(r, t), execute_content("1", allow_stdin={})
    ),
    "stop_on_error_string": lambda r, t: signed(
        r, _header(r, t), execute_content("1", stop_on_error="x")
    ),
    "metadata_list": lambda r, t: signed(r, _header(r, t), _content_for(t), metadata=b"[]"),
    "metadata_string": lambda r, t: signed(r, _header(r, t), _content_for(t), metadata=b'"x"'),
    "parent_list": lambda r, t: signed(r, _header(r, t), _content_for(t), parent=b"[1]"),
    "parent_not_json": lambda r, t: signed(r, _header(r, t), _content_for(t), parent=b"{"),
    # frames that are not JSON, or JSON too deep for the parser
    "header_not_json": lambda r, t: signed(r, b"\xff\xfe{not json", _content_for(t)),
    "header_invalid_utf8": lambda r, t: signed(r, b'{"msg_type": "\xff"}', _content_for(t)),
    "content_not_json": lambda r, t: signed(r, _header(r, t), b"{'code': 1}"),
    "content_deep_json": lambda r, t: signed(r, _header(r, t), b"[" * 100_000 + b"]" * 100_000),
    "header_deep_json": lambda r, t: signed(
        r, b'{"a":' * 100_000 + b"1" + b"}" * 100_000, _content_for(t)
    ),
    # unknown and misdirected message types
    "unknown_msg_type": lambda r, t: signed(r, _header(r, "frobnicate_request"), {}),
    "empty_msg_type": lambda r, t: signed(r, _header(r, ""), {}),
    "reply_as_request": lambda r, t: signed(r, _header(r, "execute_reply"), {"status": "ok"}),
    "stray_input_reply": lambda r, t: signed(r, _header(r, "input_reply"), {"value": 5}),
    "debug_request": lambda r, t: signed(r, _header(r, "debug_request"), {"command": 5}),
    "shutdown_content_list": lambda r, t: signed(r, _header(r, "shutdown_request"), []),
    "shutdown_content_null": lambda r, t: signed(r, _header(r, "shutdown_request"), None),
    "kernel_info_content_list": lambda r, t: signed(r, _header(r, "kernel_info_request"), []),
    "complete_wrong_types": lambda r, t: signed(
        r, _header(r, "complete_request"), {"code": 5, "cursor_pos": "x"}
    ),
    "inspect_wrong_types": lambda r, t: signed(
        r, _header(r, "inspect_request"), {"code": None, "cursor_pos": -5, "detail_level": "x"}
    ),
    "is_complete_wrong_types": lambda r, t: signed(
        r, _header(r, "is_complete_request"), {"code": []}
    ),
    "history_wrong_types": lambda r, t: signed(
        r,
        _header(r, "history_request"),
        {"hist_access_type": "range", "session": "x", "start": "a", "stop": None},
    ),
    "comm_info_wrong_types": lambda r, t: signed(
        r, _header(r, "comm_info_request"), {"target_name": []}
    ),
    "comm_open_wrong_types": lambda r, t: signed(
        r, _header(r, "comm_open"), {"comm_id": [], "target_name": 5, "data": 3}
    ),
    "comm_msg_unknown_comm": lambda r, t: signed(
        r, _header(r, "comm_msg"), {"comm_id": None, "data": []}
    ),
    "comm_close_wrong_types": lambda r, t: signed(r, _header(r, "comm_close"), {"comm_id": {}}),
    # huge frames (20 MB)
    "huge_signed_cell": lambda r, t: signed(
        r, _header(r, t), execute_content("#" + "x" * _BIG) if t == "execute_request" else {}
    ),
    "huge_unsigned_frame": lambda r, t: [DELIM, b"", os.urandom(_BIG)],
    "huge_badly_signed": lambda r, t: [DELIM, b"0" * 64, b"{}", b"{}", b"{}", b"x" * _BIG],
    "huge_extra_buffer": lambda r, t: signed(
        r, _header(r, t), _content_for(t), extra=[b"\0" * _BIG]
    ),
    "many_buffers": lambda r, t: signed(r, _header(r, t), _content_for(t), extra=[b"b"] * 1000),
    # truncated multipart messages
    "only_delimiter": lambda r, t: [DELIM],
    "delimiter_and_signature": lambda r, t: [DELIM, b"sig"],
    "signed_header_only": lambda r, t: signed(r, _header(r, t), _content_for(t))[:3],
    "signed_without_content": lambda r, t: signed(r, _header(r, t), _content_for(t))[:5],
    "three_frames_signed_as_such": lambda r, t: [
        DELIM,
        r.session.sign([_json(_header(r, t)), b"{}", b"{}"]),
        _json(_header(r, t)),
        b"{}",
        b"{}",
    ],
    # garbage
    "garbage_single_frame": lambda r, t: [os.urandom(64)],
    "empty_frame": lambda r, t: [b""],
    "garbage_frames": lambda r, t: [os.urandom(100) for _ in range(7)],
    "delimiters_only": lambda r, t: [DELIM, DELIM, DELIM, DELIM, DELIM, DELIM],
    "binary_signature": lambda r, t: [DELIM, os.urandom(64), b"{}", b"{}", b"{}", b"{}"],
    "identity_lookalikes": lambda r, t: [b"x" * 300, DELIM, b"", b"{}", b"{}", b"{}", b"{}"],
}
BASE_TYPE = {"shell": "execute_request", "control": "kernel_info_request"}


class Target:
    """The kernel under attack; a fresh one replaces it after a case broke it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.km: KernelManager | None = None
        self.kc = None
        self.broken = True
        self.kernels_started = 0

    def ready(self) -> tuple[KernelManager, object]:
        if self.broken:
            self.stop()
            self.km, self.kc = start_settled(self.name)
            self.kernels_started += 1
            self.broken = False
        return self.km, self.kc

    def stop(self) -> None:
        if self.km is not None:
            stop_kernel(self.km, self.kc)
            self.km = self.kc = None


@pytest.fixture(scope="module")
def target(kernelspec_installed):
    target = Target(kernelspec_installed)
    yield target
    target.stop()
    print(f"\nprotocol fuzz: {target.kernels_started} kernel(s) used")


def _survives(target: Target, channel: str, what: str) -> None:
    """Fail with what broke: the process, or one channel of a living process."""
    km, kc = target.ready()
    other = "control" if channel == "shell" else "shell"
    try:
        for ch in (channel, other):
            with RawChannel(km, ch) as raw:
                try:
                    raw.kernel_info(timeout=10, km=km)
                except AssertionError as err:
                    state = "is dead" if not km.is_alive() else f"stopped answering on {ch}"
                    raise AssertionError(f"after {what}, the kernel {state}: {err}") from None
        assert eval_text(kc, "1 + 1", timeout=15) == "2", f"after {what}"
    except AssertionError:
        target.broken = True
        raise


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("channel", ["shell", "control"])
def test_malformed_message_is_survived(target, channel, case):
    km, _ = target.ready()
    with RawChannel(km, channel) as raw:
        raw.send_parts(CASES[case](raw, BASE_TYPE[channel]))
        what = f"{case!r} on {channel}"
        try:  # 20 MB cases take ~2 s; a channel silent for 10 s is taken as dead
            raw.kernel_info(timeout=10, km=km)
        except AssertionError as err:
            target.broken = True
            state = "died" if not km.is_alive() else f"stopped answering on {channel}"
            raise AssertionError(f"after {what}, the kernel {state}: {err}") from None
    _survives(target, channel, what)


def test_a_burst_of_garbage_is_survived(target):
    """A thousand garbage messages back to back on both channels, then valid requests."""
    km, _ = target.ready()
    for channel in ("shell", "control"):
        with RawChannel(km, channel) as raw:
            for i in range(1000):
                raw.send_parts([os.urandom(i % 50)] * (1 + i % 7))
            raw.kernel_info(timeout=30, km=km)
    _survives(target, "shell", "1000 garbage messages per channel")


# Malformed messages that arrive while the kernel is still starting (before it answered
# its first kernel_info): a kernel that parses early messages on a separate path must
# survive them too.
STARTUP_CASES = {
    "header_list": lambda r: signed(r, b"[1]", b"{}"),
    "header_null": lambda r: signed(r, b"null", b"{}"),
    "header_deep_json": lambda r: signed(r, b"[" * 100_000 + b"]" * 100_000, b"{}"),
    "msg_type_list": lambda r: signed(r, _header(r, "kernel_info_request", msg_type=[1]), {}),
    "header_invalid_utf8": lambda r: signed(r, b'{"msg_type": "\xff"}', b"{}"),
    "garbage": lambda r: [DELIM, b"x"],
}


@pytest.mark.parametrize("case", STARTUP_CASES)
@pytest.mark.parametrize("channel", ["shell", "control"])
def test_malformed_message_during_startup_is_survived(kernelspec_installed, channel, case):
    km = KernelManager(kernel_name=kernelspec_installed)
    km.start_kernel()
    kc = None
    try:
        # Queued at once: ZeroMQ delivers it as soon as the kernel has bound its ports.
        with RawChannel(km, channel) as raw:
            raw.send_parts(STARTUP_CASES[case](raw))
            try:  # a kernel answers its first kernel_info in well under a second
                raw.kernel_info(timeout=20, km=km)
            except AssertionError as err:
                state = "died" if not km.is_alive() else f"never answered on {channel}"
                raise AssertionError(f"after {case!r} at startup, the kernel {state}") from err
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=30)
        settle(kc)  # a request lost while starting is the tests below's business
        assert eval_text(kc, "1 + 1", timeout=15) == "2"
    finally:
        if kc is not None:
            kc.stop_channels()
        km.shutdown_kernel(now=True)


# Valid requests sent the moment the kernel process starts, before any kernel_info.
EARLY = {
    "shell-execute_request": ("shell", "execute_request", execute_content("early = 6 * 7")),
    "shell-complete_request": ("shell", "complete_request", {"code": "pri", "cursor_pos": 3}),
    "control-interrupt_request": ("control", "interrupt_request", {}),
}


@pytest.mark.parametrize("case", EARLY)
def test_request_sent_while_the_kernel_starts_is_answered(kernelspec_installed, case):
    """A client may send work before the kernel answered kernel_info; it is queued and
    answered once the kernel is up, never lost."""
    channel, msg_type, content = EARLY[case]
    km = KernelManager(kernel_name=kernelspec_installed)
    km.start_kernel()
    try:
        with RawChannel(km, channel) as raw:
            msg_id = raw.request(msg_type, content)
            # A channel is served in order: once a kernel_info_request sent after the
            # request is answered, the request must have been answered too.
            raw.kernel_info(timeout=30, km=km)
            replies = raw.replies_to(msg_id)
        assert replies, f"the {msg_type} sent during startup was dropped (never answered)"
        [reply] = replies
        assert reply["msg_type"] == msg_type.replace("_request", "_reply"), reply
        assert reply["content"]["status"] == "ok", reply["content"]
        if msg_type == "execute_request":
            kc = km.client()
            kc.start_channels()
            try:
                kc.wait_for_ready(timeout=30)
                assert eval_text(kc, "early") == "42"
            finally:
                kc.stop_channels()
    finally:
        km.shutdown_kernel(now=True)


def test_request_right_after_the_first_kernel_info_reply_is_answered(kernelspec_installed):
    """What every client does: wait for a kernel_info_reply, then send work at once. The
    execute_request must be answered even if the kernel is still finishing its start."""
    km = KernelManager(kernel_name=kernelspec_installed)
    km.start_kernel()
    try:
        with RawChannel(km, "shell") as raw:
            raw.kernel_info(timeout=60, km=km)
            msg_id = raw.request("execute_request", execute_content("first = 'answered'"))
            raw.kernel_info(timeout=30, km=km)  # served after the execute_request
            replies = raw.replies_to(msg_id)
        assert replies, "the first execute_request after kernel_info_reply was dropped"
        assert replies[0]["content"]["status"] == "ok", replies[0]["content"]
    finally:
        km.shutdown_kernel(now=True)
