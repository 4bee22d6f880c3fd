"""The built wheel travels: it installs with plain pip into a brand-new venv of another
Python of the same version (Debian's /usr/bin/python3 as well as the one it was built
with), with no cargo or rustc on PATH, and the kernel runs there on that Python's own
libpython and prefix. A wheel in the wrong place says so in one line."""

import ast
import json
import os
import re
import shutil
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


def _wheel_version(wheel: str) -> str:
    """`3.11` for a cp311 wheel."""
    tag = re.search(r"-cp3(\d+)-", Path(wheel).name)
    assert tag, f"no cpython tag in {wheel}"
    return f"3.{tag.group(1)}"


def _version_of(python: str) -> str | None:
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except OSError:
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _path_without_rust() -> str:
    """PATH minus every directory holding cargo or rustc: a user's machine."""
    dirs = os.environ.get("PATH", "").split(os.pathsep)
    keep = [
        d
        for d in dirs
        if d and not any(Path(d, tool).exists() for tool in ("cargo", "rustc", "rustup"))
    ]
    return os.pathsep.join(keep)


def _base_pythons() -> dict[str, str]:
    """Base interpreters to make venvs from: the one running the tests, and Debian's."""
    this = Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    return {"this-python": str(this), "debian-python3": "/usr/bin/python3"}


def _install_in_fresh_venv(base: str, venv: Path, wheel: str) -> None:
    # Dependencies come from the package index, as for a user, unless a folder of
    # wheels is given (offline runs).
    wheelhouse = os.environ.get("PYO3_KERNEL_WHEELHOUSE")
    sources = ["--no-index", "--find-links", wheelhouse] if wheelhouse else []
    env = {**os.environ, "PATH": _path_without_rust()}
    for var in ("VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH"):
        env.pop(var, None)
    proc = subprocess.run([base, "-m", "venv", str(venv)], capture_output=True, text=True)
    if proc.returncode != 0 and "ensurepip" in proc.stdout + proc.stderr:
        pytest.skip(f"{base} cannot make venvs here (Debian: apt install python3-venv)")
    assert proc.returncode == 0, proc.stderr
    cmd = [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check"]
    proc = subprocess.run(
        [*cmd, "--quiet", *sources, wheel], capture_output=True, text=True, timeout=600, env=env
    )
    assert proc.returncode == 0, f"pip install failed:\n{proc.stdout}\n{proc.stderr}"


def _write_spec(root: Path, name: str, argv0: Path) -> None:
    spec_dir = root / "share" / "jupyter" / "kernels" / name
    spec_dir.mkdir(parents=True)
    spec = {"argv": [str(argv0), "-f", "{connection_file}"], "display_name": name}
    (spec_dir / "kernel.json").write_text(json.dumps({**spec, "language": "python"}))


@pytest.mark.parametrize("base_name", ["this-python", "debian-python3"])
def test_wheel_runs_in_fresh_venv_without_rust(base_name, tmp_path, monkeypatch):
    wheel = _required_env("PYO3_KERNEL_WHEEL")
    assert Path(wheel).is_file(), f"PYO3_KERNEL_WHEEL={wheel} is not a file"
    base = _base_pythons()[base_name]
    if not Path(base).is_file():
        pytest.skip(f"{base} is not installed here")
    version = _version_of(base)
    if version != _wheel_version(wheel):
        pytest.skip(f"{base} is Python {version}, the wheel is for {_wheel_version(wheel)}")
    venv = tmp_path / "venv"
    _install_in_fresh_venv(base, venv, wheel)
    launcher = venv / "bin" / "pyo3-kernel"
    assert launcher.is_file(), f"installing {wheel} did not create {launcher}"

    _write_spec(tmp_path, "freshpyo3", launcher)
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "share" / "jupyter"))
    monkeypatch.setenv("PATH", _path_without_rust())
    # The kernel must find its venv by itself, not via the test run's environment; and
    # the user's LD_LIBRARY_PATH reaches the kernel's subprocesses unchanged.
    for var in ("VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LD_LIBRARY_PATH", "/opt/users-own-libs")

    km, kc = start_kernel("freshpyo3")
    try:
        prefix, executable, base_prefix = ast.literal_eval(
            eval_text(kc, "import sys; sys.prefix, sys.executable, sys.base_prefix")
        )
        assert _inside(prefix, venv), f"sys.prefix {prefix} is not inside {venv}"
        assert _inside(executable, venv), f"sys.executable {executable} is not inside {venv}"
        real_base = Path(base).resolve().parent.parent
        assert Path(base_prefix).resolve() == real_base
        libpython = ast.literal_eval(
            eval_text(
                kc,
                "sorted({l.split()[-1] for l in open('/proc/self/maps') if 'libpython' in l})",
            )
        )
        if _host_is_static(venv / "bin"):
            assert libpython == [], libpython  # the interpreter is inside the host
        else:
            # The base Python's own library: under its prefix (pyenv: PREFIX/lib), or the
            # system's for a system Python (Debian: /usr/lib/x86_64-linux-gnu).
            assert len(libpython) == 1, libpython
            assert Path(libpython[0]).resolve().is_relative_to(real_base), libpython
        assert eval_text(kc, "import os; os.environ.get('LD_LIBRARY_PATH')") == (
            "'/opt/users-own-libs'"
        )
        assert eval_text(kc, "import math; math.sqrt(16)") == "4.0"
        assert eval_text(kc, "1+1") == "2"
    finally:
        stop_kernel(km, kc)


def _host_is_static(bin_dir: Path) -> bool:
    """Whether the host has libpython linked in (a build against a Python without a
    shared library, tools/matrix.py's `static` entry) rather than loading it."""
    dynamic = subprocess.run(
        ["readelf", "-d", str(bin_dir / "pyo3-kernel-host")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return "libpython" not in dynamic


def _installed_launcher() -> Path:
    found = shutil.which("pyo3-kernel", path=str(Path(sys.executable).parent))
    assert found, "pyo3-kernel is not installed beside the test run's python (make install)"
    return Path(found)


def _copy_programs(dest: Path) -> Path:
    """The launcher and the host, copied into `dest` (a bin/ directory)."""
    launcher = _installed_launcher()
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("pyo3-kernel", "pyo3-kernel-host"):
        shutil.copy2(launcher.parent / name, dest / name)
    return dest / "pyo3-kernel"


def _one_line_error(launcher: Path, path: str = "/usr/bin:/bin") -> str:
    proc = subprocess.run(
        [str(launcher), "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": path, "HOME": os.environ.get("HOME", "/")},
    )
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("pyo3-kernel: "), lines
    return lines[0]


def _fake_venv(tmp_path: Path, home: Path, version: str) -> Path:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text(f"home = {home}\nversion = {version}\n")
    (venv / "bin" / "python3").symlink_to(home / "python3")
    return _copy_programs(venv / "bin")


def test_wheel_for_another_python_says_which(tmp_path):
    """The programs of a 3.11 wheel in a 3.12 venv: one line naming both versions."""
    built = f"{sys.version_info[0]}.{sys.version_info[1]}"
    other = "3.12" if built != "3.12" else "3.11"
    launcher = _fake_venv(tmp_path, Path(sys.base_prefix) / "bin", f"{other}.1")
    line = _one_line_error(launcher)
    assert f"built for Python {built}" in line and f"Python {other}.1" in line, line


def test_venv_whose_python_is_gone_says_so(tmp_path):
    built = f"{sys.version_info[0]}.{sys.version_info[1]}"
    launcher = _fake_venv(tmp_path, tmp_path / "deleted" / "bin", f"{built}.0")
    line = _one_line_error(launcher)
    assert "is gone" in line and str(tmp_path / "deleted") in line, line


def test_python_without_shared_libpython_names_the_library(tmp_path):
    """A Python built without --enable-shared (pyenv's default): the launcher names the
    library it looked for, and where, instead of the loader's crash."""
    if _host_is_static(_installed_launcher().parent):
        pytest.skip("this host has libpython linked in: it looks for no library")
    built = f"{sys.version_info[0]}.{sys.version_info[1]}"
    prefix = tmp_path / "static-python"
    (prefix / "lib" / f"python{built}").mkdir(parents=True)
    (prefix / "bin").mkdir()
    # Only its name matters to the launcher (a link would lead to the real prefix).
    (prefix / "bin" / f"python{built}").write_text("#!/bin/sh\n")
    launcher = _copy_programs(prefix / "bin")
    line = _one_line_error(launcher)
    assert f"libpython{built}.so.1.0" in line and str(prefix / "lib") in line, line


def test_launcher_links_no_libpython():
    """The program users run starts on any machine; only the host needs libpython."""
    launcher = _installed_launcher()
    needed = subprocess.run(
        ["readelf", "-d", str(launcher)], capture_output=True, text=True, check=True
    ).stdout
    assert "libpython" not in needed
    host = subprocess.run(
        ["readelf", "-d", str(launcher.parent / "pyo3-kernel-host")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # No build machine's path baked in: the launcher finds libpython at run time.
    assert "RPATH" not in host and "RUNPATH" not in host, host
