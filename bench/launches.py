"""Launch-to-result figures: every sample on a fresh kernel, the kernels taking turns.

- nbclient: ``NotebookClient(nb, kernel_name=K).execute()``, the whole call (launch,
  wait_for_ready, every cell, graceful shutdown), for a 3-cell notebook and for
  notebooks/data_analysis.ipynb;
- start: jupyter_client's ``start_new_kernel`` (launch + wait_for_ready), and a first
  cell sent the moment the kernel is launched, to its execute_reply.

Each round takes one sample of every figure from every kernel, the kernels in an order
shuffled per round (the same in every run), so drift in the machine's speed hits all
kernels alike. A sample that fails because of the kernel fails that figure for that
kernel only; the other figures and kernels go on.
"""

from __future__ import annotations

import copy
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
from exchange import Exchange, KernelDied, NoReply
from figures import Figure, Figures, timing
from jupyter_client.manager import start_new_kernel
from kernels import Target
from nbclient import NotebookClient
from nbclient.exceptions import CellControlSignal

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
DATA_ANALYSIS = "data_analysis.ipynb"
SMALL_NOTEBOOK = ("x = 1", "print(x)", "x + 1")
# What a misbehaving kernel makes a sample raise: that figure fails for that kernel. Anything
# else (a bug in the bench, the group's watchdog) propagates and ends the group.
KERNEL_FAILURES = (NoReply, KernelDied, AssertionError, RuntimeError, TimeoutError)
# After the execute_reply of a cell sent at launch: how long to wait for its iopub result
# (the subscription may have connected too late to see it; that is counted, not failed).
IOPUB_GRACE_S = 2.0

Sample = Callable[[Target], float]  # one fresh kernel, measured: seconds
SideBySide = tuple[dict[str, Figures], dict[str, str]]


class Turns:
    """Samples of several figures, each on a fresh kernel, the kernels taking turns."""

    def __init__(self, targets: list[Target], failed: Callable[[BaseException], str]) -> None:
        self.targets = targets
        self.failed = failed  # turns an error into the reason shown
        self.times: dict[str, dict[str, list[float]]] = {t.name: {} for t in targets}
        self.broken: dict[str, dict[str, str]] = {t.name: {} for t in targets}

    def run(self, samples: dict[str, Sample], runs: int, warmup: int) -> None:
        """``warmup`` unmeasured rounds, then ``runs`` measured ones: each round, every
        kernel in turn takes one sample of every figure (a figure that failed for a
        kernel is not tried again on it)."""
        order = random.Random(0)
        for i in range(warmup + runs):
            targets = list(self.targets)
            order.shuffle(targets)
            for target in targets:
                for key, sample in samples.items():
                    if key in self.broken[target.name]:
                        continue
                    try:
                        took = sample(target)
                    except KERNEL_FAILURES as err:
                        self.broken[target.name][key] = self.failed(err)
                        continue
                    if i >= warmup:
                        self.times[target.name].setdefault(key, []).append(took)

    def figure(self, name: str, key: str, unit: str = "ms", **detail: Any) -> Figure:
        if key in self.broken[name]:
            return Figure.failed(self.broken[name][key])
        return timing(self.times[name].get(key, []), unit, **detail)


# --- nbclient ----------------------------------------------------------------------------
def small_notebook() -> nbformat.NotebookNode:
    cells = [nbformat.v4.new_code_cell(code) for code in SMALL_NOTEBOOK]
    return nbformat.v4.new_notebook(cells=cells)


def notebook_errors(nb: nbformat.NotebookNode) -> list[str]:
    """The error outputs of an executed notebook, as `ename: evalue`."""
    return [
        f"{out.get('ename')}: {out.get('evalue')}"
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]


def run_notebook(
    target: Target,
    notebook: nbformat.NotebookNode,
    cwd: Path,
    check: Callable[[nbformat.NotebookNode], str | None] | None = None,
) -> float:
    """Seconds nbclient takes to run ``notebook`` on a fresh kernel in ``cwd``, from
    creating the client to the return of ``execute()`` (launch to shutdown). The executed
    notebook must hold no error output and pass ``check`` (which returns what is wrong)."""
    s = target.settings
    nb = copy.deepcopy(notebook)
    started = time.perf_counter()
    try:
        client = NotebookClient(
            nb,
            kernel_name=target.name,
            timeout=int(s.start_timeout),
            startup_timeout=int(s.start_timeout),
            allow_errors=True,  # run every cell; the errors are checked below
            resources={"metadata": {"path": str(cwd)}},
        )
        client.execute(env=target.env, stdout=target.log, stderr=target.log)
    except CellControlSignal as err:  # a cell timed out
        raise NoReply(f"nbclient: {type(err).__name__}: {err}") from None
    took = time.perf_counter() - started
    errors = notebook_errors(nb)
    if errors:
        raise AssertionError(f"{len(errors)} error output(s), the first: {errors[0][:200]}")
    wrong = check(nb) if check else None
    if wrong:
        raise AssertionError(wrong)
    return took


def check_small(nb: nbformat.NotebookNode) -> str | None:
    """The 3-cell notebook printed `1` and showed `2`."""
    printed = "".join(o.get("text", "") for o in nb.cells[1].outputs if o.output_type == "stream")
    shown = [
        o.data.get("text/plain") for o in nb.cells[2].outputs if o.output_type == "execute_result"
    ]
    if printed != "1\n" or shown != ["2"]:
        return f"`print(x)` printed {printed!r}, `x + 1` showed {shown!r}"
    return None


def nbclient_side_by_side(
    targets: list[Target], failed: Callable[[BaseException], str]
) -> SideBySide:
    """nbclient runs of the 3-cell notebook and of data_analysis.ipynb (in a temporary
    copy of notebooks/ as the working directory), each run on a fresh kernel."""
    s = targets[0].settings
    small = small_notebook()
    turns = Turns(targets, failed)
    with tempfile.TemporaryDirectory(prefix="bench-notebooks-") as tmp:
        cwd = Path(tmp) / "notebooks"
        shutil.copytree(NOTEBOOKS, cwd)
        data = nbformat.read(cwd / DATA_ANALYSIS, as_version=4)
        samples: dict[str, Sample] = {
            "nbclient_small": lambda t: run_notebook(t, small, cwd, check_small),
            "nbclient_data_analysis": lambda t: run_notebook(t, data, cwd),
        }
        turns.run(samples, s.notebook_runs, s.start_warmup)
    results = {
        t.name: {
            "nbclient_small": turns.figure(t.name, "nbclient_small", "s"),
            "nbclient_data_analysis": turns.figure(t.name, "nbclient_data_analysis", "s"),
        }
        for t in targets
    }
    return results, {}


# --- start -------------------------------------------------------------------------------
def start_new(target: Target) -> float:
    """jupyter_client's ``start_new_kernel``: launch + ``wait_for_ready`` (kernel_info
    answered, iopub connected and flushed); the shutdown after it is not timed."""
    s = target.settings
    started = time.perf_counter()
    km, kc = start_new_kernel(
        startup_timeout=s.start_timeout,
        kernel_name=target.name,
        env=target.env,
        stdout=target.log,
        stderr=target.log,
    )
    took = time.perf_counter() - started
    kc.stop_channels()
    km.shutdown_kernel(now=True)
    return took


class FirstCell:
    """Launch → execute_reply of ``code`` sent the moment the kernel was launched.

    The reply must be ``ok``. Its execute_result is checked when it arrives on iopub
    (an early cell's can be published before the subscription is connected; how often
    it arrived is kept as ``results_seen``).
    """

    def __init__(self, code: str, expect: Callable[[str], bool]) -> None:
        self.code = code
        self.expect = expect  # is this text/plain the right result?
        self.results_seen: dict[str, list[int]] = {}  # kernel: [seen, samples]

    def __call__(self, target: Target) -> float:
        kernel, exchange = target.start_with_cell(self.code)
        with kernel:
            content = exchange.reply_content
            if content.get("status") != "ok":
                raise AssertionError(f"{self.code!r} at launch: {content.get('status')} {content}")
            assert exchange.reply_at is not None
            took = exchange.reply_at - kernel.launched_at
            try:
                kernel.pump(exchange, result_or_idle, IOPUB_GRACE_S, "execute_result or idle")
            except NoReply:
                pass
            seen = self.results_seen.setdefault(target.name, [0, 0])
            seen[1] += 1
            results = exchange.of_type("execute_result")
            if results:
                text = results[0]["content"]["data"].get("text/plain", "")
                if not self.expect(text):
                    raise AssertionError(f"{self.code!r} at launch showed {text!r}")
                seen[0] += 1
        return took

    def seen(self, name: str) -> str:
        got, of = self.results_seen.get(name, [0, 0])
        return f"{got}/{of}"


def result_or_idle(exchange: Exchange) -> bool:
    return exchange.idle or bool(exchange.of_type("execute_result"))


def start_side_by_side(targets: list[Target], failed: Callable[[BaseException], str]) -> SideBySide:
    """``start_new_kernel``; launch → `1+1` and → `import numpy; numpy.__version__` sent
    at once. Each sample on a fresh kernel."""
    s = targets[0].settings
    first_add = FirstCell("1+1", lambda text: text == "2")
    first_numpy = FirstCell(
        "import numpy; numpy.__version__", lambda text: text.startswith("'") and "." in text
    )
    turns = Turns(targets, failed)
    samples: dict[str, Sample] = {
        "start_new_kernel": start_new,
        "start_first_execute": first_add,
        "start_first_numpy": first_numpy,
    }
    turns.run(samples, s.starts, s.start_warmup)
    results = {
        t.name: {
            "start_new_kernel": turns.figure(t.name, "start_new_kernel"),
            "start_first_execute": turns.figure(
                t.name, "start_first_execute", results_seen=first_add.seen(t.name)
            ),
            "start_first_numpy": turns.figure(
                t.name, "start_first_numpy", results_seen=first_numpy.seen(t.name)
            ),
        }
        for t in targets
    }
    return results, {}
