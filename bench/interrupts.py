"""Interrupt latency: how fast (and how well) each kernel stops a running cell.

For each case the cell is started, and only once it is surely running (its iopub
``execute_input`` arrived, then the ``go`` marker it prints just before the long
operation, or its stdin ``input_request``) is ``KernelManager.interrupt_kernel()``
called. The latency is from that call to the cell's ``execute_reply``. A kernel that
dies, stops answering or no longer runs ``1+1`` is restarted for the next attempt.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass

from exchange import Exchange, KernelDied, NoReply, until_done, until_replied
from figures import FAILED, OK, Figure, Figures, median
from kernels import Kernel, Target
from settings import Settings

IDLE_AFTER_REPLY_S = 5.0  # how long the iopub idle may lag the execute_reply


@dataclass(frozen=True)
class Case:
    key: str
    label: str
    code: str
    stdin: bool = False  # waits in input(): started once the input_request arrives
    banner_names: str | None = None  # only for kernels whose kernel_info banner names this
    expect_text: str | None = None  # stdout the cell must still print after the interrupt


CASES = [
    Case("busy", "while True: pass", "print('go', flush=True)\nwhile True:\n    pass"),
    Case("sleep", "time.sleep(30)", "import time\nprint('go', flush=True)\ntime.sleep(30)"),
    Case("input", "input()", "input('waiting: ')", stdin=True),
    Case(
        "native",
        "rust_bridge.sleep(30)",
        "import rust_bridge\nprint('go', flush=True)\nrust_bridge.sleep(30)",
        banner_names="pyo3-kernel",
    ),
    Case(
        "await",
        "await asyncio.sleep(30)",
        "import asyncio\nprint('go', flush=True)\nawait asyncio.sleep(30)",
    ),
    Case(
        "finally",
        "try: sleep finally: print",
        "import time\ntry:\n    print('go', flush=True)\n    time.sleep(30)\n"
        "finally:\n    print('cleanup')",
        expect_text="cleanup",
    ),
    Case(
        "caught",
        "cell catches KeyboardInterrupt",
        "try:\n    print('go', flush=True)\n    while True:\n        pass\n"
        "except KeyboardInterrupt:\n    print('caught')",
        expect_text="caught",
    ),
]


@dataclass
class Attempt:
    """One interrupt: what came back and whether the kernel survived it."""

    outcome: str  # reply | died | no reply in N s | finished early | not started
    latency_ms: float | None = None
    status: str | None = None  # execute_reply status
    ename: str | None = None
    alive: bool = False  # the kernel answered `1+1` correctly afterwards
    text_ok: bool | None = None  # the expected stdout arrived (cases with expect_text)
    note: str = ""


class Session:
    """A kernel that is replaced by a fresh one whenever an attempt broke it."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.kernel: Kernel = target.start()

    def restart(self) -> None:
        self.kernel.stop()
        self.kernel = self.target.start()

    def close(self) -> None:
        self.kernel.stop()


def cell_running(case: Case) -> Callable[[Exchange], bool]:
    """Has the cell surely started its long operation (or already ended)?"""

    def check(exchange: Exchange) -> bool:
        if exchange.replied:  # it ended on its own (e.g. an error): stop waiting
            return True
        if not exchange.of_type("execute_input"):
            return False
        if case.stdin:
            return bool(exchange.input_requests)
        return "go" in exchange.stream_text("stdout")

    return check


def attempt(session: Session, case: Case) -> Attempt:
    """Start the cell, interrupt it once it runs, time the reply; restart if needed."""
    result = _attempt(session.kernel, case, session.target.settings)
    if not result.alive:
        session.restart()
    return result


def _attempt(kernel: Kernel, case: Case, s: Settings) -> Attempt:
    exchange = kernel.send_execute(case.code, allow_stdin=case.stdin)
    try:
        kernel.pump(exchange, cell_running(case), s.interrupt_timeout, "the cell to start running")
    except (NoReply, KernelDied) as err:
        return Attempt("not started", note=str(err))
    if exchange.replied:
        content = exchange.reply_content
        return Attempt(
            "finished early",
            status=content.get("status"),
            ename=content.get("ename"),
            alive=kernel.responsive(),
            note=str(content.get("evalue", ""))[:200],
        )
    interrupted_at = time.perf_counter()
    kernel.km.interrupt_kernel()
    try:
        kernel.pump(exchange, until_replied, s.interrupt_timeout, "reply after the interrupt")
    except KernelDied:
        return Attempt("died")
    except NoReply as err:
        return Attempt(f"no reply in {s.interrupt_timeout:g} s", note=str(err))
    assert exchange.reply_at is not None
    note = ""
    try:
        kernel.pump(exchange, until_done, IDLE_AFTER_REPLY_S, "idle after the reply")
    except (NoReply, KernelDied) as err:
        note = str(err)
    content = exchange.reply_content
    text_ok = None
    if case.expect_text is not None:
        text_ok = case.expect_text in exchange.stream_text("stdout")
    return Attempt(
        "reply",
        latency_ms=(exchange.reply_at - interrupted_at) * 1e3,
        status=content.get("status"),
        ename=content.get("ename"),
        alive=kernel.is_alive() and kernel.responsive(),
        text_ok=text_ok,
        note=note,
    )


def summarize(case: Case, attempts: list[Attempt]) -> Figure:
    """Median latency over the attempts that got a reply, and what happened in words."""
    latencies = [a.latency_ms for a in attempts if a.latency_ms is not None]
    n = len(attempts)
    outcome = describe(case, attempts)
    healthy = all(a.outcome == "reply" and a.alive and a.text_ok is not False for a in attempts)
    return Figure(
        value=median(latencies) if latencies else None,
        unit="ms",
        status=OK if healthy else FAILED,
        note=outcome,
        detail={"n": n, "attempts": [asdict(a) for a in attempts], "case": case.label},
    )


def describe(case: Case, attempts: list[Attempt]) -> str:
    """What came back, in words.

    E.g. ``KeyboardInterrupt, 'cleanup' 5/5``, ``died 5/5`` or
    ``CancelledError 1/5, no reply in 10 s 4/5``.
    """
    n = len(attempts)
    parts = []
    replies = [a for a in attempts if a.outcome == "reply"]
    if replies:
        common = Counter(a.ename or a.status or "?" for a in replies).most_common(1)[0][0]
        parts.append(common if len(replies) == n else f"{common} {len(replies)}/{n}")
        if case.expect_text is not None:
            printed = sum(bool(a.text_ok) for a in replies)
            parts.append(f"{case.expect_text!r} {printed}/{len(replies)}")
        dead = sum(not a.alive for a in replies)
        if dead:
            parts.append(f"unresponsive after {dead}/{len(replies)}")
    for outcome, count in Counter(a.outcome for a in attempts if a.outcome != "reply").items():
        ename = next((a.ename for a in attempts if a.outcome == outcome and a.ename), "")
        parts.append(f"{outcome}{' ' + ename if ename else ''} {count}/{n}")
    return ", ".join(parts)


def interrupts(target: Target) -> Figures:
    """Every case, ``interrupt_reps`` times each, after one discarded warm-up interrupt."""
    reps = target.settings.interrupt_reps
    session = Session(target)
    try:
        attempt(session, CASES[0])  # warm-up
        figures: Figures = {}
        banner = str(target.info.get("banner", ""))
        for case in CASES:
            key = f"interrupt_{case.key}"
            if case.banner_names and case.banner_names not in banner:
                figures[key] = Figure.not_applicable(f"only {case.banner_names}")
                continue
            figures[key] = summarize(case, attempts(session, case, reps))
        return figures
    finally:
        session.close()


def attempts(session: Session, case: Case, reps: int) -> list[Attempt]:
    """``reps`` attempts, or fewer if the cell twice in a row could not even be started."""
    done: list[Attempt] = []
    for _ in range(reps):
        done.append(attempt(session, case))
        if len(done) >= 2 and all(a.outcome == "not started" for a in done[-2:]):
            break
    return done
