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

import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import playwright.sync_api as playwright_api
import pytest
from lab_helpers import (
    TOKEN,
    UI,
    Lab,
    chromium,
    code_cells,
    interrupt_and_check,
    new_cell_below,
    run_cell,
    running_lab,
    screenshot,
    screenshot_on_failure,
    wait_idle,
    write_pyo3_notebook,
)
from notebook_helpers import NOTEBOOKS_DIR

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "jupyterlab"
RUN_ALL = 120_000  # ms for every cell of the tour to run
DEBUGGER = 30_000  # ms for the debugger to start, stop at a breakpoint or continue


@pytest.fixture(scope="module")
def lab(tmp_path_factory, kernelspec_installed) -> Iterator[Lab]:
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "notebooks"
    shutil.copytree(NOTEBOOKS_DIR, root)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with running_lab(base, root, ARTIFACTS / "server.log") as lab:
        yield lab


@pytest.fixture(scope="module")
def browser(lab) -> Iterator[object]:
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def tour(lab, browser) -> Iterator[object]:
    """A page with tour.ipynb open in JupyterLab, its kernel started and idle."""
    page = browser.new_page(viewport={"width": 1400, "height": 1300})
    page.set_default_timeout(UI)
    try:
        with screenshot_on_failure(page, ARTIFACTS, "open-tour"):
            page.goto(f"{lab.url}/lab/tree/tour.ipynb?token={TOKEN}")
            page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for()
            kernel = page.locator(".jp-NotebookPanel-toolbar .jp-KernelName")
            playwright_api.expect(kernel).to_have_text("Python 3 (PyO3)")
            wait_idle(page)
        yield page
    finally:
        page.close()


def test_run_all_cells_shows_the_table_and_the_plot(tour):
    with screenshot_on_failure(tour, ARTIFACTS, "run-all"):
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
    screenshot(page, ARTIFACTS / "01-tour-run-all.png")


def test_stop_button_interrupts_a_sleeping_cell(tour):
    with screenshot_on_failure(tour, ARTIFACTS, "stop-button"):
        interrupt_and_check(tour, ARTIFACTS / "02-stop-button-interrupt.png")


def test_subshell_console_answers_while_the_notebook_sleeps(tour):
    with screenshot_on_failure(tour, ARTIFACTS, "subshell-console"):
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
    screenshot(page, ARTIFACTS / "03-subshell-console-while-busy.png")
    wait_idle(page, timeout=20_000)


# The notebook of the debugger test: a function, then a cell that calls it.
DEBUGGED_CELLS = ["def add(a, b):\n    c = a + b\n    return c", "print(add(2, 3))"]


@pytest.fixture(scope="module")
def debugged(lab, browser) -> Iterator[object]:
    """A page with a new notebook of DEBUGGED_CELLS open on the pyo3 kernel, idle (in a
    workspace of its own: the tour's notebook is not restored into it)."""
    write_pyo3_notebook(lab.root / "debugged.ipynb", DEBUGGED_CELLS)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(UI)
    try:
        with screenshot_on_failure(page, ARTIFACTS, "open-debugged"):
            page.goto(f"{lab.url}/lab/workspaces/debugger/tree/debugged.ipynb?token={TOKEN}")
            playwright_api.expect(code_cells(page)).to_have_count(len(DEBUGGED_CELLS))
            kernel = page.locator(".jp-NotebookPanel-toolbar .jp-KernelName")
            playwright_api.expect(kernel).to_have_text("Python 3 (PyO3)")
            wait_idle(page)
        yield page
    finally:
        page.close()


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
    with screenshot_on_failure(debugged, ARTIFACTS, "debugger"):
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
    location = ".jp-DebuggerCallstackFrame-location"
    expect(frames.first.locator(location), stopped).to_have_attribute("title", cell_file)
    # JupyterLab names a frame by its cell when the path holds "ipykernel_", as ours do.
    expect(frames.first.locator(location)).to_have_text(re.compile(rf"^Cell \[1\]:{line}\s*$"))
    expect(frames.locator(".jp-DebuggerCallstackFrame-name")).to_have_text(["add", "<module>"])
    expect(frames.nth(1).locator(location)).not_to_have_attribute("title", cell_file)
    expect(names, "the Variables panel does not show add's locals").to_have_text(["a", "b"])
    details = variables.locator(":scope > .jp-DebuggerVariables-detail")
    expect(details).to_have_text(["2", "3"])
    highlighted = definition.locator(".cm-line.jp-DebuggerEditor-highlight")
    expect(highlighted).to_have_text("c = a + b")
    expect(call.locator(".jp-InputArea-prompt")).to_have_text("[*]:")
    expect(call.locator(".jp-OutputArea-output")).to_have_count(0)
    page.mouse.move(5, 500)
    screenshot(page, ARTIFACTS / "04-debugger-stopped.png")

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
    screenshot(page, ARTIFACTS / "05-debugger-continued.png")
