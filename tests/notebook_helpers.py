"""What the executed notebooks in notebooks/ must contain, for nbclient and the CLI tests.

``check_notebook(name, nb)`` asserts on an executed notebook: every code cell ran, errors
only in the cells tagged ``raises-exception`` (and an error in each of them), and the
outputs that notebook is about (text, ``text/html`` tables, ``image/png`` plots).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import nbformat
from kernel_helpers import kernel_name, strip_ansi

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"


def notebook_paths() -> list[Path]:
    return sorted(NOTEBOOKS_DIR.glob("*.ipynb"))


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def code_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if c.cell_type == "code"]


def tagged(cell: nbformat.NotebookNode, tag: str) -> bool:
    return tag in cell.metadata.get("tags", [])


def cell_text(cell: nbformat.NotebookNode) -> str:
    """Stream text and text/plain of one cell's outputs, ANSI escapes removed."""
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            parts.append(out.data.get("text/plain", ""))
        elif out.output_type == "error":
            parts.append(f"{out.ename}: {out.evalue}")
    return strip_ansi("\n".join(parts))


def all_text(nb: nbformat.NotebookNode) -> str:
    return "\n".join(cell_text(c) for c in code_cells(nb))


def rich_outputs(nb: nbformat.NotebookNode, mime: str) -> list[str]:
    """The ``mime`` data of every execute_result / display_data in the notebook."""
    found = []
    for cell in code_cells(nb):
        for out in cell.get("outputs", []):
            if out.output_type in ("execute_result", "display_data") and mime in out.data:
                found.append(out.data[mime])
    return found


def error_outputs(cell: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [o for o in cell.get("outputs", []) if o.output_type == "error"]


def check_ran_cleanly(nb: nbformat.NotebookNode) -> None:
    """Every code cell ran, in order; errors exactly in the cells tagged raises-exception."""
    cells = code_cells(nb)
    counts = [c.execution_count for c in cells]
    assert counts == list(range(1, len(cells) + 1)), f"execution counts {counts}"
    for cell in cells:
        errors = error_outputs(cell)
        if tagged(cell, "raises-exception"):
            assert errors, f"cell tagged raises-exception raised nothing:\n{cell.source}"
        else:
            assert not errors, f"unexpected error in:\n{cell.source}\n{errors}"


def seconds_after(text: str, label: str) -> float:
    """The number in '<label>: KeyboardInterrupt after N s'."""
    match = re.search(re.escape(label) + r": KeyboardInterrupt after ([0-9.]+) s", text)
    assert match, f"no '{label}: KeyboardInterrupt after ... s' in:\n{text}"
    return float(match.group(1))


def check_tour(nb: nbformat.NotebookNode) -> None:
    text = all_text(nb)
    assert "'Hello from Rust-embedded Python!'" in text
    tables = [html for html in rich_outputs(nb, "text/html") if "<table" in html]
    assert tables and "<th>n²</th>" in tables[0] and "<td>125</td>" in tables[0], tables
    assert rich_outputs(nb, "image/png"), "no plot (image/png) in the tour"
    assert "hello from the shell" in text
    assert "499999500000" in text
    assert "'0.1.0'" in text  # rust_bridge.__version__
    (error_cell,) = [c for c in code_cells(nb) if tagged(c, "raises-exception")]
    assert [e.ename for e in error_outputs(error_cell)] == ["IndexError"]
    assert "([1, 2, 3], 'Rust-embedded Python')" in cell_text(code_cells(nb)[-1])


def check_interrupts(nb: nbformat.NotebookNode) -> None:
    text = all_text(nb)
    assert "rust_bridge.SigintHandler" in text
    assert "the loop ended without an interrupt" not in text
    # Each demo pressed stop after 0.5 s; waits of 10 s or 30 s ended at once.
    for label in (
        "busy loop",
        "time.sleep(30)",
        "rust_bridge.count_primes",
        "rust_bridge.sleep(30)",
    ):
        assert seconds_after(text, label) < 5, label
    assert "664579" in text  # rust_bridge.count_primes(10**7) ran to the end
    assert "finally: cleaned up" in text
    assert "still here: n = " in text
    assert re.search(r"stopped after \d+ steps", text), text
    assert "'10^7': 664579" in text
    assert "the task's finally block ran" in text
    assert "once re.match was done" in text
    tagged_cells = [c for c in code_cells(nb) if tagged(c, "raises-exception")]
    assert len(tagged_cells) == 2
    for cell in tagged_cells:
        assert [e.ename for e in error_outputs(cell)] == ["KeyboardInterrupt"], cell.source


def check_parameters(nb: nbformat.NotebookNode) -> None:
    """The defaults of the parameters cell: limit 100_000, label 'default run', 8 samples."""
    check_parameter_results(nb, label="default run", limit=100_000, count=9592, samples=8)


def check_parameter_results(
    nb: nbformat.NotebookNode, label: str, limit: int, count: int, samples: int
) -> None:
    text = all_text(nb)
    assert f"{label}: {count:,} primes below {limit:,}" in text, text
    if limit <= 10**7:
        assert f"plain Python agrees: {count:,}" in text, text
    (table,) = [html for html in rich_outputs(nb, "text/html") if "<table" in html]
    assert table.count("<tr") == samples + 1, table  # header row + one per sample
    assert "primes below x" in table
    assert len(rich_outputs(nb, "image/png")) == 1
    (summary,) = rich_outputs(nb, "text/markdown")
    assert summary.startswith(f"**{label}**: {count:,} primes below {limit:,}"), summary


def check_data_analysis(nb: nbformat.NotebookNode) -> None:
    text = all_text(nb)
    assert "wrote 144 rows to sales.csv" in text
    assert "date,region,product,units,unit_price" in text
    assert "1 missing value(s) in 'units'" in text
    assert "total revenue: 22,701.00 from 4,964 units" in text
    assert "best region: North; best month: 6" in text
    assert "removed " in text
    tables = [html for html in rich_outputs(nb, "text/html") if "<table" in html]
    assert len(tables) == 3, "head(), the groupby and the pivot table are shown as HTML"
    assert any("5857.5" in t for t in tables), "North's revenue in the groupby table"
    assert len(rich_outputs(nb, "image/png")) == 1


CHECKS: dict[str, Callable[[nbformat.NotebookNode], None]] = {
    "tour": check_tour,
    "interrupts": check_interrupts,
    "parameters": check_parameters,
    "data_analysis": check_data_analysis,
}


def notebook_kernel(nb: nbformat.NotebookNode) -> str:
    """The kernel to run ``nb`` on: the one under test for pyo3 notebooks (see
    kernel_helpers.kernel_name), otherwise the notebook's own kernelspec."""
    name = nb.metadata.get("kernelspec", {}).get("name", "pyo3")
    return kernel_name() if name == "pyo3" else name


def check_notebook(name: str, nb: nbformat.NotebookNode) -> None:
    """All checks for the executed notebook ``name`` (file stem in notebooks/): the
    general ones, and the outputs that notebook is about if it is one of CHECKS."""
    check_ran_cleanly(nb)
    if name in CHECKS:
        CHECKS[name](nb)
