"""Unit tests (no kernel process) of ``pyo3_kernel.connection``.

A kernel starts from the connection file Jupyter writes: reading it must give the
ports, key and transport the client expects, and every way it can be wrong must end
in ``ConnectionFileError`` with a one-line reason (the command line prints it). The
files the kernel writes itself must be readable by jupyter_client and private. The
sockets are bound for real, on localhost, with CurveZMQ when keys are given.
"""

from __future__ import annotations

import json
import os
import stat

import pytest
import zmq
from jupyter_client.session import Session
from pyo3_kernel import connection
from pyo3_kernel.connection import ConnectionFileError

GOOD = {
    "shell_port": 50001,
    "iopub_port": 50002,
    "stdin_port": 50003,
    "control_port": 50004,
    "hb_port": 50005,
    "ip": "127.0.0.1",
    "key": "a6f0c5e4-1234-4c7e-9a3b-0123456789ab",
    "transport": "tcp",
    "signature_scheme": "hmac-sha512",
    "kernel_name": "pyo3",
}


def write_json(tmp_path, data, name="kernel.json") -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


# --- load -----------------------------------------------------------------------------


def test_load_reads_every_setting(tmp_path):
    conn = connection.load(write_json(tmp_path, GOOD))
    assert conn.transport == "tcp"
    assert conn.ip == "127.0.0.1"
    assert conn.key == GOOD["key"].encode()
    assert conn.signature_scheme == "hmac-sha512"
    assert conn.ports == {
        "shell": 50001,
        "control": 50004,
        "stdin": 50003,
        "iopub": 50002,
        "hb": 50005,
    }
    assert conn.curve_publickey is None and conn.curve_secretkey is None


def test_load_addresses_tcp_and_ipc(tmp_path):
    tcp = connection.load(write_json(tmp_path, GOOD))
    assert tcp.address("shell") == "tcp://127.0.0.1:50001"
    assert tcp.address("hb") == "tcp://127.0.0.1:50005"
    ipc = connection.load(write_json(tmp_path, {**GOOD, "transport": "ipc", "ip": "/tmp/k"}))
    # jupyter_client's convention for ipc: "<ip>-<port>"
    assert ipc.address("iopub") == "ipc:///tmp/k-50002"


def test_load_uses_defaults_for_missing_keys(tmp_path):
    conn = connection.load(write_json(tmp_path, {"shell_port": 7}))
    assert conn.transport == "tcp"
    assert conn.ip == "127.0.0.1"
    assert conn.key == b""
    assert conn.signature_scheme == "hmac-sha256"
    assert conn.ports == {"shell": 7, "control": 0, "stdin": 0, "iopub": 0, "hb": 0}


def test_load_accepts_ports_written_as_strings(tmp_path):
    conn = connection.load(write_json(tmp_path, {**GOOD, "shell_port": "6000"}))
    assert conn.ports["shell"] == 6000


def test_load_ignores_unknown_keys(tmp_path):
    conn = connection.load(write_json(tmp_path, {**GOOD, "jupyter_session": "x", "extra": 1}))
    assert conn.ports["shell"] == 50001


def test_missing_file_is_a_connection_file_error(tmp_path):
    path = str(tmp_path / "nope.json")
    with pytest.raises(ConnectionFileError, match="connection file not found") as err:
        connection.load(path)
    assert path in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("text", ["{not json", "", '{"shell_port": 1', "\ufeff{}"])
def test_bad_json_is_a_connection_file_error(tmp_path, text):
    path = write_json(tmp_path, text)
    with pytest.raises(ConnectionFileError, match="cannot read connection file") as err:
        connection.load(path)
    assert path in str(err.value)


def test_undecodable_file_is_a_connection_file_error(tmp_path):
    path = tmp_path / "binary.json"
    path.write_bytes(b'{"key": "\xff\xfe"}')
    with pytest.raises(ConnectionFileError, match="cannot read connection file"):
        connection.load(str(path))


def test_directory_instead_of_file_is_a_connection_file_error(tmp_path):
    with pytest.raises(ConnectionFileError, match="cannot read connection file"):
        connection.load(str(tmp_path))


@pytest.mark.parametrize("data", [[1, 2], "text", 3, None])
def test_json_that_is_not_an_object_is_a_connection_file_error(tmp_path, data):
    path = write_json(tmp_path, json.dumps(data))
    with pytest.raises(ConnectionFileError, match="does not hold a JSON object"):
        connection.load(path)


@pytest.mark.parametrize("port", ["abc", None, [1], {"a": 1}, "1.5"])
def test_bad_port_value_is_a_connection_file_error(tmp_path, port):
    path = write_json(tmp_path, {**GOOD, "iopub_port": port})
    with pytest.raises(ConnectionFileError, match="bad value in connection file"):
        connection.load(path)


# --- CurveZMQ keys --------------------------------------------------------------------

needs_curve = pytest.mark.skipif(not zmq.has("curve"), reason="pyzmq built without CurveZMQ")


@needs_curve
def test_load_reads_a_curve_key_pair(tmp_path):
    public, secret = zmq.curve_keypair()
    data = {**GOOD, "curve_publickey": public.decode(), "curve_secretkey": secret.decode()}
    conn = connection.load(write_json(tmp_path, data))
    assert conn.curve_publickey == public
    assert conn.curve_secretkey == secret


@pytest.mark.parametrize(
    "keys",
    [
        {"curve_publickey": "x" * 40},
        {"curve_secretkey": "x" * 40},
        {"curve_publickey": "x" * 40, "curve_secretkey": None},
        {"curve_publickey": 1, "curve_secretkey": 2},
    ],
    ids=["public-only", "secret-only", "secret-null", "not-strings"],
)
def test_incomplete_curve_key_pair_is_a_connection_file_error(tmp_path, keys):
    path = write_json(tmp_path, {**GOOD, **keys})
    with pytest.raises(ConnectionFileError, match="needs both curve_publickey and"):
        connection.load(path)


def test_curve_keys_without_curve_support_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(zmq, "has", lambda capability: capability != "curve")
    data = {**GOOD, "curve_publickey": "p" * 40, "curve_secretkey": "s" * 40}
    with pytest.raises(ConnectionFileError, match="CurveZMQ"):
        connection.load(write_json(tmp_path, data))


# --- new connections and writing ------------------------------------------------------


def test_new_connection_is_local_tcp_with_a_fresh_key():
    first, second = connection.new_connection(), connection.new_connection()
    assert first.transport == "tcp" and first.ip == "127.0.0.1"
    assert first.signature_scheme == "hmac-sha256"
    assert len(first.key) == 32 and int(first.key, 16) >= 0
    assert first.key != second.key
    assert first.ports == dict.fromkeys(connection.CHANNELS, 0)


def test_new_file_name_creates_the_directory(tmp_path):
    directory = tmp_path / "runtime" / "deeper"
    name = connection.new_file_name(str(directory))
    assert directory.is_dir()
    assert os.path.dirname(name) == str(directory)
    assert os.path.basename(name) == f"kernel-{os.getpid()}.json"


def test_written_file_loads_back(tmp_path):
    conn = connection.new_connection()
    conn.ports = {"shell": 1, "control": 2, "stdin": 3, "iopub": 4, "hb": 5}
    path = str(tmp_path / "kernel.json")
    connection.write(path, conn)
    assert connection.load(path) == conn
    assert json.loads((tmp_path / "kernel.json").read_text())["kernel_name"] == "pyo3"


@needs_curve
def test_written_file_keeps_the_curve_keys(tmp_path):
    public, secret = zmq.curve_keypair()
    conn = connection.new_connection()
    conn.curve_publickey, conn.curve_secretkey = public, secret
    path = str(tmp_path / "kernel.json")
    connection.write(path, conn)
    assert connection.load(path) == conn


def test_written_file_is_read_by_jupyter_client(tmp_path):
    from jupyter_client import BlockingKernelClient

    conn = connection.new_connection()
    conn.ports = {"shell": 11, "control": 12, "stdin": 13, "iopub": 14, "hb": 15}
    path = str(tmp_path / "kernel.json")
    connection.write(path, conn)
    client = BlockingKernelClient(connection_file=path)
    client.load_connection_file()
    assert client.session.key == conn.key
    assert (client.shell_port, client.control_port, client.stdin_port) == (11, 12, 13)
    assert (client.iopub_port, client.hb_port) == (14, 15)
    assert client.ip == "127.0.0.1" and client.transport == "tcp"


def test_written_file_is_private(tmp_path):
    path = str(tmp_path / "kernel.json")
    connection.write(path, connection.new_connection())
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_written_file_is_private_even_over_an_existing_file(tmp_path):
    path = tmp_path / "kernel.json"
    path.write_text("{}")
    path.chmod(0o644)
    connection.write(str(path), connection.new_connection())
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


# --- binding --------------------------------------------------------------------------


@pytest.fixture
def context():
    ctx = zmq.Context()
    yield ctx
    ctx.destroy(linger=0)


def test_bind_chooses_ports_and_socket_kinds(context):
    conn = connection.new_connection()
    sockets = connection.bind(context, conn)
    try:
        assert set(sockets) == set(connection.CHANNELS)
        assert all(port > 0 for port in conn.ports.values())
        assert len(set(conn.ports.values())) == 5
        kinds = {name: s.type for name, s in sockets.items()}
        assert kinds == {
            "shell": zmq.ROUTER,
            "control": zmq.ROUTER,
            "stdin": zmq.ROUTER,
            "iopub": zmq.XPUB,
            "hb": zmq.ROUTER,
        }
        for name, socket in sockets.items():
            assert socket.getsockopt_string(zmq.LAST_ENDPOINT) == conn.address(name)
    finally:
        for socket in sockets.values():
            socket.close(linger=0)


def test_bind_ipc_uses_the_file_addresses(tmp_path, context):
    conn = connection.Connection(
        "ipc",
        str(tmp_path / "k"),
        b"key",
        "hmac-sha256",
        dict(zip(connection.CHANNELS, range(1, 6), strict=True)),
    )
    sockets = connection.bind(context, conn)
    try:
        for name, socket in sockets.items():
            assert socket.getsockopt_string(zmq.LAST_ENDPOINT) == conn.address(name)
        assert (tmp_path / "k-1").exists()
    finally:
        for socket in sockets.values():
            socket.close(linger=0)


def test_a_client_reaches_the_bound_shell_socket(context):
    conn = connection.new_connection()
    sockets = connection.bind(context, conn)
    client = context.socket(zmq.DEALER)
    try:
        client.connect(conn.address("shell"))
        client.send_multipart([b"hello", b"kernel"])
        assert sockets["shell"].poll(5000)
        identity, *frames = sockets["shell"].recv_multipart()
        assert frames == [b"hello", b"kernel"]
    finally:
        client.close(linger=0)
        for socket in sockets.values():
            socket.close(linger=0)


@needs_curve
def test_curve_sockets_talk_only_to_clients_that_know_the_server_key(context):
    server_public, server_secret = zmq.curve_keypair()
    conn = connection.new_connection()
    conn.curve_publickey, conn.curve_secretkey = server_public, server_secret
    sockets = connection.bind(context, conn)
    good, bad = context.socket(zmq.DEALER), context.socket(zmq.DEALER)
    try:
        good.curve_publickey, good.curve_secretkey = zmq.curve_keypair()
        good.curve_serverkey = server_public
        good.connect(conn.address("shell"))
        bad.connect(conn.address("shell"))  # plain text: refused by the handshake
        bad.send(b"plain")
        good.send(b"encrypted")
        assert sockets["shell"].poll(5000)
        assert sockets["shell"].recv_multipart()[1:] == [b"encrypted"]
        assert not sockets["shell"].poll(200)
    finally:
        good.close(linger=0)
        bad.close(linger=0)
        for socket in sockets.values():
            socket.close(linger=0)


def test_heartbeat_echoes_pings_until_the_context_ends():
    context = zmq.Context()
    conn = connection.new_connection()
    sockets = connection.bind(context, conn)
    thread = connection.start_heartbeat(sockets["hb"])
    ping = context.socket(zmq.REQ)
    ping.connect(conn.address("hb"))
    ping.send(b"ping-1")
    assert ping.poll(5000)
    assert ping.recv() == b"ping-1"
    ping.close(linger=0)
    sockets["control"].close(linger=0)
    connection.close(context, sockets)  # terminates the context: the echo stops
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert context.closed


def test_close_delivers_what_is_queued_before_terminating():
    context = zmq.Context()
    conn = connection.new_connection()
    sockets = connection.bind(context, conn)
    client_context = zmq.Context()
    client = client_context.socket(zmq.DEALER)
    try:
        client.connect(conn.address("shell"))
        client.send(b"hello")
        assert sockets["shell"].poll(5000)
        identity = sockets["shell"].recv_multipart()[0]
        sockets["shell"].send_multipart([identity, b"last reply"])
        sockets["control"].close(linger=0)
        sockets["hb"].close(linger=0)
        connection.close(context, sockets)
        assert context.closed
        assert client.poll(5000)
        assert client.recv() == b"last reply"
    finally:
        client.close(linger=0)
        client_context.term()


def test_session_signs_with_the_key_and_scheme_of_the_file(tmp_path):
    # The loaded key and scheme are what a Session of the client signs with.
    conn = connection.load(write_json(tmp_path, GOOD))
    client = Session(key=GOOD["key"].encode(), signature_scheme=GOOD["signature_scheme"])
    kernel = Session(key=conn.key, signature_scheme=conn.signature_scheme)
    assert kernel.sign([b"a", b"b"]) == client.sign([b"a", b"b"])
