"""Run ipykernel's and nbclient's own test suites against pyo3-kernel.

Why: our tests check what we thought of. ipykernel's suite is what the reference Python
kernel holds itself to, and nbclient's is what its main headless client expects of any
kernel; passing them is the closest thing to "behaves like ipykernel". None of their
code is committed here: the sdists of the versions installed in this interpreter are
downloaded at run time, our one conftest (tests/peer/conftest_peer.py) is dropped into
each, and the ``python3`` and ``python`` kernelspecs they start are redirected to the
installed ``pyo3`` kernelspec through JUPYTER_PATH, which jupyter_core searches first.
Exclusions live in that conftest's EXCLUDED table.

Usage: python tools/peer_suites.py [--kernel pyo3|python3] [--suite NAME] [-k EXPR]
                                   [--keep] [extra pytest args...]
``--kernel python3`` runs the suites on ipykernel itself (no redirect, no exclusions),
to tell a problem of the runner from a problem of the kernel. Exit status 0 only when
every suite ran at least one test and none failed.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

# The test files each peer project runs, relative to its sdist root.
SUITES: dict[str, tuple[str, ...]] = {
    "ipykernel": (
        "tests/test_kernel.py",
        "tests/test_message_spec.py",
        "tests/test_subshells.py",
        "tests/test_debugger.py",
    ),
    "nbclient": ("tests/",),
}
PYTEST_ARGS = (
    "-p",
    "no:cacheprovider",
    "-o",
    "asyncio_default_fixture_loop_scope=function",
    "--color=no",
    "-q",
)
REPO = Path(__file__).resolve().parent.parent
PEER_CONFTEST = REPO / "tests" / "peer" / "conftest_peer.py"
# Kernelspec names the suites start: ipykernel's "python3", nbclient's "python".
REDIRECTED_SPECS = ("python3", "python")


@dataclass
class Outcome:
    suite: str
    exit_code: int
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    reported: bool = False

    @property
    def ok(self) -> bool:
        ran = self.passed + self.failed + self.errors
        return self.exit_code == 0 and self.reported and ran > 0

    def summary(self) -> str:
        verdict = "ok" if self.ok else "FAILED"
        if not self.reported:
            return f"{self.suite}: {verdict} (pytest exit {self.exit_code}, no report)"
        return (
            f"{self.suite}: {verdict} ({self.passed} passed, {self.failed} failed, "
            f"{self.errors} errors, {self.skipped} skipped; pytest exit {self.exit_code})"
        )


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0] if __doc__ else None,
        epilog="Unrecognised arguments are passed on to pytest.",
    )
    parser.add_argument("--kernel", choices=("pyo3", "python3"), default="pyo3")
    parser.add_argument("--suite", choices=sorted(SUITES), action="append")
    parser.add_argument("-k", dest="keyword", metavar="EXPR", help="pytest -k expression")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir, print it")
    return parser.parse_known_args(argv)


def installed_versions(suites: list[str]) -> dict[str, str]:
    try:
        return {name: importlib.metadata.version(name) for name in suites}
    except importlib.metadata.PackageNotFoundError as error:
        raise RuntimeError(f"{error.name} is not installed in {sys.prefix} (make venv)") from None


def download_sdists(versions: dict[str, str], dest: Path) -> None:
    """pip needs hatchling importable: --no-build-isolation reads metadata with it."""
    pins = [f"{name}=={version}" for name, version in versions.items()]
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
    command += ["--no-build-isolation", "-q", *pins, "-d", str(dest)]
    result = subprocess.run(command, check=False)
    if result.returncode != 0:
        raise RuntimeError(
            f"downloading the sdists of {', '.join(pins)} failed (pip exit "
            f"{result.returncode}); is PyPI reachable and hatchling installed (make venv)?"
        )


def _extract(archive: tarfile.TarFile, dest: Path) -> None:
    if hasattr(tarfile, "data_filter"):
        archive.extractall(dest, filter="data")
        return
    root = dest.resolve()
    for member in archive.getmembers():
        target = (dest / member.name).resolve()
        if not (member.isfile() or member.isdir()) or not target.is_relative_to(root):
            raise RuntimeError(f"refusing to unpack {member.name!r}")
    archive.extractall(dest)  # every member checked above


def unpack_sdist(name: str, version: str, downloads: Path, dest: Path) -> Path:
    """Unpack NAME's sdist into DEST and return its root (the dir with pyproject.toml)."""
    archives = sorted(downloads.glob(f"{name}-{version}.tar.gz"))
    if len(archives) != 1:
        raise RuntimeError(f"expected one sdist {name}-{version}.tar.gz in {downloads}")
    with tarfile.open(archives[0]) as archive:
        tops = {member.name.split("/", 1)[0] for member in archive.getmembers()}
        if len(tops) != 1:
            raise RuntimeError(f"{archives[0].name} has no single top-level dir: {sorted(tops)}")
        _extract(archive, dest)
    root = dest / tops.pop()
    if not (root / "pyproject.toml").is_file():
        raise RuntimeError(f"{root} has no pyproject.toml (their pytest config)")
    return root


def install_conftest(root: Path) -> None:
    """Our conftest at their rootdir; theirs, in tests/, is a different module and stays."""
    target = root / "conftest.py"
    if target.exists():
        raise RuntimeError(f"{target} exists: the peer conftest would replace theirs")
    shutil.copyfile(PEER_CONFTEST, target)


def redirect_kernelspecs(jupyter_dir: Path) -> None:
    """Copy the installed pyo3 kernelspec to jupyter_dir/kernels/{python3,python}."""
    try:
        source = KernelSpecManager().get_kernel_spec("pyo3").resource_dir
    except NoSuchKernel:
        raise RuntimeError("kernelspec pyo3 is not installed (make install)") from None
    for name in REDIRECTED_SPECS:
        shutil.copytree(source, jupyter_dir / "kernels" / name)


def child_env(kernel: str, work: Path) -> dict[str, str]:
    """The suites' environment: our venv's tools first, the kernel chosen, history apart."""
    env = dict(os.environ)
    scripts = sysconfig.get_path("scripts")
    env["PATH"] = os.pathsep.join([scripts, env.get("PATH", "")])
    env["PEER_KERNEL"] = kernel
    env["IPYTHONDIR"] = str(work / "ipython")
    if kernel == "pyo3":
        jupyter_dir = work / "jupyter"
        redirect_kernelspecs(jupyter_dir)
        env["JUPYTER_PATH"] = os.pathsep.join(
            path for path in (str(jupyter_dir), env.get("JUPYTER_PATH", "")) if path
        )
    return env


def read_report(suite: str, exit_code: int, report: Path) -> Outcome:
    outcome = Outcome(suite, exit_code)
    if not report.is_file():
        return outcome
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for testsuite in ET.parse(report).getroot().iter("testsuite"):
        for key in totals:
            totals[key] += int(testsuite.get(key, "0"))
    outcome.failed, outcome.errors = totals["failures"], totals["errors"]
    outcome.skipped = totals["skipped"]
    outcome.passed = totals["tests"] - outcome.failed - outcome.errors - outcome.skipped
    outcome.reported = True
    return outcome


def run_suite(suite: str, root: Path, env: dict[str, str], pytest_args: list[str]) -> Outcome:
    report = root / "peer-report.xml"
    command = [sys.executable, "-m", "pytest", *PYTEST_ARGS, f"--junitxml={report}"]
    command += [*pytest_args, *SUITES[suite]]
    print(f"\n=== {suite} suite: {' '.join(command[1:])}", flush=True)
    result = subprocess.run(command, cwd=root, env=env, check=False)
    return read_report(suite, result.returncode, report)


def run_all(args: argparse.Namespace, extra: list[str], work: Path) -> list[Outcome]:
    suites = args.suite or list(SUITES)
    versions = installed_versions(suites)
    downloads = work / "downloads"
    download_sdists(versions, downloads)
    env = child_env(args.kernel, work)
    pytest_args = (["-k", args.keyword] if args.keyword else []) + extra
    outcomes = []
    for suite in suites:
        root = unpack_sdist(suite, versions[suite], downloads, work / "src")
        install_conftest(root)
        outcomes.append(run_suite(suite, root, env, pytest_args))
    return outcomes


def main(argv: list[str]) -> int:
    args, extra = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="pyo3-kernel-peer-"))
    try:
        outcomes = run_all(args, extra, work)
    except RuntimeError as error:
        print(f"peer suites: {error}", file=sys.stderr)
        return 2
    finally:
        if args.keep:
            print(f"peer suites: kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\npeer suites against the {args.kernel} kernel:")
    for outcome in outcomes:
        print(f"  {outcome.summary()}")
    return 0 if all(outcome.ok for outcome in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
