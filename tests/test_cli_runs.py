"""The command-line ways to run a notebook, from the venv's bin/, on the kernel under test:
``jupyter execute``, ``jupyter nbconvert --execute`` and ``papermill``.

Each test runs on a copy of the notebook in tmp_path: notebooks/ is only read.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from kernel_helpers import kernel_name, strip_ansi
from nbformat.v4 import new_code_cell, new_notebook
from notebook_helpers import (
    CHECKS,
    NOTEBOOKS_DIR,
    cell_text,
    check_notebook,
    check_parameter_results,
    check_ran_cleanly,
    code_cells,
    error_outputs,
    read,
    tagged,
)

BIN = Path(sys.executable).parent
# A whole notebook takes seconds; this bounds a hung run.
RUN_TIMEOUT = 300


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run a command from the venv's bin/ in ``cwd``, bounded by RUN_TIMEOUT."""
    proc = subprocess.Popen(
        [str(BIN / args[0]), *args[1:]],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        pytest.fail(f"{args} still running after {RUN_TIMEOUT} s:\n{stdout}\n{stderr}")
    return subprocess.CompletedProcess(args, proc.returncode, stdout, stderr)


def copy_notebook(name: str, tmp_path: Path) -> Path:
    target = tmp_path / f"{name}.ipynb"
    shutil.copyfile(NOTEBOOKS_DIR / f"{name}.ipynb", target)
    return target


def test_jupyter_execute_runs_the_tour(tmp_path):
    notebook = copy_notebook("tour", tmp_path)
    before = notebook.read_bytes()
    result = run(["jupyter", "execute", f"--kernel_name={kernel_name()}", notebook.name], tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"Executing notebook with kernel: {kernel_name()}" in result.stderr
    assert notebook.read_bytes() == before, "jupyter execute without --inplace saves nothing"


@pytest.mark.parametrize("name", list(CHECKS))
def test_jupyter_execute_saves_outputs(name, tmp_path):
    notebook = copy_notebook(name, tmp_path)
    args = ["jupyter", "execute", f"--kernel_name={kernel_name()}", notebook.name]
    result = run([*args, "--output=executed.ipynb"], tmp_path)
    assert result.returncode == 0, result.stderr
    check_notebook(name, read(tmp_path / "executed.ipynb"))


def test_jupyter_execute_fails_on_an_untagged_error(tmp_path):
    nb = new_notebook(cells=[new_code_cell("x = 1"), new_code_cell("x / 0")])
    nb.metadata["kernelspec"] = {"name": kernel_name(), "display_name": "", "language": "python"}
    nbformat.write(nb, tmp_path / "fails.ipynb")
    result = run(["jupyter", "execute", f"--kernel_name={kernel_name()}", "fails.ipynb"], tmp_path)
    assert result.returncode != 0
    assert "ZeroDivisionError" in strip_ansi(result.stderr)


def test_nbconvert_execute_writes_the_executed_tour(tmp_path):
    notebook = copy_notebook("tour", tmp_path)
    out_dir = tmp_path / "out"
    result = run(
        [
            "jupyter",
            "nbconvert",
            "--to",
            "notebook",
            "--execute",
            f"--ExecutePreprocessor.kernel_name={kernel_name()}",
            notebook.name,
            "--output-dir",
            str(out_dir),
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    executed = read(out_dir / "tour.ipynb")
    check_notebook("tour", executed)
    assert executed.metadata.language_info.name == "python"
    assert executed.metadata.language_info.version.startswith(f"{sys.version_info[0]}.")


def papermill(tmp_path: Path, *params: str) -> tuple[subprocess.CompletedProcess, Path]:
    notebook = copy_notebook("parameters", tmp_path)
    output = tmp_path / "out.ipynb"
    args = ["papermill", notebook.name, output.name, "-k", kernel_name()]
    for param in params:
        args += ["-p", *param.split("=", 1)]
    return run(args, tmp_path), output


def test_papermill_injects_parameters_and_the_results_use_them(tmp_path):
    result, output = papermill(tmp_path, "limit=1000", "label=smoke test", "samples=4")
    assert result.returncode == 0, result.stderr
    nb = read(output)
    assert nb.metadata.papermill.parameters == {"limit": 1000, "label": "smoke test", "samples": 4}
    assert nb.metadata.papermill.exception is None
    cells = code_cells(nb)
    # The injected cell comes right after the cell tagged `parameters`.
    assert tagged(cells[0], "parameters") and tagged(cells[1], "injected-parameters")
    assert "limit = 1000" in cells[1].source
    assert 'label = "smoke test"' in cells[1].source
    check_ran_cleanly(nb)
    check_parameter_results(nb, label="smoke test", limit=1000, count=168, samples=4)


def test_papermill_reports_a_cell_that_fails_with_the_given_parameters(tmp_path):
    result, output = papermill(tmp_path, "limit=-5")
    assert result.returncode != 0
    assert "OverflowError" in strip_ansi(result.stderr)
    nb = read(output)
    assert nb.metadata.papermill.exception is True
    failed = [c for c in code_cells(nb) if error_outputs(c)]
    assert len(failed) == 1 and "rust_bridge.count_primes(limit)" in failed[0].source
    assert "OverflowError" in cell_text(failed[0])
