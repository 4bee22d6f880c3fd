"""The listener beside a kernel started by ``pyo3-kernel launch`` (gateway_launch.py).

A separate process, started by the kernel with one JSON argument. It
1. binds the comm port, then sends the server the kernel's connection info with pid,
   pgid, comm_port and kernel_id added, as gateway_provisioners' response manager
   expects it (payload version 1): the JSON encrypted with a fresh AES-128 key (ECB,
   PKCS#7 padding), that key encrypted with the server's RSA public key (PKCS#1 v1.5),
   both base64 in a base64 JSON envelope;
2. answers requests on the comm port, one JSON object per connection: ``{"signum": N}``
   sends signal N to the kernel (0 only checks that it lives; 2 interrupts it) and
   ``{"shutdown": 1}`` ends the listener;
3. ends when the kernel ends (its parent: SIGTERM on the parent's death, and a check
   of the parent every accept timeout), so the server's next poll is refused and the
   kernel is known to be gone.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import sys
from typing import Any

LAUNCHER_VERSION = 1  # the payload format gateway_provisioners' response manager reads
ACCEPT_TIMEOUT = 0.5  # seconds between checks that the kernel still lives
CONNECT_TIMEOUT = 30.0  # for sending the connection info to the server
PR_SET_PDEATHSIG = 1


def say(message: str) -> None:
    """The kernel's log (its stderr): the file the gateway redirects it to."""
    print(f"[pyo3-kernel launch] {message}", file=sys.stderr, flush=True)


def die_with_parent() -> None:
    """Linux: SIGTERM to this process when the kernel (its parent) dies."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # the parent check in serve() still ends the listener


def encrypt(payload: bytes, public_key: str) -> bytes:
    """The version-1 envelope: AES-encrypted payload, RSA-encrypted AES key."""
    from Cryptodome.Cipher import AES, PKCS1_v1_5
    from Cryptodome.PublicKey import RSA
    from Cryptodome.Random import get_random_bytes
    from Cryptodome.Util.Padding import pad

    aes_key = get_random_bytes(16)
    sealed = AES.new(aes_key, AES.MODE_ECB).encrypt(pad(payload, 16))
    rsa = PKCS1_v1_5.new(RSA.import_key(base64.b64decode(public_key)))
    envelope = {
        "version": LAUNCHER_VERSION,
        "key": base64.b64encode(rsa.encrypt(aes_key)).decode(),
        "conn_info": base64.b64encode(sealed).decode(),
    }
    return base64.b64encode(json.dumps(envelope).encode())


def connection_info(config: dict[str, Any], comm_port: int) -> dict[str, Any]:
    with open(config["connection_file"]) as f:
        info: dict[str, Any] = json.load(f)
    kernel_pid = int(config["kernel_pid"])
    info.update(
        pid=kernel_pid,
        pgid=os.getpgid(kernel_pid),
        comm_port=comm_port,
        kernel_id=config["kernel_id"],
    )
    return info


def send_connection_info(config: dict[str, Any], comm_port: int) -> None:
    host, _, port = str(config["response_address"]).rpartition(":")
    payload = encrypt(json.dumps(connection_info(config, comm_port)).encode(), config["public_key"])
    with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT) as sock:
        sock.sendall(payload)


def read_request(server: socket.socket) -> dict[str, Any] | None:
    """One request: the JSON object a connection sends before it closes (None: none)."""
    try:
        conn, _ = server.accept()
    except TimeoutError:
        return None
    data = b""
    with conn:
        conn.settimeout(5.0)
        try:
            while chunk := conn.recv(4096):
                data += chunk
        except OSError:
            pass  # a half-sent request: use what arrived
    if not data:
        return None
    try:
        request = json.loads(data)
    except ValueError:
        say(f"ignored a malformed request on the comm port: {data[:100]!r}")
        return None
    return request if isinstance(request, dict) else None


def serve(server: socket.socket, kernel_pid: int) -> None:
    """Carry out the server's requests until it asks to shut down or the kernel ends."""
    while os.getppid() == kernel_pid:
        request = read_request(server)
        if request is None:
            continue
        if (signum := request.get("signum")) is not None:
            try:
                os.kill(kernel_pid, int(signum))
            except ProcessLookupError:
                return  # the kernel is gone: end, so the next poll is refused
            except (ValueError, OSError) as err:
                say(f"cannot send signal {signum!r} to the kernel: {err}")
            if signum:  # signum 0 is the server's poll, every few seconds
                say(f"sent signal {signum} to the kernel (pid {kernel_pid})")
        if request.get("shutdown"):
            return


def main(argv: list[str]) -> int:
    config: dict[str, Any] = json.loads(argv[0])
    # The kernel takes interrupts; a Ctrl-C meant for the process group is not ours.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()
    kernel_pid = int(config["kernel_pid"])
    if os.getppid() != kernel_pid:
        return 1  # the kernel died before this process got going
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        server.bind((config["comm_ip"], int(config["comm_port"])))
        server.listen(16)
        server.settimeout(ACCEPT_TIMEOUT)
        send_connection_info(config, server.getsockname()[1])
    except (OSError, ValueError) as err:
        say(f"cannot return the connection info to {config['response_address']}: {err}")
        return 1
    with server:
        serve(server, kernel_pid)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
