"""The notebooks in notebooks/ executed with nbclient on the kernel under test.

Every notebook runs with ``allow_errors=False`` (cells tagged ``raises-exception`` may
fail), in memory: the files in notebooks/ are only read. Also: what ``allow_errors``
and the ``raises-exception`` tag change, nbclient's cell timeout (with and without
``interrupt_on_timeout``) on a kernel that is used again afterwards, and four notebooks
executed at once on four kernels.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from kernel_helpers import kernel_name, traceback_text
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError
from nbformat.v4 import new_code_cell, new_notebook
from notebook_helpers import (
    CHECKS,
    NOTEBOOKS_DIR,
    cell_text,
    check_notebook,
    code_cells,
    error_outputs,
    notebook_kernel,
    notebook_paths,
    read,
)

# Bounds: a cell of these notebooks takes at most a few seconds.
CELL_TIMEOUT = 120
STARTUP_TIMEOUT = 60


def execute(nb: nbformat.NotebookNode, cwd: Path, **kw) -> nbformat.NotebookNode:
    """Execute ``nb`` in place on a new kernel started in ``cwd``; return it."""
    kw.setdefault("timeout", CELL_TIMEOUT)
    client = NotebookClient(
        nb,
        kernel_name=notebook_kernel(nb),
        startup_timeout=STARTUP_TIMEOUT,
        resources={"metadata": {"path": str(cwd)}},
        **kw,
    )
    client.execute()
    return nb


def test_the_notebooks_are_there_and_clean():
    """The teaching notebooks are there, for the pyo3 kernelspec; every notebook is kept
    in git without outputs."""
    names = {p.stem for p in notebook_paths()}
    assert set(CHECKS) <= names
    for path in notebook_paths():
        nb = read(path)
        nbformat.validate(nb)
        if path.stem in CHECKS:
            assert nb.metadata.kernelspec.name == "pyo3", path
        for cell in code_cells(nb):
            assert cell.outputs == [] and cell.execution_count is None, (path, cell.source)


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.stem)
def test_notebook_executes(path, tmp_path):
    nb = read(path)
    name = notebook_kernel(nb)
    try:
        KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        pytest.fail(f"{path.name} needs kernelspec {name!r}, which is not installed")
    execute(nb, tmp_path, allow_errors=False)
    check_notebook(path.stem, nb)


def test_untagged_error_stops_the_run_unless_allow_errors(tmp_path):
    cells = ["x = 21", "1 / 0", "x * 2"]

    nb = new_notebook(cells=[new_code_cell(c) for c in cells])
    with pytest.raises(CellExecutionError) as info:
        execute(nb, tmp_path)
    assert "ZeroDivisionError" in str(info.value)
    assert [c.execution_count for c in nb.cells] == [1, 2, None]

    nb = new_notebook(cells=[new_code_cell(c) for c in cells])
    execute(nb, tmp_path, allow_errors=True)
    assert [c.execution_count for c in nb.cells] == [1, 2, 3]
    (error,) = error_outputs(nb.cells[1])
    assert error.ename == "ZeroDivisionError"
    assert "1 / 0" in traceback_text(error)
    assert cell_text(nb.cells[2]) == "42"


def test_raises_exception_tag_is_what_lets_the_tour_pass(tmp_path):
    nb = read(NOTEBOOKS_DIR / "tour.ipynb")
    for cell in nb.cells:
        cell.metadata.pop("tags", None)
    with pytest.raises(CellExecutionError) as info:
        execute(nb, tmp_path)
    assert "IndexError" in str(info.value)
    # The run stopped at the error: the last cell never ran.
    assert code_cells(nb)[-1].execution_count is None


def test_allow_errors_runs_the_tour_past_its_error(tmp_path):
    nb = read(NOTEBOOKS_DIR / "tour.ipynb")
    for cell in nb.cells:
        cell.metadata.pop("tags", None)
    execute(nb, tmp_path, allow_errors=True)
    error_cells = [c for c in code_cells(nb) if error_outputs(c)]
    assert len(error_cells) == 1
    assert "([1, 2, 3], 'Rust-embedded Python')" in cell_text(code_cells(nb)[-1])


SLEEP_CELL = "import time; time.sleep(30)"


def own_client(nb: nbformat.NotebookNode, tmp_path: Path, **kw) -> NotebookClient:
    """A NotebookClient on a kernel manager of our own (we shut the kernel down)."""
    km = AsyncKernelManager(kernel_name=kernel_name())
    return NotebookClient(
        nb,
        km=km,
        kernel_name=kernel_name(),
        startup_timeout=STARTUP_TIMEOUT,
        resources={"metadata": {"path": str(tmp_path)}},
        **kw,
    )


def shut_down(client: NotebookClient) -> None:
    km, kc = client.km, client.kc
    try:
        if kc is not None:
            kc.stop_channels()
    finally:
        if km is not None and km.has_kernel:
            run_sync(km.shutdown_kernel)(now=True)


async def _reply(kc, timeout: float, msg_id: str | None = None) -> dict:
    """The next shell reply (to ``msg_id`` if given: others are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no shell reply within {timeout} s"
        msg = await kc.get_shell_msg(timeout=remaining)
        if msg_id is None or msg["parent_header"].get("msg_id") == msg_id:
            return msg


def test_cell_timeout_raises_cell_timeout_error_and_the_kernel_stays_usable(tmp_path):
    """nbclient's default: at the timeout it raises CellTimeoutError and leaves the cell
    running. Interrupting the kernel then (what nbclient's caller does) stops the cell,
    and the same kernel client runs code at once."""
    nb = new_notebook(cells=[new_code_cell(SLEEP_CELL)])
    client = own_client(nb, tmp_path, timeout=2)
    try:
        with client.setup_kernel():
            start = time.monotonic()
            with pytest.raises(CellTimeoutError):
                client.execute_cell(nb.cells[0], 0)
            assert time.monotonic() - start < 15
            run_sync(client.km.interrupt_kernel)()
            kc = client.kc
            interrupted = run_sync(_reply)(kc, 10)["content"]
            assert time.monotonic() - start < 20, "time.sleep(30) was not interrupted"
            assert (interrupted["status"], interrupted.get("ename")) == (
                "error",
                "KeyboardInterrupt",
            )
            msg_id = kc.execute("1+1", user_expressions={"two": "1+1"})
            reply = run_sync(_reply)(kc, 10, msg_id)
            content = reply["content"]
            assert content["status"] == "ok", content
            assert content["user_expressions"]["two"]["data"]["text/plain"] == "2"
            assert content["execution_count"] == 2
    finally:
        shut_down(client)


def test_cell_timeout_with_interrupt_on_timeout_interrupts_and_goes_on(tmp_path):
    """interrupt_on_timeout=True: nbclient interrupts the kernel at the timeout, the cell
    ends with KeyboardInterrupt, and the next cell runs on the same kernel client."""
    nb = new_notebook(cells=[new_code_cell(SLEEP_CELL), new_code_cell("1+1")])
    client = own_client(
        nb,
        tmp_path,
        interrupt_on_timeout=True,
        timeout_func=lambda cell: 2 if "sleep" in cell.source else 30,
    )
    try:
        with client.setup_kernel():
            start = time.monotonic()
            with pytest.raises(CellExecutionError) as info:
                client.execute_cell(nb.cells[0], 0)
            assert time.monotonic() - start < 15, "time.sleep(30) was not interrupted"
            assert "KeyboardInterrupt" in str(info.value)
            (error,) = error_outputs(nb.cells[0])
            assert error.ename == "KeyboardInterrupt"
            client.execute_cell(nb.cells[1], 1)
            assert cell_text(nb.cells[1]) == "2"
            assert nb.cells[1].execution_count == 2
    finally:
        shut_down(client)


def test_four_notebooks_at_once_on_four_kernels(tmp_path):
    paths = [NOTEBOOKS_DIR / f"{name}.ipynb" for name in CHECKS]
    assert len(paths) == 4

    def run(path: Path) -> nbformat.NotebookNode:
        cwd = tmp_path / path.stem
        cwd.mkdir()
        return execute(read(path), cwd)

    with ThreadPoolExecutor(max_workers=len(paths)) as pool:
        futures = {path.stem: pool.submit(run, path) for path in paths}
        # Each notebook alone takes seconds; four on two cores, well under this.
        results = {name: future.result(timeout=300) for name, future in futures.items()}
    for name, nb in results.items():
        check_notebook(name, nb)
