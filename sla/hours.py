"""Hourly statistics of a circuit: what the live engine adds up per UTC hour, and a period's statistics read back
from the hourly rows (exact count, mean, min and max; the 95th percentile over the hourly means).

Pure: the rows are any objects with the hourly table's attributes (``rtt_n``, ``rtt_sum_ms``, ...).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sla.report import CircuitStats
from sla.states import DeltaInput
from sla.stats import MetricSummary, percentile

# (column prefix in CircuitHourStats, DeltaInput attribute, CircuitStats field)
METRICS: tuple[tuple[str, str, str], ...] = (
    ("rtt", "rtt_ms", "latency_ms"),
    ("loss", "loss_ratio", "loss_ratio"),
    ("jitter", "jitter_ms", "jitter_ms"),
    ("in", "in_bps", "in_bps"),
    ("out", "out_bps", "out_bps"),
    ("util", "utilisation_ratio", "utilisation_ratio"),
)
# The percentiles a report shows; each costs a sort, so only these are computed when reading a month.
P95_METRICS = ("rtt", "in", "out", "util")
UNIT = {"rtt": "ms", "loss": "ratio", "jitter": "ms", "in": "bps", "out": "bps", "util": "ratio"}


def hour_of(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


@dataclass
class _Acc:
    n: int = 0
    total: float = 0.0
    low: float | None = None
    high: float | None = None

    def add(self, value: float) -> None:
        self.n += 1
        self.total += value
        self.low = value if self.low is None else min(self.low, value)
        self.high = value if self.high is None else max(self.high, value)


@dataclass
class HourBucket:
    """What one circuit measured in one UTC hour, before it is added to the stored row."""

    metrics: dict[str, _Acc] = field(default_factory=lambda: {prefix: _Acc() for prefix, _, _ in METRICS})
    speed_min_bps: float | None = None
    speed_max_bps: float | None = None

    def add(self, sample: DeltaInput) -> None:
        for prefix, attr, _ in METRICS:
            value = getattr(sample, attr)
            if value is not None and math.isfinite(value) and value >= 0:
                self.metrics[prefix].add(float(value))
        if sample.speed_bps is not None and sample.speed_bps > 0:
            speed = float(sample.speed_bps)
            self.speed_min_bps = speed if self.speed_min_bps is None else min(self.speed_min_bps, speed)
            self.speed_max_bps = speed if self.speed_max_bps is None else max(self.speed_max_bps, speed)

    def absorb(self, other: HourBucket) -> None:
        """Add another bucket of the same circuit and hour (a tick whose storage failed is kept for the next)."""
        for prefix, acc in other.metrics.items():
            mine = self.metrics[prefix]
            if acc.n:
                mine.n += acc.n
                mine.total += acc.total
                mine.low = acc.low if mine.low is None else min(mine.low, acc.low or mine.low)
                mine.high = acc.high if mine.high is None else max(mine.high, acc.high or mine.high)
        low, high = other.speed_min_bps, other.speed_max_bps
        if low is not None:
            self.speed_min_bps = low if self.speed_min_bps is None else min(self.speed_min_bps, low)
        if high is not None:
            self.speed_max_bps = high if self.speed_max_bps is None else max(self.speed_max_bps, high)

    def merge_into(self, row: Any) -> None:
        """Add this bucket to a stored hourly row (any object with the ``<prefix>_n``/``_sum``/``_min``/``_max``
        attributes of the hourly table)."""
        for prefix, acc in self.metrics.items():
            if not acc.n:
                continue
            unit = UNIT[prefix]
            setattr(row, f"{prefix}_n", getattr(row, f"{prefix}_n") + acc.n)
            setattr(row, f"{prefix}_sum_{unit}", getattr(row, f"{prefix}_sum_{unit}") + acc.total)
            low, high = getattr(row, f"{prefix}_min_{unit}"), getattr(row, f"{prefix}_max_{unit}")
            setattr(row, f"{prefix}_min_{unit}", acc.low if low is None else min(low, acc.low or low))
            setattr(row, f"{prefix}_max_{unit}", acc.high if high is None else max(high, acc.high or high))
        if self.speed_min_bps is not None:
            row.speed_min_bps = (
                self.speed_min_bps if row.speed_min_bps is None else min(row.speed_min_bps, self.speed_min_bps)
            )
        if self.speed_max_bps is not None:
            row.speed_max_bps = (
                self.speed_max_bps if row.speed_max_bps is None else max(row.speed_max_bps, self.speed_max_bps)
            )


def stats_from_hours(rows: Sequence[Any], committed_rate_bps: float | None) -> CircuitStats:
    """A month's statistics from its hourly rows: exact count, mean, min and max; the 95th percentile is taken over
    the hourly means (nearest rank), which is what the report states."""
    summaries: dict[str, MetricSummary] = {}
    for prefix, _, stat_field in METRICS:
        unit = UNIT[prefix]
        n = sum(getattr(r, f"{prefix}_n") for r in rows)
        if not n:
            summaries[stat_field] = MetricSummary()
            continue
        total = math.fsum(getattr(r, f"{prefix}_sum_{unit}") for r in rows)
        means = [
            getattr(r, f"{prefix}_sum_{unit}") / getattr(r, f"{prefix}_n") for r in rows if getattr(r, f"{prefix}_n")
        ]
        lows = [v for r in rows if (v := getattr(r, f"{prefix}_min_{unit}")) is not None]
        highs = [v for r in rows if (v := getattr(r, f"{prefix}_max_{unit}")) is not None]
        summaries[stat_field] = MetricSummary(
            count=n, avg=total / n, p95=percentile(means, 95), max=max(highs), min=min(lows)
        )
    speeds_low = [r.speed_min_bps for r in rows if r.speed_min_bps is not None]
    speeds_high = [r.speed_max_bps for r in rows if r.speed_max_bps is not None]
    speed = (
        MetricSummary(count=len(speeds_low), min=min(speeds_low), max=max(speeds_high))
        if speeds_low
        else MetricSummary()
    )
    return CircuitStats(**summaries, speed_bps=speed, committed_rate_bps=committed_rate_bps)
