"""The SLA engine's records: Δt state runs, hourly statistics rows and breach records (their writers), the circuits
the engine watches, and what it reads back at start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from noc import models as m
from sla.breach import Breach, Event, Recovery
from sla.hours import METRICS, UNIT, HourBucket
from sla.intervals import Interval
from sla.states import DeltaState, StateRun, merge_runs
from sla.terms import SlaTerms, terms_from_contract


@dataclass(frozen=True, slots=True)
class CircuitRef:
    circuit_id: int
    name: str
    device: str
    interface: str
    committed_rate_bps: float | None


def empty_hour(circuit_id: int, hour: datetime) -> m.CircuitHourStats:
    """A new hourly row with its counters at zero (ORM defaults only apply at flush)."""
    zeros: dict[str, object] = {}
    for prefix, _, _ in METRICS:
        zeros[f"{prefix}_n"] = 0
        zeros[f"{prefix}_sum_{UNIT[prefix]}"] = 0.0
    return m.CircuitHourStats(circuit_id=circuit_id, hour_start=hour, **zeros)


async def merge_hours(session: AsyncSession, hours: dict[tuple[int, datetime], HourBucket]) -> None:
    """Add each (circuit, hour) bucket to its stored row, creating the rows that do not exist yet. One query for
    the rows a tick touches (usually one hour), not one round trip per circuit."""
    if not hours:
        return
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


async def store_runs(session: AsyncSession, circuit_id: int, runs: Sequence[StateRun]) -> None:
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


async def store_event(session: AsyncSession, circuit_id: int, event: Event) -> None:
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


async def restore_inputs(
    session: AsyncSession, now: datetime
) -> tuple[dict[int, list[Interval]], Sequence[m.SlaBreachRecord]]:
    """What the engine continues after a restart: each circuit's unavailable runs of the last 32 days (for the burn
    rate), and the open breach records, oldest first."""
    r = m.SlaStateRun
    down: dict[int, list[Interval]] = {}
    for cid, start, end in await session.execute(
        select(r.circuit_id, r.start_at, r.end_at).where(
            r.state == DeltaState.UNAVAILABLE.value, r.end_at > now - timedelta(days=32)
        )
    ):
        down.setdefault(cid, []).append(Interval(start, end))
    b = m.SlaBreachRecord
    return down, (await session.scalars(select(b).where(b.until.is_(None)).order_by(b.since))).all()


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
