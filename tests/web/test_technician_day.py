"""A technician's day on the ticket page: taking an unassigned ticket of their region, the site (address, map link,
access notes), the device and interface as the poller sees them with the traffic graph, the far end and the
contract's limits; resolving while the device is down asks for the on-site confirmation. In headless Chromium at
390 px (no sideways scroll), and the refusals, acknowledging, waiting and attaching over plain HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp import FormData
from playwright.async_api import Browser, expect
from sqlalchemy import select

from noc import models as m
from tests.graphdata import instants, seed_interface
from tests.web.conftest import PHONE, Site, csrf_in, screenshot, signed_in
from tests.web.test_ticket_pages import step
from tickets.models import Ticket, TicketEvent
from tickets.rules import DeviceDown

IFACE = "GigabitEthernet0/0/1"  # ACME-BJ-001's port on pe-bj-01


async def pe_down_ticket(site: Site) -> int:
    """pe-bj-01 down for ten minutes as the poller sees it, an hour of traffic on ACME-BJ-001's port; the device's
    incident opened, and ACME-BJ-001's ticket in it (new, nobody's)."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    await seed_interface(site.sessions, "pe-bj-01", IFACE, instants(now - timedelta(hours=1), now, 60), base_bps=60e6)
    async with site.sessions() as session:
        device_id = await session.scalar(select(m.Device.id).where(m.Device.name == "pe-bj-01"))
        assert device_id is not None
        since = now - timedelta(minutes=10)
        session.add(m.DeviceStatus(device_id=device_id, available=False, since=since, last_poll_at=now))
        await session.commit()
    outcome = await site.tickets.handle_device_down(DeviceDown("pe-bj-01", now - timedelta(minutes=10)))
    async with site.sessions() as session:
        ticket_id = await session.scalar(
            select(Ticket.id)
            .join(m.Circuit, m.Circuit.id == Ticket.circuit_id)
            .where(m.Circuit.name == "ACME-BJ-001", Ticket.parent_id == outcome.parent_id)
        )
    assert ticket_id is not None
    return ticket_id


async def no_sideways_scroll(page: object) -> bool:
    width = await page.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    return bool(width <= PHONE["width"])


async def test_a_technician_takes_a_ticket_sees_the_site_and_is_asked_to_confirm_on_site(
    site: Site, browser: Browser
) -> None:
    ticket_id = await pe_down_ticket(site)
    page = await signed_in(browser, site, "tom", PHONE)
    # His queue lists the unassigned tickets of his regions; the ticket opens from there.
    await page.click(f'#takeable a[href="/tickets/{ticket_id}"]')
    await page.wait_for_url(f"**/tickets/{ticket_id}")
    await expect(page.locator("#status")).to_have_text("new")
    await expect(page.locator("#technician")).to_have_text("—")

    # The site: where, how to get in, what the poller sees, the far end and the contract's limits.
    await expect(page.locator("#site-address")).to_contain_text("18 Jiuxianqiao Road, Chaoyang District, Beijing")
    href = await page.locator("#map-link").get_attribute("href")
    assert href is not None and href.startswith("https://www.openstreetmap.org/search?query=18+Jiuxianqiao+Road")
    await expect(page.locator("#access-notes")).to_contain_text("Badge at the north gate")
    await expect(page.locator("#device-state")).to_contain_text("pe-bj-01")
    await expect(page.locator("#device-state .state")).to_have_text("down")
    await expect(page.locator("#interface-state")).to_contain_text(IFACE)
    await expect(page.locator("#far-end")).not_to_be_empty()
    await expect(page.locator("#contract-limits")).to_contain_text("availability")
    assert await no_sideways_scroll(page)

    await page.click("button:has-text('Take this ticket')")
    await expect(page.locator("#status")).to_have_text("dispatched")
    await expect(page.locator("#technician")).to_have_text("tom-north")
    await expect(page.locator("p.notice")).to_contain_text("is yours now")
    # The live graph of the circuit's port, drawn in the page from the network pages' graph data.
    traffic = page.locator('figure[data-graph="traffic"]')
    await expect(traffic).to_have_attribute("data-state", "ready")
    await expect(traffic.locator("canvas").first).to_be_visible()
    assert await no_sideways_scroll(page)
    await screenshot(page, "ticket-taken-phone")

    await page.click("text=Start work")
    await expect(page.locator("#status")).to_have_text("in progress")
    await expect(page.locator("#still-down")).to_contain_text("device pe-bj-01 is down")
    # Resolving without the confirmation: refused, and asked for it.
    await page.click("form.step-resolve button")
    await expect(page.locator("#error")).to_contain_text("the system still sees the fault (device pe-bj-01 is down)")
    await expect(page.locator("#error")).to_contain_text("confirmed restored on site")
    await expect(page.locator("#status")).to_have_text("in progress")
    confirm = page.locator("form.step-resolve input[name=confirmed_on_site]")
    await expect(confirm).to_be_visible()
    assert await no_sideways_scroll(page)
    await screenshot(page, "ticket-confirm-on-site-phone")

    await confirm.check()
    await page.fill("form.step-resolve textarea[name=note]", "PSU replaced, port lights up; NOC to confirm")
    await page.click("form.step-resolve button")
    await expect(page.locator("#status")).to_have_text("resolved")
    await expect(page.locator("p.notice")).to_contain_text("resolved as confirmed restored on site")
    await expect(page.locator("#worklog")).to_contain_text("confirmed restored on site: PSU replaced")
    assert await no_sideways_scroll(page)
    async with site.sessions() as session:
        ticket = await session.get(Ticket, ticket_id)
        assert ticket is not None and ticket.onsite_check_at is not None
        kinds = set(await session.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket_id)))
    assert {"taken", "restored_on_site"} <= kinds


async def test_taking_another_regions_ticket_is_refused_by_name(site: Site) -> None:
    ticket_id = await site.open_ticket()  # ACME-BJ-001: the north's
    li = await site.visitor("li")
    await li.get("/tickets")
    response, html = await li.post(f"/tickets/{ticket_id}/take", {})
    assert response.status == 403
    assert f"li (technician) may not take T-{ticket_id}: it is in region north, not one of theirs (south)" in html
    tom = await site.visitor("tom")
    assert (await step(tom, ticket_id, "take"))[0] == 200
    status, html = await step(tom, ticket_id, "take")
    assert status == 403 and "it is assigned to them already" in html


async def test_acknowledging_with_a_note_and_until_and_waiting_on_the_customer_for_a_reason(site: Site) -> None:
    ticket_id = await site.open_ticket()
    nina = await site.visitor("nina")
    status, html = await step(nina, ticket_id, "ack", {"note": "PE uplink being replaced", "until": "2000-01-01T10:00"})
    assert status == 422 and "until: " in html and "has passed" in html
    assert 'value="PE uplink being replaced"' in html  # what was typed is kept
    until = (datetime.now(UTC) + timedelta(hours=2)).replace(second=0, microsecond=0)
    typed = until.strftime("%Y-%m-%dT%H:%M")  # the datetime-local field, in UTC as labelled
    status, html = await step(nina, ticket_id, "ack", {"note": "PE uplink being replaced", "until": typed})
    assert status == 200 and f"acknowledged until {until:%Y-%m-%d %H:%M} UTC" in html
    assert "acknowledged: PE uplink being replaced" in html  # the worklog
    assert 'id="ack-until"' in html
    async with site.sessions() as session:
        ticket = await session.get(Ticket, ticket_id)
        assert ticket is not None and ticket.ack_until == until

    await site.tickets.take("tom", ticket_id)
    tom = await site.visitor("tom")
    await step(tom, ticket_id, "start")
    status, html = await step(tom, ticket_id, "pending", {"reason": "  "})
    assert status == 422 and "reason: say why" in html and 'data-status="in_progress"' in html
    status, html = await step(tom, ticket_id, "pending", {"reason": "customer's room locked until 14:00"})
    assert status == 200 and 'data-status="pending_customer"' in html
    assert "reason customer&#39;s room locked until 14:00" in html  # in the history


async def test_a_photo_attached_on_the_page_is_listed_and_served_as_stored(site: Site) -> None:
    ticket_id = await site.open_ticket()
    tom = await site.visitor("tom")
    _, html = await tom.get(f"/tickets/{ticket_id}")
    assert 'enctype="multipart/form-data"' in html and "at most 900 KiB" in html
    photo = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4

    async def upload(name: str, content: bytes, note: str = "") -> tuple[int, str]:
        form = FormData()
        form.add_field("csrf", csrf_in(tom.last_html))
        form.add_field("note", note)
        form.add_field("file", content, filename=name, content_type="application/octet-stream")
        response = await tom.http.post(f"{site.base}/tickets/{ticket_id}/attach", data=form)
        text = await response.text()
        tom.last_html = text
        return response.status, text

    status, html = await upload("C:\\DCIM\\odf-port-4.png", photo, "ODF port 4 before cleaning")
    assert status == 200 and "odf-port-4.png attached to the worklog" in html
    assert "ODF port 4 before cleaning" in html and "image/png, 1.01 KiB" in html
    href = html.split('class="attachment" href="', 1)[1].split('"', 1)[0]
    response = await tom.http.get(site.base + href)
    assert (response.status, response.content_type) == (200, "image/png")
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert await response.read() == photo

    status, html = await upload("setup.jpg", b"MZ\x90\x00 a program")
    assert status == 422 and "file: setup.jpg is not one of the accepted kinds" in html
    li = await site.visitor("li")
    response = await li.http.get(site.base + href)
    assert response.status == 403
