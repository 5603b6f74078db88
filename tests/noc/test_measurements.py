"""Raw measurements go when their retention ends; newer ones stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from noc import models as m
from noc.store import partitions
from noc.store.measurements import MeasurementStore


async def test_purge_keeps_the_retention_window(sessions: async_sessionmaker[AsyncSession]) -> None:
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    async with sessions() as session:
        device = m.Device(name="pe-1", address="10.0.0.1", platform="linux")
        # the day partitions first (PostgreSQL): made before this transaction writes, as the store makes them
        stamps = [now - timedelta(days=age_days) for age_days in (0, 6, 8, 30)]
        await partitions.ensure_for(session, "interface_measurements", stamps)
        session.add(device)
        await session.flush()
        for age_days in (0, 6, 8, 30):
            session.add(
                m.InterfaceMeasurement(
                    device_id=device.id,
                    if_name="eth0",
                    if_index=1,
                    ts=now - timedelta(days=age_days),
                    oper_status="up",
                    verdict="ok",
                )
            )
        await session.commit()
    store = MeasurementStore(sessions)
    assert await store.purge(timedelta(days=7), timedelta(days=35), now) == 2
    async with sessions() as session:
        left = await session.scalar(select(func.count()).select_from(m.InterfaceMeasurement))
    assert left == 2
