"""Presenting results: the rows of the table, the table itself, the JSON file, the chart."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from figures import FAILED, NA, Figure, Figures
from interrupts import CASES
from kernels import BASELINE, label
from measure import INSPECT_CODES, corpus_cases
from settings import Settings


@dataclass(frozen=True)
class Row:
    key: str  # figure name
    group: str  # the measurement that produces it (run.GROUPS)
    label: str
    chart: str | None = None  # label on the chart; None: table only


def rows(s: Settings) -> list[Row]:
    lines, size = f"{s.print_lines:,}", f"{s.display_chars / 1e6:g} MB"
    return [
        Row("startup", "startup", f"startup: launch → kernel_info_reply (median of {s.starts})",
            "start: kernel_info"),
        Row("startup_execute", "startup", "startup: launch → first `1+1` execute_reply",
            "start: 1+1"),
        Row("start_new_kernel", "start",
            f"start: `start_new_kernel()` (launch + wait_for_ready), median of {s.starts}",
            "start_new_kernel"),
        Row("start_first_execute", "start", "start: launch → `1+1` sent at once → execute_reply",
            "start: 1+1 at once"),
        Row("start_first_numpy", "start",
            "start: launch → `import numpy; numpy.__version__` sent at once → execute_reply",
            "start: numpy at once"),
        Row("execute_reply", "execute", f"`1+1` → execute_reply, median of {s.executes}",
            "1+1 reply"),
        Row("execute_reply_p90", "execute", "`1+1` → execute_reply, p90"),
        Row("execute_idle", "execute", "`1+1` → iopub idle, median", "1+1 idle"),
        Row("execute_idle_p90", "execute", "`1+1` → iopub idle, p90", "1+1 idle p90"),
        Row("execute_after_idle", "execute",
            f"`1+1` → execute_reply after {s.idle_gap * 1e3:g} ms idle, median of "
            f"{s.idle_executes}", "1+1 after idle"),
        Row("debug_execute_reply", "debugger",
            "`1+1` → execute_reply, debugger on (JupyterLab's bug icon), median",
            "1+1 reply, debugger on"),
        Row("debug_execute_reply_p90", "debugger", "`1+1` → execute_reply, debugger on, p90"),
        Row("complete", "complete", f"complete `os.pa`, median of {s.completes}", "complete"),
        Row("complete_corpus", "complete",
            f"complete corpus ({len(corpus_cases(s))} cases × {s.corpus_passes}), median",
            "complete corpus"),
        Row("complete_corpus_p90", "complete", "complete corpus, p90", "complete corpus p90"),
        Row("inspect", "complete",
            f"inspect (Shift-Tab) `pt.norm` etc., median of {len(INSPECT_CODES) * s.inspects}",
            "inspect"),
        Row("nbclient_small", "nbclient",
            f"nbclient `execute()` 3-cell notebook (launch → shutdown), median of "
            f"{s.notebook_runs}", "nbclient 3 cells"),
        Row("nbclient_data_analysis", "nbclient", "nbclient `execute()` data_analysis.ipynb",
            "nbclient data_analysis"),
        Row("print_time", "print", f"print {lines} lines → idle", f"print {lines}"),
        Row("print_messages", "print", "  stream messages for it"),
        Row("print_complete", "print", "  every character arrived"),
        Row("display_time", "display", f"{size} display_data → idle", f"display {size}"),
        Row("display_complete", "display", f"  all {size} arrived"),
        Row("rss_start", "memory", "RSS after start", "RSS start"),
        Row("rss_after_cells", "memory", f"RSS after {s.memory_cells:,} cells",
            f"RSS +{s.memory_cells} cells"),
        *(
            Row(f"interrupt_{c.key}", "interrupt", f"interrupt: {c.label}",
                f"interrupt {c.key}" if c.key in ("busy", "sleep") else None)
            for c in CASES
        ),
    ]  # fmt: skip


# --- table -------------------------------------------------------------------------------
def format_value(figure: Figure) -> str:
    value, unit = figure.value, figure.unit
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, int):
        return f"{value:,}{' ' + unit if unit and unit != 'msgs' else ''}"
    if isinstance(value, float):
        digits = 2 if abs(value) < 10 else 1 if abs(value) < 100 else 0
        return f"{value:,.{digits}f} {unit}".strip()
    return str(value)


def ratio(figure: Figure, base: Figure | None) -> float | None:
    """figure / base, when both are numbers (not flags) and base is positive."""
    numbers = (int, float)
    if base is None or figure is base:
        return None
    a, b = figure.value, base.value
    if isinstance(a, bool) or isinstance(b, bool):
        return None
    if isinstance(a, numbers) and isinstance(b, numbers) and b > 0:
        return a / b
    return None


def cell(figure: Figure | None, base: Figure | None, width: int = 56) -> str:
    if figure is None:
        return "-"
    if figure.status == NA:
        return "n/a"
    is_interrupt = "attempts" in figure.detail
    if figure.value is None:
        return shorten(figure.note if is_interrupt else f"FAILED: {figure.note}", width)
    text = format_value(figure)
    r = ratio(figure, base)
    if r is not None:
        text += f" ({r:.2f}×)"
    if is_interrupt:  # say what came back: ename, deaths, missing cleanup output
        text += f" {figure.note}"
    elif figure.status == FAILED and figure.note:
        text += f" [{figure.note}]"
    return shorten(text, width)


def shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def table(results: dict[str, Figures], s: Settings) -> str:
    """A Markdown table: one row per figure, one column per kernel, ratio to ipykernel."""
    names = list(results)
    base_name = BASELINE if BASELINE in results else None
    header = ["figure", *(label(n) for n in names)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows(s):
        if not any(row.key in figures for figures in results.values()):
            continue  # its group was not run
        base = results[base_name].get(row.key) if base_name else None
        cells = [cell(results[n].get(row.key), base) for n in names]
        lines.append("| " + " | ".join([row.label, *cells]) + " |")
    return "\n".join(lines)


def failures(results: dict[str, Figures]) -> list[str]:
    """One line per kernel and reason: the full reason and the figures it failed."""
    lines = []
    for name, figures in results.items():
        by_reason: dict[str, list[str]] = {}
        for key, figure in figures.items():
            if figure.status == FAILED:
                by_reason.setdefault(figure.note or "failed", []).append(key)
        lines += [
            f"{label(name)}: {reason} [{', '.join(keys)}]" for reason, keys in by_reason.items()
        ]
    return lines


def summary_markdown(meta: dict[str, Any], results: dict[str, Figures], s: Settings) -> str:
    """The table, then failures and warnings, then where and when it was measured."""
    parts = [table(results, s)]
    problems = failures(results)
    if problems:
        parts.append("Failed:\n" + "\n".join(f"- {p}" for p in problems))
    if meta["warnings"]:
        parts.append("\n".join(f"WARNING: {w}" for w in meta["warnings"]))
    load = ", ".join(f"{x:.2f}" for x in meta["load_average_before_after"][0])
    parts.append(
        f"Measured {meta['date']} on {meta['machine']}, Python {meta['python']}, "
        f"source {meta['git']}, load average at start {load}."
    )
    return "\n\n".join(parts)


# --- JSON ----------------------------------------------------------------------------------
def write_json(path: Path, meta: dict[str, Any], results: dict[str, Figures]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "meta": meta,
        "kernels": {
            name: {
                "label": label(name),
                "figures": {k: f.to_json() for k, f in figures.items()},
            }
            for name, figures in results.items()
        },
    }
    path.write_text(json.dumps(data, indent=1, default=str) + "\n")


# --- chart ---------------------------------------------------------------------------------
COLORS = {"pyo3": "#d95f02", "python3": "#7570b3", "xpython": "#1b9e77"}


def draw_chart(path: Path, results: dict[str, Figures], s: Settings, title: str) -> None:
    """Grouped bars, each figure normalized to ipykernel = 1, log scale; value on each bar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch
    from matplotlib.ticker import NullFormatter

    charted = [r for r in rows(s) if r.chart]
    names = list(results)
    base_name = BASELINE if BASELINE in results else names[0]
    colors = {n: COLORS.get(n, f"C{i}") for i, n in enumerate(names)}
    width = 0.8 / len(names)
    fig, ax = plt.subplots(figsize=(max(10, 1.1 * len(charted)), 5.5))
    heights = [1.0]
    for i, name in enumerate(names):
        for j, row in enumerate(charted):
            x = j + (i - (len(names) - 1) / 2) * width
            figure, base = results[name].get(row.key), results[base_name].get(row.key)
            heights.append(_draw_bar(ax, x, width, colors[name], figure, base))
    ax.set_yscale("log")
    low, high = min(heights) / 2, max(heights) * 4
    ax.set_ylim(low, high)
    ticks = [
        t for t in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 100, 1000) if low <= t <= high
    ]
    ax.set_yticks(ticks, [f"{t:g}×" for t in ticks])
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.axhline(1.0, color="grey", linewidth=0.8, linestyle="--")
    ax.set_xticks(range(len(charted)))
    ax.set_xticklabels([r.chart or "" for r in charted], rotation=30, ha="right")
    ax.set_ylabel(f"relative to {label(base_name)} = 1 (lower is better, log scale)")
    ax.set_title(title, fontsize=10)
    ax.legend(handles=[Patch(color=colors[n], label=label(n)) for n in names], loc="upper left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _draw_bar(
    ax: Any, x: float, width: float, color: str, figure: Figure | None, base: Figure | None
) -> float:
    """One bar (or a word saying why there is none); returns its height."""
    r = ratio(figure, base) if figure is not None else None
    if figure is not None and figure is base and isinstance(figure.value, int | float):
        r = 1.0
    if figure is None or r is None or not math.isfinite(r) or r <= 0:
        box = {"facecolor": "white", "edgecolor": color, "pad": 1.5}
        ax.text(x, 1.0, missing_word(figure), ha="center", va="center", fontsize=7, rotation=90,
                color=color, bbox=box)  # fmt: skip
        return 1.0
    ax.bar(x, r, width, color=color)
    ax.text(x, r * 1.05, format_value(figure), ha="center", va="bottom", fontsize=6.5, rotation=90)
    return r


def missing_word(figure: Figure | None) -> str:
    """Why a bar is missing, in one word or two."""
    if figure is None or figure.status == NA:
        return "n/a"
    note = figure.note.replace("NoReply", "no reply")
    for words in ("died", "not started", "no reply", "unresponsive"):
        if words in note:
            return words
    return "lost output" if " chars" in note else "failed"
