"""An acknowledgement given "until" an instant that comes while nobody took the ticket further re-alerts: the
ticket is new again, and the notifier tells it as it tells a new ticket (real robot receivers on loopback)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from noc.notify.notifier import Notifier
from noc.settings import NotifySettings
from tests.notify.conftest import notify_settings
from tests.peers.robots import Robots
from tests.peers.smtp import SmtpServers
from tests.tickets.conftest import DrivenClock
from tickets.rules import FaultEvent, FaultKind, Impact
from tickets.service import TicketService

pytestmark = pytest.mark.peers


async def test_a_lapsed_acknowledgement_is_told_again(
    svc: TicketService,
    mail: SmtpServers,
    robots: Robots,
    notifier_for: Callable[[NotifySettings], Awaitable[Notifier]],
    clock: DrivenClock,
) -> None:
    notifier = await notifier_for(notify_settings(mail, robots))
    event = FaultEvent(FaultKind.MANUAL, "ACME-BJ-001", "manual:dark", Impact.SERVICE_DOWN, clock.now(), "no light")
    ticket = await svc.handle_fault(event)
    await notifier.tick()
    told = [m for m in robots.of("webhook") if m.body["ticket_id"] == ticket.ticket_id]
    assert [m.body["event"] for m in told] == ["opened"]

    await svc.acknowledge("nina", ticket.ticket_id, note="checking the PE", until=clock.now() + timedelta(minutes=10))
    clock.advance(minutes=9)
    await svc.run_timers()
    await notifier.tick()
    assert len([m for m in robots.of("webhook") if m.body["ticket_id"] == ticket.ticket_id]) == 1
    clock.advance(minutes=1)
    await svc.run_timers()
    await notifier.tick()
    told = [m for m in robots.of("webhook") if m.body["ticket_id"] == ticket.ticket_id]
    assert [m.body["event"] for m in told] == ["opened", "opened"]  # new again: said again
