"""The throughput and latency measurements. Each one starts its own fresh kernel.

Every function takes a ``Target`` and returns named ``Figure``s; a wrong result (missing
output, wrong value) is reported as a failed figure, never silently timed.
"""

from __future__ import annotations

import queue
import random
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from exchange import Exchange, KernelDied, NoReply, until_done
from figures import Figure, Figures, median, p90, timing
from kernels import Kernel, Target
from settings import Settings

# The completion corpus is shared with tests/test_fidelity_completion.py.
sys.path.append(str(Path(__file__).resolve().parent.parent / "tests"))
import completion_corpus  # noqa: E402

MIB = 1 << 20
SETTLE_S = 1.0  # pause before reading RSS so start-up threads and buffers settle
MEMORY_CELL = "x = [0]*1000; 1+1"
COMPLETE_CODE = "import os; os.pa"
INSPECT_CODES = ("pt.norm", "os.path.join", "compute")  # names defined by the corpus' SETUP


# --- startup -------------------------------------------------------------------------
def startup(target: Target) -> Figures:
    """Launch to the first kernel_info_reply, and to the first `1+1` result.

    One fresh kernel per sample. `1+1` is sent as soon as kernel_info was answered and
    iopub is connected, as a client would; once it gets no answer, later starts only
    time kernel_info (one timeout is enough to tell).
    """
    s = target.settings
    to_info: list[float] = []
    to_result: list[float] = []
    failure = ""
    for i in range(s.start_warmup + s.starts):
        with target.start() as kernel:
            if i >= s.start_warmup:
                to_info.append(kernel.startup_s)
            if failure:
                continue
            try:
                exchange = kernel.execute("1+1", s.cell_timeout)
            except (NoReply, KernelDied) as err:
                failure = f"{err} (sent right after kernel_info_reply)"
                continue
            assert exchange.reply_at is not None
            if i >= s.start_warmup:
                to_result.append(exchange.reply_at - kernel.launched_at)
    return {
        "startup": timing(to_info, "ms"),
        "startup_execute": Figure.failed(failure) if failure else timing(to_result, "ms"),
    }


# --- execute round-trip ----------------------------------------------------------------
def execute_cell(kernel: Kernel, s: Settings) -> tuple[float, float]:
    """One `1+1`, checked to show `2`: seconds from sending it to its execute_reply
    and to its iopub idle."""
    exchange = kernel.execute("1+1", s.cell_timeout)
    results = exchange.of_type("execute_result")
    if not results or results[0]["content"]["data"].get("text/plain") != "2":
        raise AssertionError(f"`1+1` gave {results!r}")
    assert exchange.reply_at is not None and exchange.idle_at is not None
    return exchange.reply_at - exchange.sent_at, exchange.idle_at - exchange.sent_at


class ExecuteSamples:
    """One kernel's `1+1` round trips: back to back, and after sitting idle."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.to_reply: list[float] = []
        self.to_idle: list[float] = []
        self.after_idle: list[float] = []

    def back_to_back(self, unmeasured: int, measured: int, s: Settings) -> None:
        for i in range(unmeasured + measured):
            to_reply, to_idle = execute_cell(self.kernel, s)
            if i >= unmeasured:
                self.to_reply.append(to_reply)
                self.to_idle.append(to_idle)

    def after_a_pause(self, count: int, s: Settings) -> None:
        for _ in range(count):
            time.sleep(s.idle_gap)
            self.after_idle.append(execute_cell(self.kernel, s)[0])

    def figures(self, s: Settings) -> Figures:
        reply, idle = timing(self.to_reply), timing(self.to_idle)
        return {
            "execute_reply": reply,
            "execute_reply_p90": Figure(p90(reply.detail["samples"]), "ms"),
            "execute_idle": idle,
            "execute_idle_p90": Figure(p90(idle.detail["samples"]), "ms"),
            "execute_after_idle": timing(self.after_idle, gap_s=s.idle_gap),
        }


# What JupyterLab sends when its debugger is switched on (the bug icon).
DEBUG_INITIALIZE = {
    "clientID": "bench",
    "clientName": "bench",
    "adapterID": "",
    "pathFormat": "path",
    "linesStartAt1": True,
    "columnsStartAt1": True,
    "supportsVariableType": True,
    "supportsVariablePaging": True,
    "supportsRunInTerminalRequest": True,
    "locale": "en",
}


def attach_debugger(kernel: Kernel, timeout: float = 60) -> None:
    """Switch the kernel's debugger on as JupyterLab does: initialize, then attach."""
    for seq, (command, arguments) in enumerate(
        (("initialize", DEBUG_INITIALIZE), ("attach", {})), start=1
    ):
        content = {"type": "request", "seq": seq, "command": command, "arguments": arguments}
        msg = kernel.kc.session.msg("debug_request", content)
        kernel.kc.control_channel.send(msg)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise NoReply(f"no debug_reply to {command} within {timeout:g} s")
            try:
                reply = kernel.kc.control_channel.get_msg(timeout=remaining)
            except queue.Empty:
                continue
            if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
                break
        if not reply["content"].get("success"):
            raise AssertionError(f"debugger {command} failed: {reply['content']!r}")


def debugger_side_by_side(
    targets: list[Target], failed: Callable[[BaseException], str]
) -> tuple[dict[str, Figures], dict[str, str]]:
    """The `1+1` round trips of the execute group, with the debugger switched on (no
    breakpoint set): what a JupyterLab user pays while the bug icon is on."""
    results, failures = execute_side_by_side(targets, failed, prepare=attach_debugger)
    renamed = {
        name: {f"debug_{key}": figure for key, figure in figures.items()}
        for name, figures in results.items()
    }
    return renamed, failures


def execute_side_by_side(
    targets: list[Target],
    failed: Callable[[BaseException], str],
    prepare: Callable[[Kernel], None] | None = None,
) -> tuple[dict[str, Figures], dict[str, str]]:
    """`1+1` → execute_reply and → iopub idle: back to back, and after a pause.

    All kernels run at once and take turns: each kernel's back-to-back cells are
    measured in ``execute_blocks`` blocks (each after a few unmeasured cells that warm
    it up again), the kernels' blocks alternating, then the cells after a pause the
    same way; so a change in the machine's speed while the group runs (other load,
    CPU clock, a noisy neighbour) hits every kernel alike rather than whichever
    kernel happened to be measured then. A kernel that fails (``failed`` turns the
    error into the reason shown) is left out of the later turns. Returns the figures
    of the kernels that got through, and the reasons of those that failed.
    ``prepare`` is done to each kernel once it has started (e.g. attach a debugger).
    """
    s = targets[0].settings
    failures: dict[str, str] = {}
    samples: dict[str, ExecuteSamples] = {}
    turns = random.Random(0)  # the same order of turns in every run

    def take_turns(measure_block: Callable[[ExecuteSamples], None]) -> None:
        names = list(samples)
        turns.shuffle(names)
        for name in names:
            try:
                measure_block(samples[name])
            except Exception as err:
                failures[name] = failed(err)
                del samples[name]

    with ExitStack() as stack:
        for target in targets:
            try:
                kernel = stack.enter_context(target.start())
                if prepare is not None:
                    prepare(kernel)
                samples[target.name] = ExecuteSamples(kernel)
            except Exception as err:
                failures[target.name] = failed(err)
        take_turns(lambda k: k.back_to_back(s.execute_warmup, 0, s))
        per_block = s.executes // s.execute_blocks
        for _ in range(s.execute_blocks):
            take_turns(lambda k: k.back_to_back(s.block_warmup, per_block, s))
        for _ in range(s.execute_blocks):
            take_turns(lambda k: k.after_a_pause(s.idle_executes // s.execute_blocks, s))
    return {name: kernel.figures(s) for name, kernel in samples.items()}, failures


# --- completion ------------------------------------------------------------------------
def complete(target: Target) -> Figures:
    """complete_request for `import os; os.pa`, cursor at the end; then, after the corpus'
    SETUP, complete_request for every case of tests/completion_corpus.py and
    inspect_request (Shift-Tab) for a few names. The kernel runs in a temporary directory
    holding the files the corpus' path cases complete."""
    s = target.settings
    samples: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-complete-") as cwd:
        completion_corpus.make_files(Path(cwd))
        with target.start(cwd=cwd) as kernel:
            for i in range(s.complete_warmup + s.completes):
                exchange = kernel.complete(COMPLETE_CODE, s.cell_timeout)
                matches = exchange.reply_content.get("matches", [])
                if not any(m.endswith("path") for m in matches):
                    raise AssertionError(f"no os.path among the completions: {matches[:10]!r}")
                if i >= s.complete_warmup:
                    assert exchange.reply_at is not None
                    samples.append(exchange.reply_at - exchange.sent_at)
            setup = kernel.execute(completion_corpus.SETUP, s.cell_timeout)
            if setup.reply_content.get("status") != "ok":
                raise AssertionError(f"the corpus' SETUP failed: {setup.reply_content!r}")
            corpus = complete_corpus(kernel, s)
            inspected = inspect_names(kernel, s)
    return {"complete": timing(samples, matches=len(matches)), **corpus, **inspected}


def corpus_cases(s: Settings) -> list[tuple[str, str, int | None]]:
    """The cases of the completion corpus measured: every ``corpus_stride``-th."""
    return completion_corpus.CASES[:: s.corpus_stride]


def complete_corpus(kernel: Kernel, s: Settings) -> Figures:
    """complete_request round trips over the corpus (every ``corpus_stride``-th case),
    ``corpus_warmup`` unmeasured passes then ``corpus_passes`` measured ones; every reply
    must be ``ok``."""
    cases = corpus_cases(s)
    samples: list[float] = []
    by_case: dict[str, list[float]] = {}
    for i in range(s.corpus_warmup + s.corpus_passes):
        for case, code, cursor in cases:
            exchange = kernel.complete(code, s.cell_timeout, cursor)
            if exchange.reply_content.get("status") != "ok":
                raise AssertionError(f"complete_reply for {case}: {exchange.reply_content!r}")
            if i >= s.corpus_warmup:
                assert exchange.reply_at is not None
                samples.append(exchange.reply_at - exchange.sent_at)
                by_case.setdefault(case, []).append(samples[-1])
    case_ms = {case: round(median(t) * 1e3, 2) for case, t in by_case.items()}
    times = timing(samples, cases=len(cases), passes=s.corpus_passes, case_median_ms=case_ms)
    return {
        "complete_corpus": times,
        "complete_corpus_p90": Figure(p90(times.detail["samples"]), "ms"),
    }


def inspect_names(kernel: Kernel, s: Settings) -> Figures:
    """inspect_request (detail_level 0, cursor at the end) for each of INSPECT_CODES: one
    unmeasured, then ``inspects`` measured each, in turns; each must find its name."""
    samples: list[float] = []
    for i in range(1 + s.inspects):
        for code in INSPECT_CODES:
            exchange = kernel.inspect(code, s.cell_timeout)
            content = exchange.reply_content
            if content.get("status") != "ok" or not content.get("found"):
                raise AssertionError(f"inspect_reply for {code!r}: {content!r}")
            if i >= 1:
                assert exchange.reply_at is not None
                samples.append(exchange.reply_at - exchange.sent_at)
    return {"inspect": timing(samples, codes=list(INSPECT_CODES))}


# --- big outputs -------------------------------------------------------------------------
def wait_patiently(kernel: Kernel, exchange: Exchange, s: Settings) -> str | None:
    """Wait for reply and idle while output keeps arriving; None, or why we gave up.

    A kernel whose iopub drops messages may never send (or we may never get) the
    ``idle``: we stop after ``quiet_timeout`` seconds without anything new, or after
    ``big_timeout`` in all, and report what did arrive.
    """
    deadline = time.monotonic() + s.big_timeout
    while True:
        seen = exchange.progress
        remaining = deadline - time.monotonic()
        try:
            kernel.pump(exchange, until_done, max(0.0, min(s.quiet_timeout, remaining)), "idle")
            return None
        except NoReply:
            if time.monotonic() >= deadline:
                return f"not idle after {s.big_timeout:g} s"
            if exchange.progress == seen:
                reply = "execute_reply arrived" if exchange.replied else "no execute_reply"
                return f"no idle ({reply}, then nothing for {s.quiet_timeout:g} s)"


def print_lines_code(lines: int) -> str:
    return f"for i in range({lines}):\n    print(i)"


def big_print(target: Target) -> Figures:
    """`for i in range(N): print(i)`: time to idle, stream messages, every character."""
    s = target.settings
    expected = "".join(f"{i}\n" for i in range(s.print_lines))
    times: list[float] = []
    counts: list[int] = []
    notes: list[str] = []
    with target.start() as kernel:
        kernel.execute(print_lines_code(100), s.cell_timeout)  # warm-up
        for _ in range(s.print_reps):
            exchange = kernel.send_execute(print_lines_code(s.print_lines))
            gave_up = wait_patiently(kernel, exchange, s)
            counts.append(len(exchange.of_type("stream")))
            text = exchange.stream_text("stdout")
            if text != expected:
                notes.append(describe_mismatch(text, expected))
            if gave_up:
                notes.append(gave_up)
                break  # the kernel may still be busy with it: later samples would wait on it
            assert exchange.idle_at is not None
            times.append(exchange.idle_at - exchange.sent_at)
    note = "; ".join(notes)
    return {
        "print_time": timing(times, "s", lines=s.print_lines) if times else Figure.failed(note),
        "print_messages": Figure(int(median(counts)), "msgs", detail={"samples": counts}),
        "print_complete": Figure(not notes, note=note),
    }


def describe_mismatch(text: str, expected: str) -> str:
    """Where ``text`` first differs from ``expected``, in a few words."""
    at = next(
        (i for i, (a, b) in enumerate(zip(text, expected, strict=False)) if a != b),
        min(len(text), len(expected)),
    )
    return f"got {len(text):,} of {len(expected):,} chars, first difference at {at:,}"


def display_code(chars: int) -> str:
    return (
        f"from IPython.display import display\ndisplay({{'text/plain': 'x' * {chars}}}, raw=True)"
    )


def big_display(target: Target) -> Figures:
    """A display_data of N characters of text/plain: time to idle and whether it all arrived."""
    s = target.settings
    times: list[float] = []
    notes: list[str] = []
    with target.start() as kernel:
        kernel.execute(display_code(1000), s.cell_timeout)  # warm-up (and the import)
        for _ in range(s.display_reps):
            exchange = kernel.send_execute(display_code(s.display_chars))
            gave_up = wait_patiently(kernel, exchange, s)
            shown = [
                m["content"]["data"].get("text/plain", "") for m in exchange.of_type("display_data")
            ]
            if len(shown) != 1 or shown[0] != "x" * s.display_chars:
                got = sum(len(t) for t in shown)
                notes.append(f"{len(shown)} display_data, {got:,} of {s.display_chars:,} chars")
            if gave_up:
                notes.append(gave_up)
                break
            assert exchange.idle_at is not None
            times.append(exchange.idle_at - exchange.sent_at)
    note = "; ".join(notes)
    return {
        "display_time": timing(times, "ms", chars=s.display_chars)
        if times
        else Figure.failed(note),
        "display_complete": Figure(not notes, note=note),
    }


# --- memory --------------------------------------------------------------------------------
def memory(target: Target) -> Figures:
    """RSS of the kernel process tree after start and after N small cells."""
    s = target.settings
    with target.start() as kernel:
        time.sleep(SETTLE_S)
        at_start = kernel.rss_bytes()
        for _ in range(s.memory_cells):
            kernel.execute(MEMORY_CELL, s.cell_timeout)
        time.sleep(SETTLE_S)
        after = kernel.rss_bytes()
    return {
        "rss_start": Figure(round(at_start / MIB, 1), "MiB"),
        "rss_after_cells": Figure(round(after / MIB, 1), "MiB", detail={"cells": s.memory_cells}),
    }
