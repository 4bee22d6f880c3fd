"""``pyo3-kernel launch``'s reading of what a gateway gives it (gateway_launch.py).

The end-to-end behaviour (a gateway starting the kernel over SSH, interrupts, restarts,
shutdowns) is in tests/test_remote_ssh.py; here are the options, their environment
fallbacks and the one-line errors, run through the real command where it matters.
"""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest
from pyo3_kernel import gateway_launch

LAUNCHER = Path(sys.executable).with_name("pyo3-kernel")


def test_options_fall_back_to_the_bootstrap_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KERNEL_ID", "k1")
    monkeypatch.setenv("EG_RESPONSE_ADDRESS", "10.0.0.1:8877")
    monkeypatch.setenv("PUBLIC_KEY", "KEY")
    monkeypatch.delenv("PORT_RANGE", raising=False)
    monkeypatch.delenv("EG_PORT_RANGE", raising=False)
    monkeypatch.delenv("GP_PORT_RANGE", raising=False)
    args, rest = gateway_launch.parse_arguments(["--matplotlib=inline"])
    assert (args.kernel_id, args.response_address, args.public_key) == (
        "k1",
        "10.0.0.1:8877",
        "KEY",
    )
    assert (args.port_range, args.ip) == ("0..0", "0.0.0.0")
    assert rest == ["--matplotlib=inline"]


def test_an_option_substituted_empty_is_no_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Over SSH the argv is one shell line: `--transport-encryption ""` loses its value."""
    monkeypatch.delenv("TRANSPORT_ENCRYPTION", raising=False)
    args, _ = gateway_launch.parse_arguments(
        ["--kernel-id", "k", "--transport-encryption", "--ip", "127.0.0.2"]
    )
    assert args.transport_encryption is None
    assert args.ip == "127.0.0.2"
    assert gateway_launch.encryption_policy(args.transport_encryption) is None


@pytest.mark.parametrize("text", ["5..6", "2000..2100", "a..b", "2000", "70000..80000"])
def test_bad_port_ranges_are_refused(text: str) -> None:
    with pytest.raises(gateway_launch.LaunchError, match="--port-range"):
        gateway_launch.port_range(text)


def test_ports_are_distinct_and_in_the_range() -> None:
    ports = gateway_launch.select_ports("127.0.0.1", 40000, 41500, 6)
    assert len(set(ports)) == 6
    assert all(40000 <= port <= 41500 for port in ports)
    assert len(set(gateway_launch.select_ports("127.0.0.1", 0, 0, 6))) == 6


def test_unknown_encryption_policy_is_refused() -> None:
    with pytest.raises(gateway_launch.LaunchError, match="--transport-encryption"):
        gateway_launch.encryption_policy("sometimes")
    assert gateway_launch.encryption_policy("{transport_encryption}") is None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "--kernel-id is required"),
        (["--kernel-id", "{kernel_id}"], "--kernel-id is required"),
        (
            ["--kernel-id", "k", "--response-address", "nowhere", "--public-key", "K"],
            "--response-address must be HOST:PORT",
        ),
    ],
)
def test_the_command_says_what_is_wrong_in_one_line(argv: list[str], message: str) -> None:
    env = {"PATH": "/usr/bin:/bin"}  # no KERNEL_ID & co. from this environment
    done = subprocess.run(
        [str(LAUNCHER), "launch", *argv], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"pyo3-kernel launch: {message}")


@pytest.mark.parametrize(
    ("address", "key", "reason"),
    [
        ("127.0.0.1:9", None, "cannot return the connection info to 127.0.0.1:9"),
        ("127.0.0.1:9", "not-a-key", "cannot return the connection info"),
    ],
)
def test_a_kernel_nobody_can_reach_ends_itself(
    address: str, key: str | None, reason: str, tmp_path: Path
) -> None:
    """The connection info cannot be sent (nothing listens there, or the key is not
    one): the gateway will never know this kernel, so it must not linger."""
    if key is None:
        from Cryptodome.PublicKey import RSA

        der = RSA.generate(1024).publickey().export_key("DER")
        key = base64.b64encode(der).decode()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "IPYTHONDIR": str(tmp_path)}
    done = subprocess.run(
        [
            str(LAUNCHER),
            "launch",
            "--kernel-id",
            "k",
            "--response-address",
            address,
            "--public-key",
            key,
            "--ip",
            "127.0.0.1",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert reason in done.stderr
    assert "the gateway can no longer reach this kernel" in done.stderr
