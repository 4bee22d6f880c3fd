"""The kernel started over SSH by gateway_provisioners' DistributedProvisioner.

This is how Enterprise Gateway (and any Jupyter server with gateway_provisioners) runs
kernels on other hosts: jupyter_client's KernelManager asks the provisioner, which ssh-es
to a host and runs the kernelspec's argv there (``pyo3-kernel launch ...``, written by
``pyo3-kernel install --remote-hosts``); the launcher sends the connection info back to
the provisioner's response address, encrypted, and takes interrupts and shutdowns on its
comm port. Here the other host is an sshd this module starts on 127.0.0.2 (loopback; the
provisioner would skip SSH for 127.0.0.1, which it knows to be local) with its own
config, host key and authorized key in a temporary directory; the system's sshd and
~/.ssh are not touched (HOME points at the temporary one while the tests run, because
paramiko reads ~/.ssh/known_hosts and the client key from there).

Needs Debian's openssh-server (tools/install_system_deps.sh) and pip's
gateway_provisioners; skips with the reason when either is missing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from kernel_helpers import (
    errors,
    eval_text,
    execute,
    of_type,
    result_data,
    stream_text,
    wait_for_shell_reply,
)
from ssh_helpers import (  # noqa: F401 (sshd_server: the fixture `sshd`)
    GONE,
    PNG_HEX,
    SSH_HOST,
    START,
    describe,
    gone,
    needs_sshd,
    sshd_server,
    wait_for_line,
)

KERNEL_NAME = "pyo3_ssh"
# The reference: ipykernel under gateway_provisioners' own launcher (launch_ipykernel.py),
# as `jupyter-ssh-spec install` writes it.
IPYKERNEL_NAME = "ipykernel_ssh"
# What ipykernel 7 does there (seen here, 2026-12): after the gateway's shutdown request
# (restart or shutdown) the old kernel process is still running 20 s later, until the
# provisioner's SIGTERM; pyo3-kernel's is gone within a second.
IPYKERNEL_LINGERS = pytest.mark.xfail(
    reason="ipykernel under launch_ipykernel.py outlives the gateway's shutdown request",
    strict=False,
)
pytestmark = needs_sshd


@pytest.fixture(scope="module")
def gateway(sshd: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The provisioner's side: its settings (environment variables, read when
    gateway_provisioners is imported, as Enterprise Gateway's deployments set them) and
    the kernelspec written by ``pyo3-kernel install --remote-hosts``."""
    prefix = tmp_path_factory.mktemp("kernelspecs")
    logs = tmp_path_factory.mktemp("kernel-logs")
    launcher = Path(sys.executable).with_name("pyo3-kernel")
    subprocess.run(
        [
            str(launcher),
            "install",
            "--prefix",
            str(prefix),
            "--remote-hosts",
            SSH_HOST,
            "--kernel-ip",
            SSH_HOST,  # loopback only: nothing here listens on the machine's network
            "--env",
            f"IPYTHONDIR={os.environ['IPYTHONDIR']}",
        ],
        check=True,
    )
    install_ipykernel_reference(prefix)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(sshd["home"]))
        mp.setenv("GP_SSH_PORT", str(sshd["port"]))
        mp.setenv("GP_RESPONSE_IP", "127.0.0.1")
        mp.setenv("GP_KERNEL_LOG_DIR", str(logs))
        # gateway_provisioners refuses kernels for root unless told who the user is.
        mp.setenv("KERNEL_USERNAME", "pyo3-tester")
        from gateway_provisioners import distributed, response_manager

        # Read at import: set here too in case another test imported it first.
        mp.setattr(distributed, "ssh_port", sshd["port"])
        mp.setattr(distributed, "kernel_log_dir", str(logs))
        mp.setattr(response_manager, "response_ip", "127.0.0.1")
        yield prefix / "share" / "jupyter" / "kernels"


def install_ipykernel_reference(prefix: Path) -> None:
    subprocess.run(
        [
            str(Path(sys.executable).with_name("jupyter-ssh-spec")),
            "install",
            "--prefix",
            str(prefix),
            "--kernel-name",
            IPYKERNEL_NAME,
            "--remote-hosts",
            SSH_HOST,
        ],
        check=True,
        capture_output=True,
    )
    spec_file = prefix / "share" / "jupyter" / "kernels" / IPYKERNEL_NAME / "kernel.json"
    spec = json.loads(spec_file.read_text())
    # Its argv starts with `python`, which over SSH is not this environment's.
    spec["argv"][0] = sys.executable
    spec["env"] = {"IPYTHONDIR": os.environ["IPYTHONDIR"]}
    spec_file.write_text(json.dumps(spec))


class Remote:
    """A kernel started by the DistributedProvisioner, and a client of it."""

    def __init__(self, kernels: Path, name: str = KERNEL_NAME, **manager: Any) -> None:
        ksm = KernelSpecManager(kernel_dirs=[str(kernels)])
        self.km = KernelManager(kernel_name=name, kernel_spec_manager=ksm, **manager)
        self.km.start_kernel()
        self.kc = self.connect()

    def connect(self) -> Any:
        kc = self.km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=START)
        return kc

    def reconnect(self) -> None:
        """After a restart: a remote kernel comes back on new ports."""
        self.kc.stop_channels()
        self.kc = self.connect()

    @property
    def pid(self) -> int:
        return int(self.km.provisioner.pid)  # type: ignore[union-attr]

    def listener(self) -> psutil.Process:
        found = [
            child
            for child in psutil.Process(self.pid).children()
            if "pyo3_kernel.gateway_listener" in " ".join(child.cmdline())
        ]
        assert len(found) == 1, found
        return found[0]

    def close(self) -> None:
        self.kc.stop_channels()
        if self.km.has_kernel:
            self.km.shutdown_kernel(now=True)


def _wait_dead(km: KernelManager, timeout: float = GONE) -> None:
    """The manager sees the kernel dead (the provisioner's poll is refused)."""
    deadline = time.monotonic() + timeout
    while km.is_alive():
        assert time.monotonic() < deadline, "the kernel manager still sees the kernel alive"
        time.sleep(0.2)


@pytest.fixture(scope="module", params=[KERNEL_NAME, IPYKERNEL_NAME])
def remote(gateway: Path, request: pytest.FixtureRequest) -> Iterator[Remote]:
    """One kernel for the tests that follow each other (cells, interrupt, restart): ours,
    then ipykernel, so any difference between the two shows."""
    kernel = Remote(gateway, request.param)
    try:
        yield kernel
    finally:
        pids = [kernel.pid]
        kernel.close()
        gone(pids)


def test_the_kernel_runs_cells_started_over_ssh(remote: Remote, sshd: dict[str, Any]) -> None:
    reply, outputs = execute(remote.kc, "import os\nx = 41\nprint('hi')\nx + 1")
    assert reply["status"] == "ok"
    assert result_data(outputs) == {"text/plain": "42"}
    assert stream_text(outputs) == "hi\n"
    # The process the provisioner started (its pid came back over SSH from `echo $!`)
    # is the kernel itself: pyo3-kernel launch serves in the process it was started as.
    assert int(eval_text(remote.kc, "os.getpid()")) == remote.pid
    wait_for_line(sshd["log"], "Accepted publickey", START)  # it came over SSH


def test_rich_output_arrives(remote: Remote) -> None:
    code = (
        "from IPython.display import HTML, Image, display\n"
        "display(HTML('<b>bold</b>'))\n"
        f"display(Image(data=bytes.fromhex('{PNG_HEX}'), format='png'))"
    )
    reply, outputs = execute(remote.kc, code)
    assert reply["status"] == "ok"
    displays = [content["data"] for content in of_type(outputs, "display_data")]
    assert displays[0]["text/html"] == "<b>bold</b>"
    assert "image/png" in displays[1]


def test_an_error_keeps_the_namespace(remote: Remote) -> None:
    reply, outputs = execute(remote.kc, "1 / 0")
    assert reply["status"] == "error"
    assert errors(outputs)[0]["ename"] == "ZeroDivisionError"
    assert eval_text(remote.kc, "x") == "41"


def test_interrupt_goes_through_the_launcher(remote: Remote) -> None:
    msg_id = remote.kc.execute("import time\ntime.sleep(30)")
    # Wait until the cell runs (busy on IOPub and its execute_input), then interrupt.
    deadline = time.monotonic() + START
    while True:
        msg = remote.kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "execute_input":
            break
    started = time.monotonic()
    remote.km.interrupt_kernel()  # the provisioner sends {"signum": 2} to the comm port
    while True:
        msg = remote.kc.get_iopub_msg(timeout=15)
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "error":
            break
    assert msg["content"]["ename"] == "KeyboardInterrupt"
    assert time.monotonic() - started < 15
    # (Requests sent before the interrupted cell's reply would be aborted, as in ipykernel.)
    assert wait_for_shell_reply(remote.kc, msg_id)["content"]["status"] == "error"
    assert eval_text(remote.kc, "x") == "41"


def test_restart_starts_a_fresh_kernel_and_ends_the_old(
    remote: Remote, request: pytest.FixtureRequest
) -> None:
    if remote.km.kernel_name == IPYKERNEL_NAME:
        request.applymarker(IPYKERNEL_LINGERS)
    old = [remote.pid, *(child.pid for child in psutil.Process(remote.pid).children())]
    remote.km.restart_kernel()
    remote.reconnect()
    assert remote.pid not in old
    assert gone(old) == [], "the old kernel or its listener is still running"
    _, outputs = execute(remote.kc, "x")
    assert errors(outputs)[0]["ename"] == "NameError"
    assert eval_text(remote.kc, "y = 2\ny * 21") == "42"


@pytest.mark.parametrize(
    ("name", "now"),
    [
        (KERNEL_NAME, False),
        # now=True: no shutdown_request; the provisioner's SIGTERM through the listener.
        (KERNEL_NAME, True),
        pytest.param(IPYKERNEL_NAME, False, marks=IPYKERNEL_LINGERS),
    ],
)
def test_shutdown_leaves_no_process_behind(gateway: Path, name: str, now: bool) -> None:
    kernel = Remote(gateway, name)
    pids = [kernel.pid]
    execute(kernel.kc, "import subprocess\np = subprocess.Popen(['sleep', '300'])")
    pids += [child.pid for child in psutil.Process(kernel.pid).children(recursive=True)]
    kernel.kc.stop_channels()
    kernel.km.shutdown_kernel(now=now)
    assert not kernel.km.is_alive()
    left = gone(pids)
    assert left == [], f"processes left after the gateway shut the kernel down: {describe(left)}"


def test_a_kernel_whose_listener_dies_ends_itself(gateway: Path) -> None:
    """With its listener gone, nobody can interrupt or stop the kernel through the
    gateway, whose polls are now refused (it counts the kernel dead and may start
    another): the kernel ends rather than linger unmanaged."""
    kernel = Remote(gateway)
    try:
        pid = kernel.pid
        kernel.listener().kill()
        _wait_dead(kernel.km)
        assert gone([pid]) == [], "the kernel outlived its launcher's listener"
    finally:
        kernel.close()


def test_a_killed_kernel_is_seen_dead_and_cleaned_up(gateway: Path) -> None:
    kernel = Remote(gateway)
    try:
        listener = kernel.listener().pid
        os.kill(kernel.pid, signal.SIGKILL)
        _wait_dead(kernel.km)
        assert gone([listener]) == [], "the listener outlived its kernel"
    finally:
        kernel.close()


def test_transport_encryption_the_manager_requires(gateway: Path) -> None:
    """jupyter_client's transport_encryption="required": the launcher makes CurveZMQ
    keys (the kernelspec says it supports them), the kernel's sockets use them."""
    kernel = Remote(gateway, transport_encryption="required")
    try:
        info = kernel.km.get_connection_info()
        assert len(info["curve_publickey"]) == 40
        assert eval_text(kernel.kc, "6 * 7") == "42"
    finally:
        kernel.close()


def test_ports_stay_in_the_gateway_port_range(
    gateway: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GP_PORT_RANGE (a firewall's open range): the kernel's five ports and the comm
    port are all in it."""
    low, high = 42000, 43500
    monkeypatch.setenv("GP_PORT_RANGE", f"{low}..{high}")
    kernel = Remote(gateway)
    try:
        info = kernel.km.get_connection_info()
        ports = [info[f"{channel}_port"] for channel in ("shell", "iopub", "stdin", "control")]
        ports += [info["hb_port"], kernel.km.provisioner.comm_port]  # type: ignore[union-attr]
        assert all(low <= port <= high for port in ports), ports
        assert eval_text(kernel.kc, "1 + 1") == "2"
    finally:
        kernel.close()


def test_the_kernelspec_is_what_install_wrote(gateway: Path) -> None:
    spec = json.loads((gateway / KERNEL_NAME / "kernel.json").read_text())
    assert spec["metadata"]["kernel_provisioner"] == {
        "provisioner_name": "distributed-provisioner",
        "config": {"remote_hosts": [SSH_HOST]},
    }
    assert spec["argv"][1:3] == ["launch", "--kernel-id"]
