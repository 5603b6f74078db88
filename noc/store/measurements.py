"""The store consumer: poll messages become rows, in batches, idempotently.

One transaction per batch of messages (many device polls): device status, outages (dated from the first failed
poll), discovery when it changed, raw interface and probe rows as multi-row inserts, and the 5-minute interface
rollups. Every row is keyed by what it measured, so writing the same message twice changes nothing: raw rows are
inserted with ON CONFLICT DO NOTHING, and the rollups of the buckets a batch touched are recomputed from the raw
rows in the database, in the same transaction (a replay or a late row never counts twice); an outage is unique
per device and start; a status never goes back to an older poll.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Executable,
    Integer,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from collectors.counters import InterfaceRate
from collectors.scheduler import CycleReport
from collectors.snmp.discovery import DeviceDiscovery
from exporters.collector import FlowMetrics
from noc import models as m
from noc.messages import DevicePolled, Message, ProbeRound
from noc.store import partitions

log = logging.getLogger(__name__)
ROLLUP_S = 300


def bucket_of(ts: datetime) -> datetime:
    """The start of the 5-minute rollup bucket ``ts`` falls in."""
    return ts.replace(minute=ts.minute - ts.minute % (ROLLUP_S // 60), second=0, microsecond=0)


def verdict_of(rate: InterfaceRate) -> str:
    return rate.in_verdict.value if rate.in_verdict == rate.out_verdict else f"{rate.in_verdict}/{rate.out_verdict}"


def interface_row(device_id: int, r: InterfaceRate) -> dict[str, Any]:
    return {
        "device_id": device_id,
        "if_name": r.if_name,
        "ts": r.ts,
        "if_index": r.if_index,
        "interval_s": r.interval_s,
        "oper_status": r.oper_status,
        "speed_bps": r.speed_bps,
        "in_bps": r.in_bits_per_second,
        "out_bps": r.out_bits_per_second,
        "in_utilisation_ratio": r.in_utilisation_ratio,
        "out_utilisation_ratio": r.out_utilisation_ratio,
        "in_errors_per_s": r.in_errors_per_second,
        "out_errors_per_s": r.out_errors_per_second,
        "in_discards_per_s": r.in_discards_per_second,
        "out_discards_per_s": r.out_discards_per_second,
        "verdict": verdict_of(r),
    }


def _bucket_expression(dialect: str) -> ColumnElement[Any]:
    ts = m.InterfaceMeasurement.__table__.c.ts
    if dialect == "postgresql":
        return func.date_bin(text(f"interval '{ROLLUP_S} seconds'"), ts, text("timestamptz '2000-01-01 00:00:00+00'"))
    # SQLite keeps UTC times as text 'YYYY-MM-DD HH:MM:SS.ffffff': cut to the 5-minute mark, in the same format
    minute = func.cast(func.strftime("%M", ts), Integer)
    mark = func.printf("%02d", (minute // (ROLLUP_S // 60)) * (ROLLUP_S // 60))
    return func.strftime("%Y-%m-%d %H:", ts).op("||")(mark).op("||")(literal(":00.000000"))


def _both(a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[Any]:
    return func.coalesce(a, 0.0) + func.coalesce(b, 0.0)


def rollup_statement(dialect: str) -> Executable:
    """The rollups of the buckets in [start, end) of the given devices, computed from their raw rows, written over
    what is stored (so the result is the same however often it runs)."""
    i = m.InterfaceMeasurement.__table__.c
    u = m.InterfaceRollup.__table__
    assert isinstance(u, Table)
    rated = and_(i.in_bps.is_not(None), i.out_bps.is_not(None))
    bucket = _bucket_expression(dialect).label("bucket_start")
    query = (
        select(
            i.device_id,
            i.if_name,
            bucket,
            func.count().label("samples"),
            func.sum(case((i.oper_status == "up", 1), else_=0)).label("oper_up_n"),
            func.sum(case((rated, 1), else_=0)).label("rated_n"),
            func.coalesce(func.sum(case((rated, i.in_bps))), 0.0).label("in_sum_bps"),
            func.max(case((rated, i.in_bps))).label("in_max_bps"),
            func.coalesce(func.sum(case((rated, i.out_bps))), 0.0).label("out_sum_bps"),
            func.max(case((rated, i.out_bps))).label("out_max_bps"),
            func.coalesce(
                func.sum(func.coalesce(i.in_errors_per_s, 0.0) + func.coalesce(i.out_errors_per_s, 0.0)), 0.0
            ),
            func.coalesce(
                func.sum(func.coalesce(i.in_discards_per_s, 0.0) + func.coalesce(i.out_discards_per_s, 0.0)), 0.0
            ),
        )
        .where(
            i.device_id.in_(bindparam("devices", expanding=True)),
            i.ts >= bindparam("start"),
            i.ts < bindparam("end"),
        )
        .group_by(i.device_id, i.if_name, bucket)
    )
    columns = [c.name for c in u.columns]
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(u).from_select(columns, query)
    keys = ("device_id", "if_name", "bucket_start")
    return insert.on_conflict_do_update(
        index_elements=list(keys), set_={c: insert.excluded[c] for c in columns if c not in keys}
    )


@dataclass(frozen=True, slots=True)
class Latest:
    """A device's latest stored poll: when, by which poller, under which ownership epoch."""

    ts: datetime
    poller: str | None
    epoch: float | None


def overlapping(poll: DevicePolled, latest: Latest | None) -> bool:
    """A poll another poller already covered at a hand-over (two pollers on one device for a moment): made under an
    older ownership epoch after the newer one began (a poller that has not yet seen it lost the device), or within
    half an interval of the latest stored poll (the same slot polled twice). The store keeps the first."""
    if latest is None or not poll.poller or latest.poller in (None, poll.poller):
        return False
    newer = latest.epoch or 0.0
    if poll.epoch < newer <= poll.ts.timestamp():
        return True
    return abs((poll.ts - latest.ts).total_seconds()) < poll.interval_s / 2


def _insert(session: AsyncSession) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


class MeasurementStore:
    """Applies batches of poll messages; see the module text. Names resolve to ids through the inventory (a device
    or circuit no longer in it is skipped, logged once)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], metrics: FlowMetrics | None = None) -> None:
        self._sessions = sessions
        self._metrics = metrics
        self._device_ids: dict[str, int] = {}
        self._circuit_ids: dict[str, int] = {}
        self._partitions: set[tuple[str, date]] = set()
        self._unknown_logged: set[str] = set()

    async def _resolve(self, session: AsyncSession, devices: set[str], circuits: set[str]) -> None:
        missing = devices - self._device_ids.keys()
        if missing:
            rows = await session.execute(select(m.Device.name, m.Device.id).where(m.Device.name.in_(missing)))
            self._device_ids.update({name: ident for name, ident in rows})
        missing = circuits - self._circuit_ids.keys()
        if missing:
            rows = await session.execute(select(m.Circuit.name, m.Circuit.id).where(m.Circuit.name.in_(missing)))
            self._circuit_ids.update({name: ident for name, ident in rows})
        for name in (devices - self._device_ids.keys()) | (circuits - self._circuit_ids.keys()):
            if name not in self._unknown_logged:
                self._unknown_logged.add(name)
                log.warning("store: %r is not in the inventory (removed?); its measurements are not stored", name)

    async def _ensure_partitions(self, session: AsyncSession, table: str, stamps: Sequence[datetime]) -> None:
        fresh = [ts for ts in stamps if (table, ts.astimezone(UTC).date()) not in self._partitions]
        if fresh:
            days = await partitions.ensure_for(session, table, fresh)
            self._partitions.update((table, d) for d in days)

    async def apply(self, messages: Sequence[Message]) -> None:
        polls = sorted((x for x in messages if isinstance(x, DevicePolled)), key=lambda x: x.ts)
        probes = [result for x in messages if isinstance(x, ProbeRound) for result in x.results]
        async with self._sessions() as session:
            await self._resolve(session, {p.device for p in polls}, {r.sample.circuit for r in probes})
            polls = [p for p in polls if p.device in self._device_ids]
            stored = await self._stored_statuses(session, polls)
            polls = self._first_of_each_slot(polls, stored)
            interface_rows = [
                interface_row(self._device_ids[p.device], rate)
                for p in polls
                if p.device in self._device_ids
                for rate in p.interfaces
            ]
            probe_rows: list[dict[str, Any]] = [
                {
                    "circuit_id": self._circuit_ids[r.sample.circuit],
                    "ts": r.sample.ts,
                    "method": r.method,
                    "sent": r.sample.sent,
                    "received": r.sample.received,
                    "loss_ratio": r.sample.loss_ratio,
                    "rtt_min_ms": r.sample.rtt_min_ms,
                    "rtt_avg_ms": r.sample.rtt_avg_ms,
                    "rtt_max_ms": r.sample.rtt_max_ms,
                    "jitter_ms": r.sample.jitter_ms,
                    "error": r.sample.error,
                }
                for r in probes
                if r.sample.circuit in self._circuit_ids
            ]
            await self._ensure_partitions(session, "interface_measurements", [r["ts"] for r in interface_rows])
            await self._ensure_partitions(session, "probe_measurements", [r["ts"] for r in probe_rows])
            await self._statuses(session, polls, stored)
            if interface_rows:
                await self._interfaces(session, interface_rows)
            if probe_rows:
                insert = _insert(session)
                await session.execute(insert(m.ProbeMeasurement).on_conflict_do_nothing(), probe_rows)
            await session.commit()

    async def _stored_statuses(self, session: AsyncSession, polls: Sequence[DevicePolled]) -> dict[int, m.DeviceStatus]:
        if not polls:
            return {}
        ids = {self._device_ids[p.device] for p in polls}
        query = select(m.DeviceStatus).where(m.DeviceStatus.device_id.in_(ids))
        return {s.device_id: s for s in (await session.scalars(query)).all()}

    def _first_of_each_slot(
        self, polls: Sequence[DevicePolled], stored: dict[int, m.DeviceStatus]
    ) -> list[DevicePolled]:
        """The polls less those another poller already covered (:func:`overlapping`), in time order, each judged
        against the latest stored or kept poll of its device."""
        latest = {
            ident: Latest(s.last_poll_at, s.poller, s.poller_epoch)
            for ident, s in stored.items()
            if s.last_poll_at is not None
        }
        kept = []
        for poll in polls:
            ident = self._device_ids[poll.device]
            last = latest.get(ident)
            if overlapping(poll, last):
                if self._metrics is not None:
                    self._metrics.overlaps.inc()
                continue
            kept.append(poll)
            if last is None or poll.ts > last.ts:
                latest[ident] = Latest(poll.ts, poll.poller or None, poll.epoch or None)
        return kept

    async def _statuses(
        self, session: AsyncSession, polls: Sequence[DevicePolled], stored: dict[int, m.DeviceStatus]
    ) -> None:
        for poll in polls:
            device_id = self._device_ids[poll.device]
            if poll.transition is not None:
                await self._transition(session, device_id, poll)
            status = stored.get(device_id)
            if status is None:
                status = stored[device_id] = m.DeviceStatus(device_id=device_id, consecutive_failures=0)
                session.add(status)
            if status.last_poll_at is not None and poll.ts < status.last_poll_at:
                continue  # an older poll replayed: the status already says more
            if status.available != poll.up:
                status.since = poll.down_since if poll.transition == "down" else poll.ts
            status.available = poll.up
            status.last_poll_at = poll.ts
            status.last_error = poll.error
            status.consecutive_failures = poll.consecutive_failures
            status.poller, status.poller_epoch = poll.poller or None, poll.epoch or None
            if poll.ok:
                status.last_ok_at = poll.ts
                status.uptime_s = None if poll.uptime_s is None else int(poll.uptime_s)
            if poll.discovery is not None:  # the poll stage sends it only when it changed
                await store_discovery(session, device_id, poll.discovery)
                status.sys_name = poll.discovery.system.name
                status.sys_descr = poll.discovery.system.descr
                status.discovered_at = poll.discovery.ts

    async def _transition(self, session: AsyncSession, device_id: int, poll: DevicePolled) -> None:
        o = m.DeviceOutage
        if poll.transition == "down":
            start = poll.down_since or poll.ts
            stmt = _insert(session)(o).values(device_id=device_id, start_at=start, reason=poll.error or "")
            await session.execute(stmt.on_conflict_do_nothing(index_elements=["device_id", "start_at"]))
            return
        # recovered: close what is open and started before this poll (a replay finds nothing open)
        await session.execute(
            update(o)
            .where(o.device_id == device_id, o.end_at.is_(None), o.start_at <= poll.ts)
            .values(end_at=poll.ts)
            .execution_options(synchronize_session=False)
        )

    async def _interfaces(self, session: AsyncSession, rows: list[dict[str, Any]]) -> None:
        """Raw rows (a row already stored is left as it is), then the 5-minute rollups of the buckets they touch,
        recomputed from the raw rows in the database: a replay or a late row can never count twice."""
        await session.execute(_insert(session)(m.InterfaceMeasurement.__table__).on_conflict_do_nothing(), rows)
        buckets = sorted({bucket_of(r["ts"]) for r in rows})
        await session.execute(
            rollup_statement(session.get_bind().dialect.name),
            {
                "devices": sorted({r["device_id"] for r in rows}),
                "start": buckets[0],
                "end": buckets[-1] + timedelta(seconds=ROLLUP_S),
            },
        )

    async def purge(self, raw_retention: timedelta, rollup_retention: timedelta, now: datetime) -> int:
        """Raw rows older than their retention (whole day partitions on PostgreSQL), rollups older than theirs;
        returns how many rows went."""
        raw_cutoff = now - raw_retention
        gone = 0
        async with self._sessions() as session:
            if session.get_bind().dialect.name == "postgresql":
                conn = await session.connection()
                for table in partitions.PARTITIONED:
                    gone += await partitions.drop_before(conn, table, raw_cutoff)
                self._partitions = {(t, d) for t, d in self._partitions if d >= raw_cutoff.date()}
            else:
                for model in (m.InterfaceMeasurement, m.ProbeMeasurement):
                    result = await session.execute(delete(model).where(model.ts < raw_cutoff))
                    gone += int(getattr(result, "rowcount", 0) or 0)
            result = await session.execute(
                delete(m.InterfaceRollup).where(m.InterfaceRollup.bucket_start < now - rollup_retention)
            )
            gone += int(getattr(result, "rowcount", 0) or 0)
            await session.commit()
        return gone


async def store_discovery(session: AsyncSession, device_id: int, discovery: DeviceDiscovery) -> None:
    """Interfaces by name: an index that moved is updated in place; one that vanished is kept, marked absent."""
    stored = {
        i.name: i for i in (await session.scalars(select(m.Interface).where(m.Interface.device_id == device_id))).all()
    }
    seen: set[str] = set()
    for found in discovery.interfaces:
        name = found.if_name or f"ifIndex {found.if_index}"
        if name in seen:
            continue  # agents that repeat a name: the first row wins, deterministically by index order
        seen.add(name)
        row = stored.get(name) or m.Interface(device_id=device_id, name=name)
        row.if_index, row.descr, row.alias = found.if_index, found.if_descr, found.if_alias
        row.if_type, row.speed_bps, row.mtu, row.mac = found.if_type, found.speed_bps, found.mtu, found.mac
        row.admin_status, row.oper_status = found.admin_status or "unknown", found.oper_status or "unknown"
        row.present, row.discovered_at = True, discovery.ts
        session.add(row)
    for name, row in stored.items():
        if name not in seen:
            row.present = False


async def record_cycle(sessions: async_sessionmaker[AsyncSession], report: CycleReport[Any]) -> None:
    """The poller's own health for ``noc poll``: one row per cycle (duration, failures, overruns)."""
    async with sessions() as session:
        session.add(
            m.PollCycle(
                started_at=report.started_at,
                duration_s=report.duration_s,
                interval_s=report.interval_s,
                devices=len(report.records),
                failed=sum(1 for r in report.records if not r.ok),
                overrun=report.overrun,
                overrun_devices=sum(1 for r in report.records if r.overrun),
            )
        )
        await session.commit()
