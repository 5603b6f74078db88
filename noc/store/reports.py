"""Monthly report read models: a contract's month from the stored Δt runs, hourly statistics and device outages,
read with a fixed number of set-based queries; the daily series the report's chart shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from noc import models as m
from noc.errors import InputError
from sla.documents.series import ReportSeries, daily_availability
from sla.errors import SlaError
from sla.hours import METRICS, P95_METRICS, UNIT, stats_from_hours
from sla.intervals import Interval, make
from sla.period import month_period
from sla.report import CircuitMonthInput, CircuitStats, ContractReport, OutageSource, monthly_report
from sla.states import Cause, DeltaState, StateRun
from sla.stats import MetricSummary
from sla.terms import MonthLengthRule, SlaTerms, terms_from_contract


async def month_stats(
    session: AsyncSession, circuit_ids: Sequence[int] | Select[int], start: datetime, end: datetime
) -> dict[int, dict[str, MetricSummary]]:
    """Each circuit's month statistics computed in the database, whatever the number of circuits: count, mean, min
    and max are exact; the 95th percentile is the nearest-rank one over the hourly means (the same rule as
    ``stats_from_hours``, cross-checked on both databases by a test), for the figures a report shows as
    percentiles (latency, traffic, utilisation)."""
    h = m.CircuitHourStats.__table__.c
    period = (h.circuit_id.in_(circuit_ids), h.hour_start >= start, h.hour_start < end)
    columns = {
        prefix: (h[f"{prefix}_n"], h[f"{prefix}_sum_{UNIT[prefix]}"], h[f"{prefix}_min_{UNIT[prefix]}"],
                 h[f"{prefix}_max_{UNIT[prefix]}"])
        for prefix, _, _ in METRICS
    }  # fmt: skip
    aggregates = [
        agg(col) for n, total, low, high in columns.values() for agg, col in
        ((func.sum, n), (func.sum, total), (func.min, low), (func.max, high))
    ]  # fmt: skip
    speed = (func.count(h.speed_min_bps), func.min(h.speed_min_bps), func.max(h.speed_max_bps))
    p95: dict[tuple[int, str], float] = {}
    in_aggregate: list[Any] = []
    if session.get_bind().dialect.name == "postgresql":
        # PostgreSQL has the nearest-rank percentile as an aggregate (percentile_disc): one scan, small sorts.
        in_aggregate = [
            func.percentile_disc(0.95).within_group(columns[p][1] / func.nullif(columns[p][0], 0)) for p in P95_METRICS
        ]
    else:
        for prefix in P95_METRICS:
            n, total, _, _ = columns[prefix]
            mean = (total / n).label("mean")
            ranked = (
                select(
                    h.circuit_id,
                    mean,
                    func.row_number().over(partition_by=h.circuit_id, order_by=mean).label("rank"),
                    func.count().over(partition_by=h.circuit_id).label("size"),
                )
                .where(*period, n > 0)
                .subquery()
            )
            # nearest rank: ceil(0.95 x size), in integer arithmetic
            best = select(ranked.c.circuit_id, ranked.c.mean).where(ranked.c.rank == (ranked.c.size * 95 + 99) // 100)
            for cid, value in await session.execute(best):
                p95[(cid, prefix)] = value
    out: dict[int, dict[str, MetricSummary]] = {}
    query = select(h.circuit_id, *aggregates, *speed, *in_aggregate).where(*period).group_by(h.circuit_id)
    for row in await session.execute(query):
        cid, values = row[0], row[1 : len(row) - len(in_aggregate)]
        for prefix, value in zip(P95_METRICS, row[len(row) - len(in_aggregate) :], strict=False):
            if value is not None:
                p95[(cid, prefix)] = value
        out[cid] = {}
        for i, (prefix, _, stat_field) in enumerate(METRICS):
            count, summed, low, high = values[4 * i : 4 * i + 4]
            if count:
                out[cid][stat_field] = MetricSummary(
                    count=int(count), avg=float(summed) / int(count), p95=p95.get((cid, prefix)), max=high, min=low
                )
        speed_count, speed_low, speed_high = values[-3:]
        if speed_count:
            out[cid]["speed_bps"] = MetricSummary(count=int(speed_count), min=speed_low, max=speed_high)
    return out


async def device_time(
    session: AsyncSession, devices: Any, start: datetime, end: datetime
) -> tuple[dict[int, list[OutageSource]], dict[int, list[Interval]]]:
    """The outage records and the monitoring gaps of these devices (ids, or a select of them) overlapping
    [start, end), by device id. An open gap runs to ``end``, as an open outage does."""
    o = m.DeviceOutage.__table__.c
    outages: dict[int, list[OutageSource]] = {}
    for device_id, since, until, reason in await session.execute(
        select(o.device_id, o.start_at, o.end_at, o.reason).where(
            o.device_id.in_(devices), o.start_at < end, o.end_at.is_(None) | (o.end_at > start)
        )
    ):
        outages.setdefault(device_id, []).append(OutageSource(since, until, f"device down: {reason}".strip()))
    g = m.MonitoringGap.__table__.c
    unmonitored: dict[int, list[Interval]] = {}
    for device_id, since, until in await session.execute(
        select(g.device_id, g.started_at, g.ended_at).where(
            g.device_id.in_(devices), g.started_at < end, g.ended_at.is_(None) | (g.ended_at > start)
        )
    ):
        gap = make(since, end if until is None else until)
        if gap is not None:
            unmonitored.setdefault(device_id, []).append(gap)
    return outages, unmonitored


async def build_reports(
    session: AsyncSession,
    year: int,
    month: int,
    *,
    contract_names: Sequence[str] | None = None,
    as_of: datetime | None = None,
) -> list[tuple[ContractReport, m.Contract]]:
    """Monthly reports from stored runs, hourly statistics and device outages, for the named contracts or all of
    them, by name. Contracts that share a time zone and month rule share one period, and each such group is read
    with a fixed number of set-based queries, whatever its number of contracts and circuits."""
    query = select(m.Contract).order_by(m.Contract.name)
    if contract_names is not None:
        query = query.where(m.Contract.name.in_(contract_names))
    contracts = (await session.scalars(query)).all()
    missing = sorted(set(contract_names or ()) - {c.name for c in contracts})
    if missing:
        raise InputError(f"--contract: no contract named {', '.join(map(repr, missing))}")
    groups: dict[tuple[str, MonthLengthRule], list[tuple[m.Contract, SlaTerms]]] = {}
    for contract in contracts:
        try:
            terms = terms_from_contract(contract)
        except SlaError as exc:
            raise InputError(f"contract {contract.name}: {exc}") from exc
        groups.setdefault((terms.timezone, terms.month_length), []).append((contract, terms))
    reports: dict[str, tuple[ContractReport, m.Contract]] = {}
    for (timezone, month_length), members in groups.items():
        try:
            period = month_period(year, month, timezone, month_length)
        except SlaError as exc:
            raise InputError(f"--month: {exc}") from exc
        contract_ids = [c.id for c, _ in members]
        ids = select(m.Circuit.id).where(m.Circuit.contract_id.in_(contract_ids))
        circuits = (
            await session.scalars(
                select(m.Circuit).where(m.Circuit.contract_id.in_(contract_ids)).order_by(m.Circuit.name)
            )
        ).all()
        # Runs that start up to a day before the month may reach into it.
        r = m.SlaStateRun.__table__.c
        runs: dict[int, list[StateRun]] = {c.id: [] for c in circuits}
        for cid, start, end, state, causes in await session.execute(
            select(r.circuit_id, r.start_at, r.end_at, r.state, r.causes)
            .where(r.circuit_id.in_(ids), r.end_at > period.start - timedelta(days=1), r.start_at < period.end)
            .order_by(r.circuit_id, r.start_at)
        ):
            runs[cid].append(StateRun(start, end, DeltaState(state), frozenset(Cause(c) for c in causes)))
        devices = select(m.Circuit.device_id).where(m.Circuit.contract_id.in_(contract_ids))
        outages, unmonitored = await device_time(session, devices, period.start, period.end)
        stats = await month_stats(session, ids, period.start, period.end)
        by_contract: dict[int, list[CircuitMonthInput]] = {cid: [] for cid in contract_ids}
        for circuit in circuits:
            committed = None if circuit.committed_rate_bps is None else float(circuit.committed_rate_bps)
            by_contract[circuit.contract_id].append(
                CircuitMonthInput(
                    circuit=circuit.name,
                    states=runs[circuit.id],
                    outages=outages.get(circuit.device_id, []),
                    unmonitored=unmonitored.get(circuit.device_id, []),
                    committed_rate_bps=committed,
                    stats=CircuitStats(**stats.get(circuit.id, {}), committed_rate_bps=committed),
                )
            )
        for contract, terms in members:
            try:
                report = monthly_report(terms, year, month, by_contract[contract.id], as_of=as_of)
            except SlaError as exc:
                raise InputError(f"contract {contract.name}: {exc}") from exc
            reports[contract.name] = (report, contract)
    return [reports[name] for name in sorted(reports)]


async def build_report(
    session: AsyncSession, contract_name: str, year: int, month: int, as_of: datetime | None = None
) -> tuple[ContractReport, m.Contract]:
    """One contract's monthly report (see ``build_reports``)."""
    (report,) = await build_reports(session, year, month, contract_names=[contract_name], as_of=as_of)
    return report


async def daily_series(session: AsyncSession, contract_id: int, report: ContractReport) -> ReportSeries:
    """Per local day of the report's month: availability (from the report itself), latency mean and max and mean
    loss over the contract's circuits (from the hourly rollups, weighted by how many Δt measured them)."""
    circuit_ids = select(m.Circuit.id).where(m.Circuit.contract_id == contract_id)
    rows = (
        await session.scalars(
            select(m.CircuitHourStats).where(
                m.CircuitHourStats.circuit_id.in_(circuit_ids),
                m.CircuitHourStats.hour_start >= report.period.start,
                m.CircuitHourStats.hour_start < report.period.end,
            )
        )
    ).all()
    zone = report.terms.zone
    days: dict[date, list[m.CircuitHourStats]] = {}
    for row in rows:
        days.setdefault(row.hour_start.astimezone(zone).date(), []).append(row)
    points = []
    for point in daily_availability(report).points:
        stats = stats_from_hours(days.get(point.day, []), None)
        points.append(
            replace(
                point,
                latency_avg_ms=stats.latency_ms.avg,
                latency_max_ms=stats.latency_ms.max,
                loss_avg_ratio=stats.loss_ratio.avg,
            )
        )
    return ReportSeries(tuple(points))
