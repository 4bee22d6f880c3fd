"""JupyterLab in headless Chromium (Playwright): the server, the browser, the page helpers.

Shared by tests/test_jupyterlab.py (a local kernel) and tests/test_remote_kernel_gateway.py
(kernels served by Jupyter Kernel Gateway). Needs Debian's `chromium`
(tools/install_system_deps.sh) and pip's `playwright`, which drives that browser: no
browser download. Every wait is bounded: a DOM wait, an HTTP answer or a process exit.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import playwright.sync_api as playwright_api

TOKEN = "pyo3-kernel-test-token"
SERVER_START = 90  # seconds for `jupyter lab` to answer /api
UI = 60_000  # ms for the page and its widgets to appear
INTERRUPT = 15_000  # ms from pressing stop to KeyboardInterrupt (the sleep is 30 s)


@dataclass
class Lab:
    url: str
    root: Path
    process: subprocess.Popen


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def api(lab_url: str, path: str, method: str = "GET", timeout: float = 5) -> bytes:
    request = urllib.request.Request(
        f"{lab_url}{path}", method=method, headers={"Authorization": f"token {TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read()


def write_pyo3_notebook(path: Path, cells: list[str]) -> None:
    """Writes a notebook of these code cells whose kernelspec is pyo3."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "pyo3",
        "display_name": "Python 3 (PyO3)",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(nb, path)


def write_settings(settings: Path) -> None:
    """User settings for this server only: every cell in the DOM (no windowing, so
    selectors find cells out of view), no news or update notifications."""
    files = {
        "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification": {
            "fetchNews": "false",
            "checkForUpdates": False,
        },
    }
    for name, values in files.items():
        path = settings / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@contextmanager
def running_lab(
    base: Path, root: Path, log_path: Path, extra_args: tuple[str, ...] = ()
) -> Iterator[Lab]:
    """`jupyter lab` serving ``root`` (its config, runtime, settings and workspaces under
    ``base``, its output in ``log_path``), up once it answers /api; shut down on exit."""
    write_settings(base / "settings")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(base / "config"),
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
    )
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "jupyter"),
                "lab",
                "--no-browser",
                "--allow-root",
                f"--ServerApp.token={TOKEN}",
                f"--port={port}",
                "--ServerApp.port_retries=0",
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.root_dir={root}",
                f"--LabApp.user_settings_dir={base / 'settings'}",
                f"--LabApp.workspaces_dir={base / 'workspaces'}",
                *extra_args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + SERVER_START
            while True:
                assert process.poll() is None, f"jupyter lab exited; see {log_path}"
                try:
                    assert b"version" in api(url, "/api", timeout=2)
                    break
                except OSError:
                    assert time.monotonic() < deadline, f"jupyter lab not up in {SERVER_START} s"
                    time.sleep(0.25)
            yield Lab(url, root, process)
        finally:
            stop_server(url, process)


def stop_server(url: str, process: subprocess.Popen) -> None:
    """Ask the server to shut down (it shuts its kernels down), then make sure."""
    if process.poll() is None:
        try:
            api(url, "/api/shutdown", method="POST")
        except OSError:
            pass
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's headless chromium, driven by Playwright."""
    executable = shutil.which("chromium")
    assert executable, "chromium is not installed: run tools/install_system_deps.sh"
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            # root (CI) needs --no-sandbox; containers often have a small /dev/shm.
            args=["--no-sandbox", "--disable-dev-shm-usage"],
        )
        try:
            yield browser
        finally:
            browser.close()


def wait_idle(page: Any, timeout: float = UI) -> None:
    indicator = page.locator(".jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator")
    playwright_api.expect(indicator).to_have_attribute("data-status", "idle", timeout=timeout)


def screenshot(page: Any, path: Path) -> Path:
    page.screenshot(path=str(path))
    return path


@contextmanager
def screenshot_on_failure(page: Any, artifacts: Path, name: str) -> Iterator[None]:
    try:
        yield
    except BaseException:
        screenshot(page, artifacts / f"failure-{name}.png")
        raise


def code_cells(page: Any) -> Any:
    return page.locator(".jp-NotebookPanel .jp-Notebook .jp-CodeCell")


def new_cell_below(page: Any) -> None:
    """A new cell below the last one, in edit mode: select the last, command mode,
    `b`, Enter."""
    cells = code_cells(page)
    before = cells.count()
    cells.last.locator(".jp-InputArea-prompt").click()
    page.keyboard.press("Escape")
    page.keyboard.press("b")
    playwright_api.expect(cells).to_have_count(before + 1)
    page.keyboard.press("Enter")


def run_cell(cell: Any) -> None:
    cell.locator(".cm-content").click()
    cell.page.keyboard.press("Control+Enter")


def interrupt_and_check(page: Any, shot: Path) -> None:
    """In a new cell below the last, `time.sleep(30)`; press the toolbar's stop button:
    KeyboardInterrupt within INTERRUPT, the kernel idle, screenshot ``shot``; then a cell
    in the empty cell below shows the kernel kept what the interrupted cell imported."""
    expect = playwright_api.expect
    cells = code_cells(page)
    before = cells.count()
    new_cell_below(page)
    page.keyboard.insert_text("import time; print('sleeping'); time.sleep(30)")
    page.keyboard.press("Shift+Enter")  # runs it and adds an empty cell below
    expect(cells).to_have_count(before + 2)

    sleeper = cells.nth(before)
    expect(sleeper.locator(".jp-OutputArea")).to_contain_text("sleeping", timeout=UI)
    indicator = page.locator(".jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator")
    expect(indicator).to_have_attribute("data-status", "busy")
    expect(sleeper.locator(".jp-InputArea-prompt")).to_have_text("[*]:")

    stop = page.locator('.jp-NotebookPanel-toolbar [data-command="notebook:interrupt-kernel"]')
    pressed = time.monotonic()
    stop.click()
    expect(sleeper.locator(".jp-OutputArea")).to_contain_text(
        "KeyboardInterrupt", timeout=INTERRUPT
    )
    wait_idle(page, timeout=INTERRUPT)
    assert time.monotonic() - pressed < INTERRUPT / 1000
    expect(sleeper.locator(".jp-InputArea-prompt")).not_to_have_text("[*]:")
    status = page.locator(".jp-StatusBar-TextItem", has_text="Idle")
    expect(status).to_be_visible()
    sleeper.scroll_into_view_if_needed()
    page.mouse.move(5, 500)
    screenshot(page, shot)

    # The kernel survived, with what the interrupted cell imported.
    cells.nth(before + 1).locator(".cm-content").click()
    page.keyboard.insert_text("time.__name__ + ' is still imported'")
    page.keyboard.press("Shift+Enter")
    expect(cells.nth(before + 1).locator(".jp-OutputArea-output")).to_have_text(
        "'time is still imported'", timeout=UI
    )
