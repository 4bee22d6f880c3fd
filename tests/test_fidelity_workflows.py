"""Fidelity with ipykernel: everyday notebook workflows that lean on IPython's events,
fork and the warnings machinery, each run on both kernelspecs (``pyo3`` and the
reference ``python3``) in a directory of its own, as a notebook's."""

from __future__ import annotations

import os
from pathlib import Path

from kernel_helpers import errors, eval_text, execute, run_ok, stream_text


def test_autoreload_picks_up_an_edited_module(nb):
    """%autoreload 2 reloads a module next to the notebook before each cell (IPython's
    pre_run_cell event), so an edit shows without restarting."""
    module = Path(nb.cwd) / "edited.py"
    module.write_text("def version():\n    return 1\n")
    run_ok(nb.kc, "%load_ext autoreload\n%autoreload 2")
    assert eval_text(nb.kc, "import edited\nedited.version()") == "1"
    module.write_text("def version():\n    return 2\n")
    later = module.stat().st_mtime + 10  # a newer mtime, however coarse the clock
    os.utime(module, (later, later))
    assert eval_text(nb.kc, "edited.version()") == "2"


def test_a_pool_maps_a_function_defined_in_a_cell(nb):
    reply, outputs = execute(
        nb.kc,
        "from multiprocessing import Pool\n"
        "def square(x):\n    return x * x\n"
        "with Pool(2) as pool:\n    print(pool.map(square, range(5)))",
    )
    assert reply["status"] == "ok", errors(outputs)
    assert stream_text(outputs) == "[0, 1, 4, 9, 16]\n"


def test_a_warning_names_the_cells_file_and_line(nb):
    reply, outputs = execute(nb.kc, "import warnings\nwarnings.warn('careful')")
    assert reply["status"] == "ok", errors(outputs)
    pid = eval_text(nb.kc, "import os\nos.getpid()")
    text = stream_text(outputs, "stderr")
    assert f"ipykernel_{pid}" in text and ".py:2: UserWarning: careful" in text, text


def test_captured_output_is_kept_in_the_named_variable(nb):
    run_ok(nb.kc, "%%capture captured\nprint('hidden')")
    assert eval_text(nb.kc, "captured.stdout") == "'hidden\\n'"
