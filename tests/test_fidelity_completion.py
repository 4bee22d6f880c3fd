"""Tab completion gives what ipykernel gives: the same matches, cursor_start/cursor_end
and typed metadata (JupyterLab's completer shows the types), on a corpus of cases that
people meet: attributes of modules and of live objects, dict keys, file paths,
imports, keyword arguments, magics, LaTeX and unicode names, multi-line cells and a
cell that does not parse. Both kernels get the same namespace and working directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from completion_corpus import CASES, SETUP, TYPE_TIMEOUT, make_files
from feature_helpers import request
from fidelity_helpers import running_kernel
from kernel_helpers import run_ok


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """ipykernel and pyo3, each in the same kind of working directory (files for the
    path cases), with the same namespace."""
    kernels: dict[str, Any] = {}
    stack = []
    try:
        for name in ("python3", "pyo3"):
            cwd = tmp_path_factory.mktemp(f"completion-{name}")
            make_files(cwd)
            # IPython stops computing jedi's types after 400 ms and reports the rest as
            # '<unknown>': on a loaded machine that would differ from run to run.
            context = running_kernel(name, cwd=cwd, extra_arguments=[TYPE_TIMEOUT])
            kernel = context.__enter__()
            stack.append(context)
            run_ok(kernel.kc, SETUP)
            kernels[name] = kernel.kc
        yield kernels
    finally:
        for context in reversed(stack):
            context.__exit__(None, None, None)


def _comparable(reply: dict[str, Any]) -> dict[str, Any]:
    assert reply["status"] == "ok", reply
    types = reply["metadata"].get("_jupyter_types_experimental", [])
    return {
        "matches": reply["matches"],
        "cursor_start": reply["cursor_start"],
        "cursor_end": reply["cursor_end"],
        "types": [(t["text"], t["type"], t["start"], t["end"]) for t in types],
    }


@pytest.mark.parametrize(
    ("code", "cursor"), [(c, p) for _, c, p in CASES], ids=[i for i, _, _ in CASES]
)
def test_completion_matches_ipykernel(both: dict[str, Any], code: str, cursor: int | None) -> None:
    position = len(code) if cursor is None else cursor
    expected = _comparable(request(both["python3"], "complete", code, position))
    got = _comparable(request(both["pyo3"], "complete", code, position))
    assert got == expected


def test_the_corpus_is_big_enough() -> None:
    assert len(CASES) >= 40
    assert len({c for _, c, _ in CASES}) == len(CASES)


def test_path_cases_see_the_files(both: dict[str, Any]) -> None:
    """The path cases complete something (else they would compare two empty lists)."""
    reply = request(both["pyo3"], "complete", "open('data/rep", len("open('data/rep"))
    assert any(Path(m).name.startswith("report") for m in reply["matches"]), reply
