"""Measurements for graphs, written as the store writes them: raw interface and probe rows (day partitions on
PostgreSQL), then the 5-minute rollups computed by the store's own statement. Shared by the graph tests and
``bench/graphs.py``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from noc import models as m
from noc.store import partitions
from noc.store.measurements import ROLLUP_S, bucket_of, rollup_statement

BATCH = 2000


def traffic_bps(ts: datetime, base_bps: float) -> float:
    """A day-shaped load: base ± 50 % over 24 h, so a graph has something to show."""
    return base_bps * (1 + 0.5 * math.sin(ts.timestamp() / 86400 * 2 * math.pi))


def _insert(session: AsyncSession) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def instants(
    start: datetime, end: datetime, step_s: int, gaps: Sequence[tuple[datetime, datetime]] = ()
) -> list[datetime]:
    out, ts = [], start
    while ts < end:
        if not any(a <= ts < b for a, b in gaps):
            out.append(ts)
        ts += timedelta(seconds=step_s)
    return out


async def seed_interface(
    sessions: async_sessionmaker[AsyncSession],
    device: str,
    if_name: str,
    stamps: Sequence[datetime],
    base_bps: float = 40e6,
    speed_bps: int = 1_000_000_000,
) -> int:
    """Raw rows at ``stamps`` (one poll each) for the device's interface, its discovery row, and the rollups of
    the buckets they fall in; returns the device's id."""
    async with sessions() as session:
        device_id = await session.scalar(select(m.Device.id).where(m.Device.name == device))
        assert device_id is not None, device
        known = await session.scalar(
            select(m.Interface.id).where(m.Interface.device_id == device_id, m.Interface.name == if_name)
        )
        if known is None:
            session.add(
                m.Interface(
                    device_id=device_id,
                    if_index=1,
                    name=if_name,
                    speed_bps=speed_bps,
                    oper_status="up",
                    admin_status="up",
                )
            )
        await partitions.ensure_for(session, "interface_measurements", stamps)
        rows = [
            {
                "device_id": device_id,
                "if_name": if_name,
                "ts": ts,
                "if_index": 1,
                "interval_s": 60.0,
                "oper_status": "up",
                "speed_bps": speed_bps,
                "in_bps": traffic_bps(ts, base_bps),
                "out_bps": traffic_bps(ts, base_bps / 2),
                "in_utilisation_ratio": traffic_bps(ts, base_bps) / speed_bps,
                "out_utilisation_ratio": traffic_bps(ts, base_bps / 2) / speed_bps,
                "in_errors_per_s": 0.0,
                "out_errors_per_s": 0.5,
                "in_discards_per_s": 0.0,
                "out_discards_per_s": 0.0,
                "verdict": "ok",
            }
            for ts in stamps
        ]
        insert = _insert(session)(m.InterfaceMeasurement.__table__).on_conflict_do_nothing()
        for i in range(0, len(rows), BATCH):
            await session.execute(insert, rows[i : i + BATCH])
        if stamps:
            await session.execute(
                rollup_statement(session.get_bind().dialect.name),
                {
                    "devices": [device_id],
                    "start": bucket_of(min(stamps)),
                    "end": bucket_of(max(stamps)) + timedelta(seconds=ROLLUP_S),
                },
            )
        await session.commit()
    return int(device_id)


async def seed_probes(
    sessions: async_sessionmaker[AsyncSession],
    circuit: str,
    stamps: Sequence[datetime],
    loss_ratio: float = 0.0,
    rtt_ms: float = 12.5,
) -> int:
    async with sessions() as session:
        circuit_id = await session.scalar(select(m.Circuit.id).where(m.Circuit.name == circuit))
        assert circuit_id is not None, circuit
        await partitions.ensure_for(session, "probe_measurements", stamps)
        rows = [
            {
                "circuit_id": circuit_id,
                "ts": ts,
                "method": "icmp",
                "sent": 10,
                "received": 10 - round(10 * loss_ratio),
                "loss_ratio": loss_ratio,
                "rtt_min_ms": rtt_ms - 1,
                "rtt_avg_ms": rtt_ms,
                "rtt_max_ms": rtt_ms + 3,
                "jitter_ms": 0.8,
                "error": None,
            }
            for ts in stamps
        ]
        insert = _insert(session)(m.ProbeMeasurement.__table__).on_conflict_do_nothing()
        for i in range(0, len(rows), BATCH):
            await session.execute(insert, rows[i : i + BATCH])
        await session.commit()
    return int(circuit_id)
