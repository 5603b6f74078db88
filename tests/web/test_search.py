"""The header's search box: on every page, results grouped by kind with links, the role rules, an empty query said
on the page; in headless Chromium, a NOC engineer finds a device by address, a circuit by part of its name and a
ticket by number, on a desk and on a phone; and the ticket list's filters in the page."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.async_api import Browser, Page, expect
from sqlalchemy import update

from noc import models as m
from tests.web.conftest import PHONE, Site, screenshot, signed_in


async def _address(site: Site) -> None:
    async with site.sessions() as session:
        await session.execute(update(m.Device).where(m.Device.name == "pe-fra-01").values(address="192.0.2.17"))
        await session.commit()


async def test_the_box_is_on_every_page_and_finds_what_the_viewer_may_see(site: Site) -> None:
    await _address(site)
    ticket = await site.open_ticket("ACME-BJ-001", summary="loss above contract")
    nina = await site.visitor("nina")
    for path in ("/board", "/devices", "/tickets", f"/tickets/{ticket}", "/accounts"):
        _, html = await nina.get(path)
        assert '<form class="search" method="get" action="/search" role="search">' in html, path
    _, html = await nina.get("/search?q=192.0.2")
    assert '<section class="card results" data-kind="device"' in html
    assert '<a href="/devices/pe-fra-01">pe-fra-01</a>' in html
    assert 'value="192.0.2"' in html  # the box keeps what was asked
    _, html = await nina.get(f"/search?q=T-{ticket}")
    assert f'<a href="/tickets/{ticket}">T-{ticket}</a>' in html
    karl = await site.visitor("karl")
    _, html = await karl.get("/search?q=pe-")  # an account manager: no network
    assert 'id="no-hits"' in html and "/devices/" not in html
    response, html = await karl.get("/search?q=%20")
    assert response.status == 400 and "q: type something to search for" in html


async def _search(page: Page, text: str) -> None:
    await page.fill("form.search input[name=q]", text)
    await page.press("form.search input[name=q]", "Enter")
    await page.wait_for_url(lambda url: "/search?" in url)


async def test_finding_a_device_a_circuit_and_a_ticket_from_the_header(site: Site, browser: Browser) -> None:
    await _address(site)
    ticket = await site.open_ticket("CITY-SH-001", summary="data office down")
    page = await signed_in(browser, site, "nina")
    await _search(page, "192.0.2.17")
    devices = page.locator("section[data-kind=device]")
    await expect(devices.get_by_role("link", name="pe-fra-01")).to_be_visible()
    await screenshot(page, "search-device-by-address")
    await _search(page, "sh-00")
    circuits = page.locator("section[data-kind=circuit]")
    await expect(circuits.get_by_role("link")).to_have_text(["ACME-SH-003", "CITY-SH-001", "CITY-SH-002"])
    await screenshot(page, "search-circuit-by-part-of-name")
    await circuits.get_by_role("link", name="CITY-SH-001").click()
    await page.wait_for_url(lambda url: url.endswith("/circuits/CITY-SH-001"))
    await _search(page, f"T-{ticket}")
    await page.locator("section[data-kind=ticket]").get_by_role("link", name=f"T-{ticket}").click()
    await page.wait_for_url(lambda url: url.endswith(f"/tickets/{ticket}"))
    await expect(page.locator("main")).to_contain_text("data office down")
    phone = await signed_in(browser, site, "nina", PHONE)
    await _search(phone, str(ticket))
    await expect(phone.locator("section[data-kind=ticket]").get_by_role("link")).to_have_text([f"T-{ticket}"])
    assert await phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await screenshot(phone, "search-ticket-by-number-phone")


async def test_the_ticket_list_filters_by_the_shared_vocabulary(site: Site) -> None:
    acme = await site.open_ticket("ACME-BJ-001", summary="loss on the HQ link")
    city = await site.open_ticket("CITY-SH-001", summary="data office down")
    nina = await site.visitor("nina")

    async def refs(query: str) -> list[str]:
        response, html = await nina.get(f"/tickets?{query}")
        assert response.status == 200, (query, html)
        return re.findall(r'data-ref="(T-\d+)"', html)

    assert await refs("") == [f"T-{city}", f"T-{acme}"]  # the open ones, newest first
    assert await refs("status=open&sort=oldest") == [f"T-{acme}", f"T-{city}"]
    assert await refs("account=ACM") == [f"T-{acme}"]
    assert await refs("circuit=sh-00") == [f"T-{city}"]
    assert await refs("device=pe-bj") == [f"T-{acme}"]
    assert await refs("text=hq") == [f"T-{acme}"]
    first, last = [(await site.tickets.show_ticket("nina", t)).summary.detected_at.date() for t in (acme, city)]
    assert await refs(f"since={first}&until={last}&status=all") == [f"T-{city}", f"T-{acme}"]  # whole days
    assert await refs(f"since={last + timedelta(days=1)}") == []
    _, html = await nina.get("/tickets?account=ACM&sort=oldest")
    assert 'name="account" value="ACM"' in html and '<option value="oldest" selected>' in html


async def test_the_ticket_filters_in_the_browser_on_a_phone(site: Site, browser: Browser) -> None:
    acme = await site.open_ticket("ACME-BJ-001", summary="loss on the HQ link")
    await site.open_ticket("CITY-SH-001", summary="data office down")
    detected = (await site.tickets.show_ticket("nina", acme)).summary.detected_at.date()
    page = await signed_in(browser, site, "nina", PHONE)
    await page.goto(site.base + "/tickets")
    form = page.locator("form.filters")
    await form.locator("input[name=account]").fill("acm")
    await form.locator("input[name=since]").fill(detected.isoformat())
    await form.locator("select[name=sort]").select_option("oldest")
    await form.get_by_role("button", name="Show").click()
    await page.wait_for_url(lambda url: "account=acm" in url)
    await expect(page.locator("#ticket-list li.ticket")).to_have_count(1)
    await expect(page.locator("#ticket-list")).to_contain_text("loss on the HQ link")
    await expect(form.locator("input[name=account]")).to_have_value("acm")
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await screenshot(page, "ticket-filters-phone")
