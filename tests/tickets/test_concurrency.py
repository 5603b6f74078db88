"""Two engineers acknowledge the same ticket at the same moment (PostgreSQL, real concurrent transactions)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from noc import dbadmin
from noc.crypto import SecretBox
from noc.db import create_engine, session_factory
from noc.inventory import service as inventory
from noc.settings import TicketSettings
from tests.conftest import EXAMPLE_INVENTORY
from tests.tickets.conftest import T0, DrivenClock
from tickets.errors import Conflict
from tickets.models import Ticket, TicketTransition
from tickets.rules import FaultEvent, FaultKind, Impact
from tickets.service import TicketService

pytestmark = pytest.mark.postgres


@pytest.fixture
async def pg_engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(pg_url)
    await dbadmin.upgrade(engine)
    yield engine
    await engine.dispose()


async def waiting_on_locks(engine: AsyncEngine, expected: int) -> None:
    """Until ``expected`` backends wait on a row lock (a condition, polled; bounded so a bug fails, not hangs)."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    async with asyncio.timeout(30):
        while True:
            async with engine.connect() as conn:
                if (await conn.scalar(query)) == expected:
                    return
            await asyncio.sleep(0.01)


async def test_concurrent_acknowledge_one_wins_the_other_conflicts(
    pg_engine: AsyncEngine, box: SecretBox, clock: DrivenClock
) -> None:
    sessions = session_factory(pg_engine)
    await inventory.import_file(sessions, box, EXAMPLE_INVENTORY, "test")
    svc = TicketService(sessions, TicketSettings(), box=box, clock=clock)
    opened = await svc.handle_fault(
        FaultEvent(FaultKind.SLA_BREACH, "ACME-BJ-001", "sla:availability", Impact.SERVICE_DOWN, T0)
    )

    (before,) = await svc.list_tickets("nina")
    # Hold the ticket's row: both engineers read it (reads are not blocked) and then queue on their writes, so the
    # two transactions really overlap instead of running one after the other.
    async with pg_engine.connect() as holder:
        await holder.execute(text("SELECT id FROM tickets WHERE id = :id FOR UPDATE"), {"id": opened.ticket_id})
        attempts = [
            asyncio.create_task(svc.acknowledge("nina", opened.ticket_id)),
            asyncio.create_task(svc.acknowledge("admin", opened.ticket_id)),
        ]
        await waiting_on_locks(pg_engine, 2)
        await holder.rollback()
    results = await asyncio.gather(*attempts, return_exceptions=True)

    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert isinstance(losers[0], Conflict)
    assert "changed by someone else at the same time" in str(losers[0])
    async with sessions() as session:
        ticket = await session.get(Ticket, opened.ticket_id)
        acks = list(
            await session.scalars(
                select(TicketTransition.actor).where(
                    TicketTransition.ticket_id == opened.ticket_id, TicketTransition.to_status == "acknowledged"
                )
            )
        )
        transitions = await session.scalar(select(func.count()).select_from(TicketTransition))
    assert ticket is not None and ticket.status == "acknowledged"
    assert ticket.version == winners[0].version == before.version + 1  # one update, not two
    assert acks == ["nina" if results[0] is winners[0] else "admin"]
    assert transitions == 2  # opened + the one acknowledgement: the loser's row was rolled back with it
