"""A device down with three circuits is one incident with three children, whatever the order in which its
symptoms arrive (issue #14, acceptance 3): every order of the device's failure and its circuits' breaches, each
driven through the ticket service on SQLite (the rules under it run on PostgreSQL too, in test_one_fault)."""

from __future__ import annotations

from datetime import timedelta
from itertools import permutations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.tickets.conftest import T0
from tests.tickets.test_service import add_circuits
from tickets.models import Ticket
from tickets.rules import DeviceDown, DeviceUp, FaultEvent, FaultKind, Impact
from tickets.service import TicketService

Sessions = async_sessionmaker[AsyncSession]
# pe-bj-01 carries ACME-BJ-001 and CITY-SH-002; add_circuits gives it RHEI-X00.
BREACHES = {"ACME-BJ-001": "availability", "CITY-SH-002": "loss", "RHEI-X00": "availability"}
ARRIVALS = ["device", *BREACHES]


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    return sqlite_url


@pytest.mark.parametrize("order", list(permutations(ARRIVALS)), ids="-".join)
async def test_every_order_gives_one_incident_with_a_child_per_circuit(
    svc: TicketService, stocked: Sessions, order: tuple[str, ...]
) -> None:
    await add_circuits(stocked, "pe-bj-01", {"rhein-logistik": 1})
    for minute, arrival in enumerate(order):
        at = T0 + timedelta(minutes=minute)
        if arrival == "device":
            await svc.handle_device_down(DeviceDown("pe-bj-01", at))
        else:
            objective = BREACHES[arrival]
            impact = Impact.SERVICE_DOWN if objective == "availability" else Impact.DEGRADED
            await svc.handle_fault(FaultEvent(FaultKind.SLA_BREACH, arrival, f"sla:{objective}", impact, at))

    async with stocked() as session:
        [incident] = list(await session.scalars(select(Ticket).where(Ticket.kind == "incident")))
        children = list(await session.scalars(select(Ticket).where(Ticket.kind == "ticket")))
    assert len(children) == 3 and {c.parent_id for c in children} == {incident.id}
    assert {c.impact for c in children} == {"service_down"}  # the device's impact is the worst
    details = [await svc.show_ticket("nina", c.id) for c in children]
    causes = {d.summary.circuit: set(d.causes) for d in details}
    assert causes == {circuit: {"device_down:pe-bj-01", f"sla:{o}"} for circuit, o in BREACHES.items()}

    await svc.handle_device_up(DeviceUp("pe-bj-01", T0 + timedelta(minutes=10)))
    async with stocked() as session:
        cleared = list(await session.scalars(select(Ticket.fault_cleared_at).where(Ticket.kind == "ticket")))
    assert cleared == [T0 + timedelta(minutes=10)] * 3
