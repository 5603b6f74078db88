"""The customer's copy of the monthly SLA report against the internal one (issue 14, acceptance 4), as an account
manager downloads both from the report page, read back with poppler's ``pdftotext``.

A month in progress says provisional with the measured share and states no credit owed; a finished month states
the credit; the customer's copy holds no internal address, tier, poller or cause code, while the internal report
keeps them.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from noc import models as m
from sla.period import month_containing
from tests.peers import require
from tests.web.conftest import Site
from tests.web.test_accounts import OCT_START, REPORT, seed_october

PDFTOTEXT = shutil.which("pdftotext")
# How the poll stage records a device outage: the collector's error, addresses and all.
REASON = "timeout: no SNMP answer from 127.0.0.1:16102 after 3 tries (poller noc-poller-2, epoch 7)"
# What only the NOC may read: addresses (the device's, the far ends'), the tier, poller detail, raw cause codes.
INTERNAL = (
    "127.0.0.1",
    "10.200.",
    "tier",
    "poller",
    "SNMP",
    "interface_down",
    "device_unreachable",
    "measured:",
    "device down",
    "pe-bj-",
    "GigabitEthernet",
)


@pytest.fixture
def pdftotext() -> str:
    require.need(PDFTOTEXT is not None, "pdftotext (apt-get install poppler-utils)")
    assert PDFTOTEXT is not None
    return PDFTOTEXT


def as_text(binary: str, data: bytes, tmp_path: Path) -> str:
    """The PDF's text as pdftotext reads it, whitespace collapsed (lines wrap where the layout put them)."""
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    done = subprocess.run([binary, "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, timeout=60)
    return " ".join(done.stdout.decode().split())


async def device_outage(sessions: async_sessionmaker[AsyncSession], device: str, start: datetime, minutes: int) -> None:
    async with sessions() as session:
        found = await session.scalar(select(m.Device).where(m.Device.name == device))
        assert found is not None
        end = start + timedelta(minutes=minutes)
        session.add(m.DeviceOutage(device_id=found.id, start_at=start, end_at=end, reason=REASON))
        await session.commit()


async def test_a_finished_month_states_the_credit_and_nothing_internal(
    site: Site, pdftotext: str, tmp_path: Path
) -> None:
    # October: BJ-001 down 120 min (interface_down), BJ-002's router down 30 min (the poller's error as its reason).
    # 100 x (2 x 44,160 - 150) / (2 x 44,160) = 99.8301 %: below 99.95 %, 5 % of 48,000.00 CNY.
    await seed_october(site.sessions)
    await device_outage(site.sessions, "pe-bj-02", OCT_START + timedelta(days=20), 30)
    karl = await site.visitor("karl")
    _, html = await karl.get(f"{REPORT}?month=2026-10")
    assert f'href="{REPORT}/sla.pdf?month=2026-10&amp;audience=customer"' in html
    assert 'id="report-status"><strong>Final.</strong>' in html

    response = await karl.http.get(f"{site.base}{REPORT}/sla.pdf?month=2026-10&audience=customer")
    assert response.status == 200 and response.content_type == "application/pdf"
    assert response.headers["Content-Disposition"] == 'attachment; filename="sla-ACME-2026-01-2026-10-customer.pdf"'
    customer = as_text(pdftotext, await response.read(), tmp_path)
    for expected in (
        "ACME Bank Co., Ltd.",  # the customer's legal name
        "ACME-2026-01 - October 2026",
        "2026-10-01 00:00 to 2026-11-01 00:00 (Asia/Shanghai)",  # the month in their time zone
        "Final",
        "66.6 % of the month was measured",  # ACME-SH-003 measured nothing
        "99.83 %",  # two decimals, as the contract states
        "2026-10-14 12:00",  # BJ-001's outage in Shanghai time
        "The connection was down",
        "The service could not be reached",  # the router, in plain words
        "Availability 99.83 % is below 99.95 %: the credit is 5 % of the monthly fee.",
        "48000.00 CNY x 5 % = 2400.00 CNY",
        "Credit owed: 2400.00 CNY.",
    ):
        assert expected in customer, expected
    for secret in INTERNAL:
        assert secret not in customer, secret
    assert not re.search(r"\d\.\d{7,}", customer), "a figure with the quotient's digits"

    # The internal report of the same month keeps every detail, and no 28-digit figure either.
    response = await karl.http.get(f"{site.base}{REPORT}/sla.pdf?month=2026-10")
    internal = as_text(pdftotext, await response.read(), tmp_path)
    for detail in ("Account tier A", "interface_down", "127.0.0.1:16102", "poller noc-poller-2", "Final."):
        assert detail in internal, detail
    assert "Credit owed 2400.00 CNY" in internal
    assert not re.search(r"\d\.\d{7,}", internal), "a figure with the quotient's digits"


async def test_a_month_in_progress_is_provisional_and_owes_nothing(site: Site, pdftotext: str, tmp_path: Path) -> None:
    # This month so far (Shanghai): BJ-001 and BJ-002 measured, BJ-001's router down for its first ten minutes,
    # far below the target: the figures so far would give a credit. ACME-SH-003 measured nothing.
    now = datetime.now(UTC)
    start = month_containing(now, "Asia/Shanghai").start
    async with site.sessions() as session:
        for circuit in await session.scalars(
            select(m.Circuit).where(m.Circuit.name.in_(["ACME-BJ-001", "ACME-BJ-002"]))
        ):
            session.add(m.SlaStateRun(circuit_id=circuit.id, start_at=start, end_at=now, state="available", causes=[]))
        await session.commit()
    await device_outage(site.sessions, "pe-bj-01", start, 10)
    label = month_containing(now, "Asia/Shanghai").label
    karl = await site.visitor("karl")
    _, html = await karl.get(f"{REPORT}?month={label}")
    assert 'class="notice provisional" id="report-status"><strong>Provisional.</strong>' in html
    assert 'id="credit-owed">none: provisional<' in html

    response = await karl.http.get(f"{site.base}{REPORT}/sla.pdf?month={label}&audience=customer")
    assert response.status == 200
    customer = as_text(pdftotext, await response.read(), tmp_path)
    share = re.search(
        r"The month is in progress: (less than 0\.1|\d+\.\d) % of it has been measured so far\.", customer
    )
    assert share is not None, customer
    assert "Provisional" in customer and f"Measured {share.group(1)} % of the month" in customer
    assert "No credit is owed on a provisional report" in customer
    assert "none while provisional" in customer
    assert "Credit owed:" not in customer and "CNY x" not in customer  # no amount, no arithmetic towards one
    for secret in INTERNAL:
        assert secret not in customer, secret

    # The internal report says the same about its standing, and shows the credit only as the figures' indication.
    response = await karl.http.get(f"{site.base}{REPORT}/sla.pdf?month={label}")
    internal = as_text(pdftotext, await response.read(), tmp_path)
    assert "Provisional. The month is in progress:" in internal
    assert "none: provisional" in internal and "by the figures so far" in internal


async def test_a_finished_month_below_the_contract_s_minimum_stays_provisional(
    site: Site, pdftotext: str, tmp_path: Path
) -> None:
    await seed_october(site.sessions)
    async with site.sessions() as session:
        contract = await session.scalar(select(m.Contract).where(m.Contract.name == "ACME-2026-01"))
        assert contract is not None
        contract.min_measured_pct = Decimal(90)  # the default: two circuits of three measured is not enough
        await session.commit()
    karl = await site.visitor("karl")
    response = await karl.http.get(f"{site.base}{REPORT}/sla.pdf?month=2026-10&audience=customer")
    customer = as_text(pdftotext, await response.read(), tmp_path)
    assert "Only 66.6 % of the month was measured; the contract requires 90 % for a final report." in customer
    assert "Credit owed:" not in customer and "2400.00" not in customer


@pytest.mark.parametrize(
    ("query", "message"),
    [("audience=boss", "audience: internal or customer, not &#39;boss&#39;")],
)
async def test_a_bad_audience_is_a_400_naming_the_field(site: Site, query: str, message: str) -> None:
    karl = await site.visitor("karl")
    response, html = await karl.get(f"{REPORT}/sla.pdf?month=2026-10&{query}")
    assert response.status == 400 and message in html


async def test_the_customer_s_copy_in_zh_cn_is_in_chinese_with_a_cjk_font(
    site: Site, pdftotext: str, tmp_path: Path
) -> None:
    """The page's language is the copy's: a zh-CN account manager downloads it in Chinese, drawn with a CJK font
    (not DejaVu's empty boxes); the API gives the same with ``language=zh-CN``."""
    await seed_october(site.sessions)
    karl = await site.visitor("karl", language="zh-CN")
    response = await karl.http.get(f"{site.base}{REPORT}/sla.pdf?month=2026-10&audience=customer")
    data = await response.read()
    customer = as_text(pdftotext, data, tmp_path)
    for expected in (
        "月度服务等级报告",
        "ACME-2026-01 - 2026年10月",
        "正式报告",
        "服务等级",
        "连接中断",
        "可用率 99.86 % 低于 99.95 %：赔付为月费的 5 %。",
        "应付赔付：2400.00 CNY。",
    ):
        assert expected in customer, expected
    for secret in INTERNAL:
        assert secret not in customer, secret
    pdffonts = shutil.which("pdffonts")
    assert pdffonts is not None
    (tmp_path / "zh.pdf").write_bytes(data)
    done = await asyncio.to_thread(
        subprocess.run, [pdffonts, str(tmp_path / "zh.pdf")], capture_output=True, text=True, check=True
    )
    fonts = done.stdout
    assert "WenQuanYi" in fonts, fonts
    # The internal copy stays in English whatever the page's language.
    internal = as_text(
        pdftotext, await (await karl.http.get(f"{site.base}{REPORT}/sla.pdf?month=2026-10")).read(), tmp_path
    )
    assert "Final." in internal and "月度" not in internal
