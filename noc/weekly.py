"""The weekly traffic and quality report of a key account: per circuit over one ISO week (Monday 00:00 to the next
Monday in the contract's time zone), from the stored rollups (hourly statistics, Δt state runs, device outages).

The figures come from the same functions the monthly report uses: ``slaflow.stats_from_hours`` for the statistics
and ``sla.report.circuit_report`` for availability and the comparison with the contract's objectives, over the week
instead of the month (the week's basis is its real length, 167 to 169 hours across a clock change). Only the "worst
hour" is new here: the hour whose mean latency (and mean loss) was highest, so the manager can name it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from noc import models as m
from noc.errors import InputError
from noc.slaflow import stats_from_hours
from sla.errors import SlaError
from sla.intervals import Interval, minutes
from sla.report import CircuitMonthInput, CircuitReport, OutageSource, circuit_report
from sla.states import Cause, DeltaState, StateRun
from sla.terms import SlaTerms, maintenance_intervals, terms_from_contract, zone

MIN_YEAR, MAX_YEAR = 1970, 2999
_WEEK = re.compile(r"(\d{4})-W(\d{2})")


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


def parse_week(text: str) -> IsoWeek:
    """``YYYY-Www`` (what a browser's week picker sends) as an ISO week; InputError naming ``week`` otherwise."""
    found = _WEEK.fullmatch(text.strip())
    if found is None:
        raise InputError(f"week: {text!r} is not YYYY-Www (e.g. 2026-W46)")
    year, week = int(found[1]), int(found[2])
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InputError(f"week: year must be {MIN_YEAR} to {MAX_YEAR}")
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError:
        raise InputError(f"week: {year} has no ISO week {week}") from None
    return IsoWeek(year, week)


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


def _worst(rows: Sequence[m.CircuitHourStats], prefix: str, unit: str) -> WorstHour | None:
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
    hours: Sequence[m.CircuitHourStats],
) -> CircuitWeek:
    """One circuit's week (pure): rows and runs outside the week are ignored."""
    span = week.span(terms.timezone)
    in_week = [r for r in hours if span.start <= r.hour_start < span.end]
    item = CircuitMonthInput(
        circuit=circuit,
        states=[r for r in runs if r.end > span.start and r.start < span.end],
        outages=outages,
        committed_rate_bps=committed_rate_bps,
        stats=stats_from_hours(in_week, committed_rate_bps),
    )
    exclusions = maintenance_intervals(terms.maintenance, terms.timezone, span)
    try:
        report = circuit_report(terms, span, minutes(span.end - span.start), exclusions, item)
    except SlaError as exc:
        raise InputError(f"circuit {circuit}: {exc}") from exc
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


async def account_week(session: AsyncSession, account_id: int, week: IsoWeek) -> list[CircuitWeek]:
    """Every circuit of the account for the week, by name; a fixed number of queries whatever the circuit count."""
    contracts = {c.id: c for c in await session.scalars(select(m.Contract).where(m.Contract.account_id == account_id))}
    terms: dict[int, SlaTerms] = {}
    for cid, contract in contracts.items():
        try:
            terms[cid] = terms_from_contract(contract)
        except SlaError as exc:
            raise InputError(f"contract {contract.name}: {exc}") from exc
    circuits = list(
        await session.scalars(select(m.Circuit).where(m.Circuit.account_id == account_id).order_by(m.Circuit.name))
    )
    if not circuits:
        return []
    spans = [week.span(t.timezone) for t in terms.values()]
    start, end = min(s.start for s in spans), max(s.end for s in spans)
    ids = [c.id for c in circuits]
    runs: dict[int, list[StateRun]] = {cid: [] for cid in ids}
    r = m.SlaStateRun
    for run in await session.scalars(
        select(r).where(r.circuit_id.in_(ids), r.end_at > start, r.start_at < end).order_by(r.start_at)
    ):
        state = StateRun(run.start_at, run.end_at, DeltaState(run.state), frozenset(Cause(c) for c in run.causes))
        runs[run.circuit_id].append(state)
    o = m.DeviceOutage
    outages: dict[int, list[OutageSource]] = {}
    for outage in await session.scalars(
        select(o).where(
            o.device_id.in_({c.device_id for c in circuits}),
            o.start_at < end,
            o.end_at.is_(None) | (o.end_at > start),
        )
    ):
        source = OutageSource(outage.start_at, outage.end_at, f"device down: {outage.reason}".strip())
        outages.setdefault(outage.device_id, []).append(source)
    h = m.CircuitHourStats
    hours: dict[int, list[m.CircuitHourStats]] = {cid: [] for cid in ids}
    for row in await session.scalars(
        select(h).where(h.circuit_id.in_(ids), h.hour_start >= start, h.hour_start < end).order_by(h.hour_start)
    ):
        hours[row.circuit_id].append(row)
    return [
        circuit_week(
            terms[c.contract_id],
            week,
            c.name,
            committed_rate_bps=None if c.committed_rate_bps is None else float(c.committed_rate_bps),
            runs=runs[c.id],
            outages=outages.get(c.device_id, []),
            hours=hours[c.id],
        )
        for c in circuits
    ]
