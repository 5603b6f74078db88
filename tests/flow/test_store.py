"""The store consumer on both databases: writing the same messages again changes no row (raw rows, rollups,
outages, status); the rollups are the sums and maxima of the raw rows; a message that fails on its own is set
aside as a dead letter while the others are stored (in-process bus and Redis)."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from collectors.counters import InterfaceRate, Verdict
from collectors.model import ProbeSample
from exporters.collector import FlowMetrics
from noc import models as m
from noc.crypto import SecretBox
from noc.flow.bus import Bus, MemoryBus
from noc.flow.connect import open_bus
from noc.flow.consumers import ConsumerRunner
from noc.flow.supervise import Supervisor
from noc.inventory import service as inventory
from noc.messages import DevicePolled, Message, ProbeResult, ProbeRound
from noc.settings import BusSettings
from noc.store.measurements import MeasurementStore
from tests.noccli import noc, noc_env

T0 = datetime(2026, 11, 30, 8, 0, 30, tzinfo=UTC)
TABLES = ("interface_measurements", "interface_rollups", "probe_measurements", "device_outages", "device_status")


INVENTORY = """
devices:
  - {name: pe-1, address: 10.0.0.1, platform: linux}
accounts:
  - {name: acme, legal_name: ACME, tier: A}
contracts:
  - {name: c1, account: acme, valid_from: 2026-01-01, valid_to: 2027-12-31, timezone: UTC,
     sla: {availability_target_pct: '99.9'}}
circuits:
  - {name: ckt-1, account: acme, contract: c1, device: pe-1, interface: eth1}
"""


@pytest.fixture
async def _inventory(sessions: async_sessionmaker[AsyncSession], box: SecretBox, tmp_path: Path) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_text(INVENTORY)
    await inventory.import_file(sessions, box, path, "test")


def rate(i: int, in_bps: float | None, *, speed: int = 1_000_000_000) -> InterfaceRate:
    return InterfaceRate(
        "pe-1",
        2,
        "eth1",
        T0 + timedelta(minutes=i),
        "up",
        60.0,
        speed,
        in_bps,
        None if in_bps is None else 2 * in_bps,
        in_errors_per_second=0.5,
        in_verdict=Verdict.OK,
        out_verdict=Verdict.OK,
    )


def messages() -> list[Message]:
    out: list[Message] = []
    for i in range(12):
        ts = T0 + timedelta(minutes=i)
        if 5 <= i < 8:  # down after two failures (minutes 5 and 6), dated from the first; back at minute 8
            out.append(
                DevicePolled(
                    "pe-1",
                    ts,
                    ok=False,
                    up=False if i >= 6 else None,
                    consecutive_failures=i - 4,
                    error="timeout",
                    transition="down" if i == 6 else None,
                    down_since=T0 + timedelta(minutes=5) if i == 6 else None,
                )
            )
            continue
        back = i == 8
        out.append(
            DevicePolled(
                "pe-1",
                ts,
                ok=True,
                up=True,
                consecutive_failures=0,
                uptime_s=100.0 + i,
                transition="recovered" if back else None,
                down_since=T0 + timedelta(minutes=5) if back else None,
                interfaces=(rate(i, None if i == 0 else 1000.0 * i),),
            )
        )
        sample = ProbeSample("ckt-1", "pe-1", "10.9.0.1", ts, 5, 4, 1.0, 2.0, 3.0, 0.5)
        out.append(ProbeRound(ts, (ProbeResult(sample, "icmp"),)))
    return out


async def _dump(sessions: async_sessionmaker[AsyncSession]) -> dict[str, list[tuple[Any, ...]]]:
    async with sessions() as session:
        return {
            table: sorted(
                (tuple(r) for r in (await session.execute(text(f"select * from {table}"))).all()),  # noqa: S608
                key=repr,
            )
            for table in TABLES
        }


@pytest.mark.usefixtures("_inventory")
async def test_the_same_messages_twice_change_nothing(sessions: async_sessionmaker[AsyncSession]) -> None:
    batch = messages()
    await MeasurementStore(sessions).apply(batch)
    first = await _dump(sessions)
    # replayed by a new store (a restart), in other batch sizes, twice
    again = MeasurementStore(sessions)
    for size in (1, 5, len(batch)):
        for start in range(0, len(batch), size):
            await again.apply(batch[start : start + size])
    assert await _dump(sessions) == first
    assert len(first["interface_measurements"]) == 9
    assert len(first["probe_measurements"]) == 9

    async with sessions() as session:
        (outage,) = (await session.scalars(select(m.DeviceOutage))).all()
        status = await session.scalar(select(m.DeviceStatus))
        rollups = (await session.scalars(select(m.InterfaceRollup).order_by(m.InterfaceRollup.bucket_start))).all()
    assert outage.start_at == T0 + timedelta(minutes=5) and outage.end_at == T0 + timedelta(minutes=8)
    assert status is not None and status.available is True and status.last_poll_at == T0 + timedelta(minutes=11)
    # 5-minute buckets from 08:00: minutes 0-4 (rates at 1..4, minute 0 has none), 8-9 and 10-11
    assert [(r.bucket_start.minute, r.samples, r.rated_n) for r in rollups] == [(0, 5, 4), (5, 2, 2), (10, 2, 2)]
    assert rollups[0].in_sum_bps == 1000.0 * (1 + 2 + 3 + 4) and rollups[0].in_max_bps == 4000.0
    assert rollups[0].out_max_bps == 8000.0 and rollups[0].errors_sum_per_s == 2.5


def handed_over() -> list[Message]:
    """A hand-over of pe-1 (60 s interval) from p1 to p2, with the moment both poll it: p2 polls 10 s after p1's
    last poll of the slot, and p1, not yet aware, polls once more under its old epoch."""
    epoch_1, epoch_2 = T0.timestamp() - 3600, (T0 + timedelta(seconds=150)).timestamp()

    def poll(poller: str, epoch: float, seconds: float) -> DevicePolled:
        ts = T0 + timedelta(seconds=seconds)
        interfaces = (replace(rate(0, 1.0), ts=ts),)
        return DevicePolled(
            "pe-1", ts, ok=True, up=True, consecutive_failures=0, interfaces=interfaces, poller=poller, epoch=epoch,
            interval_s=60.0,
        )  # fmt: skip

    return [
        *(poll("p1", epoch_1, s) for s in (0, 60, 120)),
        poll("p2", epoch_2, 130),  # the same slot as p1's 120: p1 covered it
        poll("p1", epoch_1, 180),  # p1's last poll, before it learnt of the hand-over
        poll("p2", epoch_2, 190),  # the same slot as p1's 180
        poll("p2", epoch_2, 250),
        poll("p1", epoch_1, 260),  # p1 still polling after p2's epoch began and p2 polled: a stale owner
    ]


@pytest.mark.parametrize("size", [1, 3, 8])
@pytest.mark.usefixtures("_inventory")
async def test_two_pollers_overlapping_at_a_hand_over_store_one_sample_per_device_and_slot(
    sessions: async_sessionmaker[AsyncSession], size: int
) -> None:
    metrics = FlowMetrics(CollectorRegistry())
    store, batch = MeasurementStore(sessions, metrics), handed_over()
    for start in range(0, len(batch), size):
        await store.apply(batch[start : start + size])
    async with sessions() as session:
        stored = (await session.execute(select(m.InterfaceMeasurement.ts).order_by("ts"))).scalars().all()
        status = await session.scalar(select(m.DeviceStatus))
    offsets = [(ts - T0).total_seconds() for ts in stored]
    assert offsets == [0, 60, 120, 180, 250]  # one sample per 60 s slot, whoever made it
    assert metrics.overlaps._value.get() == 3  # the three polls another poller covered, counted
    assert status is not None and status.poller == "p2" and status.last_poll_at == T0 + timedelta(seconds=250)


async def _run_until_drained(bus: Bus, store: MeasurementStore, batch: list[Message]) -> ConsumerRunner:
    settings = BusSettings(batch_wait_s=0)
    supervisor = Supervisor()
    runner = ConsumerRunner("store", store.apply, bus.subscribe("store"), bus, settings, supervisor.stage("store"))
    for message in batch:
        await bus.publish(message)
    supervisor.spawn("store", runner.run)
    try:
        assert await runner.drain(60.0)
    finally:
        await supervisor.cancel()
    return runner


def poisoned() -> tuple[list[Message], DevicePolled]:
    batch = messages()[:6]
    # a speed no column can hold: the database (or its driver) refuses the row, whatever is retried
    poison = DevicePolled(
        "pe-1",
        T0 + timedelta(minutes=30),
        ok=True,
        up=True,
        consecutive_failures=0,
        interfaces=(rate(30, 1.0, speed=2**70),),
    )
    return [*batch[:3], poison, *batch[3:]], poison


@pytest.mark.usefixtures("_inventory")
async def test_a_poison_message_is_set_aside_and_the_others_stored(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    batch, poison = poisoned()
    bus = MemoryBus(BusSettings(spill_dir=tmp_path / "spill"))
    await _run_until_drained(bus, MeasurementStore(sessions), batch)
    async with sessions() as session:
        stored = (await session.scalars(select(m.InterfaceMeasurement.ts))).all()
    assert sorted(stored) == [T0 + timedelta(minutes=i) for i in (0, 1, 2)]
    (letter,) = await bus.dead_letters()
    assert letter.group == "store" and letter.key == f"device pe-1 at {poison.ts.isoformat()}"
    # and an operator sees it
    listed = await asyncio.to_thread(
        noc, noc_env(NOC_BUS__SPILL_DIR=str(tmp_path / "spill")), "bus", "dead-letters", "--json"
    )
    assert listed.returncode == 0, listed.stderr
    (shown,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert shown["key"] == letter.key and json.loads(shown["message"])["device"] == "pe-1"


@pytest.mark.peers
@pytest.mark.usefixtures("_inventory")
async def test_a_poison_message_on_redis_is_set_aside(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path, redis_url: str
) -> None:
    batch, poison = poisoned()
    settings = BusSettings(url=redis_url, prefix=f"test-{uuid.uuid4().hex[:8]}", spill_dir=tmp_path / "spill")
    bus = open_bus(settings, "test")
    try:
        await _run_until_drained(bus, MeasurementStore(sessions), batch)
        (letter,) = await bus.dead_letters()
        assert letter.key == f"device pe-1 at {poison.ts.isoformat()}"
    finally:
        await bus.close()
    async with sessions() as session:
        assert len((await session.scalars(select(m.InterfaceMeasurement.ts))).all()) == 3
