"""The daily series of a contract month for the report's chart: availability per local day, by the same
``sla.availability`` functions the month uses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sla.availability import aggregate_availability, compute_availability
from sla.intervals import Interval, Labelled, make, minutes
from sla.report import ContractReport
from sla.terms import maintenance_intervals, out_of_base


@dataclass(frozen=True, slots=True)
class DailyPoint:
    """One local day of the contract month; None where nothing was measured that day."""

    day: date
    availability_pct: Decimal | None
    latency_avg_ms: float | None
    latency_max_ms: float | None
    loss_avg_ratio: float | None


@dataclass(frozen=True, slots=True)
class ReportSeries:
    """Daily figures for the chart, one point per local day of the contract month (:func:`month_days`); a day
    without a point is drawn as no data, points outside the month are ignored."""

    points: tuple[DailyPoint, ...]


def month_days(report: ContractReport) -> tuple[date, ...]:
    """The local dates of the contract month, first to last."""
    first = report.period.start.astimezone(report.terms.zone).date()
    last = (report.period.end.astimezone(report.terms.zone) - timedelta(microseconds=1)).date()
    return tuple(first + timedelta(days=i) for i in range((last - first).days + 1))


def _day_span(report: ContractReport, day: date) -> Interval | None:
    """The local day in UTC, clipped to the evaluated span (a month in progress ends early)."""
    tz = report.terms.zone
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz).astimezone(UTC)
    return make(max(start, report.span.start), min(end, report.span.end))


def daily_availability(report: ContractReport) -> ReportSeries:
    """Daily contract availability derived from the report alone (latency and loss stay None).

    Each local day is evaluated with ``sla.availability.compute_availability`` on the report's own outage records
    (with their excluded parts) and unknown time, the contract's maintenance re-expanded for the day, and the
    contract's unknown-time rule; circuits are combined with ``aggregate_availability``. The day's basis is its
    real length (23 or 25 hours across a DST change) whatever the month-length rule, so the days show where
    downtime fell; the contractual figure is the month's. One approximation: stop-clock time that covered no
    outage is not kept in the report, so unknown time inside it is ruled like any other unknown time.
    """
    points: list[DailyPoint] = []
    for day in month_days(report):
        span = _day_span(report, day)
        pct: Decimal | None = None
        if span is not None:
            maintenance = maintenance_intervals(report.terms.maintenance, report.terms.timezone, span)
            results = [
                compute_availability(
                    span,
                    minutes(span.duration),
                    outages=[Labelled(Interval(o.start, o.end), ", ".join(o.causes)) for o in c.availability.outages],
                    unknown=c.availability.unknown,
                    exclusions=[*maintenance, *(e for o in c.availability.outages for e in o.excluded)],
                    unknown_rule=report.terms.unknown_time,
                    out_of_base=out_of_base(report.terms, span),
                )
                for c in report.circuits
            ]
            pct, _ = aggregate_availability(results)
        points.append(DailyPoint(day, pct, None, None, None))
    return ReportSeries(tuple(points))
