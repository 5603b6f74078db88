"""Ticket fixtures: the example inventory imported, a driven clock, the service over it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from noc.crypto import SecretBox
from noc.inventory import service as inventory
from noc.settings import TicketSettings
from tests.conftest import EXAMPLE_INVENTORY
from tickets.rules import FaultEvent, FaultKind, Impact
from tickets.service import TicketService

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


class DrivenClock:
    """The tests' clock: time moves only when a test moves it."""

    def __init__(self, start: datetime = T0) -> None:
        self.at = start

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> datetime:
        self.at += timedelta(**delta)
        return self.at

    def set(self, at: datetime) -> None:
        self.at = at


@pytest.fixture
def clock() -> DrivenClock:
    return DrivenClock()


@pytest.fixture
async def stocked(sessions: async_sessionmaker[AsyncSession], box: SecretBox) -> async_sessionmaker[AsyncSession]:
    await inventory.import_file(sessions, box, EXAMPLE_INVENTORY, "test")
    return sessions


@pytest.fixture
def svc(stocked: async_sessionmaker[AsyncSession], box: SecretBox, clock: DrivenClock) -> TicketService:
    return TicketService(stocked, TicketSettings(), box=box, clock=clock)


async def restored_late(sessions: async_sessionmaker[AsyncSession], box: SecretBox, by_s: float = 14) -> int:
    """A ticket on ACME-BJ-001 (acme-bank: restoration 4 h) detected at T0 and resolved by nina at the limit plus
    ``by_s``: its restoration verdict is "breached by ``by_s``"."""
    clock = DrivenClock()
    svc = TicketService(sessions, TicketSettings(), box=box, clock=clock)
    event = FaultEvent(FaultKind.MANUAL, "ACME-BJ-001", "manual:restored late", Impact.DEGRADED, T0, "restored late")
    ticket_id = (await svc.handle_fault(event)).ticket_id
    clock.set(T0 + timedelta(hours=4, seconds=by_s))
    await svc.resolve("nina", ticket_id)
    return ticket_id
