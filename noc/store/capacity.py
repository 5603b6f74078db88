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
    samples = [(ts, max(in_sum, out_sum) / rated) for ts, in_sum, out_sum, rated in rows.tuples()]
    return outlook(weekly_p95(samples, now, OUTLOOK_WEEKS), limits)
