"""Fidelity with ipykernel: the marks code in the wild reads to know it runs in a
notebook kernel (sys.argv[0], the class of sys.stdout, the folder of a cell's code).

Each test runs on both kernelspecs (``pyo3`` and the reference ``python3``).
"""

from __future__ import annotations

from kernel_helpers import errors, eval_text, execute, stream_text

# A script pasted into a notebook: the usual test for "am I in Jupyter?" before argparse
# (which would fail on the kernel's own `-f FILE`).
SCRIPT = """
import argparse, sys
def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=6)
    if "ipykernel_launcher" in sys.argv[0]:
        return parser.parse_args([])
    return parser.parse_args()
print("size", parse_args().size)
"""


def test_argv0_names_ipykernels_launcher(shared):
    code = (
        "import os, sys\n(os.path.basename(sys.argv[0]), os.path.isfile(sys.argv[0]), sys.argv[1])"
    )
    assert eval_text(shared.kc, code) == "('ipykernel_launcher.py', True, '-f')"


def test_a_script_that_checks_for_the_launcher_takes_its_notebook_branch(shared):
    reply, outputs = execute(shared.kc, SCRIPT)
    assert reply["status"] == "ok", errors(outputs)
    assert stream_text(outputs) == "size 6\n"


def test_streams_are_ipykernel_outstreams(shared):
    code = (
        "import sys, ipykernel.iostream\n"
        "(isinstance(sys.stdout, ipykernel.iostream.OutStream),"
        " isinstance(sys.stderr, ipykernel.iostream.OutStream), sys.stdout.encoding)"
    )
    assert eval_text(shared.kc, code) == "(True, True, 'UTF-8')"


def test_a_cells_code_lives_in_ipykernels_temp_folder(shared):
    """Hugging Face datasets (fingerprints), numba (cache=True) and others recognise a
    notebook cell by this folder: ipykernel.compiler.get_tmp_directory()."""
    code = (
        "import os, ipykernel.compiler\n"
        "def in_a_cell(): pass\n"
        "folder = os.path.dirname(in_a_cell.__code__.co_filename)\n"
        "(folder == ipykernel.compiler.get_tmp_directory(),"
        " os.path.basename(folder) == f'ipykernel_{os.getpid()}')"
    )
    assert eval_text(shared.kc, code) == "(True, True)"
