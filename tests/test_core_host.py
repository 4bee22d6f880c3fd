"""The embedded interpreter behaves like a normal Python on the host."""

from kernel_helpers import eval_text


def test_subprocess_runs_sys_executable(kernel):
    code = (
        "import subprocess, sys; "
        "subprocess.check_output([sys.executable, '-c', 'print(7)']).decode().strip()"
    )
    assert eval_text(kernel, code) == "'7'"


def test_spawn_multiprocessing_pool_maps_function_from_module(kernel, tmp_path):
    # A spawn child cannot import functions defined in the kernel's __main__,
    # so the mapped function lives in a module written to a temp dir.
    code = (
        "import multiprocessing, pathlib, sys\n"
        f"mp_dir = pathlib.Path({str(tmp_path)!r})\n"
        "(mp_dir / 'pyo3_mp_helper.py').write_text('def square(x):\\n    return x * x\\n')\n"
        "sys.path.insert(0, str(mp_dir))\n"
        "import pyo3_mp_helper as helper\n"
        "with multiprocessing.get_context('spawn').Pool(2) as mp_pool:\n"
        "    mp_result = mp_pool.map(helper.square, [1, 2, 3])\n"
        "mp_result"
    )
    assert eval_text(kernel, code, timeout=120) == "[1, 4, 9]"


def test_rust_bridge_is_builtin_module(kernel):
    code = "import sys, rust_bridge\nrust_bridge.__name__ in sys.builtin_module_names"
    assert eval_text(kernel, code) == "True"
