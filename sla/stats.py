"""Summaries of per-Δt measurements for reports: mean, 95th percentile (nearest rank), maximum."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MetricSummary:
    """``count`` values summarised; the figures are None when there were none."""

    count: int = 0
    avg: float | None = None
    p95: float | None = None
    max: float | None = None
    min: float | None = None


def percentile(values: Iterable[float], pct: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least ``pct`` % of values at or below it.

    For traffic this is the usual burstable-billing 95th percentile (sort, drop the top 5 %, take the highest
    remaining); it is always one of the measured values, so a report can point at it.
    """
    ordered = sorted(values)
    if not ordered:
        return None
    if not 0 < pct <= 100:
        raise ValueError("pct must lie in (0, 100]")
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def summarise(values: Iterable[float]) -> MetricSummary:
    data = [v for v in values if math.isfinite(v)]
    if not data:
        return MetricSummary()
    return MetricSummary(
        count=len(data),
        avg=math.fsum(data) / len(data),
        p95=percentile(data, 95),
        max=max(data),
        min=min(data),
    )
