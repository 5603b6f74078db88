"""The weekly traffic and quality report of a key account: per circuit over one ISO week (Monday 00:00 to the next
Monday in the contract's time zone), from the stored rollups (hourly statistics, Δt state runs, device outages).

The figures come from the same functions the monthly report uses: ``sla.hours.stats_from_hours`` for the statistics
and ``sla.report.circuit_report`` for availability and the comparison with the contract's objectives, over the week
instead of the month (the week's basis is its real length, 167 to 169 hours across a clock change). Only the "worst
hour" is new here: the hour whose mean latency (and mean loss) was highest, so the manager can name it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sla.errors import SlaError
from sla.hours import stats_from_hours
from sla.intervals import Interval, minutes
from sla.report import CircuitMonthInput, CircuitReport, OutageSource, circuit_report
from sla.states import StateRun
from sla.terms import SlaTerms, maintenance_intervals, zone


@dataclass(frozen=True, slots=True, order=True)
class IsoWeek:
    year: int
    week: int

    @property
    def label(self) -> str:
        return f"{self.year:04d}-W{self.week:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    def shifted(self, weeks: int) -> IsoWeek:
        iso = (self.monday + timedelta(weeks=weeks)).isocalendar()
        return IsoWeek(iso.year, iso.week)

    def span(self, timezone: str) -> Interval:
        """Local Monday 00:00 to the next Monday 00:00 in ``timezone``, as UTC instants."""
        tz = zone(timezone)
        start = datetime.combine(self.monday, time(0), tzinfo=tz).astimezone(UTC)
        end = datetime.combine(self.monday + timedelta(days=7), time(0), tzinfo=tz).astimezone(UTC)
        return Interval(start, end)


def last_full_week(now: datetime, timezone: str) -> IsoWeek:
    """The latest ISO week that has ended in ``timezone`` at ``now`` (the week before the current one)."""
    today = now.astimezone(zone(timezone)).date()
    iso = (today - timedelta(days=today.weekday() + 7)).isocalendar()
    return IsoWeek(iso.year, iso.week)


@dataclass(frozen=True, slots=True)
class WorstHour:
    hour_start: datetime
    value: float  # the hour's mean


@dataclass(frozen=True, slots=True)
class CircuitWeek:
    circuit: str
    contract: str
    timezone: str
    span: Interval
    measured: bool  # anything stored for the week: hourly statistics or Δt states
    report: CircuitReport  # availability, statistics and objectives over the week
    worst_latency_hour: WorstHour | None
    worst_loss_hour: WorstHour | None
    hours_measured: int


def _worst(rows: Sequence[Any], prefix: str, unit: str) -> WorstHour | None:
    means = [
        WorstHour(r.hour_start, getattr(r, f"{prefix}_sum_{unit}") / getattr(r, f"{prefix}_n"))
        for r in rows
        if getattr(r, f"{prefix}_n")
    ]
    return max(means, key=lambda w: (w.value, w.hour_start)) if means else None


def circuit_week(
    terms: SlaTerms,
    week: IsoWeek,
    circuit: str,
    *,
    committed_rate_bps: float | None,
    runs: Sequence[StateRun],
    outages: Sequence[OutageSource],
    hours: Sequence[Any],
    unmonitored: Sequence[Interval] = (),
) -> CircuitWeek:
    """One circuit's week: rows (hourly statistics) and runs outside the week are ignored."""
    span = week.span(terms.timezone)
    in_week = [r for r in hours if span.start <= r.hour_start < span.end]
    item = CircuitMonthInput(
        circuit=circuit,
        states=[r for r in runs if r.end > span.start and r.start < span.end],
        outages=outages,
        unmonitored=unmonitored,
        committed_rate_bps=committed_rate_bps,
        stats=stats_from_hours(in_week, committed_rate_bps),
    )
    exclusions = maintenance_intervals(terms.maintenance, terms.timezone, span)
    try:
        report = circuit_report(terms, span, minutes(span.end - span.start), exclusions, item)
    except SlaError as exc:
        raise SlaError(f"circuit {circuit}: {exc}") from exc
    return CircuitWeek(
        circuit=circuit,
        contract=terms.contract,
        timezone=terms.timezone,
        span=span,
        measured=bool(in_week or item.states),
        report=report,
        worst_latency_hour=_worst(in_week, "rtt", "ms"),
        worst_loss_hour=_worst(in_week, "loss", "ratio"),
        hours_measured=sum(1 for r in in_week if r.rtt_n or r.loss_n or r.in_n or r.out_n),
    )
