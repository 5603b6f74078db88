"""One fault, one ticket (issue #14, acceptance 3): causes the system detects on one circuit during one fault join
its open ticket, which lists them and takes the worst impact; a device's incident adopts the tickets its circuits
already had. The rules table-driven; the service on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.tickets.conftest import T0
from tests.tickets.test_rules import ACME, S
from tickets import rules
from tickets.lifecycle import Status
from tickets.models import Ticket
from tickets.rules import (
    AppendRecurrence,
    DeviceDown,
    DeviceUp,
    FaultCleared,
    FaultEvent,
    FaultKind,
    Impact,
    OpenTicket,
    TicketState,
)
from tickets.service import TicketService

Sessions = async_sessionmaker[AsyncSession]


def sla(objective: str, impact: Impact, circuit: str = "ACME-1", at_min: float = 0) -> FaultEvent:
    at = T0 + timedelta(minutes=at_min)
    return FaultEvent(FaultKind.SLA_BREACH, circuit, f"sla:{objective}", impact, at, f"SLA {objective}")


LOSS_TICKET = TicketState(4, Status.NEW, Impact.DEGRADED, causes=frozenset({"sla:loss"}))


@pytest.mark.parametrize(
    ("event", "expected_impact"),
    [
        (sla("availability", Impact.SERVICE_DOWN), Impact.SERVICE_DOWN),  # worse: the ticket takes it
        (sla("utilisation", Impact.AT_RISK), None),  # milder: the ticket keeps its impact
    ],
)
def test_another_detected_cause_joins_the_circuits_open_ticket(event: FaultEvent, expected_impact: Impact) -> None:
    decision = rules.decide_fault(event, ACME, None, S, ongoing=LOSS_TICKET)
    assert isinstance(decision, AppendRecurrence) and decision.ticket_id == 4
    assert (decision.impact_change.new if decision.impact_change else None) == expected_impact


def test_people_and_closed_tickets_do_not_join() -> None:
    complaint = FaultEvent(FaultKind.COMPLAINT, "ACME-1", "complaint", Impact.DEGRADED, T0, "slow")
    assert isinstance(rules.decide_fault(complaint, ACME, None, S, ongoing=LOSS_TICKET), OpenTicket)
    resolved = TicketState(4, Status.RESOLVED, Impact.DEGRADED, T0)
    assert isinstance(rules.decide_fault(sla("availability", Impact.SERVICE_DOWN), ACME, None, S, ongoing=resolved),
                      OpenTicket)  # fmt: skip


def test_a_milder_recurrence_of_one_cause_does_not_lower_a_ticket_another_cause_holds() -> None:
    both = TicketState(4, Status.NEW, Impact.SERVICE_DOWN, causes=frozenset({"sla:loss", "sla:availability"}))
    decision = rules.decide_fault(sla("loss", Impact.DEGRADED), ACME, both, S, ongoing=both)
    assert isinstance(decision, AppendRecurrence) and decision.impact_change is None
    alone = TicketState(4, Status.NEW, Impact.SERVICE_DOWN, causes=frozenset({"sla:loss"}))
    decision = rules.decide_fault(sla("loss", Impact.DEGRADED), ACME, alone, S, ongoing=alone)
    assert isinstance(decision, AppendRecurrence) and decision.impact_change is not None  # it follows its cause


@pytest.mark.parametrize(
    ("cause", "expected"),
    [
        ("sla:loss", rules.ClearCause(4, "sla:loss", T0)),  # availability still breached
        ("device_down:pe-1", rules.ClearFault(4, T0, resolve=True)),  # the device back: its symptoms go with it
    ],
)
def test_a_cause_that_ends_while_another_is_active(cause: str, expected: object) -> None:
    state = TicketState(4, Status.NEW, Impact.SERVICE_DOWN, causes=frozenset({cause, "sla:availability"}))
    assert rules.decide_clear(FaultCleared("ACME-1", cause, T0), state, True) == expected


def test_causes_are_listed_in_order_and_active_until_cleared() -> None:
    history = [
        ("cause_added", "sla:availability"),
        ("impact_changed", None),
        ("cause_cleared", "sla:loss"),
        ("cause_added", "sla:loss"),  # back again: listed once
    ]
    assert rules.listed_causes("sla:loss", history) == ("sla:loss", "sla:availability")
    assert rules.active_causes("sla:loss", history) == {"sla:loss", "sla:availability"}
    assert rules.active_causes("sla:loss", [*history, ("fault_cleared", "sla:availability")]) == frozenset()


# --- the service -------------------------------------------------------------------------------------------------


async def tickets_of(sessions: Sessions) -> list[Ticket]:
    async with sessions() as session:
        return list(await session.scalars(select(Ticket).where(Ticket.kind == "ticket").order_by(Ticket.id)))


async def test_a_loss_fault_is_one_ticket_with_both_causes_and_the_worst_impact(
    svc: TicketService, stocked: Sessions
) -> None:
    loss = await svc.handle_fault(sla("loss", Impact.DEGRADED, "ACME-SH-003", 0))
    availability = await svc.handle_fault(sla("availability", Impact.SERVICE_DOWN, "ACME-SH-003", 1))
    assert (availability.ticket_id, availability.action, availability.impact_changed) == (loss.ticket_id, "appended",
                                                                                          True)  # fmt: skip
    [ticket] = await tickets_of(stocked)
    assert (ticket.impact, ticket.priority, ticket.recurrence_count) == ("service_down", "P1", 2)
    detail = await svc.show_ticket("nina", ticket.id)
    assert detail.causes == ("sla:loss", "sla:availability")

    # the loss ends first: the availability breach still holds the fault
    await svc.handle_clear(FaultCleared("ACME-SH-003", "sla:loss", T0 + timedelta(minutes=5)))
    [ticket] = await tickets_of(stocked)
    assert ticket.fault_cleared_at is None
    cleared = await svc.handle_clear(FaultCleared("ACME-SH-003", "sla:availability", T0 + timedelta(minutes=6)))
    assert cleared is not None and cleared.ticket_id == ticket.id
    [ticket] = await tickets_of(stocked)
    assert ticket.fault_cleared_at == T0 + timedelta(minutes=6)


async def test_a_breach_ticketed_before_its_device_went_down_becomes_the_incidents_child(
    svc: TicketService, stocked: Sessions
) -> None:
    early = await svc.handle_fault(sla("availability", Impact.SERVICE_DOWN, "ACME-BJ-001", 0))
    incident = await svc.handle_device_down(DeviceDown("pe-bj-01", T0 + timedelta(minutes=1)))
    assert {c.ticket_id for c in incident.children} >= {early.ticket_id}
    tickets = await tickets_of(stocked)
    assert len(tickets) == 2 and {t.parent_id for t in tickets} == {incident.parent_id}
    detail = await svc.show_ticket("nina", early.ticket_id)
    assert detail.causes == ("sla:availability", "device_down:pe-bj-01")
    await svc.handle_device_up(DeviceUp("pe-bj-01", T0 + timedelta(minutes=9)))
    assert all(t.fault_cleared_at == T0 + timedelta(minutes=9) for t in await tickets_of(stocked))
