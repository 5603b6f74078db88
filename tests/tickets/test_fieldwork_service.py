"""A technician's day against SQLite and PostgreSQL: taking a ticket, acknowledging until an instant (it re-alerts),
waiting on the customer for a reason, resolving while the system still sees the fault (on-site confirmation, the
recheck after ``onsite_recheck_s`` that reopens it or lets it stand)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from noc import models as m
from tests.tickets.conftest import T0, DrivenClock
from tickets.errors import IllegalTransition, InvalidRequest, OnSiteConfirmationNeeded, Refused
from tickets.models import Ticket, TicketEvent, TicketTransition, WorklogEntry
from tickets.rules import DeviceDown, FaultEvent, FaultKind, Impact, sla_breach_fault
from tickets.service import TicketService

Sessions = async_sessionmaker[AsyncSession]


async def manual(svc: TicketService, circuit: str = "ACME-BJ-001", cause: str = "manual:loss") -> int:
    event = FaultEvent(FaultKind.MANUAL, circuit, cause, Impact.DEGRADED, T0, "loss 5 %")
    return (await svc.handle_fault(event)).ticket_id


async def events(sessions: Sessions, ticket_id: int, kind: str) -> list[TicketEvent]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(TicketEvent).where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind == kind)
            )
        )


async def ticket(sessions: Sessions, ticket_id: int) -> Ticket:
    async with sessions() as session:
        found = await session.get(Ticket, ticket_id)
        assert found is not None
        return found


async def device_seen(sessions: Sessions, device: str, available: bool) -> None:
    """What the poller writes: the device's live status."""
    async with sessions() as session:
        device_id = await session.scalar(select(m.Device.id).where(m.Device.name == device))
        assert device_id is not None
        status = await session.get(m.DeviceStatus, device_id)
        if status is None:
            session.add(m.DeviceStatus(device_id=device_id, available=available, since=T0))
        else:
            status.available = available
        await session.commit()


async def test_a_technician_takes_an_unassigned_ticket_of_their_region(svc: TicketService, stocked: Sessions) -> None:
    ticket_id = await manual(svc)
    with pytest.raises(Refused, match=r"li \(technician\) may not take T-.*region north, not one of theirs"):
        await svc.take("li", ticket_id)
    with pytest.raises(Refused, match="only a technician"):
        await svc.take("nina", ticket_id)
    taken = await svc.take("tom", ticket_id)
    assert (taken.status, taken.technician) == ("dispatched", "tom-north")
    [event] = await events(stocked, ticket_id, "taken")
    assert (event.actor, event.detail) == ("tom", {"technician": "tom-north"})
    async with stocked() as session:
        last = await session.scalar(
            select(TicketTransition).where(TicketTransition.ticket_id == ticket_id).order_by(TicketTransition.id.desc())
        )
    assert last is not None and (last.actor, last.from_status, last.to_status) == ("tom", "new", "dispatched")
    # Taking answers the fault (the response timer stops), and the ticket is now tom's to work.
    assert (await ticket(stocked, ticket_id)).acknowledged_at == T0
    with pytest.raises(Refused, match="assigned to them already"):
        await svc.take("tom", ticket_id)
    assert (await svc.start_work("tom", ticket_id)).status == "in_progress"


async def test_an_assigned_or_finished_ticket_is_not_taken(svc: TicketService, stocked: Sessions) -> None:
    assigned = await manual(svc, cause="manual:a")
    await svc.assign("nina", assigned, "tom-north")
    finished = await manual(svc, cause="manual:b")
    await svc.resolve("nina", finished)
    with pytest.raises(Refused, match="assigned to another technician already"):
        await svc.take("li", assigned)
    with pytest.raises(IllegalTransition, match="resolved: it cannot become dispatched"):
        await svc.take("tom", finished)
    assert (await ticket(stocked, finished)).technician_id is None


async def test_acknowledged_until_re_alerts_when_nobody_took_it_further(
    svc: TicketService, stocked: Sessions, clock: DrivenClock
) -> None:
    ticket_id = await manual(svc)
    clock.set(T0 + timedelta(minutes=5))
    with pytest.raises(InvalidRequest, match=r"^until: .* has passed"):
        await svc.acknowledge("nina", ticket_id, until=T0)
    assert (await ticket(stocked, ticket_id)).status == "new"  # nothing stored
    until = T0 + timedelta(minutes=35)
    acked = await svc.acknowledge("nina", ticket_id, note="the PE's uplink is being replaced", until=until)
    assert acked.status == "acknowledged"
    [event] = await events(stocked, ticket_id, "acknowledged")
    assert event.detail == {"note": "the PE's uplink is being replaced", "until": until.isoformat()}
    async with stocked() as session:
        notes = list(await session.scalars(select(WorklogEntry.text).where(WorklogEntry.ticket_id == ticket_id)))
    assert notes == ["acknowledged: the PE's uplink is being replaced"]

    clock.set(until - timedelta(seconds=1))
    await svc.run_timers()
    assert (await ticket(stocked, ticket_id)).status == "acknowledged"
    clock.set(until)
    await svc.run_timers()
    lapsed = await ticket(stocked, ticket_id)
    assert (lapsed.status, lapsed.ack_until, lapsed.acknowledged_at) == ("new", None, T0 + timedelta(minutes=5))
    [event] = await events(stocked, ticket_id, "ack_lapsed")
    assert (event.actor, event.detail) == ("system:fieldwork", {"until": until.isoformat()})
    await svc.run_timers()  # said once
    assert len(await events(stocked, ticket_id, "ack_lapsed")) == 1
    assert (await svc.acknowledge("nina", ticket_id)).status == "acknowledged"  # acknowledged again, for good


async def test_an_acknowledgement_taken_further_does_not_re_alert(
    svc: TicketService, stocked: Sessions, clock: DrivenClock
) -> None:
    ticket_id = await manual(svc)
    await svc.acknowledge("nina", ticket_id, until=T0 + timedelta(minutes=30))
    await svc.assign("nina", ticket_id, "tom-north")
    clock.set(T0 + timedelta(hours=1))
    await svc.run_timers()
    assert (await ticket(stocked, ticket_id)).status == "dispatched"
    assert await events(stocked, ticket_id, "ack_lapsed") == []


async def test_waiting_on_the_customer_says_why(svc: TicketService, stocked: Sessions) -> None:
    ticket_id = await manual(svc)
    await svc.take("tom", ticket_id)
    await svc.start_work("tom", ticket_id)
    with pytest.raises(InvalidRequest, match=r"^reason: say why"):
        await svc.wait_on_customer("tom", ticket_id, "  ")
    assert (await ticket(stocked, ticket_id)).status == "in_progress"
    assert (await svc.wait_on_customer("tom", ticket_id, " no access to the customer's room ")).status == (
        "pending_customer"
    )
    [event] = await events(stocked, ticket_id, "waiting_on_customer")
    assert (event.actor, event.detail) == ("tom", {"reason": "no access to the customer's room"})


async def _down_ticket(svc: TicketService, stocked: Sessions) -> int:
    """ACME-BJ-001's ticket of pe-bj-01 down (the poller sees it down), taken and worked by tom."""
    await device_seen(stocked, "pe-bj-01", available=False)
    outcome = await svc.handle_device_down(DeviceDown("pe-bj-01", T0))
    async with stocked() as session:
        acme = await session.scalar(select(m.Circuit.id).where(m.Circuit.name == "ACME-BJ-001"))
        ticket_id = await session.scalar(
            select(Ticket.id).where(Ticket.circuit_id == acme, Ticket.parent_id == outcome.parent_id)
        )
    assert ticket_id is not None
    await svc.take("tom", ticket_id)
    await svc.start_work("tom", ticket_id)
    return ticket_id


async def test_resolving_while_the_device_is_down_needs_the_on_site_confirmation(
    svc: TicketService, stocked: Sessions, clock: DrivenClock
) -> None:
    ticket_id = await _down_ticket(svc, stocked)
    clock.set(T0 + timedelta(hours=1))
    with pytest.raises(OnSiteConfirmationNeeded, match=r"device pe-bj-01 is down.*confirmed restored on site"):
        await svc.resolve("tom", ticket_id)
    with pytest.raises(InvalidRequest, match=r"^note: "):
        await svc.resolve("tom", ticket_id, confirmed_on_site=True)
    assert (await ticket(stocked, ticket_id)).status == "in_progress"  # nothing stored
    resolved = await svc.resolve("tom", ticket_id, confirmed_on_site=True, note="replaced the PSU; link lights up")
    assert resolved.status == "resolved"
    stored = await ticket(stocked, ticket_id)
    check_at = T0 + timedelta(hours=1, minutes=15)  # onsite_recheck_s: 15 minutes by default
    assert stored.onsite_check_at == check_at
    [event] = await events(stocked, ticket_id, "restored_on_site")
    assert event.detail == {
        "note": "replaced the PSU; link lights up",
        "seen": "device pe-bj-01 is down",
        "check_at": check_at.isoformat(),
    }

    # The poller still sees the device down after the grace: the resolution did not hold, the ticket reopens.
    clock.set(check_at - timedelta(seconds=1))
    await svc.run_timers()
    assert (await ticket(stocked, ticket_id)).status == "resolved"
    clock.set(check_at)
    await svc.run_timers()
    reopened = await ticket(stocked, ticket_id)
    assert (reopened.status, reopened.onsite_check_at, reopened.resolved_at) == ("reopened", None, None)
    [check] = await events(stocked, ticket_id, "onsite_check")
    assert (check.actor, check.detail) == ("system:fieldwork", {"outcome": "reopen", "seen": "device pe-bj-01 is down"})


async def test_an_on_site_resolution_the_system_then_agrees_with_stands(
    svc: TicketService, stocked: Sessions, clock: DrivenClock
) -> None:
    ticket_id = await _down_ticket(svc, stocked)
    await svc.resolve("tom", ticket_id, confirmed_on_site=True, note="reseated the line card")
    await device_seen(stocked, "pe-bj-01", available=True)
    clock.set(T0 + timedelta(hours=1))
    await svc.run_timers()
    stored = await ticket(stocked, ticket_id)
    assert (stored.status, stored.onsite_check_at) == ("resolved", None)
    [check] = await events(stocked, ticket_id, "onsite_check")
    assert check.detail == {"outcome": "confirmed", "seen": "nothing down"}
    # Back up: resolving another ticket needs no confirmation.
    other = await manual(svc, cause="manual:other")
    assert (await svc.resolve("nina", other)).status == "resolved"


async def test_an_open_sla_breach_of_the_tickets_cause_is_the_fault_still_seen(
    svc: TicketService, stocked: Sessions
) -> None:
    fault = sla_breach_fault("ACME-BJ-001", "loss", 5.0, 1.0, T0, svc.settings)
    ticket_id = (await svc.handle_fault(fault)).ticket_id
    async with stocked() as session:
        circuit_id = await session.scalar(select(m.Circuit.id).where(m.Circuit.name == "ACME-BJ-001"))
        assert circuit_id is not None
        breach = m.SlaBreachRecord(circuit_id=circuit_id, objective="loss", measured=5.0, limit=1.0, since=T0)
        other = m.SlaBreachRecord(circuit_id=circuit_id, objective="latency", measured=90.0, limit=50.0, since=T0)
        session.add_all([breach, other])
        await session.commit()
    with pytest.raises(OnSiteConfirmationNeeded, match=r"\(SLA loss breach open\)"):
        await svc.resolve("nina", ticket_id)
    async with stocked() as session:
        stored = await session.get(m.SlaBreachRecord, breach.id)
        assert stored is not None
        stored.until = T0 + timedelta(minutes=20)
        await session.commit()
    # The latency breach is not this ticket's cause: the fault it was opened for is no longer seen.
    assert (await svc.resolve("nina", ticket_id)).status == "resolved"
    assert (await ticket(stocked, ticket_id)).onsite_check_at is None
