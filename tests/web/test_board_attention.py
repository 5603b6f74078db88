"""The board calls for attention (a chime, a browser notification, a blinking title) on a new P1 or an escalation,
checked in headless Chromium through the page's hook ``window.nocAttention``; and the NOC acts from the board's rows
(acknowledge, assign) and on many tickets at once from the ticket list, each ticket's outcome said."""

from __future__ import annotations

import io
import re
import wave
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.async_api import Browser, Page, expect

from tests.tickets.conftest import DrivenClock
from tests.web.conftest import PHONE, Site, csrf_in, screenshot, signed_in
from tickets.rules import FaultEvent, FaultKind, Impact
from tickets.service import TicketService


async def open_fault(site: Site, circuit: str, impact: Impact, summary: str) -> int:
    """A ticket opened by hand: service down on a tier-A circuit (acme-bank) is a P1, degraded a P2."""
    event = FaultEvent(FaultKind.MANUAL, circuit, f"manual-{summary}", impact, datetime.now(UTC), summary)
    return (await site.tickets.handle_fault(event)).ticket_id


async def board_with_alerts_allowed(browser: Browser, site: Site) -> Page:
    page = await signed_in(browser, site, "nina")
    await page.context.grant_permissions(["notifications"], origin=site.base)
    await page.click("#attention-allow")  # the viewer's click: notifications allowed, and sound from then on
    await expect(page.locator("#attention-state")).to_contain_text("notifications on")
    # The live feed has sent the board once: what it shows is what was there at load.
    await expect(page.locator("#live")).to_have_attribute("data-state", "live")
    await expect(page.locator("#live")).to_have_attribute("data-updated", re.compile("."))
    return page


async def alerts(page: Page) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await page.evaluate("window.nocAttention.alerts")
    return found


async def test_a_new_p1_plays_notifies_and_blinks_what_was_there_at_load_does_not(site: Site, browser: Browser) -> None:
    there = await open_fault(site, "ACME-BJ-001", Impact.SERVICE_DOWN, "down since the morning")
    page = await board_with_alerts_allowed(browser, site)
    await expect(page.locator(f'li[data-ticket="{there}"]')).to_have_attribute("data-priority", "P1")
    assert await alerts(page) == []  # the P1 on the board at load is known, not new
    lesser = await open_fault(site, "ACME-BJ-002", Impact.DEGRADED, "slow towards the branch")
    await expect(page.locator(f'li[data-ticket="{lesser}"]')).to_have_attribute("data-priority", "P2")
    assert await alerts(page) == []  # a new P2 is on the board, quietly
    new = await open_fault(site, "ACME-SH-003", Impact.SERVICE_DOWN, "Shanghai link dark")
    await expect(page.locator("#attention")).to_have_attribute("data-alerts", "1")
    (alert,) = await alerts(page)
    assert alert["items"] == [{"ref": f"T-{new}", "ticket": str(new), "why": "new P1"}]
    assert (alert["sound"], alert["notification"], alert["blinking"]) == ("played", "shown", True)
    await expect(page).to_have_title(re.compile(r"^\(!\) "))  # the tab's title blinks
    await screenshot(page, "board-attention")
    # The same P1 again (a recurrence) changes the board but is not new.
    again = FaultEvent(
        FaultKind.MANUAL, "ACME-SH-003", "manual-Shanghai link dark", Impact.SERVICE_DOWN, datetime.now(UTC), "still"
    )
    await site.tickets.handle_fault(again)
    await expect(page.locator(f'li[data-ticket="{new}"]')).to_contain_text("×2")
    assert len(await alerts(page)) == 1
    # Seen: the tab gets the focus; the title stops blinking and keeps the count.
    await page.evaluate("window.dispatchEvent(new Event('focus'))")
    assert await page.evaluate("window.nocAttention.blinking") is False
    assert await page.title() == "3 open · Board · NOC"


async def test_an_escalation_calls_for_attention(site: Site, browser: Browser) -> None:
    ticket = await open_fault(site, "CITY-SH-001", Impact.DEGRADED, "jitter on the city link")
    page = await board_with_alerts_allowed(browser, site)
    await expect(page.locator(f'li[data-ticket="{ticket}"]')).to_have_attribute("data-escalation", "0")
    # The timers run at a time past the response time (45 minutes for city-gov): the ticket escalates.
    later = TicketService(
        site.sessions, site.tickets.settings, clock=DrivenClock(datetime.now(UTC) + timedelta(hours=1))
    )
    notices = await later.run_timers()
    level = max(n.event.level for n in notices if n.event.kind == "escalation")
    await expect(page.locator("#attention")).to_have_attribute("data-alerts", "1")
    (alert,) = await alerts(page)
    assert alert["items"] == [{"ref": f"T-{ticket}", "ticket": str(ticket), "why": f"escalated to level {level}"}]
    assert alert["blinking"] is True


async def test_the_chime_is_a_short_wav_served_by_the_app(site: Site) -> None:
    visitor = await site.visitor("nina")
    response = await visitor.http.get(site.base + "/board/attention.wav")
    assert response.status == 200 and response.content_type == "audio/wav"
    with wave.open(io.BytesIO(await response.read())) as sound:
        seconds = sound.getnframes() / sound.getframerate()
        assert sound.getnchannels() == 1 and 0.2 < seconds < 1.0


async def test_acknowledge_and_assign_from_a_board_row(site: Site, browser: Browser) -> None:
    ticket = await site.open_ticket(summary="loss towards the branch")
    page = await signed_in(browser, site, "nina")
    row = page.locator(f'li[data-ticket="{ticket}"]')
    await row.get_by_role("button", name=f"acknowledge T-{ticket}").click()
    await expect(page.locator("p.notice")).to_have_text(f"T-{ticket} acknowledged")
    await expect(row.locator(".status")).to_have_text("acknowledged")
    await expect(row.get_by_role("button", name=f"acknowledge T-{ticket}")).to_have_count(0)
    chooser = row.get_by_label(f"technician for T-{ticket}")
    await chooser.select_option("tom-north")
    await chooser.focus()
    # A ticket opens while the technician is being chosen: the board waits, the choice stays.
    other = await site.open_ticket(circuit="CITY-SH-001", summary="city link slow")
    await expect(page.locator("#live")).to_have_attribute("data-held", "true")
    await expect(chooser).to_have_value("tom-north")
    await expect(page.locator(f'li[data-ticket="{other}"]')).to_have_count(0)
    await chooser.blur()  # left: the board catches up (and the unsent choice goes)
    await expect(page.locator(f'li[data-ticket="{other}"]')).to_have_count(1)
    await expect(page.locator("#live")).not_to_have_attribute("data-held", "true")
    await chooser.select_option("tom-north")
    await row.get_by_role("button", name=f"assign T-{ticket}").click()
    await expect(page.locator("p.notice")).to_have_text(f"T-{ticket} dispatched to tom-north")
    await expect(row).to_contain_text("tom-north")
    await screenshot(page, "board-row-actions")


async def test_a_refused_board_step_shows_the_board_with_the_reason(site: Site) -> None:
    ticket = await site.open_ticket()
    visitor = await site.visitor("nina")
    await visitor.get("/board")
    await site.tickets.acknowledge("admin", ticket)  # someone else was quicker
    response, html = await visitor.post(f"/board/tickets/{ticket}/ack", {"version": "1"})
    assert response.status == 409 and 'role="alert"' in html
    assert f"T-{ticket} changed since you read it" in html
    response, html = await visitor.post(f"/board/tickets/{ticket}/ack", {})
    assert response.status == 409 and f"T-{ticket} was already acknowledged by admin" in html
    response, html = await visitor.post(f"/board/tickets/{ticket}/assign", {"technician": ""})
    assert response.status == 422 and "technician: choose a technician" in html
    tom = await site.visitor("tom")
    response, _ = await tom.get("/board")
    assert response.status == 403


async def test_bulk_acknowledge_says_which_tickets_were_done_and_which_refused(site: Site) -> None:
    first = await site.open_ticket(cause="bulk-1")
    taken = await site.open_ticket(cause="bulk-2")
    third = await site.open_ticket(circuit="CITY-SH-001", cause="bulk-3")
    await site.tickets.acknowledge("admin", taken)
    visitor = await site.visitor("nina")
    _, html = await visitor.get("/tickets?status=open&sort=oldest")
    assert 'form="bulk"' in html
    chosen = [("ticket", str(t)) for t in (first, taken, third)]
    response = await visitor.http.post(
        site.base + "/tickets/bulk?status=open&sort=oldest", data=[("csrf", csrf_in(html)), ("step", "ack"), *chosen]
    )
    html = await response.text()
    assert response.status == 200 and "2 done, 1 refused" in html
    assert "refused" not in outcome_row(html, first) and f"T-{first} acknowledged" in outcome_row(html, first)
    refused = outcome_row(html, taken)
    assert "refused (409)" in refused and f"T-{taken} was already acknowledged by admin" in refused
    for ticket in (first, third):  # the refusal undid nothing
        assert (await site.tickets.show_ticket("nina", ticket)).summary.status == "acknowledged"


async def test_bulk_assign_refuses_ticket_by_ticket_and_bad_input_by_field(site: Site) -> None:
    first = await site.open_ticket(cause="assign-1")
    second = await site.open_ticket(circuit="CITY-SH-001", cause="assign-2")
    visitor = await site.visitor("nina")
    _, html = await visitor.get("/tickets")
    token = csrf_in(html)
    fields = [("csrf", token), ("step", "assign"), ("technician", "tom-north"), ("ticket", str(first))]
    response = await visitor.http.post(site.base + "/tickets/bulk", data=[*fields, ("ticket", "999999")])
    html = await response.text()
    assert response.status == 200 and "1 done, 1 refused" in html
    assert "refused (404)" in outcome_row(html, 999999)
    assert (await site.tickets.show_ticket("nina", first)).summary.technician == "tom-north"
    response = await visitor.http.post(
        site.base + "/tickets/bulk", data=[("csrf", token), ("step", "assign"), ("ticket", str(second))]
    )
    assert response.status == 422 and "technician: choose a technician" in await response.text()
    response = await visitor.http.post(site.base + "/tickets/bulk", data=[("csrf", token), ("step", "ack")])
    assert response.status == 422 and "ticket: choose at least one ticket" in await response.text()
    response = await visitor.http.post(
        site.base + "/tickets/bulk", data=[("csrf", token), ("step", "close"), ("ticket", str(second))]
    )
    assert response.status == 422 and "step: one of ack, assign" in await response.text()
    # A technician is offered no bulk form, and what they post is refused ticket by ticket.
    tom = await site.visitor("tom")
    _, html = await tom.get("/tickets")
    assert 'id="bulk"' not in html
    response = await tom.http.post(
        site.base + "/tickets/bulk", data=[("csrf", csrf_in(html)), ("step", "ack"), ("ticket", str(second))]
    )
    assert response.status == 403 and "refused (403)" in await response.text()
    assert (await site.tickets.show_ticket("nina", second)).summary.status == "new"


async def test_bulk_acknowledge_in_the_browser_on_a_phone(site: Site, browser: Browser) -> None:
    tickets = [await site.open_ticket(cause=f"browser-{i}") for i in range(3)]
    page = await signed_in(browser, site, "nina", PHONE)
    await page.goto(site.base + "/tickets")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the list with its bulk form scrolls sideways on a phone"
    for ticket in tickets[:2]:
        await page.get_by_label(f"choose T-{ticket}").check()
    await page.get_by_role("button", name="Acknowledge").click()
    await expect(page.locator("#outcomes h2")).to_have_text("2 done, 0 refused")
    await expect(page.locator("tr.outcome.done")).to_have_count(2)
    await screenshot(page, "tickets-bulk")
    assert [(await site.tickets.show_ticket("nina", t)).summary.status for t in tickets] == [
        "acknowledged",
        "acknowledged",
        "new",  # not chosen
    ]


def outcome_row(html: str, ticket: int) -> str:
    return html[html.index(f'data-ticket="{ticket}"') :].split("</tr>")[0]
