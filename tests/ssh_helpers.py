"""An sshd of the tests' own on loopback, and waits on processes ending.

Shared by the remote-kernel tests (tests/test_remote_ssh.py: gateway_provisioners'
DistributedProvisioner; tests/test_remote_enterprise_gateway.py: Enterprise Gateway).
The sshd listens on 127.0.0.2 (loopback; a gateway would skip SSH for 127.0.0.1, which
it knows to be local) with its own config, host key and authorized key in a temporary
directory; the system's sshd and ~/.ssh are not touched: the gateway side gets a HOME of
its own holding the client key and known_hosts (paramiko reads them from there).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

SSHD = Path("/usr/sbin/sshd")
SSH_HOST = "127.0.0.2"
START = 60  # seconds for sshd to listen, or a kernel to answer kernel_info
GONE = 20  # seconds for processes to end once they should
# A 1x1 PNG: rich output that is not text.
PNG_HEX = (
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2a5d53a0000000049454e44ae426082"
)


needs_sshd = pytest.mark.skipif(
    not SSHD.exists() or shutil.which("ssh-keygen") is None,
    reason="needs Debian's openssh-server (sshd, ssh-keygen): tools/install_system_deps.sh",
)


def free_port(host: str) -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _keygen(path: Path) -> str:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
        check=True,
        stdin=subprocess.DEVNULL,
    )
    return path.with_suffix(".pub").read_text().strip()


def wait_for_line(log: Path, wanted: str, timeout: float) -> None:
    """Wait (bounded) until sshd's log has a line containing ``wanted``."""
    deadline = time.monotonic() + timeout
    while wanted not in log.read_text():
        assert time.monotonic() < deadline, f"sshd did not log {wanted!r}: {log.read_text()}"
        time.sleep(0.05)


@pytest.fixture(scope="module", name="sshd")
def sshd_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """An sshd on 127.0.0.2 that lets this user in with a key made for the test."""
    root = tmp_path_factory.mktemp("sshd")
    home = root / "home"
    (home / ".ssh").mkdir(parents=True)
    host_key = _keygen(root / "host_key")
    (root / "authorized_keys").write_text(_keygen(home / ".ssh" / "id_ed25519") + "\n")
    port = free_port(SSH_HOST)
    (home / ".ssh" / "known_hosts").write_text(
        f"[{SSH_HOST}]:{port} {' '.join(host_key.split()[:2])}\n"
    )
    config = root / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress {SSH_HOST}\nHostKey {root / 'host_key'}\n"
        f"PidFile {root / 'sshd.pid'}\nAuthorizedKeysFile {root / 'authorized_keys'}\n"
        "PubkeyAuthentication yes\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n"
        "StrictModes no\nUsePAM no\nPrintMotd no\nLogLevel VERBOSE\n"
    )
    if os.geteuid() == 0:
        # sshd running as root insists on its privilege-separation directory, which
        # Debian's service creates at boot (an empty runtime directory).
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    log = root / "sshd.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [str(SSHD), "-D", "-e", "-f", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_line(log, "Server listening", START)
        yield {"port": port, "home": home, "log": log}
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def gone(pids: list[int], timeout: float = GONE) -> list[int]:
    """Wait until none of ``pids`` runs (zombies count as gone); return those left."""
    deadline = time.monotonic() + timeout
    while True:
        left = []
        for pid in pids:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    left.append(pid)
            except psutil.NoSuchProcess:
                pass
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def describe(pids: list[int]) -> list[str]:
    described = []
    for pid in pids:
        try:
            process = psutil.Process(pid)
            described.append(f"{pid} {process.status()} {' '.join(process.cmdline())[:80]}")
        except psutil.NoSuchProcess:
            described.append(f"{pid} gone")
    return described
