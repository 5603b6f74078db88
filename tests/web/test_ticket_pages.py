"""The technician's queue and the ticket pages every role shares: through HTTP for the rules, and in headless
Chromium for the technician closing a ticket on a phone."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from playwright.async_api import Browser, expect
from sqlalchemy import select
from yarl import URL

from noc.models import AuditEvent
from tests.tickets.conftest import restored_late
from tests.web.conftest import PHONE, Site, Visitor, screenshot, signed_in
from tickets.models import FaultCase, Ticket, WorklogEntry
from tickets.rules import DeviceDown


async def dispatched(site: Site, circuit: str = "ACME-BJ-001", summary: str = "loss 5 %, CRC errors") -> int:
    """A ticket the NOC has dispatched to the technician covering the circuit's region (tom-north for Beijing)."""
    ticket_id = await site.open_ticket(circuit, summary, cause=f"manual:{summary}")
    await site.tickets.assign("nina", ticket_id, auto=True)
    return ticket_id


async def step(visitor: Visitor, ticket_id: int, name: str, data: dict[str, str] | None = None) -> tuple[int, str]:
    """Open the ticket's page (for its form token) and take a step, as the browser would."""
    await visitor.get(f"/tickets/{ticket_id}")
    response, html = await visitor.post(f"/tickets/{ticket_id}/{name}", data or {})
    return response.status, html


async def test_the_technician_lands_on_their_queue_with_their_tickets_only(site: Site) -> None:
    mine = await dispatched(site)
    in_region_unassigned = await site.open_ticket("ACME-BJ-002", "flapping", cause="manual:flap")
    elsewhere = await dispatched(site, "CITY-SH-001", "no light")  # li-south's
    tom = await site.visitor("tom")
    response, html = await tom.get("/queue")
    assert response.status == 200 and 'id="queue"' in html
    assert f'data-ref="T-{mine}"' in html and "loss 5 %, CRC errors" in html
    assert f'data-ref="T-{in_region_unassigned}"' not in html and f'data-ref="T-{elsewhere}"' not in html
    assert 'data-due="' in html and "/static/timers.js" in html  # the clocks count in the browser


async def test_an_empty_queue_says_so(site: Site) -> None:
    _, html = await (await site.visitor("li")).get("/queue")
    assert 'id="queue-empty"' in html and "0 open" in html


async def test_the_noc_opens_any_technicians_queue(site: Site) -> None:
    ticket_id = await dispatched(site)
    nina = await site.visitor("nina")
    _, html = await nina.get("/queue")
    assert 'href="/queue?technician=tom-north"' in html and 'href="/queue?technician=li-south"' in html
    response, html = await nina.get("/queue?technician=tom-north")
    assert response.status == 200 and f'data-ref="T-{ticket_id}"' in html and "tom-north's queue" in html
    response, html = await nina.get("/queue?technician=nobody")
    assert response.status == 404 and "no technician named &#39;nobody&#39;" in html
    response, _ = await (await site.visitor("karl")).get("/queue")
    assert response.status == 403


async def test_the_ticket_page_offers_only_what_the_reader_may_do(site: Site) -> None:
    ticket_id = await dispatched(site)
    page_of = {u: (await (await site.visitor(u)).get(f"/tickets/{ticket_id}"))[1] for u in ("nina", "tom", "karl")}
    actions = {
        u: {
            a
            for a in ("ack", "start", "pending", "resolve", "assign", "close", "note", "rate", "reopen")
            if f'action="/tickets/{ticket_id}/{a}"' in html
        }
        for u, html in page_of.items()
    }
    # Dispatched: the NOC may work or re-dispatch it; the technician it is assigned to works it; the account
    # manager writes notes. Nobody acknowledges a ticket already answered, nor closes one not resolved.
    assert actions["nina"] == {"start", "pending", "resolve", "assign", "note"}
    assert actions["tom"] == {"start", "pending", "resolve", "note"}
    assert actions["karl"] == {"note"}
    assert "tom-north" in page_of["karl"] and "loss 5 %, CRC errors" in page_of["karl"]


async def test_a_technician_elsewhere_neither_sees_nor_works_the_ticket(site: Site) -> None:
    ticket_id = await dispatched(site)
    li = await site.visitor("li")
    response, html = await li.get(f"/tickets/{ticket_id}")
    assert response.status == 403 and f"li (technician) may not see T-{ticket_id}" in html
    # A form crafted by hand is refused by the service, whatever the page offered.
    await li.get("/tickets")
    response, html = await li.post(f"/tickets/{ticket_id}/resolve", {})
    assert response.status == 403
    # tom sees a ticket in his region that is not his, but may not work it.
    other = await site.open_ticket("ACME-BJ-002", "flapping", cause="manual:flap")
    tom = await site.visitor("tom")
    status, html = await step(tom, other, "start")
    assert status == 403 and "it is not assigned to them" in html


async def test_the_technician_works_and_closes_a_tier_a_ticket(site: Site) -> None:
    ticket_id = await dispatched(site)
    tom = await site.visitor("tom")
    assert (await step(tom, ticket_id, "start"))[0] == 200
    assert "work started" in tom.last_html and 'data-status="in_progress"' in tom.last_html
    await step(tom, ticket_id, "note", {"text": "ODF connector dirty at rack 4"})
    assert "ODF connector dirty at rack 4" in tom.last_html and "note added" in tom.last_html
    await step(tom, ticket_id, "pending", {"reason": "the customer's site is closed until 14:00"})
    assert 'data-status="pending_customer"' in tom.last_html and "Resume work" in tom.last_html
    assert "clock stopped (pending customer)" in tom.last_html
    await step(tom, ticket_id, "start")
    await step(tom, ticket_id, "resolve")
    assert 'data-status="resolved"' in tom.last_html and f'action="/tickets/{ticket_id}/close"' in tom.last_html
    # Tier A: no cause, no closing; what was typed stays in the form.
    status, html = await step(tom, ticket_id, "close", {"resolution": "cleaned the connector"})
    assert status == 409 and "closes only with a cause category" in html
    assert ">cleaned the connector</textarea>" in html and 'data-status="resolved"' in html
    status, html = await step(tom, ticket_id, "close", {"cause_category": "fibre_cut", "resolution": "spliced"})
    assert status == 200 and "closed and filed in the case library" in html and 'data-status="closed"' in html
    assert 'id="resolution"' in html and "fibre cut" in html
    async with site.sessions() as session:
        ticket = await session.get(Ticket, ticket_id)
        assert ticket is not None and ticket.cause_category == "fibre_cut" and ticket.resolution == "spliced"
        assert await session.scalar(select(FaultCase).where(FaultCase.ticket_id == ticket_id)) is not None
        notes = list(await session.scalars(select(WorklogEntry.author).where(WorklogEntry.ticket_id == ticket_id)))
        assert notes == ["tom"]


async def test_the_next_ticket_shows_the_closed_case_as_similar(site: Site) -> None:
    first = await dispatched(site, summary="CRC errors rising on the uplink")
    await site.tickets.start_work("tom", first)
    await site.tickets.resolve("tom", first)
    await site.tickets.close("tom", first, "hardware", "replaced the SFP on the uplink")
    second = await dispatched(site, "ACME-BJ-002", "CRC errors again, loss on uplink")
    _, html = await (await site.visitor("tom")).get(f"/tickets/{second}")
    cases = html[html.index('id="cases"') :]
    assert "replaced the SFP on the uplink" in cases and f'href="/tickets/{first}"' in cases
    # The case library holds every account's faults: an account manager sees their own tickets, not the library.
    assert (await site.tickets.show_ticket("karl", second)).suggestions == ()
    _, html = await (await site.visitor("karl")).get(f"/tickets/{second}")
    assert "replaced the SFP on the uplink" not in html


async def test_numbers_that_are_not_ascii_digits_are_refused_not_a_500(site: Site) -> None:
    nina = await site.visitor("nina")
    response, html = await nina.get("/tickets?offset=%C2%B2")  # "²": str.isdigit() says yes, int() says no
    assert response.status == 400 and "offset" in html
    ticket_id = await site.open_ticket()
    status, html = await step(nina, ticket_id, "ack", {"version": "²"})
    assert status in (400, 422) and "version" in html


async def test_the_noc_acknowledges_and_dispatches_from_the_page(site: Site) -> None:
    ticket_id = await site.open_ticket()
    nina = await site.visitor("nina")
    status, html = await step(nina, ticket_id, "ack")
    assert status == 200 and "acknowledged" in html and 'data-status="acknowledged"' in html
    status, html = await step(nina, ticket_id, "assign", {"technician": "auto"})
    assert status == 200 and "dispatched to tom-north" in html
    status, html = await step(nina, ticket_id, "assign", {"technician": "li-south"})
    assert status == 200 and "dispatched to li-south" in html
    status, html = await step(nina, ticket_id, "assign", {"technician": "nobody"})
    assert status == 404 and "no technician named &#39;nobody&#39;" in html


async def test_two_engineers_acknowledging_at_once_one_is_told_who_was_first(site: Site) -> None:
    ticket_id = await site.open_ticket()
    nina, admin = await site.visitor("nina"), await site.visitor("admin")
    _, html = await nina.get(f"/tickets/{ticket_id}")
    await admin.get(f"/tickets/{ticket_id}")  # both read the same version
    version = re.search(r'name="version" value="(\d+)"', html)
    assert version is not None
    response, _ = await admin.post(f"/tickets/{ticket_id}/ack", {"version": version.group(1)})
    assert response.status == 200
    response, html = await nina.post(f"/tickets/{ticket_id}/ack", {"version": version.group(1)})
    assert response.status == 409 and "changed since you read it" in html


async def test_the_account_manager_rates_a_closed_ticket_and_may_not_work_it(site: Site) -> None:
    ticket_id = await dispatched(site)
    karl = await site.visitor("karl")
    status, html = await step(karl, ticket_id, "resolve")
    assert status == 403 and "may not work" in html
    await site.tickets.resolve("tom", ticket_id)
    await site.tickets.close("tom", ticket_id, "power", "restored the feed")
    _, html = await karl.get(f"/tickets/{ticket_id}")
    assert f'action="/tickets/{ticket_id}/rate"' in html
    status, html = await step(karl, ticket_id, "rate", {"score": "9"})
    assert status == 422 and "score" in html
    status, html = await step(karl, ticket_id, "rate", {"score": "4", "comment": "quick"})
    assert status == 200 and "4/5" in html and 'id="rating"' in html
    assert f'action="/tickets/{ticket_id}/rate"' not in html  # rated once
    # mei manages other accounts: she does not see it.
    response, _ = await (await site.visitor("mei")).get(f"/tickets/{ticket_id}")
    assert response.status == 403


async def test_contacts_show_only_when_asked_and_each_read_is_audited(site: Site) -> None:
    ticket_id = await dispatched(site)
    tom = await site.visitor("tom")
    _, html = await tom.get(f"/tickets/{ticket_id}")
    assert "Wang Fang" not in html and f'action="/tickets/{ticket_id}/contacts"' in html
    response, html = await tom.post(f"/tickets/{ticket_id}/contacts", {})
    assert response.status == 200 and "Wang Fang" in html and 'href="tel:+86 10 5555 0101"' in html
    assert response.headers["Cache-Control"] == "no-store" and "Wang" not in str(response.url)
    async with site.sessions() as session:
        reads = list(await session.scalars(select(AuditEvent).where(AuditEvent.action == "personal_data.read")))
    assert [(r.actor, r.subject, r.detail["purpose"], r.outcome) for r in reads] == [
        ("tom", "acme-bank", f"ticket T-{ticket_id}", "allowed")
    ]


async def test_the_list_filters_and_pages_within_what_the_reader_may_see(site: Site) -> None:
    ids = [await site.open_ticket("ACME-BJ-001", f"fault {n}", cause=f"manual:{n}") for n in range(52)]
    city = await site.open_ticket("CITY-SH-001", "city fault", cause="manual:city")
    nina = await site.visitor("nina")
    response, html = await nina.get("/tickets")
    assert response.status == 200 and html.count('<li class="ticket') == 50
    assert f'data-ref="T-{city}"' in html and 'rel="next"' in html and 'rel="prev"' not in html
    _, html = await nina.get("/tickets?offset=50")
    assert html.count('<li class="ticket') == 3 and f'data-ref="T-{ids[0]}"' in html and 'rel="prev"' in html
    _, html = await nina.get("/tickets?account=city-gov")
    assert html.count('<li class="ticket') == 1 and f'data-ref="T-{city}"' in html
    # karl manages acme-bank, not city-gov: the list is his accounts', a filter narrows it and finds nothing more.
    karl = await site.visitor("karl")
    _, html = await karl.get("/tickets?offset=0&status=all")
    assert f'data-ref="T-{city}"' not in html and f'data-ref="T-{ids[-1]}"' in html
    response, html = await karl.get("/tickets?account=city-gov")
    assert response.status == 200 and 'id="no-tickets"' in html
    await site.tickets.resolve("nina", ids[-1])
    _, html = await nina.get("/tickets?status=resolved")
    assert html.count('<li class="ticket') == 1 and f'data-ref="T-{ids[-1]}"' in html
    # a bad value: said over the form, which keeps what was typed
    for query, said in (
        ("status=bogus", "status: &#39;bogus&#39; is not a status"),
        ("offset=-1", "offset: a whole number"),
        ("since=yesterday&account=acme", "since: &#39;yesterday&#39; is not a date"),
        ("sort=sideways", "sort: &#39;sideways&#39; is not a sort order"),
    ):
        response, html = await nina.get(f"/tickets?{query}")
        assert response.status == 400 and said in html and 'aria-label="filters"' in html, query
    _, html = await nina.get("/tickets?since=yesterday&account=acme")
    assert 'name="account" value="acme"' in html and 'name="since" value="yesterday"' in html


async def test_a_complaint_reported_from_the_list_opens_or_joins_a_ticket(site: Site) -> None:
    karl = await site.visitor("karl")
    await karl.get("/tickets")
    response, html = await karl.post("/tickets", {"circuit": "ACME-BJ-001", "summary": "customer: site slow"})
    ticket_id = int(response.url.path.rsplit("/", 1)[1])
    assert response.url.path == f"/tickets/{ticket_id}" and f"T-{ticket_id} opened" in html
    await karl.get("/tickets")
    response, html = await karl.post("/tickets", {"circuit": "ACME-BJ-001", "summary": "customer calls again"})
    assert response.url.path == f"/tickets/{ticket_id}" and "recorded as a recurrence" in html
    # A circuit of another manager's account, and one that does not exist: refused in the list, form kept.
    await karl.get("/tickets")
    response, html = await karl.post("/tickets", {"circuit": "CITY-SH-001", "summary": "not mine"})
    assert response.status == 403 and "not mine</textarea>" in html
    response, html = await karl.post("/tickets", {"circuit": "NOPE-1", "summary": "typo"})
    assert response.status == 404 and "no circuit named &#39;NOPE-1&#39;" in html
    response, html = await karl.post("/tickets", {"circuit": "ACME-BJ-001", "summary": ""})
    assert response.status == 422 and "summary" in html


async def test_steps_need_the_form_token_and_a_known_step(site: Site) -> None:
    ticket_id = await dispatched(site)
    tom = await site.visitor("tom")
    await tom.get(f"/tickets/{ticket_id}")
    response, _ = await tom.post(f"/tickets/{ticket_id}/resolve", {}, csrf="forged")
    assert response.status == 403
    async with site.sessions() as session:
        assert (await session.get(Ticket, ticket_id)).status == "dispatched"  # type: ignore[union-attr]
    response, _ = await tom.post(f"/tickets/{ticket_id}/explode", {})
    assert response.status == 404
    response, _ = await tom.get("/tickets/abc")
    assert response.status == 404
    response, html = await tom.get("/tickets/999999")
    assert response.status == 404 and "no ticket 999999" in html


async def test_an_incident_page_links_its_tickets(site: Site) -> None:
    outcome = await site.tickets.handle_device_down(DeviceDown("pe-bj-01", datetime.now(UTC)))
    nina = await site.visitor("nina")
    response, html = await nina.get(f"/tickets/{outcome.parent_id}")
    assert response.status == 200
    for child in outcome.children:
        assert f'href="/tickets/{child.ticket_id}">{child.ref}</a>' in html
    assert f'action="/tickets/{outcome.parent_id}/assign"' not in html  # incidents are dispatched by their tickets
    _, html = await nina.get(f"/tickets/{outcome.children[0].ticket_id}")
    assert f'href="/tickets/{outcome.parent_id}">I-{outcome.parent_id}</a>' in html


async def test_the_technician_closes_a_ticket_on_a_phone(site: Site, browser: Browser) -> None:
    ticket_id = await dispatched(site, summary="no light on the Beijing HQ link")
    page = await signed_in(browser, site, "tom", PHONE)
    assert URL(page.url).path == "/queue"
    row = page.locator(f'li.ticket[data-ref="T-{ticket_id}"]')
    await expect(row).to_contain_text("no light on the Beijing HQ link")
    await expect(row.locator("time").first).to_contain_text("left")
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await screenshot(page, "queue-phone")

    await row.locator("a").first.click()
    await page.wait_for_url(f"**/tickets/{ticket_id}")
    await page.click("text=Start work")
    await expect(page.locator("#status")).to_have_text("in progress")
    await page.fill("textarea[name=text]", "Fibre cut by road works, splicing")
    await page.click("text=Add note")
    await expect(page.locator("#worklog")).to_contain_text("Fibre cut by road works, splicing")
    await page.click("button:has-text('Resolve')")
    await expect(page.locator("#status")).to_have_text("resolved")
    await page.select_option("select[name=cause_category]", "fibre_cut")
    await page.fill("textarea[name=resolution]", "Spliced 2 fibres at the manhole, light levels normal")
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await screenshot(page, "ticket-close-phone")
    await page.click("text=Close ticket")
    await expect(page.locator("#status")).to_have_text("closed")
    await expect(page.locator("#resolution")).to_contain_text("Spliced 2 fibres")
    await expect(page.locator("p.notice")).to_contain_text("closed and filed in the case library")
    await screenshot(page, "ticket-closed-phone")
    async with site.sessions() as session:
        assert (await session.get(Ticket, ticket_id)).status == "closed"  # type: ignore[union-attr]


async def test_a_ticket_dispatched_to_the_technician_appears_in_the_open_queue(site: Site, browser: Browser) -> None:
    page = await signed_in(browser, site, "tom", PHONE)
    await expect(page.locator("#live")).to_have_attribute("data-state", "live")
    await expect(page.locator("#queue-empty")).to_be_visible()
    before = page.url
    ticket_id = await dispatched(site, summary="flapping uplink at the Beijing HQ")
    row = page.locator(f'li.ticket[data-ref="T-{ticket_id}"]')
    await expect(row).to_contain_text("flapping uplink at the Beijing HQ")
    await expect(page).to_have_title("1 open · My queue · NOC")
    assert page.url == before  # no reload


async def test_the_queue_stream_refuses_what_the_page_refuses(site: Site) -> None:
    tom = await site.visitor("tom")
    response, html = await tom.get("/queue/events?technician=nobody")
    assert response.status == 404 and "nobody" in html
    karl = await site.visitor("karl")
    response, _ = await karl.get("/queue/events")
    assert response.status == 403


async def test_the_board_links_to_the_ticket_page(site: Site, browser: Browser) -> None:
    ticket_id = await site.open_ticket(summary="latency above contract")
    page = await signed_in(browser, site, "nina")
    await page.click(f'li.ticket[data-ref="T-{ticket_id}"] a')
    await page.wait_for_url(f"**/tickets/{ticket_id}")
    await page.click("text=Acknowledge")
    await expect(page.locator("#status")).to_have_text("acknowledged")
    await expect(page.locator("time").first).to_contain_text("left")  # the restoration clock counts here too
    await screenshot(page, "ticket")


async def test_the_restore_verdict_taken_at_resolution_is_on_the_ticket_list_and_the_archive(site: Site) -> None:
    ticket_id = await restored_late(site.sessions, site.tickets.box)
    nina = await site.visitor("nina")
    _, page = await nina.get(f"/tickets/{ticket_id}")
    assert re.search(r'id="restore-verdict"[^>]*>breached by 14 s: 4 h 14 s net of stop-clock, limit 4 h<', page)
    _, listed = await nina.get("/tickets?status=resolved")
    assert "restore breached by 14 s" in listed
    karl = await site.visitor("karl")
    _, archive = await karl.get("/accounts/acme-bank")
    assert "restore breached by 14 s" in archive
