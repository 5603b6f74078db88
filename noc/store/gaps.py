"""Monitoring gaps' records: written as :class:`collectors.gaps.GapWatch` opens and closes them, read back at start
and by the board. Idempotent: a gap is unique per device and start, so writing the same change twice changes
nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from collectors.gaps import GapChange
from noc import models as m


@dataclass(frozen=True, slots=True)
class OpenGap:
    device: str
    region: str
    site: str
    group: str
    since: datetime


async def write_gaps(session: AsyncSession, changes: Sequence[GapChange]) -> None:
    """Record opened, closed and retracted gaps, in order (the caller commits). A device no longer in the
    inventory is skipped: its rows went with it."""
    g = m.MonitoringGap
    names = {c.device for c in changes}
    found = await session.execute(select(m.Device.name, m.Device.id).where(m.Device.name.in_(names)))
    ids = {name: ident for name, ident in found}
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    for change in changes:
        device_id = ids.get(change.device)
        if device_id is None:
            continue
        if change.ended_at is None:
            stmt = insert(g).values(device_id=device_id, started_at=change.started_at)
            await session.execute(stmt.on_conflict_do_nothing(index_elements=["device_id", "started_at"]))
        elif change.retracted:
            await session.execute(delete(g).where(g.device_id == device_id, g.started_at == change.started_at))
        else:
            await session.execute(
                update(g)
                .where(g.device_id == device_id, g.started_at == change.started_at, g.ended_at.is_(None))
                .values(ended_at=change.ended_at)
                .execution_options(synchronize_session=False)
            )


async def open_gaps(session: AsyncSession) -> list[OpenGap]:
    """The gaps open now, oldest first."""
    g, d = m.MonitoringGap, m.Device
    rows = await session.execute(
        select(d.name, d.region, d.site, d.poller_group, g.started_at)
        .join(g, g.device_id == d.id)
        .where(g.ended_at.is_(None), d.enabled.is_(True))
        .order_by(g.started_at, d.name)
    )
    return [OpenGap(name, region, site, group, since) for name, region, site, group, since in rows]


async def last_polls(session: AsyncSession) -> dict[str, datetime]:
    """Each device's latest stored poll."""
    rows = await session.execute(
        select(m.Device.name, m.DeviceStatus.last_poll_at)
        .join(m.DeviceStatus, m.DeviceStatus.device_id == m.Device.id)
        .where(m.DeviceStatus.last_poll_at.is_not(None))
    )
    return {name: ts for name, ts in rows if ts is not None}
