"""The built wheel installs into a brand-new venv and its kernel runs from there."""

import ast
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from kernel_helpers import eval_text, start_kernel, stop_kernel


def _required_env(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"set {name} (make test does)", pytrace=False)
    return value


def _run(cmd, timeout):
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, (
        f"{cmd!r} exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    )


def _inside(path, directory):
    p = Path(os.path.abspath(path))  # no resolve(): venv/bin/python is a symlink
    return any(p == d or d in p.parents for d in {directory, directory.resolve()})


def test_wheel_ships_types():
    """The package is typed (PEP 561 py.typed) and the engine's stub comes along as the
    stub-only package rust_bridge-stubs, the same text as rust_bridge/rust_bridge.pyi."""
    wheel = _required_env("PYO3_KERNEL_WHEEL")
    with zipfile.ZipFile(wheel) as archive:
        assert "pyo3_kernel/py.typed" in archive.namelist()
        stub = archive.read("rust_bridge-stubs/__init__.pyi")
    source = Path(__file__).resolve().parent.parent / "rust_bridge" / "rust_bridge.pyi"
    assert stub == source.read_bytes()


def test_host_runs_from_fresh_venv(tmp_path, monkeypatch):
    wheel = _required_env("PYO3_KERNEL_WHEEL")
    assert Path(wheel).is_file(), f"PYO3_KERNEL_WHEEL={wheel} is not a file"
    # Dependencies come from the package index, as for a user, unless a folder of
    # wheels is given (offline runs).
    wheelhouse = os.environ.get("PYO3_KERNEL_WHEELHOUSE")
    sources = ["--no-index", "--find-links", wheelhouse] if wheelhouse else []

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], timeout=180)
    venv_python = venv / "bin" / "python"
    _run(
        [
            str(venv_python),
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--quiet",
            *sources,
            wheel,
        ],
        timeout=600,
    )
    kernel_bin = venv / "bin" / "pyo3-kernel"
    assert kernel_bin.is_file(), f"installing {wheel} did not create {kernel_bin}"

    spec_dir = tmp_path / "share" / "jupyter" / "kernels" / "freshpyo3"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [str(kernel_bin), "-f", "{connection_file}"],
                "display_name": "pyo3 (fresh venv)",
                "language": "python",
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "share" / "jupyter"))
    # The kernel must find its venv by itself, not via the test run's environment.
    for var in ("VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH"):
        monkeypatch.delenv(var, raising=False)

    km, kc = start_kernel("freshpyo3")
    try:
        prefix, executable = ast.literal_eval(
            eval_text(kc, "import sys; sys.prefix, sys.executable")
        )
        assert _inside(prefix, venv), f"sys.prefix {prefix} is not inside {venv}"
        assert _inside(executable, venv), f"sys.executable {executable} is not inside {venv}"
        assert eval_text(kc, "1+1") == "2"
    finally:
        stop_kernel(km, kc)
