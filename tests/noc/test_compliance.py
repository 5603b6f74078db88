"""The health archive's SLA compliance history from the stored monthly reports, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from noc import models as m
from noc.crypto import SecretBox
from noc.demo import seed_last_month, seed_traffic_history
from noc.inventory import service as inventory
from noc.store.capacity import circuit_outlook
from noc.store.compliance import StoredSlaCompliance, months_before
from noc.store.series import InterfaceMetric, Window, interface_graph
from tests.conftest import EXAMPLE_INVENTORY
from tests.noc.test_sla_engine import seeded
from tests.tickets.conftest import DrivenClock
from tickets.records import ObjectiveCompliance

Sessions = async_sessionmaker[AsyncSession]
OCT, NOV, DEC = (datetime(2026, month, 1, tzinfo=UTC) for month in (10, 11, 12))


def test_months_before_cross_the_year_newest_first() -> None:
    assert months_before(datetime(2026, 2, 3).date(), 3) == [(2026, 1), (2025, 12), (2025, 11)]


async def test_last_month_s_compliance_per_objective_with_its_credit(
    sessions: Sessions, box: SecretBox, tmp_path: Path
) -> None:
    await seeded(sessions, box, tmp_path)  # contract c1 (UTC, 2026): 99.9 %, 10 % of 1,000.00 below it
    down = NOV + timedelta(days=9, hours=12)
    async with sessions() as session:
        circuit = (await session.scalars(select(m.Circuit))).one()

        def run(start: datetime, end: datetime, state: str = "available") -> m.SlaStateRun:
            causes = [] if state == "available" else ["interface_down"]
            return m.SlaStateRun(circuit_id=circuit.id, start_at=start, end_at=end, state=state, causes=causes)

        back = down + timedelta(minutes=60)
        session.add_all([run(OCT, down), run(down, back, "unavailable"), run(back, DEC)])
        await session.commit()
    clock = DrivenClock(DEC + timedelta(days=9))
    # Twelve months back reach December 2025, before the contract; months with nothing measured are left out.
    history = await StoredSlaCompliance(sessions, 12, clock).compliance_history("acme")
    assert [(e.contract, e.month, e.met, e.credit) for e in history] == [
        ("c1", "2026-11", False, "100.00 EUR"),  # 60 min down of 43,200: 99.8611 % < 99.9 %
        ("c1", "2026-10", True, None),
    ]
    november = history[0]
    assert november.availability_pct is not None and round(november.availability_pct, 4) == 99.8611
    assert november.target_pct == 99.9
    assert november.objectives == (
        ObjectiveCompliance("availability", False),
        ObjectiveCompliance("latency", None),  # no hourly statistics stored: not measured
        ObjectiveCompliance("loss", None),
    )
    assert await StoredSlaCompliance(sessions, 1, clock).compliance_history("acme") == history[:1]
    assert await StoredSlaCompliance(sessions, 12, clock).compliance_history("nobody") == []


async def available_throughout(sessions: Sessions, contract: str, start: datetime, end: datetime) -> None:
    """Every circuit of the contract measured available over [start, end)."""
    async with sessions() as session:
        ids = select(m.Contract.id).where(m.Contract.name == contract)
        for circuit in await session.scalars(select(m.Circuit).where(m.Circuit.contract_id.in_(ids))):
            session.add(m.SlaStateRun(circuit_id=circuit.id, start_at=start, end_at=end, state="available", causes=[]))
        await session.commit()


async def test_the_demo_seeds_last_month_for_every_account_s_archive(sessions: Sessions, box: SecretBox) -> None:
    await inventory.import_file(sessions, box, EXAMPLE_INVENTORY, "test")  # the demo's accounts and contracts
    now = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)  # 1 December in Shanghai, still 30 November in Berlin
    assert await seed_last_month(sessions, now) == 6  # every circuit
    assert await seed_last_month(sessions, now) == 0  # a second start adds nothing
    source = StoredSlaCompliance(sessions, 12, DrivenClock(now))
    found = {a: await source.compliance_history(a) for a in ("acme-bank", "city-gov", "rhein-logistik")}
    assert {a: [(e.contract, e.month, e.availability_pct, e.met) for e in h] for a, h in found.items()} == {
        "acme-bank": [("ACME-2026-01", "2026-11", 100.0, True)],
        "city-gov": [("CITYGOV-2025-07", "2026-11", 100.0, True)],
        "rhein-logistik": [("RHEIN-2026-03", "2026-10", 100.0, True)],
    }


async def test_the_demo_seeds_a_month_of_traffic_the_graphs_and_the_outlook_show(
    sessions: Sessions, box: SecretBox
) -> None:
    await inventory.import_file(sessions, box, EXAMPLE_INVENTORY, "test")
    now = datetime(2026, 11, 30, 17, 3, tzinfo=UTC)
    assert await seed_traffic_history(sessions, now) == 6  # every circuit's interface
    assert await seed_traffic_history(sessions, now) == 0  # a second start adds nothing
    async with sessions() as session:
        device_id = await session.scalar(select(m.Device.id).where(m.Device.name == "pe-bj-01"))
        assert device_id is not None
        window = Window(now - timedelta(days=30), now, live=True)
        graph = await interface_graph(session, device_id, "GigabitEthernet0/0/1", InterfaceMetric.TRAFFIC, window)
        circuit = await session.scalar(select(m.Circuit).where(m.Circuit.name == "ACME-BJ-001"))
        assert circuit is not None
        contract = await session.get(m.Contract, circuit.contract_id)
        assert contract is not None
        outlook = await circuit_outlook(session, circuit, contract, now)
    assert graph.source == "rollup_5m" and 0 < len(graph.t) <= 5_000
    assert (
        graph.t[0] <= (now - timedelta(days=29)).timestamp() and graph.t[-1] >= (now - timedelta(hours=1)).timestamp()
    )
    busy = max(v for line in graph.series for v in line.values if v is not None)
    assert circuit.committed_rate_bps is not None and 0 < busy < circuit.committed_rate_bps  # under the contract
    assert len(outlook.weeks) >= 4 and outlook.slope_bps_per_week is not None and outlook.slope_bps_per_week > 0
