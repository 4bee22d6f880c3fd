"""JupyterLab in headless Chromium (Playwright) on the pyo3 kernel, as a person uses it.

A `jupyter lab` server serves a copy of notebooks/; the browser opens tour.ipynb (its
kernelspec is pyo3), runs every cell from the Run menu and waits for the HTML table and
the plot, then runs `time.sleep(30)` in a new cell and presses the toolbar's stop
button. Another notebook is debugged in JupyterLab's visual debugger: a breakpoint set
in a function's gutter, the stopped view (variables, call stack), then Continue.
Screenshots go to test-artifacts/jupyterlab/ at the repository root.

Needs Debian's `chromium` (tools/install_system_deps.sh) and pip's `playwright`, which
drives that browser: no browser download. Every wait is a bounded DOM wait.
"""

from __future__ import annotations

import json
import os
import re
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

import nbformat
import playwright.sync_api as playwright_api
import pytest
from notebook_helpers import NOTEBOOKS_DIR

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "jupyterlab"
TOKEN = "pyo3-kernel-test-token"
SERVER_START = 90  # seconds for `jupyter lab` to answer /api
UI = 60_000  # ms for the page and its widgets to appear
RUN_ALL = 120_000  # ms for every cell of the tour to run
INTERRUPT = 15_000  # ms from pressing stop to KeyboardInterrupt (the sleep is 30 s)
DEBUGGER = 30_000  # ms for the debugger to start, stop at a breakpoint or continue


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


@pytest.fixture(scope="module")
def lab(tmp_path_factory, kernelspec_installed) -> Iterator[Lab]:
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "notebooks"
    shutil.copytree(NOTEBOOKS_DIR, root)
    write_settings(base / "settings")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(base / "config"),
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
    )
    log = (ARTIFACTS / "server.log").open("w")
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
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + SERVER_START
        while True:
            assert process.poll() is None, "jupyter lab exited; see test-artifacts/jupyterlab"
            try:
                assert b"version" in api(url, "/api", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, f"jupyter lab not up in {SERVER_START} s"
                time.sleep(0.25)
        yield Lab(url, root, process)
    finally:
        stop_server(url, process)
        log.close()


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


@pytest.fixture(scope="module")
def browser(lab) -> Iterator[object]:
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


@pytest.fixture(scope="module")
def tour(lab, browser) -> Iterator[object]:
    """A page with tour.ipynb open in JupyterLab, its kernel started and idle."""
    page = browser.new_page(viewport={"width": 1400, "height": 1300})
    page.set_default_timeout(UI)
    try:
        with screenshot_on_failure(page, "open-tour"):
            page.goto(f"{lab.url}/lab/tree/tour.ipynb?token={TOKEN}")
            page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for()
            kernel = page.locator(".jp-NotebookPanel-toolbar .jp-KernelName")
            playwright_api.expect(kernel).to_have_text("Python 3 (PyO3)")
            wait_idle(page)
        yield page
    finally:
        page.close()


def wait_idle(page, timeout: float = UI) -> None:
    indicator = page.locator(".jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator")
    playwright_api.expect(indicator).to_have_attribute("data-status", "idle", timeout=timeout)


def screenshot(page, name: str) -> Path:
    path = ARTIFACTS / name
    page.screenshot(path=str(path))
    return path


@contextmanager
def screenshot_on_failure(page, name: str) -> Iterator[None]:
    try:
        yield
    except BaseException:
        screenshot(page, f"failure-{name}.png")
        raise


def code_cells(page):
    return page.locator(".jp-NotebookPanel .jp-Notebook .jp-CodeCell")


def new_cell_below(page) -> None:
    """A new cell below the last one, in edit mode: select the last, command mode,
    `b`, Enter."""
    cells = code_cells(page)
    before = cells.count()
    cells.last.locator(".jp-InputArea-prompt").click()
    page.keyboard.press("Escape")
    page.keyboard.press("b")
    playwright_api.expect(cells).to_have_count(before + 1)
    page.keyboard.press("Enter")


def test_run_all_cells_shows_the_table_and_the_plot(tour):
    with screenshot_on_failure(tour, "run-all"):
        run_all_and_check(tour)


def run_all_and_check(page) -> None:
    expect = playwright_api.expect
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()

    table = page.locator(".jp-OutputArea-output table").filter(has_text="n²")
    expect(table).to_be_visible(timeout=RUN_ALL)
    expect(table.locator("td")).to_have_count(15)
    expect(table).to_contain_text("125")
    plot = page.locator(".jp-OutputArea-output img")
    expect(plot).to_have_count(1, timeout=RUN_ALL)
    expect(plot).to_have_attribute("src", re.compile(r"^data:image/png;base64,.+"))
    # The error cell (tagged raises-exception) and the cells after it ran too.
    outputs = page.locator(".jp-NotebookPanel .jp-OutputArea-output")
    expect(outputs.filter(has_text="IndexError")).to_have_count(1, timeout=RUN_ALL)
    last = code_cells(page).last
    expect(last.locator(".jp-OutputArea")).to_contain_text(
        "([1, 2, 3], 'Rust-embedded Python')", timeout=RUN_ALL
    )
    expect(outputs.filter(has_text="Hello from Rust-embedded Python!")).to_have_count(1)
    expect(outputs.filter(has_text="hello from the shell")).to_have_count(1)
    wait_idle(page)
    prompts = code_cells(page).locator(".jp-InputArea-prompt")
    expect(prompts).to_have_text([f"[{n}]:" for n in range(1, 10)])

    # The table at the top of the view, the plot below it.
    table.evaluate("element => element.scrollIntoView({block: 'start'})")
    page.mouse.move(5, 500)
    screenshot(page, "01-tour-run-all.png")


def test_stop_button_interrupts_a_sleeping_cell(tour):
    with screenshot_on_failure(tour, "stop-button"):
        interrupt_and_check(tour)


def interrupt_and_check(page) -> None:
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
    screenshot(page, "02-stop-button-interrupt.png")

    # The kernel survived, with what the interrupted cell imported.
    cells.nth(before + 1).locator(".cm-content").click()
    page.keyboard.insert_text("time.__name__ + ' is still imported'")
    page.keyboard.press("Shift+Enter")
    expect(cells.nth(before + 1).locator(".jp-OutputArea-output")).to_have_text(
        "'time is still imported'", timeout=UI
    )


def test_subshell_console_answers_while_the_notebook_sleeps(tour):
    with screenshot_on_failure(tour, "subshell-console"):
        subshell_console_and_check(tour)


def subshell_console_and_check(page) -> None:
    expect = playwright_api.expect
    # JupyterLab offers the command only for kernels that support subshells.
    page.keyboard.press("Control+Shift+C")
    page.keyboard.insert_text("New Subshell Console for Notebook")
    page.locator(".lm-CommandPalette-item", has_text="New Subshell Console").first.click()
    prompt = page.locator(".jp-ConsolePanel .jp-CodeConsole-promptCell .cm-content")
    prompt.wait_for()

    # The notebook's kernel goes to sleep in a new cell below the last one.
    cells = code_cells(page)
    before = cells.count()
    new_cell_below(page)
    page.keyboard.insert_text(
        "import time; probe = 'set in the notebook'; print('sleeping'); time.sleep(10)"
    )
    page.keyboard.press("Shift+Enter")
    sleeper = cells.nth(before)
    expect(sleeper.locator(".jp-OutputArea")).to_contain_text("sleeping", timeout=UI)
    indicator = page.locator(".jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator")
    expect(indicator).to_have_attribute("data-status", "busy")

    asked = time.monotonic()
    prompt.click()
    page.keyboard.insert_text("probe + ', read from a subshell'")
    page.keyboard.press("Shift+Enter")
    answer = page.locator(".jp-ConsolePanel .jp-OutputArea-output")
    expect(answer.filter(has_text="read from a subshell")).to_have_count(1, timeout=8_000)
    # Answered while the notebook's cell still sleeps.
    expect(indicator).to_have_attribute("data-status", "busy")
    assert time.monotonic() - asked < 8
    page.mouse.move(5, 500)
    screenshot(page, "03-subshell-console-while-busy.png")
    wait_idle(page, timeout=20_000)


# The notebook of the debugger test: a function, then a cell that calls it.
DEBUGGED_CELLS = ["def add(a, b):\n    c = a + b\n    return c", "print(add(2, 3))"]


@pytest.fixture(scope="module")
def debugged(lab, browser) -> Iterator[object]:
    """A page with a new notebook of DEBUGGED_CELLS open on the pyo3 kernel, idle (in a
    workspace of its own: the tour's notebook is not restored into it)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "pyo3",
        "display_name": "Python 3 (PyO3)",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(source) for source in DEBUGGED_CELLS]
    nbformat.write(nb, lab.root / "debugged.ipynb")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(UI)
    try:
        with screenshot_on_failure(page, "open-debugged"):
            page.goto(f"{lab.url}/lab/workspaces/debugger/tree/debugged.ipynb?token={TOKEN}")
            playwright_api.expect(code_cells(page)).to_have_count(len(DEBUGGED_CELLS))
            kernel = page.locator(".jp-NotebookPanel-toolbar .jp-KernelName")
            playwright_api.expect(kernel).to_have_text("Python 3 (PyO3)")
            wait_idle(page)
        yield page
    finally:
        page.close()


def run_cell(cell) -> None:
    cell.locator(".cm-content").click()
    cell.page.keyboard.press("Control+Enter")


def click_breakpoint_gutter(cell, line: int) -> None:
    """Click the debugger's gutter (left of the line numbers) beside `line` of `cell`."""
    number = cell.locator(".cm-lineNumbers .cm-gutterElement").filter(
        has_text=re.compile(rf"^{line}$")
    )
    row = number.bounding_box()
    gutter = cell.locator(".cm-gutter.cm-breakpoint-gutter")
    column = gutter.bounding_box()
    assert row and column, "the cell has no line numbers or no breakpoint gutter"
    y = row["y"] + row["height"] / 2 - column["y"]
    gutter.click(position={"x": column["width"] / 2, "y": y})


def test_debugger_stops_at_a_breakpoint_and_continues(debugged):
    with screenshot_on_failure(debugged, "debugger"):
        debug_and_check(debugged, line=2)


def debug_and_check(page, line: int) -> None:
    expect = playwright_api.expect
    definition, call = code_cells(page).nth(0), code_cells(page).nth(1)
    sidebar = page.locator(".jp-DebuggerSidebar")

    # The bug in the notebook's toolbar: enabled for a kernel that can debug.
    bug = page.locator(".jp-NotebookPanel-toolbar .jp-DebuggerBugButton")
    expect(bug, "the kernel does not offer the debugger").to_have_attribute(
        "aria-disabled", "false"
    )
    bug.click()
    expect(bug).to_have_attribute("aria-pressed", "true", timeout=DEBUGGER)
    expect(sidebar).to_be_visible()

    # The function is defined, with the debugger on: the Variables panel lists it.
    run_cell(definition)
    expect(definition.locator(".jp-InputArea-prompt")).to_have_text("[1]:", timeout=UI)
    variables = sidebar.locator(".jp-DebuggerVariables .jp-TreeView > .jp-TreeItem")
    names = variables.locator(":scope > .jp-DebuggerVariables-name")
    expect(names.filter(has_text=re.compile(r"^add$"))).to_have_count(1, timeout=DEBUGGER)

    # A breakpoint in the gutter of `c = a + b`: the kernel confirms it (the
    # Breakpoints panel lists the cell's file and the line).
    click_breakpoint_gutter(definition, line)
    listed = sidebar.locator(".jp-DebuggerBreakpoint")
    expect(listed).to_have_count(1, timeout=DEBUGGER)
    expect(listed.locator(".jp-DebuggerBreakpoint-line")).to_have_text(str(line))
    cell_file = listed.get_attribute("title")
    assert cell_file and cell_file.endswith(".py"), cell_file

    # The call stops in add(): its locals, its frame in the first cell's file at the
    # breakpoint's line, that line highlighted in the first cell.
    run_cell(call)
    stopped = f"the debugger did not stop at line {line} of the first cell (in add)"
    frames = sidebar.locator(".jp-DebuggerCallstackFrame")
    expect(frames.first.locator(".jp-DebuggerCallstackFrame-name"), stopped).to_have_text(
        "add", timeout=DEBUGGER
    )
    expect(frames.first.locator(".jp-DebuggerCallstackFrame-location"), stopped).to_have_text(
        f"{cell_file}:{line}"
    )
    expect(frames.locator(".jp-DebuggerCallstackFrame-name")).to_have_text(["add", "<module>"])
    expect(frames.nth(1).locator(".jp-DebuggerCallstackFrame-location")).not_to_have_text(
        re.compile(re.escape(cell_file))
    )
    expect(names, "the Variables panel does not show add's locals").to_have_text(["a", "b"])
    details = variables.locator(":scope > .jp-DebuggerVariables-detail")
    expect(details).to_have_text(["2", "3"])
    highlighted = definition.locator(".cm-line.jp-DebuggerEditor-highlight")
    expect(highlighted).to_have_text("c = a + b")
    expect(call.locator(".jp-InputArea-prompt")).to_have_text("[*]:")
    expect(call.locator(".jp-OutputArea-output")).to_have_count(0)
    page.mouse.move(5, 500)
    screenshot(page, "04-debugger-stopped.png")

    # Continue: the call returns and prints, the stopped view goes.
    sidebar.locator('[data-command="debugger:continue"]').click()
    expect(call.locator(".jp-OutputArea-output"), "no output after Continue").to_have_text(
        "5", timeout=DEBUGGER
    )
    wait_idle(page, timeout=DEBUGGER)
    expect(call.locator(".jp-InputArea-prompt")).to_have_text("[2]:")
    expect(frames).to_have_count(0)
    expect(highlighted).to_have_count(0)
    page.mouse.move(5, 500)
    screenshot(page, "05-debugger-continued.png")
