"""The account manager's pages: accounts, health archive, the monthly SLA report (chart, credit, PDF / CSV) and the
weekly report, through HTTP and in headless Chromium."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from noc import models as m
from noc.store.compliance import months_before
from noc.store.reports import build_report
from noc.store.sla import empty_hour
from sla.documents.tables import render_csv
from sla.hours import HourBucket
from sla.states import DeltaInput
from sla.weekly import last_full_week
from tests.noc.test_compliance import available_throughout
from tests.web.conftest import PHONE, Site, screenshot, signed_in

# ACME-2026-01 (Asia/Shanghai): October 2026 is 2026-09-30T16:00Z .. 2026-10-31T16:00Z, 44,640 minutes.
OCT_START = datetime(2026, 9, 30, 16, 0, tzinfo=UTC)
OCT_END = datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
OUTAGE = datetime(2026, 10, 14, 4, 0, tzinfo=UTC)  # a Wednesday: outside the Sunday maintenance window
SLOW_HOUR = datetime(2026, 10, 15, 3, 0, tzinfo=UTC)  # inside ISO week 2026-W42 in Shanghai
REPORT = "/reports/ACME-2026-01"


async def seed_october(sessions: async_sessionmaker[AsyncSession]) -> None:
    """October for ACME-BJ-001 and -002 as the SLA engine stores it (Δt state runs, hourly statistics); BJ-001 is
    down for 120 minutes. ACME-SH-003 has nothing stored. The four Sunday maintenance windows (4 x 120 min) leave
    the base (the contract does not say otherwise). Contract availability: the two measured circuits weigh equally,
    100 x (2 x 44,160 - 120) / (2 x 44,160) = 99.86413 %: below 99.95 %, so 5 % of 48,000.00. Two circuits of three
    measured are 66.7 % of the month: the contract is set to accept 60 % for a final report (at the default 90 %
    October stays provisional and owes nothing: tests/web/test_customer_report.py)."""
    async with sessions() as session:
        contract = await session.scalar(select(m.Contract).where(m.Contract.name == "ACME-2026-01"))
        assert contract is not None
        contract.min_measured_pct = Decimal(60)
        circuits = {c.name: c for c in await session.scalars(select(m.Circuit))}
        for name in ("ACME-BJ-001", "ACME-BJ-002"):
            cid = circuits[name].id
            if name == "ACME-BJ-001":
                session.add_all(
                    [
                        m.SlaStateRun(circuit_id=cid, start_at=OCT_START, end_at=OUTAGE, state="available", causes=[]),
                        m.SlaStateRun(
                            circuit_id=cid,
                            start_at=OUTAGE,
                            end_at=OUTAGE + timedelta(minutes=120),
                            state="unavailable",
                            causes=["interface_down"],
                        ),
                        m.SlaStateRun(
                            circuit_id=cid,
                            start_at=OUTAGE + timedelta(minutes=120),
                            end_at=OCT_END,
                            state="available",
                            causes=[],
                        ),
                    ]
                )
            else:
                session.add(
                    m.SlaStateRun(circuit_id=cid, start_at=OCT_START, end_at=OCT_END, state="available", causes=[])
                )
            # Every sixth hour measured (enough for a daily chart), through the same bucket the engine fills; one
            # slow, busy hour on BJ-001.
            hours = [OCT_START + timedelta(hours=h) for h in range(0, 31 * 24, 6)]
            for hour in [*hours, SLOW_HOUR] if name == "ACME-BJ-001" else hours:
                slow = hour == SLOW_HOUR
                bucket = HourBucket()
                for minute in range(0, 60, 20):
                    bucket.add(
                        DeltaInput(
                            at=hour + timedelta(minutes=minute),
                            rtt_ms=45.0 if slow else 8.0,
                            loss_ratio=0.0,
                            jitter_ms=1.5,
                            in_bps=120e6 if slow else 40e6,
                            out_bps=20e6,
                            speed_bps=1e9,
                        )
                    )
                row = empty_hour(cid, hour)
                bucket.merge_into(row)
                session.add(row)
        await session.commit()


async def test_an_account_manager_sees_only_their_accounts(site: Site) -> None:
    karl = await site.visitor("karl")
    response, html = await karl.get("/accounts")
    assert response.status == 200
    assert re.findall(r'data-account="([^"]+)"', html) == ["acme-bank", "rhein-logistik"]
    assert "ACME Bank Co., Ltd." in html and "tier A" in html
    nina = await site.visitor("nina")
    _, html = await nina.get("/accounts")
    assert re.findall(r'data-account="([^"]+)"', html) == ["acme-bank", "city-gov", "rhein-logistik"]


async def test_open_tickets_are_counted_per_account(site: Site) -> None:
    await site.open_ticket("ACME-BJ-001")
    karl = await site.visitor("karl")
    _, html = await karl.get("/accounts")
    counts = dict(re.findall(r'data-account="([^"]+)".*?class="open-tickets">(\d+)<', html, re.S))
    assert counts == {"acme-bank": "1", "rhein-logistik": "0"}


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/city-gov",
        "/accounts/city-gov/weekly",
        "/reports/CITYGOV-2025-07?month=2026-10",
        "/reports/CITYGOV-2025-07/chart.png?month=2026-10",
        "/reports/CITYGOV-2025-07/sla.pdf?month=2026-10",
        "/reports/CITYGOV-2025-07/sla.csv?month=2026-10",
    ],
)
async def test_another_managers_account_is_refused(site: Site, path: str) -> None:
    karl = await site.visitor("karl")
    response, html = await karl.get(path)
    assert response.status == 403
    assert "karl (account_manager) may not see account city-gov" in html


async def test_a_technician_may_not_open_the_account_pages(site: Site) -> None:
    tom = await site.visitor("tom")
    for path in ("/accounts", "/accounts/acme-bank", f"{REPORT}?month=2026-10"):
        response, html = await tom.get(path)
        assert response.status == 403, path
        assert "tom (technician) may not open this page" in html


async def test_unknown_names_are_404(site: Site) -> None:
    karl = await site.visitor("karl")
    for path, message in (
        ("/accounts/nope", "no key account named &#39;nope&#39;"),
        ("/accounts/nope/weekly", "no key account named &#39;nope&#39;"),
        ("/reports/NOPE?month=2026-10", "no contract named &#39;NOPE&#39;"),
    ):
        response, html = await karl.get(path)
        assert response.status == 404, path
        assert message in html, path


async def test_the_health_archive(site: Site) -> None:
    ticket = await site.open_ticket("ACME-BJ-002", summary="branch slow")
    karl = await site.visitor("karl")
    response, html = await karl.get("/accounts/acme-bank")
    assert response.status == 200
    for text in ("ACME Bank Co., Ltd.", "ACME-2026-01", "2026-01-01 to 2027-12-31", "PAPER-ARCH-2026-0117"):
        assert text in html, text
    for circuit in ("ACME-BJ-001", "ACME-BJ-002", "ACME-SH-003"):
        assert circuit in html
    assert f'href="/tickets/{ticket}">T-{ticket}</a>' in html
    assert f'href="{REPORT}"' in html and 'href="/accounts/acme-bank/weekly"' in html


async def test_the_report_shows_objectives_outages_and_the_credit(site: Site) -> None:
    await seed_october(site.sessions)
    karl = await site.visitor("karl")
    response, html = await karl.get(f"{REPORT}?month=2026-10")
    assert response.status == 200
    assert "ACME-2026-01 · October 2026" in html
    headline = re.search(r'id="availability">\s*([^<]*?)\s*<', html)
    assert headline is not None and headline.group(1) == "99.8641 %"
    rows = dict(re.findall(r'data-objective="([^"]+)">(.*?)</tr>', html, re.S))
    assert "99.95" in rows["availability"] and ">missed<" in rows["availability"]
    assert "8.296 ms" in rows["latency"] and "20 ms" in rows["latency"] and ">met<" in rows["latency"]
    # the circuit that measured nothing is not evaluated, never 100 %
    circuit_rows = re.search(r'id="circuits">.*?</table>', html, re.S)
    assert circuit_rows is not None
    sh003 = re.search(r"<td>ACME-SH-003</td>\s*<td class=\"num\">([^<]*)<", circuit_rows.group(0))
    assert sh003 is not None and sh003.group(1) == "not evaluated"
    # the outage, in Shanghai time above UTC
    assert "2026-10-14 12:00\n04:00 UTC" in html and "interface_down" in html
    # the credit with its arithmetic
    credit = re.search(r'id="credit">.*?</section>', html, re.S)
    assert credit is not None
    for text in (
        '<td>99.95 %</td><td class="num">5 %</td><td class="missed">applied</td>',
        "48000.00 CNY",
        "48000.00 CNY x 5 / 100 = 2400.00 CNY",
        "credit = min(2400.00, 14400.00) = 2400.00 CNY",
    ):
        assert text in credit.group(0), text
    assert 'id="credit-owed">2400.00 CNY<' in html
    assert f'src="{REPORT}/chart.png?month=2026-10"' in html
    assert f'href="{REPORT}/sla.pdf?month=2026-10"' in html and f'href="{REPORT}/sla.csv?month=2026-10"' in html


async def test_a_month_without_data_reads_not_evaluated(site: Site) -> None:
    await seed_october(site.sessions)
    karl = await site.visitor("karl")
    response, html = await karl.get(f"{REPORT}?month=2026-08")
    assert response.status == 200
    headline = re.search(r'id="availability">\s*([^<]*?)\s*<', html)
    assert headline is not None and headline.group(1) == "not evaluated"
    assert "100.0000" not in html and "100 %" not in html
    rows = dict(re.findall(r'data-objective="([^"]+)">(.*?)</tr>', html, re.S))
    assert all(">not evaluated<" in row for row in rows.values()), rows
    assert "availability not evaluated (nothing measurable): no credit computed" in html
    # Nothing measured: the month stays provisional, and no credit is stated as owed.
    assert "Only 0.0 % of the month was measured; the contract requires 60 % for a final report." in html
    assert 'id="credit-owed">none: provisional<' in html


async def test_the_chart_is_a_png(site: Site) -> None:
    await seed_october(site.sessions)
    karl = await site.visitor("karl")
    response, _ = await karl.get(f"{REPORT}/chart.png?month=2026-10")
    assert response.status == 200 and response.content_type == "image/png"
    assert (await response.read()).startswith(b"\x89PNG\r\n\x1a\n")


async def test_the_csv_download_is_the_reports_csv(site: Site) -> None:
    await seed_october(site.sessions)
    karl = await site.visitor("karl")
    response, text = await karl.get(f"{REPORT}/sla.csv?month=2026-10")
    assert response.status == 200 and response.content_type == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="sla-ACME-2026-01-2026-10.csv"'
    async with site.sessions() as session:
        report, _ = await build_report(session, "ACME-2026-01", 2026, 10, as_of=datetime.now(UTC))
    assert text == render_csv(report)
    assert text.startswith("row,circuit,")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("month=2026-13", "month: month &#39;2026-13&#39; is not YYYY-MM"),
        ("month=october", "month: month &#39;october&#39; is not YYYY-MM"),
        ("month=0001-01", "month: year must be 1970 to 2999"),
        ("month=2999-12", "month: 2999-12 has not begun yet"),
    ],
)
@pytest.mark.parametrize("route", ["", "/chart.png", "/sla.pdf", "/sla.csv"])
async def test_a_bad_month_is_a_400_naming_the_field(site: Site, route: str, query: str, message: str) -> None:
    karl = await site.visitor("karl")
    response, html = await karl.get(f"{REPORT}{route}?{query}")
    assert response.status == 400
    assert message in html


async def test_the_weekly_report(site: Site) -> None:
    await seed_october(site.sessions)
    karl = await site.visitor("karl")
    response, html = await karl.get("/accounts/acme-bank/weekly?week=2026-W42")
    assert response.status == 200
    cards = dict(re.findall(r'data-circuit="([^"]+)">(.*?)</section>', html, re.S))
    assert set(cards) == {"ACME-BJ-001", "ACME-BJ-002", "ACME-SH-003"}
    bj1 = cards["ACME-BJ-001"]
    assert "2026-10-12 00:00 CST to 2026-10-19 00:00 CST" in bj1
    assert "Worst hour</dt><dd>2026-10-15 11:00 CST: 45 ms" in bj1
    assert "avg 40 Mbit/s" not in bj1 and "peak 120 Mbit/s" in bj1  # the slow hour's traffic lifts the mean
    assert "No data for this week" in cards["ACME-SH-003"]
    assert "No data for this week" not in cards["ACME-BJ-002"] and "avg 40 Mbit/s" in cards["ACME-BJ-002"]
    # the latency objective against the contract's 20 ms ceiling, per circuit
    assert re.search(
        r"<td>latency</td><td class=\"num\">[\d.]+ ms</td><td class=\"num\">20 ms</td><td class=\"met\">", bj1
    )
    # a week without any data says so for every circuit
    _, html = await karl.get("/accounts/acme-bank/weekly?week=2026-W30")
    assert html.count("No data for this week") == 3


async def test_a_week_that_has_not_ended_is_refused_and_not_offered(site: Site) -> None:
    karl = await site.visitor("karl")
    latest = last_full_week(datetime.now(UTC), "Asia/Shanghai")
    response, html = await karl.get(f"/accounts/acme-bank/weekly?week={latest.shifted(1).label}")
    assert response.status == 400 and "has not ended yet" in html
    _, html = await karl.get("/accounts/acme-bank/weekly")
    assert latest.label in html and f"week={latest.shifted(1).label}" not in html


@pytest.mark.parametrize("week", ["2026-42", "2025-W53", "W42"])
async def test_a_bad_week_is_a_400_naming_the_field(site: Site, week: str) -> None:
    karl = await site.visitor("karl")
    response, html = await karl.get(f"/accounts/acme-bank/weekly?week={week}")
    assert response.status == 400
    assert "week: " in html


async def test_karl_downloads_the_monthly_report_as_pdf(site: Site, browser: Browser) -> None:
    await seed_october(site.sessions)
    page = await signed_in(browser, site, "karl")
    await expect(page).to_have_url(re.compile(r"/accounts$"))
    await page.get_by_role("link", name="acme-bank", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("acme-bank")
    await page.get_by_role("link", name="SLA report ACME-2026-01").click()
    await expect(page).to_have_url(re.compile(r"/reports/ACME-2026-01$"))
    # the month picker, as a manager would use it
    await page.fill("input[name=month]", "2026-10")
    await page.get_by_role("button", name="Show").click()
    await expect(page).to_have_url(re.compile(r"/reports/ACME-2026-01\?month=2026-10$"))
    await expect(page.locator("#availability")).to_have_text("99.8641 %")
    await expect(page.locator("#credit-owed")).to_have_text("2400.00 CNY")
    chart = page.locator("img.chart")
    await expect(chart).to_have_js_property("complete", True)
    assert await chart.evaluate("img => img.naturalWidth") == 1000
    await screenshot(page, "sla-report")
    async with page.expect_download() as caught:
        await page.get_by_role("link", name="Download PDF").click()
    download = await caught.value
    assert download.suggested_filename == "sla-ACME-2026-01-2026-10.pdf"
    path = await download.path()
    assert path.read_bytes().startswith(b"%PDF")
    # the copy to send the customer, beside it (its contents: tests/web/test_customer_report.py)
    async with page.expect_download() as caught:
        await page.get_by_role("link", name="Customer copy (PDF)").click()
    download = await caught.value
    assert download.suggested_filename == "sla-ACME-2026-01-2026-10-customer.pdf"
    assert (await download.path()).read_bytes().startswith(b"%PDF")
    await page.context.close()


async def test_the_account_page_fits_a_phone(site: Site, browser: Browser) -> None:
    await seed_october(site.sessions)
    await site.open_ticket("ACME-BJ-001")
    page = await signed_in(browser, site, "karl", PHONE)
    await page.goto(site.base + "/accounts/acme-bank")
    await expect(page.get_by_role("heading", name="Contracts")).to_be_visible()
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await screenshot(page, "account-phone")
    for path in (f"{REPORT}?month=2026-10", "/accounts/acme-bank/weekly?week=2026-W42", "/accounts"):
        await page.goto(site.base + path)
        await expect(page.locator("main h1")).to_be_visible()
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
        if "weekly" in path:
            await screenshot(page, "weekly-phone")
    await page.context.close()


async def test_the_health_archive_page_shows_last_month_s_sla_compliance(site: Site) -> None:
    now = datetime.now(UTC)
    await available_throughout(site.sessions, "ACME-2026-01", now - timedelta(days=75), now)
    ((year, month),) = months_before(now.astimezone(ZoneInfo("Asia/Shanghai")).date(), 1)
    karl = await site.visitor("karl")
    _, page = await karl.get("/accounts/acme-bank")
    row = re.search(rf'<a href="/reports/ACME-2026-01\?month={year:04d}-{month:02d}">.*?</tr>', page, re.S)
    assert row is not None, "last month's row"
    assert "100.0 %" in row[0] and '<td class="met">met</td>' in row[0] and "availability met" in row[0]
