"""Capacity outlook: the weekly 95th-percentile traffic of a link over the last weeks, its linear trend, and when
the trend would reach a limit (the committed rate, the contract's utilisation ceiling, the interface speed). Pure.

The weekly figure is the 95th percentile (nearest rank) of the week's 5-minute mean rates, the higher direction of
each 5 minutes (a link fills in whichever direction fills first). The trend is an ordinary least-squares line
through the weekly figures; a date is stated only when the fit is good enough to mean something: at least
``MIN_WEEKS`` weeks, R² at least ``MIN_R2``, a rising slope, and a crossing within ``HORIZON_WEEKS``. Otherwise the
outlook says "not foreseeable" and why.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

MIN_WEEKS = 4
MIN_R2 = 0.6
HORIZON_WEEKS = 52
WEEK = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class WeekPoint:
    start: datetime  # the week [start, start + 7 days)
    p95_bps: float
    samples: int


@dataclass(frozen=True, slots=True)
class Crossing:
    limit: str  # what is reached: "committed rate", "utilisation ceiling 80 %", "speed"
    limit_bps: float
    at: datetime | None  # when the trend reaches it; None: not foreseeable (``why``)
    already: bool = False  # the latest week is at or above it
    why: str = ""


@dataclass(frozen=True, slots=True)
class Outlook:
    weeks: tuple[WeekPoint, ...]
    slope_bps_per_week: float | None
    r2: float | None
    crossings: tuple[Crossing, ...]


def p95(values: Sequence[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def weekly_p95(samples: Iterable[tuple[datetime, float]], now: datetime, weeks: int) -> tuple[WeekPoint, ...]:
    """The ``weeks`` whole weeks ending at ``now``, oldest first; a week without samples is left out."""
    first = now - weeks * WEEK
    by_week: dict[int, list[float]] = {}
    for ts, bps in samples:
        if first <= ts < now:
            by_week.setdefault(int((ts - first) / WEEK), []).append(bps)
    return tuple(
        WeekPoint(first + k * WEEK, p95(values), len(values)) for k, values in sorted(by_week.items()) if values
    )


def _fit(points: Sequence[WeekPoint]) -> tuple[float, float, float]:
    """Slope (bit/s per week), intercept at the first week, R²."""
    xs = [(p.start - points[0].start) / WEEK for p in points]
    ys = [p.p95_bps for p in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx
    intercept = my - slope * mx
    ss_tot = sum((y - my) ** 2 for y in ys)
    ss_res = sum((y - (intercept + slope * x)) ** 2 for x, y in zip(xs, ys, strict=True))
    r2 = 1.0 if ss_tot == 0 else 1 - ss_res / ss_tot
    return slope, intercept, r2


def outlook(weeks: Sequence[WeekPoint], limits: Sequence[tuple[str, float]]) -> Outlook:
    """The trend of ``weeks`` and, for each named limit (bit/s), when it would be reached."""
    if len(weeks) < MIN_WEEKS:
        why = f"not foreseeable: {len(weeks)} weeks of data, {MIN_WEEKS} needed"
        return Outlook(tuple(weeks), None, None, tuple(Crossing(n, b, None, why=why) for n, b in limits))
    slope, intercept, r2 = _fit(weeks)
    latest = weeks[-1]
    crossings = []
    for name, limit in limits:
        if latest.p95_bps >= limit:
            crossings.append(Crossing(name, limit, latest.start, already=True))
        elif r2 < MIN_R2:
            crossings.append(Crossing(name, limit, None, why=f"not foreseeable: the trend fits poorly (R² {r2:.2f})"))
        elif slope <= 0:
            crossings.append(Crossing(name, limit, None, why="not foreseeable: traffic is not growing"))
        else:
            at_week = (limit - intercept) / slope  # weeks after the first week's start
            at = max(weeks[0].start + at_week * WEEK, latest.start + WEEK)  # never before the data ends
            if at - latest.start > HORIZON_WEEKS * WEEK:
                crossings.append(Crossing(name, limit, None, why=f"not within {HORIZON_WEEKS} weeks at this trend"))
            else:
                crossings.append(Crossing(name, limit, at))
    return Outlook(tuple(weeks), slope, r2, tuple(crossings))
