"""The running service end to end in one process: a real agent goes away, the device goes down after N failed
polls, and one incident with a child ticket per circuit opens on its own; the snapshot shows it for /metrics."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exporters.collector import FlowMetrics, PollerMetrics
from exporters.snapshot import Snapshot
from noc.crypto import SecretBox
from noc.flow.service import NocService
from noc.inventory import service as inventory
from noc.settings import BusSettings, PollerSettings, Settings, TicketSettings
from tests.peers.snmpd import SnmpdAgent, free_udp_port
from tickets.models import Ticket
from tickets.service import TicketService

pytestmark = pytest.mark.peers


@pytest.fixture
async def agent() -> AsyncIterator[SnmpdAgent]:
    snmpd = SnmpdAgent("127.0.0.1", free_udp_port(), community="svc-lab", sys_name="svc-pe")
    snmpd.start()
    try:
        yield snmpd
    finally:
        snmpd.cleanup()


async def until(what: str, check: object, timeout_s: float = 60.0) -> None:
    """Wait for an async condition, bounded; the pause is the polling period of the service's own loops."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        if await check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


async def test_device_down_opens_one_incident_with_a_child_per_circuit(
    agent: SnmpdAgent, sessions: async_sessionmaker[AsyncSession], box: SecretBox, tmp_path: Path
) -> None:
    path = tmp_path / "inventory.yaml"
    sla = "sla: {availability_target_pct: '99.9'}"
    path.write_text(
        "snmp_profiles:\n  - {name: lab, version: 2c, community: svc-lab}\n"
        "devices:\n"
        f"  - {{name: svc-pe, address: 127.0.0.1, platform: linux, snmp_profile: lab, snmp_port: {agent.port}}}\n"
        "accounts:\n  - {name: a1, legal_name: A1, tier: A}\n  - {name: b1, legal_name: B1, tier: B}\n"
        "contracts:\n"
        f"  - {{name: ca, account: a1, valid_from: 2026-01-01, valid_to: 2027-12-31, timezone: UTC, {sla}}}\n"
        f"  - {{name: cb, account: b1, valid_from: 2026-01-01, valid_to: 2027-12-31, timezone: UTC, {sla}}}\n"
        "circuits:\n"
        "  - {name: ckt-a, account: a1, contract: ca, device: svc-pe, interface: lo}\n"
        "  - {name: ckt-b, account: b1, contract: cb, device: svc-pe, interface: lo}\n"
    )
    await inventory.import_file(sessions, box, path, "test")
    snapshot = Snapshot()
    poller = PollerSettings(
        interval_s=1, tier_a_interval_s=1, timeout_s=0.5, retries=0, down_after_failures=2, jitter_ratio=0, sla_tick_s=1
    )
    settings = Settings(poller=poller, bus=BusSettings(spill_dir=tmp_path / "spill"))
    registry = CollectorRegistry()
    service = NocService(
        sessions,
        box,
        settings,
        snapshot,
        PollerMetrics(registry),
        FlowMetrics(registry),
        TicketService(sessions, TicketSettings(), box=box),
    )
    await service.start()
    try:
        await until("the device seen up", lambda: _state(snapshot, True))
        agent.stop()
        await until("the device down", lambda: _state(snapshot, False))
        await until("an incident with two children", lambda: _incident(sessions))
    finally:
        await service.stop()
    async with sessions() as session:
        rows = (await session.scalars(select(Ticket).order_by(Ticket.id))).all()
    parents = [t for t in rows if t.parent_id is None]
    assert len(parents) == 1 and parents[0].kind == "incident"
    children = sorted((t.circuit_id, t.account_id, t.parent_id) for t in rows if t.parent_id is not None)
    assert len(children) == 2 and {c[2] for c in children} == {parents[0].id}
    assert len({c[1] for c in children}) == 2  # each child on its own account


async def _state(snapshot: Snapshot, up: bool) -> bool:
    state = snapshot.copy().device_state.get("svc-pe")
    return state is not None and state.up is up


async def _incident(sessions: async_sessionmaker[AsyncSession]) -> bool:
    async with sessions() as session:
        children = (await session.scalars(select(Ticket).where(Ticket.parent_id.is_not(None)))).all()
    return len(children) == 2
