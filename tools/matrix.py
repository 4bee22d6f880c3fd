"""Wheels for every Python here, and the tests on each (`make dist`, `make matrix`).

`make dist` builds one wheel per CPython 3.10-3.13 found on this machine (pyenv's
versions, then `python3.X` on PATH) into target/dist/. `make matrix` then, for every
Python but the one the full suite ran on, and for a host linked with a static
libpython (Debian's libpython3.X-pic.a, when libpython3.X-dev is installed):

1. makes a fresh venv of that Python and installs the wheel with plain pip, with no
   cargo or rustc on PATH (what a user without Rust does);
2. registers the kernelspec `pyo3` in that venv;
3. runs the core, interrupt, feature and debugger tests there, against pyo3 only (the
   main run compared them with ipykernel already).

A Python that is absent is skipped with a printed line. Prints a table (Python x build,
wheel install, tests, seconds) and exits 1 if anything failed, including a pytest run
that collected no tests.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "target" / "dist"
WORK = ROOT / "target" / "matrix"
VERSIONS = ("3.10", "3.11", "3.12", "3.13")
SUBSET = (
    "tests/test_core_*.py",
    "tests/test_interrupts.py",
    "tests/test_features_*.py",
    "tests/test_debugger.py",
)
# What the subset needs beside the kernel (the kernel's own dependencies come with the
# wheel): the test runner, the notebook formats, and the libraries cells use.
TEST_DEPS = (
    "pytest",
    "psutil",
    "pexpect",
    "nbformat",
    "nbclient",
    "matplotlib",
    "pandas",
    "ipywidgets",
)


@dataclass
class Entry:
    """One row of the matrix: a Python and how the host is linked."""

    name: str
    python: str
    static: bool = False
    wheel: Path | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    outcome: dict[str, str] = field(default_factory=dict)


def log(message: str) -> None:
    print(f"matrix: {message}", flush=True)


def find_python(version: str) -> str | None:
    """The newest pyenv build of `version`, else `python{version}` on PATH."""
    pattern = os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}")
    found = sorted(glob.glob(pattern), key=_patch_level)
    if found:
        return found[-1]
    return shutil.which(f"python{version}")


def _patch_level(path: str) -> int:
    match = re.search(r"/\d+\.\d+\.(\d+)/", path)
    return int(match.group(1)) if match else -1


def path_without_rust() -> str:
    dirs = os.environ.get("PATH", "").split(os.pathsep)
    return os.pathsep.join(
        d for d in dirs if d and not any(Path(d, t).exists() for t in ("cargo", "rustc"))
    )


def run(cmd: list[str], log_file: Path, **kw: object) -> bool:
    """Runs `cmd`, its output into `log_file`; True when it exited 0."""
    with log_file.open("a") as out:
        out.write(f"$ {' '.join(map(str, cmd))}\n")
        out.flush()
        proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, **kw)  # type: ignore[call-overload]
    return bool(proc.returncode == 0)


def _tail(log_file: Path, lines: int = 40) -> str:
    return "\n".join(log_file.read_text(errors="replace").splitlines()[-lines:])


def static_config(python: str, config: Path) -> bool:
    """Writes a PyO3 build config that links `python`'s static, position-independent
    libpython (Debian's libpython3.X-pic.a) into the host; False if there is none."""
    query = (
        "import sysconfig as s, sys; v = s.get_config_var; "
        "print(v('LIBPL')); print(v('LDVERSION')); print(v('LIBS') or ''); "
        "print(v('SYSLIBS') or ''); print('%d.%d' % sys.version_info[:2])"
    )
    out = subprocess.run([python, "-c", query], capture_output=True, text=True)
    if out.returncode != 0:
        return False
    libpl, ldversion, libs, syslibs, version = out.stdout.splitlines()[:5]
    # Debian ships a position-independent copy beside libpythonX.Y.a (which is not,
    # and cannot go into a position-independent executable); a Python built with
    # CFLAGS=-fPIC (e.g. `PYTHON_CFLAGS=-fPIC pyenv install`) has a usable libpythonX.Y.a.
    pic = Path(libpl) / f"libpython{ldversion}-pic.a"
    archive = pic if pic.is_file() else Path(libpl) / f"libpython{ldversion}.a"
    if not archive.is_file():
        return False
    # Debian builds zlib and expat into libpython: pyexpat and zlib need their libraries.
    system_libs = {m for m in re.findall(r"-l(\S+)", f"{libs} {syslibs}")} | {"z", "expat"}
    lines = [
        "implementation=CPython",
        f"version={version}",
        "shared=false",
        "abi3=false",
        f"lib_name=python{ldversion}",
        f"lib_dir={libpl}",
        f"executable={python}",
        "pointer_width=64",
        "build_flags=",
        # The host links the whole archive (below), so that every C API function is
        # there for extension modules; PyO3's own line would link only what it uses.
        "suppress_build_script_link_lines=true",
        f"extra_build_script_line=cargo:rustc-link-search=native={libpl}",
        "extra_build_script_line=cargo:rustc-link-lib=static:+whole-archive,-bundle="
        + archive.name.removeprefix("lib").removesuffix(".a"),
    ]
    lines += [
        f"extra_build_script_line=cargo:rustc-link-lib=dylib={m}" for m in sorted(system_libs)
    ]
    config.write_text("\n".join(lines) + "\n")
    return True


def build_wheel(entry: Entry, out_dir: Path, log_file: Path) -> str:
    """Builds the entry's wheel: "ok", "FAILED", or "skipped" (no static libpython)."""
    tag = entry.name.replace(" ", "-")
    env = {**os.environ, "CARGO_TARGET_DIR": str(ROOT / "target" / f"build-{tag}")}
    env.pop("PYO3_CONFIG_FILE", None)
    env["PYO3_PYTHON"] = entry.python
    if entry.static:
        config = WORK / tag / "pyo3-config.txt"
        config.parent.mkdir(parents=True, exist_ok=True)
        if not static_config(entry.python, config):
            log("static libpython: no libpython3.X-pic.a (Debian: libpython3-dev), skipped")
            return "skipped"
        env["PYO3_CONFIG_FILE"] = str(config)
        env.pop("PYO3_PYTHON")
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob(f"pyo3_kernel-*-{_cp_tag(entry.python)}-*.whl"):
        old.unlink()
    maturin = str(Path(sys.executable).parent / "maturin")
    cmd = [maturin, "build", "--release", "-q", "-i", entry.python, "-o", str(out_dir)]
    if not run(cmd, log_file, env=env, cwd=ROOT):
        return "FAILED"
    wheels = sorted(out_dir.glob(f"pyo3_kernel-*-{_cp_tag(entry.python)}-*.whl"))
    entry.wheel = wheels[-1] if wheels else None
    return "ok" if entry.wheel is not None else "FAILED"


def _cp_tag(python: str) -> str:
    out = subprocess.run(
        [python, "-c", "import sys; print('cp%d%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def _venv_env(entry: Entry) -> dict[str, str]:
    env = {**os.environ, "PATH": path_without_rust()}
    for var in ("VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH", "JUPYTER_PATH", "PYO3_PYTHON"):
        env.pop(var, None)
    return env


def _home(entry: Entry) -> Path:
    return WORK / entry.name.replace(" ", "-")


def install(entry: Entry, log_file: Path) -> bool:
    """A fresh venv of the entry's Python, the wheel and TEST_DEPS by plain pip (no Rust
    on PATH), and the kernelspec `pyo3` registered in it."""
    venv = _home(entry) / "venv"
    shutil.rmtree(venv, ignore_errors=True)
    started = time.monotonic()
    env = _venv_env(entry)
    python = str(venv / "bin" / "python")
    pip = [python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    ok = (
        run([entry.python, "-m", "venv", str(venv)], log_file, env=env)
        and run([*pip, str(entry.wheel), *TEST_DEPS], log_file, env=env)
        and run([str(venv / "bin" / "pyo3-kernel"), "install", "--sys-prefix"], log_file, env=env)
    )
    entry.seconds["install"] = time.monotonic() - started
    entry.outcome["install"] = "ok" if ok else "FAILED"
    if not ok:
        entry.outcome["tests"] = "not run"
    return ok


def test(entry: Entry, log_file: Path, pytest_args: list[str]) -> None:
    """The subset, in the entry's venv, against its kernelspec `pyo3`."""
    home = _home(entry)
    venv = home / "venv"
    env = _venv_env(entry)
    python = str(venv / "bin" / "python")
    # The venv's kernelspecs only: a `pyo3` in the user's data dir would shadow them.
    env["JUPYTER_DATA_DIR"] = str(home / "jupyter-data")
    env["PATH"] = os.pathsep.join([str(venv / "bin"), env["PATH"]])
    env["PYO3_KERNEL_WHEEL"] = str(entry.wheel)
    env["PYO3_FIDELITY_KERNELS"] = "pyo3"
    files = sorted({f for pattern in SUBSET for f in glob.glob(str(ROOT / pattern))})
    started = time.monotonic()
    cmd = [python, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *files, *pytest_args]
    # Our pytest config names pytest-asyncio's option (for the peer suites): not needed here.
    cmd += ["-W", "ignore::pytest.PytestConfigWarning"]
    with log_file.open("a") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        proc = subprocess.run(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        out.write(proc.stdout)
    entry.seconds["tests"] = time.monotonic() - started
    summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else "no output"
    summary = summary.strip("= ")
    # pytest exit 5 (nothing collected) is a failure here too.
    entry.outcome["tests"] = summary if proc.returncode == 0 else f"FAILED: {summary}"
    if proc.returncode != 0:
        print(proc.stdout[-6000:], flush=True)


def prepare(entry: Entry, with_install: bool) -> bool:
    """Builds the entry's wheel and, if asked, installs it: True when its tests can run."""
    log_file = WORK / f"{entry.name}.log"
    log_file.write_text("")
    log(f"{entry.name}: building the wheel with {entry.python} (log: {log_file})")
    started = time.monotonic()
    out_dir = WORK / "static-wheel" if entry.static else DIST
    built = build_wheel(entry, out_dir, log_file)
    entry.seconds["build"] = time.monotonic() - started
    entry.outcome["build"] = built
    if built == "FAILED":
        print(_tail(log_file), flush=True)
    if built != "ok" or not with_install:
        return False
    log(f"{entry.name}: fresh venv, pip install without Rust")
    return install(entry, log_file)


def entries(default: str, with_static: bool, versions: tuple[str, ...]) -> list[Entry]:
    found: list[Entry] = []
    for version in versions:
        python = find_python(version)
        if python is None:
            log(f"Python {version}: not on this machine, skipped")
            continue
        entry = Entry(f"{version}", python)
        if version == default:
            log(f"Python {version}: the full suite runs on it (make test); wheel only")
            entry.outcome["install"] = entry.outcome["tests"] = "in the full suite"
        found.append(entry)
    if with_static:
        debian = "/usr/bin/python3"
        if Path(debian).is_file():
            found.append(Entry("static", debian, static=True))
        else:
            log("static libpython: no /usr/bin/python3, skipped")
    return found


FREE_THREADED_CONFIG = """implementation=CPython
version=3.14
shared=true
abi3=false
lib_name=python3.14t
lib_dir=/nonexistent
pointer_width=64
build_flags=Py_GIL_DISABLED
"""


def free_threaded_is_refused() -> str:
    """A build for a free-threaded CPython (none is on these machines: a PyO3 build
    config stands in for 3.14t) must stop with our message, not make a broken kernel."""
    home = WORK / "free-threaded"
    home.mkdir(parents=True, exist_ok=True)
    config = home / "pyo3-config.txt"
    config.write_text(FREE_THREADED_CONFIG)
    env = {**os.environ, "PYO3_CONFIG_FILE": str(config)}
    env["CARGO_TARGET_DIR"] = str(ROOT / "target" / "build-free-threaded")
    env.pop("PYO3_PYTHON", None)
    cmd = ["cargo", "check", "-q", "-p", "pyo3-kernel"]
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    (home / "check.log").write_text(proc.stdout + proc.stderr)
    refused = "pyo3-kernel does not support free-threaded CPython" in proc.stderr
    if proc.returncode != 0 and refused:
        log("free-threaded 3.14t: the build refuses it with its message")
        return "ok"
    print(proc.stderr[-3000:], flush=True)
    return "FAILED"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dist-only", action="store_true", help="build the wheels only")
    parser.add_argument("--versions", nargs="*", default=list(VERSIONS))
    parser.add_argument("--no-static", action="store_true")
    parser.add_argument(
        "--static-config",
        metavar="PYTHON",
        help="only write the PyO3 build config that links PYTHON's static libpython into "
        "the host, to target/pyo3-static-config.txt (then: PYO3_CONFIG_FILE=<it> pip install .)",
    )
    parser.add_argument("pytest_args", nargs="*", help="after --: passed to pytest")
    args = parser.parse_args()
    if args.static_config:
        config = ROOT / "target" / "pyo3-static-config.txt"
        config.parent.mkdir(parents=True, exist_ok=True)
        if not static_config(args.static_config, config):
            log(f"{args.static_config} has no static libpython archive in its LIBPL")
            return 1
        print(config)
        return 0
    default = f"{sys.version_info[0]}.{sys.version_info[1]}"
    WORK.mkdir(parents=True, exist_ok=True)
    rows = entries(default, not args.dist_only and not args.no_static, tuple(args.versions))
    # Wheels are built and venvs installed one entry ahead, on a thread, while the tests
    # of the one before run: the tests mostly wait on kernels, the installs on downloads.
    testable = [not args.dist_only and e.name != default for e in rows]
    with ThreadPoolExecutor(max_workers=1) as ahead:
        ready = [ahead.submit(prepare, e, t) for e, t in zip(rows, testable, strict=True)]
        refusal = None if args.dist_only else ahead.submit(free_threaded_is_refused)
        for entry, future in zip(rows, ready, strict=True):
            if future.result():
                log(f"{entry.name}: tests")
                test(entry, WORK / f"{entry.name}.log", args.pytest_args)
        if refusal is not None:
            ft = Entry("3.14t", "free-threaded: a PyO3 build config")
            refused = refusal.result()
            build = "refused with our message" if refused == "ok" else "FAILED: not refused"
            ft.outcome = {"build": build, "install": "-", "tests": "-"}
            rows.append(ft)
    failed = any("FAILED" in v for e in rows for v in e.outcome.values())
    print_table(rows, args.dist_only)
    return 1 if failed else 0


def print_table(rows: list[Entry], dist_only: bool) -> None:
    print(
        "\n| Python | build | wheel install (no Rust) | tests | seconds (build / install / tests) |"
    )
    print("|---|---|---|---|---|")
    for e in rows:
        s = e.seconds
        times = " / ".join(f"{s[k]:.0f}" if k in s else "-" for k in ("build", "install", "tests"))
        name = f"{e.name} ({e.python})" + (" static libpython" if e.static else "")
        install = e.outcome.get("install", "-" if not dist_only else "not asked")
        build, tests = e.outcome.get("build", "-"), e.outcome.get("tests", "-")
        print(f"| {name} | {build} | {install} | {tests} | {times} |")
    print(flush=True)


if __name__ == "__main__":
    sys.exit(main())
