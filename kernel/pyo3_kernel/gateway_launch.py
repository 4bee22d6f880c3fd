"""``pyo3-kernel launch``: the kernel started by a Jupyter gateway on another machine.

Enterprise Gateway and ``gateway_provisioners`` (SSH hosts, Kubernetes, Docker, YARN)
do not start a kernel with a connection file they wrote: they start a *launcher* with
``--kernel-id``, ``--port-range``, ``--response-address`` and ``--public-key``. The
launcher picks the kernel's ports (inside the range), sends the connection info back
to the response address, encrypted for the server (gateway_listener.py), and keeps a
*comm port* open on which the server sends signals (interrupt = 2, poll = 0) and
shutdown requests. This is that contract, as their ``launch_ipykernel.py`` implements
it, for our kernel: the process the gateway started is the kernel itself (pid and
process group are reported), and a small listener process beside it answers the comm
port without needing the kernel's GIL, so an interrupt arrives even while a cell runs
native code.

Each option falls back to the environment variable gateway_provisioners' container
bootstrap uses (KERNEL_ID, PORT_RANGE, RESPONSE_ADDRESS, PUBLIC_KEY, ...).

The two processes end together: the listener exits when the kernel does (it is the
kernel's child and asks for SIGTERM on its parent's death), and the kernel exits when
the listener is gone for good (nobody could interrupt or stop it any more, and the
gateway, whose polls are refused, already counts it dead and may start another).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Sequence

from .connection import CHANNELS

log = logging.getLogger("pyo3_kernel")

# gateway_provisioners' defaults: a port range must hold at least this many ports
# (MIN_PORT_RANGE_SIZE), and a random port is tried this many times before giving up.
MIN_PORT_RANGE_SIZE = int(os.environ.get("MIN_PORT_RANGE_SIZE", "1000"))
PORT_TRIES = int(os.environ.get("MAX_PORT_RANGE_RETRIES", "5"))
# How long a kernel outlives its listener: a normal shutdown (shutdown_request, then
# the server's {"shutdown": 1} to the listener) ends the kernel well within this.
LISTENER_GONE_GRACE = 3.0
ENCRYPTION_POLICIES = ("auto", "required", "disabled")


class LaunchError(Exception):
    """What the launcher cannot work with; printed as one line, exit status 2."""


def env_default(*names: str) -> str | None:
    """The first of these environment variables that is set and not empty."""
    for name in names:
        if value := os.environ.get(name):
            return value
    return None


def parse_arguments(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    """The launcher's options (the rest goes to IPython, as with ``-f``)."""
    parser = argparse.ArgumentParser(
        prog="pyo3-kernel launch",
        description=(
            "Start the kernel for a Jupyter gateway (Enterprise Gateway, "
            "gateway_provisioners): pick ports, send the connection info back "
            "encrypted, take signals and shutdown requests on a comm port."
        ),
    )
    # nargs="?" as in launch_ipykernel.py: over SSH the provisioner joins the argv into
    # one shell line, so an option it substituted with "" arrives with no value.
    options = {
        "--kernel-id": ("ID", "the gateway's id for this kernel", ("KERNEL_ID",)),
        "--port-range": (
            "LOW..HIGH",
            "ports the kernel may use (default 0..0: any)",
            ("PORT_RANGE", "EG_PORT_RANGE", "GP_PORT_RANGE"),
        ),
        "--response-address": (
            "HOST:PORT",
            "where the server waits for the connection info",
            ("RESPONSE_ADDRESS", "EG_RESPONSE_ADDRESS"),
        ),
        "--public-key": (
            "KEY",
            "the server's RSA public key (base64 DER, as the server passes it)",
            ("PUBLIC_KEY", "EG_PUBLIC_KEY"),
        ),
        "--transport-encryption": (
            "POLICY",
            "auto | required | disabled: CurveZMQ keys in the connection info",
            ("TRANSPORT_ENCRYPTION",),
        ),
        "--ip": (
            "ADDR",
            "address the kernel's sockets and the comm port bind (default 0.0.0.0)",
            ("KERNEL_IP",),
        ),
    }
    for flag, (metavar, text, names) in options.items():
        parser.add_argument(flag, nargs="?", metavar=metavar, help=f"{text}; env {names[0]}")
    # Accepted for kernelspecs written for launch_ipykernel.py; a Spark or Dask
    # context is not made here (say so rather than silently ignoring a request for one).
    parser.add_argument("--spark-context-initialization-mode", nargs="?", default="none")
    parser.add_argument("--cluster-type", nargs="?", default="none")
    parser.add_argument("--kernel-class-name", nargs="?")
    args, rest = parser.parse_known_args(list(argv))
    for flag, (_, _, names) in options.items():
        attribute = flag[2:].replace("-", "_")
        if not getattr(args, attribute):
            setattr(args, attribute, env_default(*names))
    args.port_range = args.port_range or "0..0"
    args.ip = args.ip or "0.0.0.0"  # noqa: S104 (the server is on another host)
    return args, rest


def check(args: argparse.Namespace) -> tuple[int, int, str | None]:
    """Validate what the server gave; return the port range and the encryption policy."""
    for option in ("kernel_id", "response_address", "public_key"):
        value = getattr(args, option)
        if not value or (value.startswith("{") and value.endswith("}")):
            flag = "--" + option.replace("_", "-")
            raise LaunchError(f"{flag} is required (the gateway substitutes it in the kernelspec)")
    host, _, port = args.response_address.rpartition(":")
    if not host or not port.isdigit():
        raise LaunchError(f"--response-address must be HOST:PORT, not {args.response_address!r}")
    if importlib.util.find_spec("Cryptodome") is None:
        raise LaunchError(
            "the launcher encrypts the connection info with pycryptodomex, which is not "
            "installed: pip install 'pyo3-kernel[remote]'"
        )
    low, high = port_range(args.port_range)
    return low, high, encryption_policy(args.transport_encryption)


def port_range(text: str) -> tuple[int, int]:
    """``LOW..HIGH`` (``0..0``: any port), checked as gateway_provisioners checks it."""
    try:
        low_text, high_text = text.split("..")
        low, high = int(low_text), int(high_text)
    except ValueError:
        raise LaunchError(f"--port-range must be LOW..HIGH, not {text!r}") from None
    if (low, high) == (0, 0):
        return low, high
    if not 1024 <= low < high <= 65535 or high - low < MIN_PORT_RANGE_SIZE:
        raise LaunchError(
            f"--port-range {text}: need 1024 <= LOW < HIGH <= 65535 and at least "
            f"{MIN_PORT_RANGE_SIZE} ports (MIN_PORT_RANGE_SIZE)"
        )
    return low, high


def encryption_policy(value: str | None) -> str | None:
    """'auto' or 'required' when CurveZMQ keys are wanted and can be made, else None."""
    policy = (value or "").strip().lower()
    if not policy or policy == "disabled" or (policy.startswith("{") and policy.endswith("}")):
        return None
    if policy not in ENCRYPTION_POLICIES:
        raise LaunchError(f"--transport-encryption must be one of {ENCRYPTION_POLICIES}")
    import zmq

    if not zmq.has("curve"):
        if policy == "required":
            raise LaunchError("transport encryption is required but libzmq lacks CurveZMQ")
        log.warning("transport encryption asked for, but libzmq lacks CurveZMQ: not encrypting")
        return None
    return policy


def select_ports(ip: str, low: int, high: int, count: int) -> list[int]:
    """``count`` distinct free ports in [low, high] (any free port when the range is 0..0)."""
    held: list[socket.socket] = []
    try:
        for _ in range(count):
            held.append(_bind_in_range(ip, low, high))
        return [sock.getsockname()[1] for sock in held]
    finally:
        for sock in held:
            sock.close()


def _bind_in_range(ip: str, low: int, high: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    for _ in range(PORT_TRIES + 1):
        try:
            sock.bind((ip, 0 if high == 0 else random.randint(low, high)))
            return sock
        except OSError as err:
            last = err
    sock.close()
    raise LaunchError(f"no free port in {low}..{high} on {ip} after {PORT_TRIES} tries: {last}")


def write_connection_file(kernel_id: str, ip: str, ports: list[int], curve: bool) -> str:
    """A connection file for the kernel (the listener sends its contents to the server)."""
    from . import connection

    keys: dict[str, bytes] = {}
    if curve:
        import zmq

        public, secret = zmq.curve_keypair()
        keys = {"curve_publickey": public, "curve_secretkey": secret}
    conn = connection.Connection(
        transport="tcp",
        ip=ip,
        key=str(uuid.uuid4()).encode(),
        signature_scheme="hmac-sha256",
        ports=dict(zip(CHANNELS, ports, strict=True)),
        **keys,
    )
    fd, path = tempfile.mkstemp(suffix=".json", prefix=f"kernel-{kernel_id}_")
    os.close(fd)
    connection.write(path, conn)
    return path


def start_listener(
    args: argparse.Namespace, connection_file: str, comm_port: int
) -> subprocess.Popen[bytes]:
    """The listener process (gateway_listener.py), a child of this kernel process."""
    config = {
        "connection_file": connection_file,
        "kernel_pid": os.getpid(),
        "kernel_id": args.kernel_id,
        "comm_ip": args.ip,
        "comm_port": comm_port,
        "response_address": args.response_address,
        "public_key": args.public_key,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "pyo3_kernel.gateway_listener", json.dumps(config)],
        stdin=subprocess.DEVNULL,
        close_fds=True,
    )


def end_with_listener(listener: subprocess.Popen[bytes], served: threading.Event) -> None:
    """When the listener is gone and the kernel has not ended on its own within
    LISTENER_GONE_GRACE, end the kernel: nobody can reach it through the gateway."""
    from . import children
    from .interrupts import threads_started_here_ignore_sigint

    def watch() -> None:
        status = listener.wait()
        if served.wait(LISTENER_GONE_GRACE):
            return
        log.warning(
            "the gateway listener (pid %d) ended with status %s and the kernel did not "
            "shut down: exiting, since the gateway can no longer reach this kernel",
            listener.pid,
            status,
        )
        children.terminate_children()
        os._exit(1)

    with threads_started_here_ignore_sigint():
        threading.Thread(target=watch, daemon=True, name="listener-watch").start()


def end_on_sigterm() -> None:
    """SIGTERM (the gateway's terminate, a pod's deletion) ends the kernel and what its
    cells started, as a kernel's shutdown does; also when it runs as a container's PID 1,
    which the default disposition would leave running."""
    from . import children

    def end(signum: int, frame: object) -> None:
        log.warning("SIGTERM: ending the kernel and the processes its cells started")
        children.terminate_children()
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, end)


def main(argv: Sequence[str]) -> int:
    """``pyo3-kernel launch [options] [IPython options]``."""
    from .app import log_to_original_stderr, serve

    log_to_original_stderr()
    args, shell_args = parse_arguments(argv)
    try:
        low, high, policy = check(args)
        for option, value in (
            ("--spark-context-initialization-mode", args.spark_context_initialization_mode),
            ("--cluster-type", args.cluster_type),
        ):
            if value and value != "none" and not value.startswith("{"):
                log.warning("%s %s: pyo3-kernel makes no Spark or Dask context", option, value)
        # Five kernel ports and the comm port, chosen together so they are distinct.
        ports = select_ports(args.ip, low, high, len(CHANNELS) + 1)
        connection_file = write_connection_file(args.kernel_id, args.ip, ports[:-1], bool(policy))
    except LaunchError as err:
        print(f"pyo3-kernel launch: {err}", file=sys.__stderr__, flush=True)
        return 2
    # The gateway is on another host (or restarts without its kernels): the pid of the
    # process that started it (JPY_PARENT_PID, copied into a pod with the server's
    # environment) is not a parent to follow.
    os.environ.pop("JPY_PARENT_PID", None)
    end_on_sigterm()
    listener = start_listener(args, connection_file, ports[-1])
    served = threading.Event()
    end_with_listener(listener, served)
    try:
        return serve(connection_file, shell_args)
    finally:
        served.set()
        if listener.poll() is None:
            listener.terminate()
        try:
            os.remove(connection_file)
        except OSError:
            pass
