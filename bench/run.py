"""Benchmark pyo3-kernel against ipykernel and xeus-python in one run.

    .venv/bin/python bench/run.py            # full run (several minutes), or: make bench
    .venv/bin/python bench/run.py --smoke    # seconds-long check that the bench works (CI)
    .venv/bin/python bench/run.py --kernels pyo3,python3 --groups startup,execute

Every kernel is driven by the same jupyter_client code. Figures are measured group by
group, each group for every kernel in turn, each on fresh kernel processes (the execute
round trips: all kernels at once, taking turns block by block; the start and nbclient
launches: one per kernel in turn, round after round). A group that
fails (timeout, dead kernel, wrong output) is reported as failed and the run goes on.
Prints a Markdown table (ratios to ipykernel), writes JSON and a PNG chart.
Exit status 1 if a figure other than an interrupt outcome failed.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import interrupts
import launches
import measure
import report
from exchange import KernelDied, NoReply
from figures import FAILED, Figure, Figures
from jupyter_client.kernelspec import KernelSpecManager
from kernels import Target, bench_env, ensure_xeus_python, installed_kernelspecs, label
from settings import FULL, SMOKE, Settings

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
# Groups measured on one kernel at a time ...
GROUPS: dict[str, Callable[[Target], Figures] | None] = {
    "startup": measure.startup,
    "start": None,  # side by side, below
    "execute": None,
    "debugger": None,
    "complete": measure.complete,
    "nbclient": None,
    "print": measure.big_print,
    "display": measure.big_display,
    "memory": measure.memory,
    "interrupt": interrupts.interrupts,
}
# ... and groups measured on all kernels at once, taking turns.
SIDE_BY_SIDE: dict[str, Callable[..., tuple[dict[str, Figures], dict[str, str]]]] = {
    "start": launches.start_side_by_side,
    "execute": measure.execute_side_by_side,
    "debugger": measure.debugger_side_by_side,
    "nbclient": launches.nbclient_side_by_side,
}
FULL_KERNELS = "pyo3,python3,xpython"
SMOKE_KERNELS = "pyo3,python3"


class GroupTimeout(Exception):
    """A group of measurements ran past its budget (the watchdog of last resort)."""


# What a misbehaving kernel causes (anything else is reported with its traceback).
EXPECTED_FAILURES = (NoReply, KernelDied, AssertionError, GroupTimeout, RuntimeError)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="few repetitions, small outputs")
    parser.add_argument(
        "--kernels",
        help=f"comma-separated kernelspecs (default {FULL_KERNELS}; --smoke: {SMOKE_KERNELS}); "
        "'xpython' installs xeus-python if missing",
    )
    parser.add_argument(
        "--groups",
        default=",".join(GROUPS),
        help=f"which measurements (default: all of {','.join(GROUPS)})",
    )
    parser.add_argument("--json", type=Path, help="results file (default bench/results/...)")
    parser.add_argument("--chart", type=Path, help="PNG chart (default bench/chart.png)")
    args = parser.parse_args(argv)
    unknown = set(args.groups.split(",")) - set(GROUPS)
    if unknown:
        parser.error(f"unknown groups: {', '.join(sorted(unknown))}")
    if args.kernels is None:
        args.kernels = SMOKE_KERNELS if args.smoke else FULL_KERNELS
    results = BENCH / "results"
    if args.json is None:
        args.json = results / ("smoke.json" if args.smoke else "results.json")
    if args.chart is None:  # the committed chart comes from full runs only
        args.chart = results / "smoke-chart.png" if args.smoke else BENCH / "chart.png"
    return args


def resolve_kernel(name: str) -> tuple[str, str | None]:
    """The kernelspec to run for ``name`` (installing xeus-python if asked for), or why not."""
    if name in ("xpython", "xeus-python"):
        try:
            name = ensure_xeus_python()
        except Exception as err:
            return "xpython", f"xeus-python unavailable: {err}"
    if name not in installed_kernelspecs():
        hint = " (run `make install`)" if name == "pyo3" else ""
        return name, f"kernelspec {name!r} not installed{hint}"
    return name, None


@contextmanager
def watchdog(seconds: float) -> Iterator[None]:
    """Raise GroupTimeout in this thread if the block runs longer than ``seconds``."""

    def expire(signum: int, frame: Any) -> None:
        raise GroupTimeout(f"group ran past its {seconds:g} s budget")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def failure_reason(err: BaseException) -> str:
    """What a failed figure shows; unexpected errors (a bug in the bench) also print."""
    if not isinstance(err, EXPECTED_FAILURES):
        traceback.print_exception(err)
    return f"{type(err).__name__}: {err}".strip()


def failed_group(group: str, reason: str, s: Settings) -> Figures:
    return {r.key: Figure.failed(reason) for r in report.rows(s) if r.group == group}


def run_group(group: str, target: Target, s: Settings) -> Figures:
    """One group of figures for one kernel; a failure marks each of its figures failed."""
    started = time.monotonic()
    measure_one = GROUPS[group]
    assert measure_one is not None
    try:
        with watchdog(s.group_budget):
            figures = measure_one(target)
    except Exception as err:
        figures = failed_group(group, failure_reason(err), s)
    took = time.monotonic() - started
    print(f"  {label(target.name):12} {took:6.1f} s  {summary(figures)}", flush=True)
    return figures


def run_side_by_side(group: str, targets: list[Target], s: Settings) -> dict[str, Figures]:
    """One group of figures for all kernels at once (they take turns)."""
    started = time.monotonic()
    try:
        with watchdog(s.group_budget * len(targets)):
            results, failures = SIDE_BY_SIDE[group](targets, failure_reason)
        for name, reason in failures.items():
            results[name] = failed_group(group, reason, s)
    except Exception as err:
        reason = failure_reason(err)
        results = {t.name: failed_group(group, reason, s) for t in targets}
    took = time.monotonic() - started
    print(f"  {'all, by turns':12} {took:6.1f} s", flush=True)
    for target in targets:
        print(f"  {label(target.name):12} {'':8}  {summary(results[target.name])}", flush=True)
    return results


def summary(figures: Figures) -> str:
    """A short progress line for a group's figures."""
    notes = {f.note for f in figures.values() if f.status == FAILED and f.value is None}
    if len(notes) == 1 and all(f.value is None for f in figures.values()):
        return f"FAILED: {notes.pop()[:120]}"
    parts = []
    for key, figure in figures.items():
        if figure.value is None:
            parts.append(f"{key}={figure.status.upper()} {figure.note[:60]}")
        else:
            parts.append(f"{key}={report.format_value(figure)}")
    return ", ".join(parts)


def hard_failures(results: dict[str, Figures]) -> list[str]:
    """Failed figures other than interrupt outcomes (those are results, not breakage)."""
    return [
        f"{name}/{key}"
        for name, figures in results.items()
        for key, figure in figures.items()
        if figure.status == FAILED and not key.startswith("interrupt_")
    ]


def metadata(args: argparse.Namespace, targets: list[Target], s: Settings) -> dict[str, Any]:
    def version(package: str) -> str | None:
        try:
            return importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            return None

    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(["bench/run.py", *sys.argv[1:]]),
        "smoke": args.smoke,
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus, {platform.platform()}",
        "python": platform.python_version(),
        "git": git_describe(),
        "packages": {
            p: version(p)
            for p in ("pyo3-kernel", "ipykernel", "ipython", "jupyter_client", "xeus-python")
        },
        "kernelspecs": {t.name: kernelspec_summary(t.name) for t in targets},
        "kernel_info": {
            t.name: {
                k: t.info.get(k) for k in ("implementation", "implementation_version", "banner")
            }
            for t in targets
        },
        "settings": asdict(s),
    }


def kernelspec_summary(name: str) -> dict[str, Any]:
    """The command a kernelspec runs, and when its executable was last changed (installed)."""
    argv = KernelSpecManager().get_kernel_spec(name).argv
    exe = shutil.which(argv[0]) if argv else None
    mtime = os.path.getmtime(exe) if exe else None
    changed = (
        datetime.datetime.fromtimestamp(mtime).isoformat(timespec="seconds") if mtime else None
    )
    return {"argv": argv, "executable_modified": changed}


def git_describe() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def resolve_all(requested: str, s: Settings) -> tuple[list[str], dict[str, Figures]]:
    """The kernelspecs to run, and results pre-filled with failures for those we cannot."""
    names: list[str] = []
    results: dict[str, Figures] = {}
    for name in requested.split(","):
        name, problem = resolve_kernel(name)
        results[name] = {r.key: Figure.failed(problem) for r in report.rows(s)} if problem else {}
        if not problem:
            names.append(name)
    return names, results


def measure_all(
    targets: list[Target], groups: list[str], results: dict[str, Figures], s: Settings
) -> dict[str, Any]:
    """Each group for every kernel in turn (so slow drift in the machine hits all alike).

    Returns what to know about the conditions: the 1-minute load average after each
    group, and warnings for kernels reinstalled while the run went on.
    """
    installed = {t.name: kernelspec_summary(t.name) for t in targets}
    load: dict[str, dict[str, float]] = {}
    warnings: list[str] = []
    for group in groups:
        print(f"[{group}]", flush=True)
        if group in SIDE_BY_SIDE:
            for name, figures in run_side_by_side(group, targets, s).items():
                results[name].update(figures)
        for target in targets:
            if group not in SIDE_BY_SIDE:
                results[target.name].update(run_group(group, target, s))
            load.setdefault(group, {})[target.name] = round(os.getloadavg()[0], 2)
            now = kernelspec_summary(target.name)
            if now != installed[target.name]:
                installed[target.name] = now
                warnings.append(
                    f"{label(target.name)} was reinstalled during the run (noticed after "
                    f"the {group} group): its figures may mix two builds"
                )
                print(f"WARNING: {warnings[-1]}", flush=True)
    return {"load_average_1min_after_group": load, "warnings": warnings}


def publish(args: argparse.Namespace, meta: dict[str, Any], results: dict[str, Figures]) -> None:
    """Print the summary (also written as Markdown next to the JSON), the JSON and the chart."""
    s = SMOKE if args.smoke else FULL
    text = report.summary_markdown(meta, results, s)
    print()
    print(text)
    args.json.with_suffix(".md").write_text(text + "\n")
    report.write_json(args.json, meta, results)
    title = (
        f"{' vs '.join(label(n) for n in results)}: {'smoke run, ' if args.smoke else ''}"
        f"{os.cpu_count()} cpus, Python {meta['python']}, {meta['date']}"
    )
    report.draw_chart(args.chart, results, s, title)
    print(f"\nwrote {args.json} (and .md), {args.chart}; kernels' own output: {meta['kernel_log']}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    s = SMOKE if args.smoke else FULL
    names, results = resolve_all(args.kernels, s)
    load_before = os.getloadavg()
    args.json.parent.mkdir(parents=True, exist_ok=True)
    kernel_log = args.json.with_suffix(".kernels.log")
    with (
        tempfile.TemporaryDirectory(prefix="bench-ipython-") as ipython_dir,
        kernel_log.open("w") as log,
    ):
        targets = [Target(name, s, bench_env(ipython_dir), log) for name in names]
        conditions = measure_all(targets, args.groups.split(","), results, s)
    meta = metadata(args, targets, s)
    meta["load_average_before_after"] = [load_before, os.getloadavg()]
    meta["kernel_log"] = str(kernel_log)
    meta.update(conditions)
    publish(args, meta, results)
    return 1 if hard_failures(results) else 0


if __name__ == "__main__":
    sys.exit(main())
