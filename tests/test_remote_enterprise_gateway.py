"""Enterprise Gateway 3 starting the kernel on another host over SSH.

`jupyter enterprisegateway` (its own venv: it pins jupyter_client<7, jupyter_server<2;
`make test-deps` makes .venv-enterprise-gateway) serves a kernelspec written by
``pyo3-kernel install --remote-hosts 127.0.0.2 --enterprise-gateway``: its
DistributedProcessProxy ssh-es to the sshd this module starts (tests/ssh_helpers.py) and
runs ``pyo3-kernel launch`` there, from this repository's .venv as a remote host would.
A client then uses the gateway's REST and websocket API, as JupyterLab with
``--gateway-url`` does: cells, busy/idle around each request (what Enterprise Gateway's
images pin ipykernel<7 for), rich output, an interrupt, a restart, and a delete that
leaves no process behind.
"""

from __future__ import annotations

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
from gateway_helpers import CELL, Execution, KernelChannels, rest_call
from ssh_helpers import (  # noqa: F401 (sshd_server: the fixture `sshd`)
    GONE,
    PNG_HEX,
    SSH_HOST,
    START,
    describe,
    free_port,
    gone,
    needs_sshd,
    sshd_server,
    wait_for_line,
)

ROOT = Path(__file__).resolve().parent.parent
GATEWAY = ROOT / ".venv-enterprise-gateway" / "bin" / "jupyter-enterprisegateway"
KERNEL_NAME = "pyo3_ssh"
TOKEN = "pyo3-kernel-eg-test-token"

pytestmark = [
    needs_sshd,
    pytest.mark.skipif(
        not GATEWAY.exists(),
        reason=f"needs Enterprise Gateway in {GATEWAY.parent.parent} (make test-deps)",
    ),
]


@pytest.fixture(scope="module")
def gateway(sshd: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A running Enterprise Gateway on loopback; yields its base URL."""
    root = tmp_path_factory.mktemp("enterprise-gateway")
    subprocess.run(
        [
            str(Path(sys.executable).with_name("pyo3-kernel")),
            "install",
            "--prefix",
            str(root),
            "--remote-hosts",
            SSH_HOST,
            "--kernel-ip",
            SSH_HOST,
            "--enterprise-gateway",
            "--env",
            f"IPYTHONDIR={os.environ['IPYTHONDIR']}",
        ],
        check=True,
        capture_output=True,
    )
    port = free_port("127.0.0.1")
    env = {
        **os.environ,
        "HOME": str(sshd["home"]),  # the client key and known_hosts paramiko reads
        "JUPYTER_PATH": str(root / "share" / "jupyter"),
        "JUPYTER_RUNTIME_DIR": str(root / "runtime"),
        "EG_SSH_PORT": str(sshd["port"]),
        "EG_RESPONSE_IP": "127.0.0.1",
        "EG_RESPONSE_PORT": str(free_port("127.0.0.1")),
        "EG_KERNEL_LOG_DIR": str(root),
    }
    log = root / "gateway.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [
                str(GATEWAY),
                "--ip=127.0.0.1",
                f"--port={port}",
                "--port_retries=0",
                f"--EnterpriseGatewayApp.auth_token={TOKEN}",
                f"--EnterpriseGatewayApp.default_kernel_name={KERNEL_NAME}",
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_line(log, "is available at", START)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if os.environ.get("PYO3_SHOW_GATEWAY_LOG"):
            print(log.read_text())


def rest(url: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    status, answer = rest_call(url, method, path, body, TOKEN, CELL)
    assert status < 300, (method, path, status, answer)
    return answer


def result_text(execution: Execution) -> str:
    (result,) = execution.of_type("execute_result")
    return str(result["data"]["text/plain"])


def connect(url: str, kernel_id: str) -> KernelChannels:
    return KernelChannels(url.replace("http", "ws", 1), TOKEN, kernel_id)


class Kernel:
    def __init__(self, url: str) -> None:
        self.url = url
        # Enterprise Gateway refuses kernels for root unless told who the user is.
        body = {"name": KERNEL_NAME, "env": {"KERNEL_USERNAME": "pyo3-tester"}}
        self.id = rest(url, "POST", "/api/kernels", body)["id"]
        self.channels = connect(url, self.id)
        self.pid = int(result_text(self.channels.execute("import os\nos.getpid()")))

    def delete(self) -> None:
        self.channels.close()
        rest(self.url, "DELETE", f"/api/kernels/{self.id}")


@pytest.fixture(scope="module")
def kernel(gateway: str) -> Iterator[Kernel]:
    started = Kernel(gateway)
    try:
        yield started
    finally:
        started.delete()


def test_cells_run_with_busy_and_idle_around_each(kernel: Kernel, sshd: dict[str, Any]) -> None:
    for code, expected in (("x = 41\nx + 1", "42"), ("print('hi')\nx", "41")):
        execution = kernel.channels.execute(code)
        assert execution.states == ["busy", "idle"]
        assert execution.reply is not None and execution.reply["status"] == "ok"
        assert result_text(execution) == expected
    assert execution.of_type("stream")[0]["text"] == "hi\n"
    assert rest(kernel.url, "GET", f"/api/kernels/{kernel.id}")["execution_state"] == "idle"
    wait_for_line(sshd["log"], "Accepted publickey", START)  # it came over SSH


def test_rich_output_arrives(kernel: Kernel) -> None:
    execution = kernel.channels.execute(
        "from IPython.display import HTML, Image, display\n"
        "display(HTML('<b>bold</b>'))\n"
        f"display(Image(data=bytes.fromhex('{PNG_HEX}'), format='png'))"
    )
    html, png = (content["data"] for content in execution.of_type("display_data"))
    assert html["text/html"] == "<b>bold</b>"
    assert "image/png" in png


def test_interrupt_through_the_gateway(kernel: Kernel) -> None:
    sleeper = kernel.channels.start_execute("import time\nprint('go', flush=True)\ntime.sleep(30)")
    kernel.channels.follow([sleeper], lambda: bool(sleeper.outputs), CELL, "the cell to run")
    started = time.monotonic()
    rest(kernel.url, "POST", f"/api/kernels/{kernel.id}/interrupt")
    kernel.channels.follow([sleeper], lambda: sleeper.done, 15, "the interrupted reply")
    assert time.monotonic() - started < 15
    assert sleeper.of_type("error")[0]["ename"] == "KeyboardInterrupt"
    assert result_text(kernel.channels.execute("x")) == "41"


def test_restart_gives_a_fresh_kernel(kernel: Kernel) -> None:
    old = kernel.pid
    rest(kernel.url, "POST", f"/api/kernels/{kernel.id}/restart")
    # A remote kernel comes back on new ports: JupyterLab reconnects its websocket
    # after a restart, and so does this client.
    kernel.channels.close()
    kernel.channels = connect(kernel.url, kernel.id)
    kernel.pid = int(result_text(kernel.channels.execute("import os\nos.getpid()")))
    assert kernel.pid != old
    assert gone([old]) == [], describe([old])
    assert kernel.channels.execute("x").of_type("error")[0]["ename"] == "NameError"


def test_delete_leaves_no_process_behind(gateway: str) -> None:
    started = Kernel(gateway)
    started.channels.execute("import subprocess\np = subprocess.Popen(['sleep', '300'])")
    pids = [started.pid, *(c.pid for c in psutil.Process(started.pid).children(recursive=True))]
    started.delete()
    assert gone(pids, GONE) == [], describe(pids)
