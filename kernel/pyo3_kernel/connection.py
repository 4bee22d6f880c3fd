"""Connection files and sockets: what a kernel binds, from the file Jupyter gives it."""

from __future__ import annotations

import json
import os
import secrets
import threading
from pathlib import Path
from typing import Any

import zmq

from .interrupts import block_sigint_in_this_thread

CHANNELS = ("shell", "control", "stdin", "iopub", "hb")


class ConnectionFileError(Exception):
    """The connection file is missing, unreadable or incomplete."""


class Connection:
    """The settings of a connection file. (A plain class, not a dataclass: importing
    dataclasses, and inspect with it, was ~5 ms of the time to the first reply.)"""

    def __init__(
        self,
        transport: str,
        ip: str,
        key: bytes,
        signature_scheme: str,
        ports: dict[str, int],
        curve_publickey: bytes | None = None,
        curve_secretkey: bytes | None = None,
    ) -> None:
        self.transport = transport
        self.ip = ip
        self.key = key
        self.signature_scheme = signature_scheme
        self.ports = ports
        # CurveZMQ keys (Z85), when the kernel manager provisions transport encryption.
        self.curve_publickey = curve_publickey
        self.curve_secretkey = curve_secretkey

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Connection) and vars(self) == vars(other)

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in vars(self).items())
        return f"Connection({fields})"

    def address(self, channel: str) -> str:
        port = self.ports[channel]
        if self.transport == "ipc":
            return f"ipc://{self.ip}-{port}"
        return f"{self.transport}://{self.ip}:{port}"


def load(path: str) -> Connection:
    """Read a connection file; raise ConnectionFileError with a one-line reason."""
    try:
        info = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ConnectionFileError(f"connection file not found: {path}") from None
    except (OSError, ValueError) as err:
        raise ConnectionFileError(f"cannot read connection file {path}: {err}") from None
    if not isinstance(info, dict):
        raise ConnectionFileError(f"connection file {path} does not hold a JSON object")
    try:
        ports = {name: int(info.get(f"{name}_port", 0)) for name in CHANNELS}
        return Connection(
            transport=str(info.get("transport", "tcp")),
            ip=str(info.get("ip", "127.0.0.1")),
            key=str(info.get("key", "")).encode(),
            signature_scheme=str(info.get("signature_scheme", "hmac-sha256")),
            ports=ports,
            **_curve_keys(info, path),
        )
    except (TypeError, ValueError) as err:
        raise ConnectionFileError(f"bad value in connection file {path}: {err}") from None


def _curve_keys(info: dict[str, Any], path: str) -> dict[str, bytes]:
    """The CurveZMQ key pair of a connection file (both, or none)."""
    public, secret = info.get("curve_publickey"), info.get("curve_secretkey")
    if public is None and secret is None:
        return {}
    if not (isinstance(public, str) and isinstance(secret, str)):
        raise ConnectionFileError(
            f"connection file {path} needs both curve_publickey and curve_secretkey"
        )
    if not zmq.has("curve"):
        raise ConnectionFileError(
            f"connection file {path} asks for CurveZMQ encryption, which this pyzmq lacks"
        )
    return {"curve_publickey": public.encode(), "curve_secretkey": secret.encode()}


def new_file_name(directory: str) -> str:
    """Where a kernel started by hand writes its connection file."""
    os.makedirs(directory, exist_ok=True)
    return os.path.join(directory, f"kernel-{os.getpid()}.json")


def new_connection() -> Connection:
    """A fresh connection on localhost (ports are chosen when binding)."""
    key = secrets.token_hex(16).encode()
    return Connection("tcp", "127.0.0.1", key, "hmac-sha256", dict.fromkeys(CHANNELS, 0))


def write(path: str, conn: Connection) -> None:
    """Write ``conn`` to ``path``, readable by its owner only."""
    info: dict[str, Any] = {f"{name}_port": port for name, port in conn.ports.items()}
    info.update(
        transport=conn.transport,
        ip=conn.ip,
        key=conn.key.decode(),
        signature_scheme=conn.signature_scheme,
        kernel_name="pyo3",
    )
    if conn.curve_secretkey is not None and conn.curve_publickey is not None:
        info["curve_publickey"] = conn.curve_publickey.decode()
        info["curve_secretkey"] = conn.curve_secretkey.decode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # the mode above applies only to a new file
    with os.fdopen(fd, "w") as f:
        json.dump(info, f, indent=2)


def bind(context: zmq.SyncContext, conn: Connection) -> dict[str, zmq.SyncSocket]:
    """Create and bind the five kernel sockets; ports given as 0 are chosen now."""
    kinds = {
        "shell": zmq.ROUTER,
        "control": zmq.ROUTER,
        "stdin": zmq.ROUTER,
        "iopub": zmq.XPUB,  # subscriptions are answered with iopub_welcome (pubsocket.py)
        "hb": zmq.ROUTER,
    }
    sockets: dict[str, zmq.SyncSocket] = {}
    for channel, kind in kinds.items():
        socket = context.socket(kind)
        socket.linger = 1000
        if kind == zmq.ROUTER:
            socket.router_handover = 1
        if kind == zmq.XPUB:
            socket.xpub_verbose = 1  # every client's subscription, not only the first
        if conn.curve_secretkey is not None:
            # Encrypted and authenticated: a client needs the kernel's public key.
            socket.curve_secretkey = conn.curve_secretkey
            socket.curve_publickey = conn.curve_publickey
            socket.curve_server = True
        if conn.ports[channel] == 0 and conn.transport == "tcp":
            conn.ports[channel] = socket.bind_to_random_port(f"tcp://{conn.ip}")
        else:
            socket.bind(conn.address(channel))
        sockets[channel] = socket
    return sockets


def start_heartbeat(socket: zmq.SyncSocket) -> threading.Thread:
    """Echo heartbeat pings on their own thread (pure ZeroMQ, no Python per ping)."""

    def echo() -> None:
        block_sigint_in_this_thread()
        try:
            zmq.proxy(socket, socket)
        except zmq.ZMQError:
            pass  # context terminated at shutdown
        finally:
            socket.close(linger=0)

    thread = threading.Thread(target=echo, daemon=True, name="heartbeat")
    thread.start()
    return thread


def close(context: zmq.SyncContext, sockets: dict[str, zmq.SyncSocket]) -> None:
    """Close the sockets this thread owns and let ZeroMQ deliver what is queued (the
    shutdown reply, the last outputs) before the process exits, within a second."""
    for channel in ("shell", "stdin", "iopub"):
        sockets[channel].close(linger=1000)
    terminator = threading.Thread(target=context.term, daemon=True)
    terminator.start()
    terminator.join(timeout=2)
