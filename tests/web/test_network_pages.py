"""The network's pages: device list, device, interface and circuit pages with their graphs, who may open which,
links from the board, uPlot served by the app itself; and in headless Chromium, the NOC engineer's path from the
board to the down device and its interface graph, zoomed to ten minutes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.async_api import Browser, ConsoleMessage, expect
from sqlalchemy import select

from noc import models as m
from noc.web import units
from tests.graphdata import instants, seed_interface, seed_probes
from tests.web.conftest import PHONE, Site, screenshot, signed_in

IFACE = "GigabitEthernet0/0/1"


async def lab(site: Site) -> datetime:
    """pe-bj-01 down since ten minutes, with two hours of traffic on the ACME-BJ-001 port and a gap in it, an outage
    on record, probes on ACME-BJ-001 and an open ticket on it."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    gap = (now - timedelta(minutes=50), now - timedelta(minutes=40))
    # 60 Mbit/s +- 50 % over the day: at least 30 Mbit/s whatever the hour, so the 200 Mbit/s committed rate is
    # within the graph's scale (eight times the peak) at any time of day the test runs
    traffic = instants(now - timedelta(hours=2), now, 60, [gap])
    await seed_interface(site.sessions, "pe-bj-01", IFACE, traffic, base_bps=60e6)
    await seed_probes(site.sessions, "ACME-BJ-001", instants(now - timedelta(hours=1), now, 60), loss_ratio=0.05)
    async with site.sessions() as session:
        device_id = await session.scalar(select(m.Device.id).where(m.Device.name == "pe-bj-01"))
        assert device_id is not None
        since = now - timedelta(minutes=10)
        session.add(
            m.DeviceStatus(
                device_id=device_id,
                available=False,
                since=since,
                last_poll_at=now,
                consecutive_failures=5,
                last_error="timeout",
                sys_name="pe-bj-01.lab",
                sys_descr="Huawei VRP lab router",
                discovered_at=now - timedelta(days=1),
            )
        )
        session.add(m.DeviceOutage(device_id=device_id, start_at=since, reason="no answer to SNMP"))
        await session.commit()
    await site.open_ticket("ACME-BJ-001", summary="loss above contract")
    return now


async def test_the_device_list_filters_and_links(site: Site) -> None:
    await lab(site)
    nina = await site.visitor("nina")
    _, html = await nina.get("/devices")
    for name in ("pe-bj-01", "pe-bj-02", "pe-sh-01", "pe-fra-01"):
        assert f'<a href="/devices/{name}">{name}</a>' in html
    _, html = await nina.get("/devices?state=down")
    assert 'data-device="pe-bj-01"' in html and 'data-device="pe-sh-01"' not in html
    _, html = await nina.get("/devices?q=fra")
    assert 'data-device="pe-fra-01"' in html and 'data-device="pe-bj-01"' not in html
    for circuit in ("ACME-SH-003", "CITY-SH-001"):  # both on pe-sh-01
        await site.open_ticket(circuit, summary="latency above contract")
    _, html = await nina.get("/devices?sort=tickets")
    order = [html.index(f'data-device="{name}"') for name in ("pe-sh-01", "pe-bj-01", "pe-bj-02", "pe-fra-01")]
    assert order == sorted(order)  # 2 open tickets, 1, then none by name
    response, _ = await nina.get("/devices?sort=sideways")
    assert response.status == 422


async def test_the_device_page_shows_interfaces_circuits_outages_and_tickets(site: Site) -> None:
    await lab(site)
    nina = await site.visitor("nina")
    response, html = await nina.get("/devices/pe-bj-01")
    assert response.status == 200
    assert "/devices/pe-bj-01/interface?name=GigabitEthernet0/0/1" in html
    assert "Mbit/s" in html and "1 Gbit/s" in html  # live rates and speed with their units
    assert '<a href="/circuits/ACME-BJ-001">' in html and '<a href="/accounts/acme-bank">' in html
    assert "no answer to SNMP" in html and "still down" in html
    assert "loss above contract" in html and "Huawei VRP lab router" in html
    # A technician sees the network, not the circuits of accounts none of their tickets is on.
    tom = await site.visitor("tom")
    _, html = await tom.get("/devices/pe-bj-01")
    assert 'data-circuit="ACME-BJ-001"' not in html and "2 circuits of accounts you may not see" in html
    response, _ = await nina.get("/devices/nope")
    assert response.status == 404


async def test_a_circuit_page_only_for_who_may_see_its_account(site: Site) -> None:
    await lab(site)
    karl = await site.visitor("karl")  # acme-bank's manager
    response, html = await karl.get("/circuits/ACME-BJ-001")
    assert response.status == 200
    assert "Month to date" in html and 'data-graph="loss"' in html
    assert '<a href="/devices/pe-bj-01">' not in html  # devices are the network's pages, not the manager's
    response, html = await karl.get("/circuits/CITY-SH-001")  # mei's account
    assert response.status == 403 and "may not see account city-gov" in html
    response, _ = await karl.get("/graphs/circuit?circuit=CITY-SH-001&metric=loss")
    assert response.status == 403 and (await response.json())["error"].startswith("karl (account_manager)")
    response, _ = await karl.get("/graphs/interface?device=pe-bj-01&interface=GigabitEthernet0/0/1")
    assert response.status == 403
    response, _ = await karl.get("/devices/pe-bj-01")
    assert response.status == 403
    mei = await site.visitor("mei")
    response, _ = await mei.get("/circuits/ACME-BJ-001")
    assert response.status == 403
    tom = await site.visitor("tom")  # no ticket of tom's is on acme-bank
    response, _ = await tom.get("/circuits/ACME-BJ-001")
    assert response.status == 403
    anonymous = await site.visitor()
    response, _ = await anonymous.get("/graphs/circuit?circuit=ACME-BJ-001")
    assert response.status == 401


async def test_the_interface_page_states_when_the_trend_reaches_the_committed_rate(site: Site) -> None:
    """Six weeks of rollups whose weekly 95th percentile grows 10 Mbit/s a week from 100 Mbit/s: the 200 Mbit/s
    committed rate of ACME-BJ-001 is reached at this trend about four weeks from now, on the interface's page, the
    circuit's and in the account's weekly report; the 1 Gbit/s port is not within a year."""
    now = datetime.now(UTC)
    await seed_interface(site.sessions, "pe-bj-01", IFACE, instants(now - timedelta(hours=1), now, 60))
    async with site.sessions() as session:
        device_id = await session.scalar(select(m.Device.id).where(m.Device.name == "pe-bj-01"))
        assert device_id is not None
        for week in range(6):
            rate = (100 + 10 * week) * 1e6
            for slot in range(28):  # every six hours of the week
                session.add(
                    m.InterfaceRollup(
                        device_id=device_id, if_name=IFACE, samples=5, oper_up_n=5, rated_n=1, in_sum_bps=rate,
                        out_sum_bps=rate / 2, errors_sum_per_s=0.0, discards_sum_per_s=0.0,
                        bucket_start=now - timedelta(weeks=6 - week) + timedelta(hours=6 * slot + 1),
                    )
                )  # fmt: skip
        await session.commit()
    nina = await site.visitor("nina")
    _, html = await nina.get(f"/devices/pe-bj-01/interface?name={IFACE}")
    committed = re.search(r'data-limit="committed rate of ACME-BJ-001">([^<]*)<b class="warn">([^<]*)</b>', html)
    assert committed is not None and "200 Mbit/s" in committed.group(1), html
    assert committed.group(2).startswith("reached around")
    assert re.search(r'data-limit="interface speed">[^<]*not within 52 weeks at this trend', html)
    assert "fit R² 1.00" in html
    _, html = await nina.get("/circuits/ACME-BJ-001")  # the circuit's page: the same port against its contract
    assert re.search(r'data-limit="committed rate">[^<]*<b class="warn">reached around', html), html
    _, html = await nina.get("/accounts/acme-bank/weekly")  # last week's report: the trend up to its end
    assert re.search(r'data-limit="committed rate">committed rate: <b class="warn">reached around', html), html


async def test_graph_json_for_the_page_is_the_apis(site: Site) -> None:
    await lab(site)
    nina = await site.visitor("nina")
    response, _ = await nina.get("/graphs/circuit?circuit=ACME-BJ-001&metric=loss&range=1h")
    graph = await response.json()
    assert graph["unit"] == "%" and graph["source"] == "raw"
    measured = [v for v in graph["series"][0]["values"] if v is not None]
    assert set(measured) == {5.0} and len(measured) >= 59  # the hour ending now: its first minute may have passed
    response, _ = await nina.get("/graphs/circuit?circuit=ACME-BJ-001&range=5h")
    assert response.status == 400 and (await response.json())["field"] == "range"


async def test_the_board_links_the_down_device_and_the_tickets_circuit(site: Site) -> None:
    await lab(site)
    nina = await site.visitor("nina")
    _, html = await nina.get("/board")
    assert '<td><a href="/devices/pe-bj-01">pe-bj-01</a></td>' in html
    assert '<a href="/circuits/ACME-BJ-001">ACME-BJ-001</a>' in html
    admin = await site.visitor("admin")
    _, html = await admin.get("/admin/inventory")
    assert '<a href="/circuits/RHEIN-FRA-001">' in html and '<a href="/devices/pe-fra-01">' in html


async def test_uplot_is_served_by_the_app_under_the_same_policy(site: Site) -> None:
    visitor = await site.visitor()
    response, _ = await visitor.get("/vendor/uplot/uPlot.iife.min.js")
    assert response.status == 200 and "javascript" in response.content_type
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "uPlot" in await response.text()
    response, _ = await visitor.get("/vendor/uplot/package.json")
    assert response.status == 404  # only the library's built files


async def test_from_the_board_to_the_interface_graph_zoomed_to_ten_minutes(site: Site, browser: Browser) -> None:
    now = await lab(site)
    page = await signed_in(browser, site, "nina")
    refused: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or message.type == "error":
            refused.append(message.text)

    page.on("console", watch)
    # One click from the board's "devices down" row to the device's page.
    await page.click('tr.device-down[data-device="pe-bj-01"] a')
    await page.wait_for_url("**/devices/pe-bj-01")
    await expect(page.locator("h1")).to_contain_text("pe-bj-01")
    await expect(page.locator("h1 .state")).to_have_text("down")
    await screenshot(page, "device")
    # Then the interface, and its traffic graph with data.
    await page.click(f'tr[data-interface="{IFACE}"] a')
    await page.wait_for_url(lambda url: "/devices/pe-bj-01/interface?name=" in url)
    traffic = page.locator('figure[data-graph="traffic"]')
    await expect(traffic).to_have_attribute("data-state", "ready")
    assert int(await traffic.get_attribute("data-points") or 0) > 0
    await expect(traffic.locator("canvas")).to_have_count(1)
    committed = traffic.locator(".graph-thresholds li", has_text="committed")
    await expect(committed).to_have_text("– – committed ACME-BJ-001: 200 Mbit/s")  # on the scale, drawn as a line
    await screenshot(page, "interface")
    # Zoom to ten minutes (the from/to controls, in UTC), and read a value with its unit under the cursor.
    start = now - timedelta(minutes=30)
    await traffic.locator("input[name=start]").fill(start.strftime("%Y-%m-%dT%H:%M"))
    await traffic.locator("input[name=end]").fill((start + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M"))
    await traffic.locator("form.custom-range button").click()
    await expect(traffic).to_have_attribute("data-start", start.isoformat().replace("+00:00", "Z"))
    await expect(traffic).to_have_attribute("data-state", "ready")
    assert await traffic.get_attribute("data-points") == str(2 * 10)  # in and out, each minute's sample
    over = traffic.locator(".u-over")
    box = await over.bounding_box()
    assert box is not None
    await page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    inbound = traffic.locator(".u-legend .u-series").nth(1).locator(".u-value")
    await expect(inbound).to_have_text(re.compile(r"^\d+(\.\d+)? Mbit/s$"))
    await screenshot(page, "interface-zoomed")
    assert refused == []


async def test_the_circuit_page_draws_loss_against_the_ceiling_on_a_phone(site: Site, browser: Browser) -> None:
    await lab(site)
    page = await signed_in(browser, site, "karl", PHONE)
    await page.goto(site.base + "/circuits/ACME-BJ-001")
    loss = page.locator('figure[data-graph="loss"]')
    await loss.locator('button[data-range="1h"]').click()
    await expect(loss).to_have_attribute("data-state", "ready")
    await expect(loss.locator(".graph-thresholds")).to_contain_text("contract ceiling")
    width = await page.evaluate("document.documentElement.scrollWidth")
    wide = await page.evaluate(
        "[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > innerWidth)"
        ".map(e => e.tagName + '.' + e.className).slice(0, 8)"
    )
    assert width <= PHONE["width"], f"the circuit page scrolls sideways on a phone: {wide}"
    await screenshot(page, "circuit-phone")


def test_values_read_with_their_units() -> None:
    assert [units.bits(v) for v in (None, 0, 999, 1_234_567, 50e6, 1e9)] == [
        "—", "0 bit/s", "999 bit/s", "1.23 Mbit/s", "50 Mbit/s", "1 Gbit/s",
    ]  # fmt: skip
    assert units.ratio_pct(0.0667) == "6.67 %" and units.number(12.44, "ms") == "12.4 ms"
    assert units.ratio_pct(0.9995) == "99.95 %" and units.ratio_pct(1.0) == "100 %"
    assert units.objective_value("loss", 0.133333) == "13.33 %" and units.objective_value("loss", 0.001) == "0.1 %"
    assert [units.duration(s) for s in (None, 5, 7850, 200_000)] == ["—", "5 s", "2 h 10 min", "2 d 7 h"]
