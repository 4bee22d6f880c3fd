"""The example Rust application (host/examples/particles) embedding the kernel.

`make test` builds it and registers its kernelspec `particles` (`make example`).
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import nbformat
import pytest
from interrupt_helpers import MARKER, interrupt_cell
from jupyter_client.blocking import BlockingKernelClient
from kernel_helpers import eval_text, execute, run_ok, start_kernel, stop_kernel
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "target" / "release" / "examples" / "particles"


@pytest.fixture(scope="module")
def app_kernel():
    km, kc = start_kernel("particles")
    yield km, kc
    stop_kernel(km, kc)


def test_app_module_and_state_are_in_the_namespace(app_kernel):
    _, kc = app_kernel
    assert eval_text(kc, "type(sim).__module__, len(sim)") == "('particles', 200)"
    run_ok(kc, "sim.step(100)")
    assert eval_text(kc, "round(sim.time, 2), sim.steps") == "(1.0, 100)"
    run_ok(kc, "sim.gravity = 1.5")
    assert eval_text(kc, "sim.gravity") == "1.5"


def test_app_runs_the_kernel_code_bundled_in_its_binary(app_kernel):
    _, kc = app_kernel
    assert eval_text(kc, "import pyo3_kernel; pyo3_kernel.__spec__.origin") == (
        "'<bundled>/pyo3_kernel/__init__.py'"
    )
    assert eval_text(kc, "import particle_plots; particle_plots.__name__") == "'particle_plots'"


def test_long_rust_call_is_interrupted_and_app_survives(app_kernel):
    km, kc = app_kernel
    code = f"import particles\nprint({MARKER!r}, flush=True)\nparticles.settle(sim, target=-1.0)"
    reply, outputs = interrupt_cell(km, kc, code)
    assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt", reply
    assert km.is_alive()
    assert eval_text(kc, "len(sim)") == "200"


def test_completion_knows_the_app_module(app_kernel):
    _, kc = app_kernel
    execute(kc, "import particles")
    msg_id = kc.complete("particles.set", 13)
    reply = kc.get_shell_msg(timeout=30)
    assert reply["parent_header"]["msg_id"] == msg_id
    assert "settle" in reply["content"]["matches"]


def test_embed_mode_app_continues_with_the_state_the_notebook_changed(tmp_path):
    connection_file = tmp_path / "app.json"
    app = subprocess.Popen(
        [str(APP), "run", "--steps", "10", "--connection-file", str(connection_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not connection_file.exists():
            assert app.poll() is None, app.communicate()[0]
            assert time.monotonic() < deadline, "the app never wrote its connection file"
            time.sleep(0.05)  # polling for a file another process creates
        kc = BlockingKernelClient(connection_file=str(connection_file))
        kc.load_connection_file()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        run_ok(kc, "sim.gravity = 2.5\nsim.step(5)")
        kc.shutdown()
        output, _ = app.communicate(timeout=30)
        kc.stop_channels()
    finally:
        if app.poll() is None:
            app.kill()
    assert app.returncode == 0, output
    assert "before the notebook: t=0.10 steps=10" in output
    assert "after the notebook: t=0.15 steps=15 particles=200 gravity=2.5" in output


def test_example_notebook_executes_under_nbclient():
    nb = nbformat.read(ROOT / "notebooks" / "embedded_app.ipynb", as_version=4)
    NotebookClient(nb, kernel_name="particles", timeout=60).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert any("image/png" in o.get("data", {}) for o in outputs)
    text = "".join(o.get("text", "") for o in outputs)
    assert "interrupted after" in text and "the app is still here" in text
