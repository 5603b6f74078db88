"""The capacity outlook's read: an interface's 5-minute rollups of the last weeks (never raw rows), as the mean rate
of the busier direction per 5 minutes, handed to :func:`sla.capacity.outlook` with the limits to reach."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from noc import models as m
from sla.capacity import WEEK, Outlook, outlook, weekly_p95

OUTLOOK_WEEKS = 8


async def interface_outlook(
    session: AsyncSession, device_id: int, if_name: str, limits: Sequence[tuple[str, float]], now: datetime
) -> Outlook:
    r = m.InterfaceRollup
    rows = await session.execute(
        select(r.bucket_start, r.in_sum_bps, r.out_sum_bps, r.rated_n).where(
            r.device_id == device_id,
            r.if_name == if_name,
            r.bucket_start >= now - OUTLOOK_WEEKS * WEEK,
            r.rated_n > 0,
        )
    )
    samples = [(ts, max(in_sum, out_sum) / rated) for ts, in_sum, out_sum, rated in rows]
    return outlook(weekly_p95(samples, now, OUTLOOK_WEEKS), limits)


async def circuit_outlook(session: AsyncSession, circuit: m.Circuit, contract: m.Contract, now: datetime) -> Outlook:
    """The circuit's port against its committed rate and the contract's utilisation ceiling of the port's speed."""
    limits: list[tuple[str, float]] = []
    if circuit.committed_rate_bps:
        limits.append(("committed rate", float(circuit.committed_rate_bps)))
    speed = await session.scalar(
        select(m.Interface.speed_bps).where(
            m.Interface.device_id == circuit.device_id, m.Interface.name == circuit.interface_name
        )
    )
    if contract.utilisation_ceiling_pct and speed:
        ceiling = contract.utilisation_ceiling_pct
        limits.append((f"utilisation ceiling {ceiling:g} % of the port", speed * ceiling / 100))
    return await interface_outlook(session, circuit.device_id, circuit.interface_name, limits, now)
