"""One fault, one ticket, as people see it: the ticket page and its JSON list every cause of the fault."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp import ClientSession

from noc import auth
from tests.web.conftest import Site
from tickets.rules import FaultEvent, FaultKind, Impact


async def test_a_loss_and_an_availability_breach_show_as_one_ticket_with_both_causes(site: Site) -> None:
    at = datetime.now(UTC)
    loss = FaultEvent(FaultKind.SLA_BREACH, "ACME-SH-003", "sla:loss", Impact.DEGRADED, at, "SLA loss: 40 %")
    down = FaultEvent(
        FaultKind.SLA_BREACH, "ACME-SH-003", "sla:availability", Impact.SERVICE_DOWN, at + timedelta(seconds=30)
    )
    ticket_id = (await site.tickets.handle_fault(loss)).ticket_id
    assert (await site.tickets.handle_fault(down)).ticket_id == ticket_id

    _, html = await (await site.visitor("nina")).get(f"/tickets/{ticket_id}")
    assert '<dd id="causes">sla:loss, sla:availability</dd>' in html and "service down" in html
    token = await auth.issue_token(site.sessions, "nina", "causes-test")
    async with ClientSession() as http:
        answer = await http.get(f"{site.base}/api/tickets/{ticket_id}", headers={"Authorization": f"Bearer {token}"})
        body = await answer.json()
    assert body["causes"] == ["sla:loss", "sla:availability"] and body["ticket"]["impact"] == "service_down"
