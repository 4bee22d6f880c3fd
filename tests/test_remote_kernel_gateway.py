"""Jupyter Kernel Gateway serves the pyo3 kernel as it is: no change to the kernel.

A real `jupyter kernelgateway` (its default kernel pyo3, a token, its own runtime
directory) starts kernels for clients that only speak HTTP and websockets:

* through its REST API and the websocket of /api/kernels/{id}/channels (Jupyter messages
  as JSON, with a `channel` field), on pyo3 and on ipykernel (`python3`, the reference:
  a test failing only on pyo3 is a difference a gateway user would meet): cells run,
  execute_result, display_data (text/html, image/png), stream, error replies that keep
  the namespace, an interrupt (POST .../interrupt) that ends `time.sleep(30)` with
  KeyboardInterrupt, a restart (POST .../restart) that empties the namespace, DELETE
  that ends the kernel process, a kernel started with the stripped environment that
  JupyterLab's gateway client asks for;
* and JupyterLab started with `--gateway-url` on that gateway, in headless Chromium
  (Playwright): a notebook on pyo3 runs cells (text, HTML), the toolbar's stop button
  interrupts a sleeping cell, the Kernel menu restarts the kernel. Screenshots go to
  test-artifacts/jupyterlab-gateway/ at the repository root.

Stopping the gateway (SIGTERM) must leave no kernel process (pyo3-kernel-host) behind.
Needs jupyter_kernel_gateway, websocket-client and psutil (skipped, with the reason,
without them), and for the JupyterLab test jupyterlab, pip's playwright and Debian's
`chromium` (tools/install_system_deps.sh). Every wait is bounded and ends on the message,
HTTP answer, process state or DOM state that proves the behaviour.
"""

from __future__ import annotations

import base64
import importlib.util
import os
import signal
import socket
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fidelity_helpers import KERNELS
from gateway_helpers import CELL, KernelChannels, rest_call
from kernel_helpers import strip_ansi

pytest.importorskip(
    "kernel_gateway", reason="jupyter_kernel_gateway is not installed: pip install it"
)
websocket = pytest.importorskip(
    "websocket", reason="websocket-client is not installed: pip install websocket-client"
)
psutil = pytest.importorskip("psutil", reason="psutil is not installed: pip install psutil")

# The JupyterLab test alone needs these; the gateway tests run without them.
LAB_MISSING = [
    name for name in ("playwright", "jupyterlab") if importlib.util.find_spec(name) is None
]
if not LAB_MISSING:
    import lab_helpers
    from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "jupyterlab-gateway"
KG_TOKEN = "pyo3-kernel-gateway-test-token"
# What the pyo3-kernel launcher execs (keeping its argv; the kernel's comm name is cut to
# 15 characters), so a kernel process is known by its executable.
HOST_PROCESS = "pyo3-kernel-host"
# A variable of the gateway's environment: a kernel started with an `env` in its request
# must not see it (the gateway passes PATH, whitelisted and KERNEL_ variables only).
SENTINEL = "PYO3_GATEWAY_TEST_SENTINEL"

# Bounds, in seconds, for a loaded 2-core machine; each wait ends as soon as it can.
GATEWAY_START = 60  # `jupyter kernelgateway` answers /api
GATEWAY_STOP = 30  # SIGTERM to exit (it shuts its kernels down first)
HTTP = 60  # one REST call (POST /api/kernels and /restart wait for the kernel process)
INTERRUPTED = 10  # POST .../interrupt to KeyboardInterrupt (the cell sleeps 30 s)
PROCESS_STATE = 20  # a kernel process to appear, or to exit (DELETE, the gateway's exit)


# --------------------------------------------------------------------------- gateway


@dataclass
class Gateway:
    """A running `jupyter kernelgateway`."""

    url: str
    process: subprocess.Popen
    runtime_dir: Path
    log_path: Path

    @property
    def ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http")

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def gateway_request(
    gateway: Gateway, method: str, path: str, body: Any = None, token: str | None = KG_TOKEN
) -> tuple[int, Any]:
    """``(status, decoded JSON body or None)`` of one REST call to this gateway."""
    return rest_call(gateway.url, method, path, body, token, HTTP)


def wait_for_gateway_api(gateway: Gateway) -> None:
    deadline = time.monotonic() + GATEWAY_START
    while True:
        assert gateway.process.poll() is None, (
            f"jupyter kernelgateway exited ({gateway.process.returncode}):\n{gateway.log_text()}"
        )
        try:
            status, body = gateway_request(gateway, "GET", "/api")
            if status == 200 and "version" in body:
                return
        except OSError:  # not listening yet
            pass
        assert time.monotonic() < deadline, (
            f"jupyter kernelgateway not up in {GATEWAY_START} s:\n{gateway.log_text()}"
        )
        time.sleep(0.25)


def descendants(process: subprocess.Popen) -> list[Any]:
    """The live processes below ``process`` (its kernels, and what they started)."""
    try:
        return psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def running(proc: Any) -> bool:
    """Whether ``proc`` still runs (a zombie has exited: only its parent has to reap it)."""
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_until_gone(procs: list[Any], timeout: float = PROCESS_STATE) -> list[Any]:
    """Poll until none of ``procs`` runs; the ones still running at the deadline."""
    deadline = time.monotonic() + timeout
    while (alive := [p for p in procs if running(p)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive


def program(proc: Any) -> str:
    """The file name of the executable ``proc`` runs."""
    return Path(proc.exe()).name


def describe(procs: list[Any]) -> list[str]:
    described = []
    for proc in procs:
        try:
            described.append(f"{proc.pid} {program(proc)} {' '.join(proc.cmdline())}")
        except psutil.Error:
            described.append(f"{proc.pid} (gone)")
    return described


def hosts_started_by(gateway: Gateway) -> list[Any]:
    """Every running pyo3-kernel-host of this gateway, wherever it was reparented: its
    command line names a connection file in the gateway's runtime directory."""
    found = []
    for proc in psutil.process_iter(["exe", "cmdline"]):
        executable, cmdline = proc.info["exe"] or "", " ".join(proc.info["cmdline"] or [])
        if Path(executable).name == HOST_PROCESS and str(gateway.runtime_dir) in cmdline:
            if running(proc):
                found.append(proc)
    return found


def stop_gateway(gateway: Gateway) -> None:
    """SIGTERM (the gateway shuts its kernels down, then exits), a bounded wait, then
    SIGKILL of its process group; then assert that no kernel process outlived it."""
    kernels = descendants(gateway.process)
    if gateway.process.poll() is None:
        gateway.process.send_signal(signal.SIGTERM)
        try:
            gateway.process.wait(timeout=GATEWAY_STOP)
        except subprocess.TimeoutExpired:
            os.killpg(gateway.process.pid, signal.SIGKILL)
            gateway.process.wait(timeout=10)
            for proc in wait_until_gone(kernels, timeout=0):
                proc.kill()
            raise AssertionError(
                f"jupyter kernelgateway still ran {GATEWAY_STOP} s after SIGTERM (killed):\n"
                f"{gateway.log_text()}"
            ) from None
    survivors = wait_until_gone(kernels) + hosts_started_by(gateway)
    for proc in survivors:
        proc.kill()  # so that a failed run leaves nothing behind either
    assert not survivors, (
        f"kernel processes outlived the gateway: {describe(survivors)}\n{gateway.log_text()}"
    )


@contextmanager
def running_gateway(base: Path, log_path: Path) -> Iterator[Gateway]:
    """`jupyter kernelgateway` on a free port of 127.0.0.1, up once /api answers;
    stopped on exit (see :func:`stop_gateway`)."""
    port = free_port()
    runtime_dir = base / "runtime"
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(runtime_dir), **{SENTINEL: "1"})
    command = [
        str(Path(sys.executable).parent / "jupyter"),
        "kernelgateway",
        "--KernelGatewayApp.ip=127.0.0.1",
        f"--KernelGatewayApp.port={port}",
        "--KernelGatewayApp.port_retries=0",
        f"--KernelGatewayApp.auth_token={KG_TOKEN}",
        "--KernelGatewayApp.default_kernel_name=pyo3",
        # GET /api/kernels: JupyterLab's gateway client lists the kernels; so do the tests.
        "--JupyterWebsocketPersonality.list_kernels=True",
        # Kernels started with an `env` (JupyterLab's are) keep their IPython history in
        # the tests' private directory (conftest.py), not in ~/.ipython.
        "--KernelGatewayApp.env_process_whitelist=IPYTHONDIR",
    ]
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command,
            cwd=base,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group, for the SIGKILL fallback
        )
        gateway = Gateway(f"http://127.0.0.1:{port}", process, runtime_dir, log_path)
        try:
            wait_for_gateway_api(gateway)
            yield gateway
        finally:
            stop_gateway(gateway)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    base = tmp_path_factory.mktemp("kernel-gateway")
    with running_gateway(base, base / "gateway.log") as gw:
        yield gw


@pytest.fixture(autouse=True)
def _gateway_log_on_failure(request: pytest.FixtureRequest, gateway: Gateway) -> Iterator[None]:
    """After a failed test, print what the gateway logged during it: pytest shows it
    with the failure, as the test's captured teardown output."""
    start = len(gateway.log_text())
    failed_before = request.session.testsfailed
    yield
    if request.session.testsfailed > failed_before:
        print(f"--- gateway log during {request.node.name} ---")
        print(gateway.log_text()[start:] or "(nothing)")


# --------------------------------------------------------------------------- kernels


@dataclass
class RemoteKernel:
    """A kernel the gateway started: its id, kernelspec name, websocket, process."""

    gateway: Gateway
    id: str
    name: str
    channels: KernelChannels
    process: Any

    def eval(self, expression: str) -> str:
        """The text/plain of ``expression``'s execute_result (the cell must succeed)."""
        execution = self.channels.execute(expression)
        assert execution.reply and execution.reply["status"] == "ok", (
            f"{expression!r} failed: {execution.reply!r} {execution.of_type('error')!r}"
        )
        results = execution.of_type("execute_result")
        assert len(results) == 1, f"{expression!r}: execute_results {results!r}"
        return results[0]["data"]["text/plain"]


def kernel_process(gateway: Gateway, kernel_id: str) -> Any:
    """The gateway's running child process of kernel ``kernel_id``: its command line
    names the connection file kernel-<id>.json (kept across restarts)."""
    deadline = time.monotonic() + PROCESS_STATE
    while True:
        for proc in descendants(gateway.process):
            try:
                names_it = any(f"kernel-{kernel_id}.json" in arg for arg in proc.cmdline())
                if names_it and running(proc):
                    return proc
            except psutil.Error:
                continue
        assert time.monotonic() < deadline, (
            f"no process of kernel {kernel_id} under the gateway: "
            f"{describe(descendants(gateway.process))}"
        )
        time.sleep(0.1)


def start_remote_kernel(gateway: Gateway, body: dict) -> RemoteKernel:
    status, model = gateway_request(gateway, "POST", "/api/kernels", body)
    assert status == 201, f"POST /api/kernels {body!r}: {status} {model!r}"
    process = kernel_process(gateway, model["id"])
    try:
        channels = KernelChannels(gateway.ws_url, KG_TOKEN, model["id"])
    except BaseException:
        gateway_request(gateway, "DELETE", f"/api/kernels/{model['id']}")
        raise
    return RemoteKernel(gateway, model["id"], model["name"], channels, process)


def delete_remote_kernel(kernel: RemoteKernel) -> int:
    """DELETE the kernel (after closing its websocket); the HTTP status."""
    kernel.channels.close()
    status, _ = gateway_request(kernel.gateway, "DELETE", f"/api/kernels/{kernel.id}")
    return status


@contextmanager
def remote_kernel(gateway: Gateway, body: dict) -> Iterator[RemoteKernel]:
    kernel = start_remote_kernel(gateway, body)
    try:
        yield kernel
    finally:
        delete_remote_kernel(kernel)


@pytest.fixture(scope="module", params=KERNELS)
def shared(request: pytest.FixtureRequest, gateway: Gateway) -> Iterator[RemoteKernel]:
    """A kernel of each kind started through the gateway, shared by the module's tests."""
    with remote_kernel(gateway, {"name": request.param}) as kernel:
        yield kernel


@pytest.fixture(params=KERNELS)
def fresh(request: pytest.FixtureRequest, gateway: Gateway) -> Iterator[RemoteKernel]:
    """A kernel of each kind started through the gateway for one test."""
    with remote_kernel(gateway, {"name": request.param}) as kernel:
        yield kernel


def tiny_png() -> bytes:
    """A valid 2x1 RGB PNG, built here so that the test knows every byte of it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 2, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + bytes([255, 0, 0, 0, 0, 255]))
    signature = b"\x89PNG\r\n\x1a\n"
    return signature + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


# --------------------------------------------------------------------------- REST + websocket


def test_kernelspecs_list_pyo3_as_the_default(gateway: Gateway) -> None:
    status, specs = gateway_request(gateway, "GET", "/api/kernelspecs")
    assert status == 200, specs
    assert specs["default"] == "pyo3"
    assert {"pyo3", "python3"} <= set(specs["kernelspecs"]), sorted(specs["kernelspecs"])
    spec = specs["kernelspecs"]["pyo3"]["spec"]
    assert (spec["display_name"], spec["language"]) == ("Python 3 (PyO3)", "python")
    # The token is in force: without it, nothing.
    assert gateway_request(gateway, "GET", "/api/kernelspecs", token=None)[0] == 401


def test_a_kernel_started_without_a_name_is_pyo3(gateway: Gateway) -> None:
    with remote_kernel(gateway, {}) as kernel:
        assert kernel.name == "pyo3"
        assert program(kernel.process) == HOST_PROCESS
        assert kernel.eval("import sys; sys.version_info[0]") == "3"


def test_cells_give_execute_results(shared: RemoteKernel) -> None:
    assert shared.eval("1 + 1") == "2"
    assert shared.eval("kept = [1, 2, 3]; sum(kept) * 7") == "42"
    assert shared.eval("kept") == "[1, 2, 3]"


def test_html_and_png_arrive_as_display_data(shared: RemoteKernel) -> None:
    png = tiny_png()
    html = "<table><tr><td>served through the gateway</td></tr></table>"
    code = (
        "import base64\n"
        "from IPython.display import HTML, Image, display\n"
        f"display(HTML({html!r}))\n"
        f"display(Image(data=base64.b64decode({base64.b64encode(png).decode()!r})))\n"
    )
    execution = shared.channels.execute(code)
    assert execution.reply and execution.reply["status"] == "ok", execution
    shown = execution.of_type("display_data")
    assert len(shown) == 2, execution.outputs
    assert shown[0]["data"]["text/html"] == html
    assert "text/plain" in shown[0]["data"]
    # On the wire the PNG is base64 text; decoded, the very bytes the cell displayed.
    assert base64.b64decode(shown[1]["data"]["image/png"]) == png
    assert not execution.of_type("execute_result")


def test_print_arrives_as_stream(shared: RemoteKernel) -> None:
    execution = shared.channels.execute(
        "import sys\nprint('to stdout', 6 * 7)\nprint('to stderr', file=sys.stderr)"
    )
    assert execution.reply and execution.reply["status"] == "ok", execution
    streams = execution.of_type("stream")

    def text(name: str) -> str:
        return "".join(s["text"] for s in streams if s["name"] == name)

    assert text("stdout") == "to stdout 42\n", streams
    assert text("stderr") == "to stderr\n", streams


def test_an_error_replies_error_and_keeps_the_namespace(shared: RemoteKernel) -> None:
    assert shared.eval("before_error = 'still here'; before_error") == "'still here'"
    execution = shared.channels.execute("def fails():\n    return 1 / 0\n\nfails()")
    reply = execution.reply
    assert reply and reply["status"] == "error", execution
    assert (reply["ename"], reply["evalue"]) == ("ZeroDivisionError", "division by zero")
    errors = execution.of_type("error")
    assert len(errors) == 1 and errors[0]["ename"] == "ZeroDivisionError", execution.outputs
    traceback = strip_ansi("\n".join(errors[0]["traceback"]))
    assert "return 1 / 0" in traceback, traceback
    assert shared.eval("before_error") == "'still here'"
    assert shared.eval("fails.__name__") == "'fails'"


def test_interrupt_ends_a_sleep_with_keyboard_interrupt(shared: RemoteKernel) -> None:
    assert shared.eval("before_sleep = 'kept'; before_sleep") == "'kept'"
    channels = shared.channels
    sleeper = channels.start_execute("import time\nprint('sleeping', flush=True)\ntime.sleep(30)")
    # The cell runs (its print arrived) before the interrupt is sent.
    channels.follow(
        [sleeper],
        lambda: "sleeping" in "".join(s["text"] for s in sleeper.of_type("stream")),
        CELL,
        "the sleeping cell to print",
    )
    sent = time.monotonic()
    status, body = gateway_request(shared.gateway, "POST", f"/api/kernels/{shared.id}/interrupt")
    assert status == 204, body
    channels.follow([sleeper], lambda: sleeper.done, INTERRUPTED, "KeyboardInterrupt")
    took = time.monotonic() - sent
    reply = sleeper.reply
    assert reply and (reply["status"], reply["ename"]) == ("error", "KeyboardInterrupt"), reply
    errors = sleeper.of_type("error")
    assert [e["ename"] for e in errors] == ["KeyboardInterrupt"], sleeper.outputs
    assert took < INTERRUPTED, f"KeyboardInterrupt {took:.1f} s after the interrupt"
    assert shared.eval("before_sleep") == "'kept'"
    assert shared.eval("time.__name__") == "'time'"


def test_restart_empties_the_namespace(fresh: RemoteKernel) -> None:
    assert fresh.eval("before_restart = 41; before_restart + 1") == "42"
    status, model = gateway_request(fresh.gateway, "POST", f"/api/kernels/{fresh.id}/restart")
    assert status == 200, model
    assert (model["id"], model["name"]) == (fresh.id, fresh.name)
    # The same websocket serves the restarted kernel (same id, new process).
    fresh.channels.wait_ready()
    execution = fresh.channels.execute("before_restart")
    reply = execution.reply
    assert reply and (reply["status"], reply["ename"]) == ("error", "NameError"), execution
    assert "before_restart" in reply["evalue"]
    assert fresh.eval("after_restart = 'new'; after_restart") == "'new'"
    assert not running(fresh.process), "the kernel process from before the restart runs"
    assert running(kernel_process(fresh.gateway, fresh.id))


@pytest.mark.parametrize("name", KERNELS)
def test_delete_ends_the_kernel_process(gateway: Gateway, name: str) -> None:
    kernel = start_remote_kernel(gateway, {"name": name})
    assert kernel.eval("6 * 7") == "42"
    processes = [kernel.process, *kernel.process.children(recursive=True)]
    assert delete_remote_kernel(kernel) == 204
    assert gateway_request(gateway, "GET", f"/api/kernels/{kernel.id}")[0] == 404
    _, listed = gateway_request(gateway, "GET", "/api/kernels")
    assert kernel.id not in [k["id"] for k in listed]
    assert not wait_until_gone(processes), f"still running: {describe(processes)}"


@pytest.mark.parametrize("name", KERNELS)
def test_a_kernel_started_with_a_stripped_environment_works(gateway: Gateway, name: str) -> None:
    """JupyterLab's gateway client sends an `env` in POST /api/kernels; the gateway then
    gives the kernel PATH, whitelisted and KERNEL_ variables only (no HOME, ...)."""
    body = {"name": name, "env": {"KERNEL_USERNAME": "gateway-user"}}
    with remote_kernel(gateway, body) as kernel:
        assert kernel.eval("import os; os.environ['KERNEL_USERNAME']") == "'gateway-user'"
        assert kernel.eval(f"{SENTINEL!r} in os.environ") == "False"
        assert kernel.eval("'HOME' in os.environ") == "False"
        assert kernel.eval("1 + 1") == "2"
        execution = kernel.channels.execute("print('stripped env ok')\n1 / 0")
        assert execution.of_type("stream")[0]["text"] == "stripped env ok\n"
        assert execution.reply and execution.reply["ename"] == "ZeroDivisionError"


def test_stopping_the_gateway_stops_its_kernels(tmp_path: Path) -> None:
    """A gateway of its own, its pyo3 kernel asleep in a cell: SIGTERM ends both (the
    exit of running_gateway asserts that no kernel process outlived the gateway)."""
    with running_gateway(tmp_path, tmp_path / "gateway.log") as gw:
        kernel = start_remote_kernel(gw, {"name": "pyo3"})
        assert program(kernel.process) == HOST_PROCESS
        sleeper = kernel.channels.start_execute(
            "import time\nprint('asleep', flush=True)\ntime.sleep(60)"
        )
        kernel.channels.follow([sleeper], lambda: bool(sleeper.outputs), CELL, "the print")
        processes = [kernel.process, *kernel.process.children(recursive=True)]
        assert all(running(p) for p in processes)
    kernel.channels.close()
    assert not wait_until_gone(processes, timeout=0), describe(processes)


# --------------------------------------------------------------------------- JupyterLab

# The notebook JupyterLab opens: its kernelspec is pyo3, taken from the gateway's list
# (behind --gateway-url the lab server has no kernelspecs or kernels of its own).
LAB_CELLS = [
    "1+1",
    "from IPython.display import HTML\n"
    "HTML('<table><tr><td>HTML served through the gateway</td></tr></table>')",
]


@pytest.fixture(scope="module")
def gateway_lab(
    tmp_path_factory: pytest.TempPathFactory, gateway: Gateway
) -> Iterator[lab_helpers.Lab]:
    if LAB_MISSING:
        pytest.skip(f"{' and '.join(LAB_MISSING)} not installed: pip install them")
    base = tmp_path_factory.mktemp("jupyterlab-gateway")
    root = base / "notebooks"
    root.mkdir()
    lab_helpers.write_pyo3_notebook(root / "gateway.ipynb", LAB_CELLS)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    gateway_args = (
        f"--gateway-url={gateway.url}",
        f"--GatewayClient.auth_token={KG_TOKEN}",
    )
    with lab_helpers.running_lab(base, root, ARTIFACTS / "server.log", gateway_args) as lab:
        yield lab


# JupyterLab opens a kernel's websocket asking for the v1 subprotocol first; behind
# --gateway-url the server refuses it (its gateway proxy forwards the legacy JSON protocol
# only), the browser fails that handshake and retries without a subprotocol. But the
# server had already begun the refused socket's connection to the gateway, and cannot
# cancel it (jupyter_server's GatewayWebSocketConnection.disconnect cancels a tornado
# future, a no-op): the gateway then holds two websockets of the same session, whose
# ZMQ sockets share one identity. After a restart the kernel's ROUTER answers whichever
# reconnects first, often the orphan, and the notebook waits for ever, on ipykernel as on
# pyo3. Kernel sockets opened without a subprotocol skip the refused attempt (the
# protocol spoken is the same legacy one), so the gateway sees one connection.
LEGACY_KERNEL_WEBSOCKETS = """
const NativeWebSocket = window.WebSocket;
window.WebSocket = class extends NativeWebSocket {
  constructor(url, protocols) {
    const kernelChannels = /\\/api\\/kernels\\/[^/]+\\/channels/.test(String(url));
    super(url, kernelChannels ? [] : protocols);
  }
};
"""


@pytest.fixture(scope="module")
def gateway_notebook(gateway_lab: lab_helpers.Lab) -> Iterator[Any]:
    """A page with gateway.ipynb open in JupyterLab, its kernel started and idle."""
    with lab_helpers.chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.add_init_script(LEGACY_KERNEL_WEBSOCKETS)
        page.set_default_timeout(lab_helpers.UI)
        try:
            with lab_helpers.screenshot_on_failure(page, ARTIFACTS, "open-notebook"):
                page.goto(f"{gateway_lab.url}/lab/tree/gateway.ipynb?token={lab_helpers.TOKEN}")
                cells = lab_helpers.code_cells(page)
                expect(cells).to_have_count(len(LAB_CELLS))
                kernel = page.locator(".jp-NotebookPanel-toolbar .jp-KernelName")
                expect(kernel).to_have_text("Python 3 (PyO3)")
                lab_helpers.wait_idle(page)
            yield page
        finally:
            page.close()


def lab_kernel_on_the_gateway(gateway: Gateway, lab: lab_helpers.Lab) -> Any:
    """The process of the notebook's kernel: the gateway's one pyo3 kernel with a
    connection, a pyo3-kernel-host below the gateway (nothing runs below the lab)."""
    _, kernels = gateway_request(gateway, "GET", "/api/kernels")
    connected = [k for k in kernels if k["name"] == "pyo3" and k["connections"] > 0]
    # One kernel, one websocket: the lab server's, for the notebook.
    assert len(connected) == 1 and connected[0]["connections"] == 1, kernels
    process = kernel_process(gateway, connected[0]["id"])
    assert program(process) == HOST_PROCESS
    assert not psutil.Process(lab.process.pid).children(recursive=True)
    return process


def restart_from_the_kernel_menu(page: Any) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text="Kernel").click()
    page.locator(".lm-Menu-itemLabel", has_text="Restart Kernel…").first.click()
    page.locator(".jp-Dialog .jp-mod-accept", has_text="Restart").click()
    expect(page.locator(".jp-Dialog")).to_have_count(0)


def test_jupyterlab_runs_a_notebook_on_the_gateway(
    gateway: Gateway, gateway_lab: lab_helpers.Lab, gateway_notebook: Any
) -> None:
    page = gateway_notebook
    with lab_helpers.screenshot_on_failure(page, ARTIFACTS, "gateway-notebook"):
        before = lab_kernel_on_the_gateway(gateway, gateway_lab)
        cells = lab_helpers.code_cells(page)

        # 1+1, then HTML: each cell run from its editor.
        lab_helpers.run_cell(cells.nth(0))
        expect(cells.nth(0).locator(".jp-OutputArea-output")).to_have_text("2")
        lab_helpers.run_cell(cells.nth(1))
        table = cells.nth(1).locator(".jp-OutputArea-output table")
        expect(table).to_contain_text("HTML served through the gateway")
        lab_helpers.wait_idle(page)
        expect(cells.locator(".jp-InputArea-prompt")).to_have_text(["[1]:", "[2]:"])
        page.mouse.move(5, 500)
        lab_helpers.screenshot(page, ARTIFACTS / "01-cells-on-the-gateway.png")

        # time.sleep(30), the toolbar's stop button: KeyboardInterrupt, the kernel kept.
        lab_helpers.interrupt_and_check(page, ARTIFACTS / "02-stop-button-interrupt.png")
        lab_helpers.wait_idle(page)

        # Kernel > Restart Kernel…: the gateway starts a new process, with a new namespace.
        restart_from_the_kernel_menu(page)
        lab_helpers.wait_idle(page)
        lab_helpers.new_cell_below(page)
        page.keyboard.insert_text("f\"{40 + 2}, time imported: {'time' in globals()}\"")
        page.keyboard.press("Control+Enter")
        last = cells.last
        expect(last.locator(".jp-OutputArea-output")).to_have_text("'42, time imported: False'")
        expect(last.locator(".jp-InputArea-prompt")).to_have_text("[1]:")
        lab_helpers.wait_idle(page)
        assert not running(before), "the kernel process from before the restart runs"
        assert running(lab_kernel_on_the_gateway(gateway, gateway_lab))
        last.scroll_into_view_if_needed()
        page.mouse.move(5, 500)
        lab_helpers.screenshot(page, ARTIFACTS / "03-restarted-from-the-kernel-menu.png")
