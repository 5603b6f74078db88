"""The SLA engine in the running system: measurements → per-circuit Δt inputs → breach detection → events, with
the rollups (state runs, hourly statistics, breach records) stored so a monthly report never scans raw samples.

Assembly: the only place that joins ``sla`` (pure) to the database. The arithmetic lives in ``sla``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from noc import models as m
from noc.db import is_transient
from noc.errors import InputError
from noc.messages import DevicePolled, Message, ProbeRound
from noc.reports import ReportSeries, daily_availability
from noc.timeutil import utcnow
from sla.breach import ActiveBreach, Breach, BreachDetector, DetectorSettings, Event, Recovery
from sla.errors import SlaError
from sla.intervals import Interval
from sla.period import month_period
from sla.report import CircuitMonthInput, CircuitStats, ContractReport, OutageSource, monthly_report
from sla.states import Cause, DeltaInput, DeltaState, StateRun, classify, merge_runs
from sla.stats import MetricSummary, percentile
from sla.terms import MonthLengthRule, SlaTerms, terms_from_contract

log = logging.getLogger(__name__)
_LIVE_FIELDS = ("device_reachable", "oper_up", "loss_ratio", "rtt_ms", "jitter_ms", "in_bps", "out_bps", "speed_bps")
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
_SUFFIX = {"rtt": "ms", "loss": "ratio", "jitter": "ms", "in": "bps", "out": "bps", "util": "ratio"}


def hour_of(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


# --- hourly statistics (pure) ------------------------------------------------------------------------------------


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

    def merge_into(self, row: m.CircuitHourStats) -> None:
        for prefix, acc in self.metrics.items():
            if not acc.n:
                continue
            unit = _SUFFIX[prefix]
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


def empty_hour(circuit_id: int, hour: datetime) -> m.CircuitHourStats:
    """A new hourly row with its counters at zero (ORM defaults only apply at flush)."""
    zeros: dict[str, object] = {}
    for prefix, _, _ in METRICS:
        zeros[f"{prefix}_n"] = 0
        zeros[f"{prefix}_sum_{_SUFFIX[prefix]}"] = 0.0
    return m.CircuitHourStats(circuit_id=circuit_id, hour_start=hour, **zeros)


def stats_from_hours(rows: Sequence[m.CircuitHourStats], committed_rate_bps: float | None) -> CircuitStats:
    """A month's statistics from its hourly rows: exact count, mean, min and max; the 95th percentile is taken over
    the hourly means (nearest rank), which is what the report states."""
    summaries: dict[str, MetricSummary] = {}
    for prefix, _, stat_field in METRICS:
        unit = _SUFFIX[prefix]
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


# --- the live engine ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CircuitRef:
    circuit_id: int
    name: str
    device: str
    interface: str
    committed_rate_bps: float | None


EventListener = Callable[[Event], Awaitable[None] | None]


class SlaEngine:
    """Feeds the breach detector from pipeline observations and stores what reports need, once per ``tick``."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        circuits: Sequence[tuple[CircuitRef, SlaTerms]],
        settings: DetectorSettings | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self.detector = BreachDetector(settings)
        self.circuits = {ref.name: ref for ref, _ in circuits}
        self._by_device: dict[str, list[CircuitRef]] = {}
        self._by_interface: dict[tuple[str, str], list[CircuitRef]] = {}
        for ref, terms in circuits:
            self.detector.add_circuit(ref.name, terms, committed_rate_bps=ref.committed_rate_bps)
            self._by_device.setdefault(ref.device, []).append(ref)
            self._by_interface.setdefault((ref.device, ref.interface), []).append(ref)
        self._hours: dict[tuple[int, datetime], HourBucket] = {}
        self._terms = {ref.name: terms for ref, terms in circuits}
        self._latest: dict[str, DeltaInput] = {}
        self.listeners: list[EventListener] = []
        self._pending_runs: dict[str, list[StateRun]] = {}
        self._pending_hours: dict[tuple[int, datetime], HourBucket] = {}
        self._pending_events: list[Event] = []
        self._undelivered: list[Event] = []

    def _feed(self, ref: CircuitRef, sample: DeltaInput) -> None:
        if self.detector.observe(ref.name, sample, now=self._clock()):
            self._hours.setdefault((ref.circuit_id, hour_of(sample.at)), HourBucket()).add(sample)
            previous = self._latest.get(ref.name)
            if previous is None:
                self._latest[ref.name] = sample
            else:
                fresh = {f: v for f in _LIVE_FIELDS if (v := getattr(sample, f)) is not None}
                self._latest[ref.name] = replace(previous, at=max(previous.at, sample.at), **fresh)

    def available_now(self, circuit: str) -> bool | None:
        """The circuit's state from its latest readings, by the same rule that decides each Δt (None: no data)."""
        latest = self._latest.get(circuit)
        if latest is None:
            return None
        state, _ = classify(latest, self._terms[circuit].unavailable_loss_ratio)
        return None if state is DeltaState.UNKNOWN else state is DeltaState.AVAILABLE

    def observe(self, message: Message) -> None:
        """A bus consumer's step: device reachability, interface status and traffic, probe results."""
        if isinstance(message, DevicePolled):
            # A failed poll short of the down threshold says nothing either way: unknown, not available.
            reachable = None if message.error is not None and message.available else message.available
            for ref in self._by_device.get(message.device, ()):
                self._feed(ref, DeltaInput(at=message.ts, device_reachable=reachable))
            for r in message.interfaces:
                for ref in self._by_interface.get((r.device, r.if_name), ()):
                    self._feed(
                        ref,
                        DeltaInput(
                            at=r.ts,
                            oper_up=r.oper_status == "up",
                            in_bps=r.in_bits_per_second,
                            out_bps=r.out_bits_per_second,
                            speed_bps=None if r.speed_bps is None else float(r.speed_bps),
                        ),
                    )
        elif isinstance(message, ProbeRound):
            for result in message.results:
                s = result.sample
                probed = self.circuits.get(s.circuit)
                if probed is not None and s.error is None:
                    self._feed(
                        probed,
                        DeltaInput(at=s.ts, loss_ratio=s.loss_ratio, rtt_ms=s.rtt_avg_ms, jitter_ms=s.jitter_ms),
                    )

    async def restore(self, now: datetime | None = None) -> int:
        """Continue what the last run left: open breaches keep their start, and the month's decided unavailable
        time counts for the burn rate. Returns how many breaches were continued."""
        now = now or self._clock()
        by_id = {ref.circuit_id: ref.name for ref in self.circuits.values()}
        async with self._sessions() as session:
            r = m.SlaStateRun
            down: dict[str, list[Interval]] = {}
            for cid, start, end in await session.execute(
                select(r.circuit_id, r.start_at, r.end_at).where(
                    r.state == DeltaState.UNAVAILABLE.value, r.end_at > now - timedelta(days=32)
                )
            ):
                if cid in by_id:
                    down.setdefault(by_id[cid], []).append(Interval(start, end))
            b = m.SlaBreachRecord
            rows = (await session.scalars(select(b).where(b.until.is_(None)).order_by(b.since))).all()
        for name, intervals in down.items():
            self.detector.restore_down(name, intervals)
        for row in rows:
            if row.circuit_id in by_id:
                self.detector.restore(
                    ActiveBreach(by_id[row.circuit_id], row.objective, row.measured, row.limit, row.since)  # type: ignore[arg-type]
                )
        return len(rows)

    async def tick(self, now: datetime | None = None) -> list[Event]:
        """Evaluate, store the decided Δt runs, the hourly statistics and the breach records, then tell listeners.

        Nothing decided is lost when storage fails: the runs, hours and events wait for the next tick (the
        exception is raised for the supervisor to report); events whose listener failed are offered again."""
        now = now or self._clock()
        events = self.detector.evaluate(now)
        for name, circuit_runs in self.detector.drain_runs().items():
            self._pending_runs.setdefault(name, []).extend(circuit_runs)
        for key, bucket in self._hours.items():
            kept = self._pending_hours.get(key)
            if kept is None:
                self._pending_hours[key] = bucket
            else:
                kept.absorb(bucket)
        self._hours = {}
        self._pending_events.extend(events)
        await self._store_pending()
        await self._deliver()
        return events

    async def _store_pending(self) -> None:
        runs, hours, events = self._pending_runs, self._pending_hours, self._pending_events
        if not (runs or hours or events):
            return
        async with self._sessions() as session:
            for name, circuit_runs in runs.items():
                await _store_runs(session, self.circuits[name].circuit_id, circuit_runs)
            # One query for the hour rows this tick touches (usually one hour), not one round trip per circuit.
            stored = {}
            if hours:
                found = await session.scalars(
                    select(m.CircuitHourStats).where(
                        m.CircuitHourStats.hour_start.in_({hour for _, hour in hours}),
                        m.CircuitHourStats.circuit_id.in_({cid for cid, _ in hours}),
                    )
                )
                stored = {(row.circuit_id, row.hour_start): row for row in found}
            for (circuit_id, hour), bucket in hours.items():
                row = stored.get((circuit_id, hour))
                if row is None:
                    row = empty_hour(circuit_id, hour)
                    session.add(row)
                bucket.merge_into(row)
            for event in events:
                await _store_event(session, self.circuits[event.circuit].circuit_id, event)
            await session.commit()
        self._pending_runs, self._pending_hours = {}, {}
        self._undelivered.extend(events)
        self._pending_events = []

    async def _deliver(self) -> None:
        while self._undelivered:
            event = self._undelivered[0]
            for listener in self.listeners:
                try:
                    outcome = listener(event)
                    if outcome is not None:
                        await outcome
                except Exception as exc:
                    if is_transient(exc):
                        raise  # the database is away: offered again at the next tick
                    log.exception("SLA event for %s could not be handled; set aside", event.circuit)
            self._undelivered.pop(0)


async def _store_runs(session: AsyncSession, circuit_id: int, runs: Sequence[StateRun]) -> None:
    """Append runs, extending the last stored one when a new run continues it (same state, touching)."""
    last = await session.scalar(
        select(m.SlaStateRun).where(m.SlaStateRun.circuit_id == circuit_id).order_by(m.SlaStateRun.end_at.desc())
    )
    for run in merge_runs(runs):
        if last is not None and last.state == run.state.value and last.end_at == run.start:
            last.end_at = run.end
            last.causes = sorted(set(last.causes) | {c.value for c in run.causes})
            continue
        last = m.SlaStateRun(
            circuit_id=circuit_id,
            start_at=run.start,
            end_at=run.end,
            state=run.state.value,
            causes=sorted(c.value for c in run.causes),
        )
        session.add(last)


async def _store_event(session: AsyncSession, circuit_id: int, event: Event) -> None:
    if isinstance(event, Breach):
        b = m.SlaBreachRecord
        known = await session.scalar(
            select(b.id).where(b.circuit_id == circuit_id, b.objective == event.objective, b.since == event.since)
        )
        if known is None:
            session.add(
                b(
                    circuit_id=circuit_id,
                    objective=event.objective,
                    measured=event.measured,
                    limit=event.limit,
                    since=event.since,
                )
            )
        return
    assert isinstance(event, Recovery)
    open_rows = (
        await session.scalars(
            select(m.SlaBreachRecord).where(
                m.SlaBreachRecord.circuit_id == circuit_id,
                m.SlaBreachRecord.objective == event.objective,
                m.SlaBreachRecord.until.is_(None),
            )
        )
    ).all()
    for row in open_rows:
        row.until = event.until


async def load_engine_inputs(session: AsyncSession) -> list[tuple[CircuitRef, SlaTerms]]:
    """Every circuit with its contract's terms, for the live engine."""
    contracts = {c.id: c for c in (await session.scalars(select(m.Contract))).all()}
    devices = {d.id: d.name for d in (await session.scalars(select(m.Device))).all()}
    terms = {cid: terms_from_contract(c) for cid, c in contracts.items()}
    out = []
    for circuit in (await session.scalars(select(m.Circuit).order_by(m.Circuit.name))).all():
        ref = CircuitRef(
            circuit.id,
            circuit.name,
            devices[circuit.device_id],
            circuit.interface_name,
            None if circuit.committed_rate_bps is None else float(circuit.committed_rate_bps),
        )
        out.append((ref, terms[circuit.contract_id]))
    return out


# --- monthly reports from rollups -------------------------------------------------------------------------------


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
        prefix: (h[f"{prefix}_n"], h[f"{prefix}_sum_{_SUFFIX[prefix]}"], h[f"{prefix}_min_{_SUFFIX[prefix]}"],
                 h[f"{prefix}_max_{_SUFFIX[prefix]}"])
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
        o = m.DeviceOutage.__table__.c
        outages: dict[int, list[OutageSource]] = {}
        for device_id, start, end, reason in await session.execute(
            select(o.device_id, o.start_at, o.end_at, o.reason).where(
                o.device_id.in_(select(m.Circuit.device_id).where(m.Circuit.contract_id.in_(contract_ids))),
                o.start_at < period.end,
                o.end_at.is_(None) | (o.end_at > period.start),
            )
        ):
            outages.setdefault(device_id, []).append(OutageSource(start, end, f"device down: {reason}".strip()))
        stats = await month_stats(session, ids, period.start, period.end)
        by_contract: dict[int, list[CircuitMonthInput]] = {cid: [] for cid in contract_ids}
        for circuit in circuits:
            committed = None if circuit.committed_rate_bps is None else float(circuit.committed_rate_bps)
            by_contract[circuit.contract_id].append(
                CircuitMonthInput(
                    circuit=circuit.name,
                    states=runs[circuit.id],
                    outages=outages.get(circuit.device_id, []),
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


async def open_breaches(session: AsyncSession) -> list[tuple[m.SlaBreachRecord, str]]:
    """Breaches the live engine has open now, oldest first, with their circuit's name."""
    rows = (
        await session.execute(
            select(m.SlaBreachRecord, m.Circuit.name)
            .join(m.Circuit, m.Circuit.id == m.SlaBreachRecord.circuit_id)
            .where(m.SlaBreachRecord.until.is_(None))
            .order_by(m.SlaBreachRecord.since)
        )
    ).all()
    return [(row[0], row[1]) for row in rows]
