"""How much to measure: the full run and the seconds-long smoke run CI uses."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    starts: int = 10  # measured kernel starts (after start_warmup discarded ones)
    start_warmup: int = 1
    executes: int = 500  # `1+1` round-trips (after execute_warmup)
    execute_warmup: int = 50
    execute_blocks: int = 5  # the kernels take turns, a block of cells each
    block_warmup: int = 10  # unmeasured cells at the start of every block
    idle_executes: int = 100  # `1+1` round-trips, each after the kernel sat idle ...
    idle_gap: float = 0.05  # ... this many seconds
    completes: int = 100  # complete_requests (after complete_warmup)
    complete_warmup: int = 10
    corpus_passes: int = 2  # passes over tests/completion_corpus.py (after corpus_warmup)
    corpus_warmup: int = 1
    corpus_stride: int = 1  # every n-th case of the corpus (the smoke run takes a sample)
    inspects: int = 10  # inspect_requests per case (after one warm-up each)
    notebook_runs: int = 10  # nbclient runs of each notebook (after start_warmup)
    print_lines: int = 100_000
    print_reps: int = 3
    display_chars: int = 10_000_000
    display_reps: int = 3
    memory_cells: int = 1000
    interrupt_reps: int = 5
    # Seconds to wait for ...
    start_timeout: float = 60  # a kernel to answer kernel_info
    cell_timeout: float = 30  # a small cell
    big_timeout: float = 300  # the big print or display, in all
    quiet_timeout: float = 15  # ... while nothing more of it arrives
    interrupt_timeout: float = 10  # a cell to start running; its reply after the interrupt
    group_budget: float = 1800  # one group of figures for one kernel (last-resort watchdog)


FULL = Settings()
SMOKE = Settings(
    starts=2,
    start_warmup=0,
    executes=30,
    execute_warmup=5,
    execute_blocks=1,
    block_warmup=2,
    idle_executes=5,
    completes=5,
    complete_warmup=2,
    corpus_passes=1,
    corpus_warmup=0,
    corpus_stride=5,
    inspects=1,
    notebook_runs=1,
    print_lines=5_000,
    print_reps=1,
    display_chars=100_000,
    display_reps=1,
    memory_cells=30,
    interrupt_reps=1,
    big_timeout=60,
    interrupt_timeout=5,
    group_budget=300,
)
