"""What a measurement produces: named figures, each a value with its unit and status."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

OK, FAILED, NA = "ok", "failed", "n/a"


@dataclass
class Figure:
    """One reported number (or flag); ``failed`` ones carry the reason in ``note``."""

    value: float | int | bool | str | None
    unit: str = ""
    status: str = OK
    note: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def failed(cls, reason: str, unit: str = "") -> Figure:
        return cls(value=None, unit=unit, status=FAILED, note=reason)

    @classmethod
    def not_applicable(cls, reason: str) -> Figure:
        return cls(value=None, status=NA, note=reason)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


Figures = dict[str, Figure]


def median(values: list[float]) -> float:
    return statistics.median(values)


def p90(values: list[float]) -> float:
    """90th percentile (inclusive interpolation; the single value for one sample)."""
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def timing(samples_s: list[float], unit: str = "ms", **detail: Any) -> Figure:
    """The median of ``samples_s`` (seconds) in ``unit``; samples kept in the detail."""
    scale = {"ms": 1e3, "s": 1.0}[unit]
    values = [s * scale for s in samples_s]
    return Figure(
        value=median(values),
        unit=unit,
        detail={"n": len(values), "samples": [round(v, 4) for v in values], **detail},
    )
