"""The admin's inventory pages: who may open them, what they show (never a secret), the YAML download, and the
import form (dry run, real import, located problems, all or nothing), over HTTP and in headless Chromium."""

from __future__ import annotations

import html
import re

import pytest
import yaml
from aiohttp import FormData
from playwright.async_api import Browser, FilePayload, expect
from sqlalchemy import select
from yarl import URL

from noc import models as m
from noc.timeutil import utcnow
from noc.web.admin import MAX_UPLOAD_BYTES, rate_text
from tests.api.conftest import SECRETS
from tests.conftest import EXAMPLE_INVENTORY
from tests.web.conftest import PHONE, USERS, Site, Visitor, csrf_in, password_of, screenshot, signed_in

EXAMPLE = EXAMPLE_INVENTORY.read_text(encoding="utf-8")
TARGET = 'availability_target_pct: "99.95"'
RAISED = EXAMPLE.replace(TARGET, 'availability_target_pct: "99.99"')
# Three problems in three sections, all reported at once: an address that is neither an IP address nor a host
# name, a tier that does not exist, a committed rate that is not a number.
BROKEN = (
    EXAMPLE.replace("address: 127.0.0.1\n    platform: linux", "address: 127.0.0.300\n    platform: linux")
    .replace("tier: C", "tier: Z")
    .replace("committed_rate_bps: 20000000,", "committed_rate_bps: fast,")
)
_PROBLEMS = re.compile(r'<pre class="problems">(.*?)</pre>', re.S)
_TEXTAREA = re.compile(r'<textarea name="text"[^>]*>\n(.*?)</textarea>', re.S)


def problems_in(page_html: str) -> list[str]:
    found = _PROBLEMS.search(page_html)
    assert found, "the page shows no problems"
    return html.unescape(found.group(1)).strip().splitlines()


def text_box_in(page_html: str) -> str:
    found = _TEXTAREA.search(page_html)
    assert found, "the page has no text box"
    return html.unescape(found.group(1))


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


async def visitor_for(site: Site, username: str) -> Visitor:
    """Signed in without following the redirect to the role's home page: these tests are about the admin pages."""
    visitor = await site.visitor()
    await visitor.get("/login")
    response, _ = await visitor.post(
        "/login", {"username": username, "password": password_of(username)}, allow_redirects=False
    )
    assert response.status == 303, username
    return visitor


def targets(exported: str) -> dict[str, str]:
    """Each contract's availability target, as the export writes it."""
    return {c["name"]: str(c["sla"]["availability_target_pct"]) for c in yaml.safe_load(exported)["contracts"]}


async def export(visitor: Visitor) -> str:
    response, _ = await visitor.get("/admin/inventory/export")
    assert response.status == 200
    return await response.text()


async def upload(
    visitor: Visitor, name: str, content: bytes, text: str = "", dry_run: bool = False, csrf: str | None = None
) -> tuple[int, str]:
    """The form as a browser sends it: multipart, with the file part and the (maybe empty) text box."""
    form = FormData()
    form.add_field("csrf", csrf_in(visitor.last_html) if csrf is None else csrf)
    form.add_field("text", text)
    form.add_field("file", content, filename=name, content_type="application/x-yaml")
    if dry_run:
        form.add_field("dry_run", "yes")
    response = await visitor.http.post(visitor.base + "/admin/inventory/import", data=form)
    body = await response.text()
    visitor.last_html = body
    return response.status, body


@pytest.mark.parametrize(
    ("bits_per_second", "expected"),
    [
        (None, "—"),
        (999, "999 bit/s"),
        (64_000, "64 kbit/s"),
        (200_000_000, "200 Mbit/s"),
        (1_500_000_000, "1.5 Gbit/s"),
    ],
)
def test_rates_read_as_people_write_them(bits_per_second: int | None, expected: str) -> None:
    assert rate_text(bits_per_second) == expected


async def test_only_the_admin_may_open_the_inventory_pages(site: Site) -> None:
    for role in ("noc", "technician", "account_manager"):
        visitor = await visitor_for(site, USERS[role])
        for path in ("/admin/inventory", "/admin/inventory/import", "/admin/inventory/export"):
            response, body = await visitor.get(path)
            assert response.status == 403 and "may not open this page" in body, (role, path)
        response, body = await visitor.post("/admin/inventory/import", {"text": RAISED})
        assert response.status == 403, role
    admin = await site.visitor("admin")
    assert targets(await export(admin))["ACME-2026-01"] == "99.95"  # nobody else's import went through
    anonymous = await site.visitor()
    response, _ = await anonymous.get("/admin/inventory", allow_redirects=False)
    location = URL(response.headers["Location"])
    assert response.status == 303 and location.path == "/login" and location.query["next"] == "/admin/inventory"


async def test_the_view_lists_the_inventory_and_no_secret(site: Site) -> None:
    async with site.sessions() as session:
        device = await session.scalar(select(m.Device).where(m.Device.name == "pe-bj-02"))
        assert device is not None
        session.add(m.DeviceStatus(device_id=device.id, available=False, since=utcnow(), last_error="timeout"))
        await session.commit()
    admin = await site.visitor("admin")
    response, body = await admin.get("/admin/inventory")
    assert response.status == 200
    for name in ("pe-bj-01", "pe-bj-02", "pe-sh-01", "pe-fra-01", "ACME-BJ-001", "CITY-SH-002", "RHEIN-FRA-001"):
        assert name in body, name
    for shown in ("Beijing DC1", "GigabitEthernet0/0/1", "200 Mbit/s", "acme-bank", "karl", "99.95 %", "2027-12-31"):
        assert shown in body, shown
    assert re.search(r"<span class=\"count\">4</span> devices", body)
    assert re.search(r"<span class=\"count\">6</span> circuits", body)
    assert ">down</span>" in body and ">never polled</span>" in body
    for secret in SECRETS:
        assert secret not in body, secret

    response, _ = await admin.get("/admin/inventory/export")
    text = await response.text()
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert "pe-bj-01" in text and "***" in text
    for secret in SECRETS:
        assert secret not in text, secret


async def test_a_dry_run_reports_the_changes_and_writes_nothing(site: Site) -> None:
    admin = await site.visitor("admin")
    await admin.get("/admin/inventory")
    before = await export(admin)
    response, body = await admin.post("/admin/inventory/import", {"text": RAISED, "dry_run": "yes"})
    assert response.status == 200
    assert "Dry run of pasted text: nothing was written" in body
    assert '<span class="count">1</span> updated' in body and '<span class="count">0</span> created' in body
    assert re.search(r"<td>contracts</td><td>ACME-2026-01</td>.*?sla\.availability_target_pct", body, re.S)
    assert text_box_in(body) == RAISED  # the text stays in the box, to apply it next
    assert await export(admin) == before


async def test_an_import_updates_what_changed(site: Site) -> None:
    admin = await site.visitor("admin")
    await admin.get("/admin/inventory/import")
    status, body = await upload(admin, "raised.yaml", RAISED.encode())
    assert status == 200
    assert "Imported raised.yaml" in body and '<span class="count">1</span> updated' in body
    assert re.search(r"<td>contracts</td><td>ACME-2026-01</td>.*?sla\.availability_target_pct", body, re.S)
    assert "99.99 %" in body  # the tables below already show what is stored now
    assert targets(await export(admin))["ACME-2026-01"] == "99.99"
    # The same file again changes nothing.
    status, body = await upload(admin, "raised.yaml", RAISED.encode())
    assert status == 200 and '<span class="count">0</span> updated' in body and "No change" in body


async def test_a_broken_inventory_shows_every_located_problem_and_writes_nothing(site: Site) -> None:
    admin = await site.visitor("admin")
    await admin.get("/admin/inventory")
    before = await export(admin)
    status, body = await upload(admin, "broken.yaml", BROKEN.encode())
    assert status == 422
    assert problems_in(body) == [
        f"broken.yaml:{line_of(BROKEN, '127.0.0.300')}: devices[3].address: "
        "'127.0.0.300' is neither an IP address nor a host name",
        f"broken.yaml:{line_of(BROKEN, 'tier: Z')}: accounts[2].tier: Input should be 'A', 'B' or 'C'",
        f"broken.yaml:{line_of(BROKEN, 'committed_rate_bps: fast')}: circuits[5].committed_rate_bps: "
        "Input should be a valid integer, unable to parse string as an integer",
    ]
    assert text_box_in(body) == BROKEN  # the file's text, to be corrected in place
    assert await export(admin) == before
    # Pasted, the references are checked too; the text stays in the box to be corrected.
    response, body = await admin.post(
        "/admin/inventory/import", {"text": EXAMPLE.replace("pe-fra-01, int", "pe-9, int")}
    )
    assert response.status == 422
    assert problems_in(body) == [
        f"pasted text:{line_of(EXAMPLE, 'device: pe-fra-01, int')}: circuits[5].device: no device named 'pe-9'"
    ]
    assert text_box_in(body) == EXAMPLE.replace("pe-fra-01, int", "pe-9, int")
    assert await export(admin) == before


async def test_unusable_input_is_refused_with_a_clear_message(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    admin = await site.visitor("admin")
    await admin.get("/admin/inventory")
    before = await export(admin)
    status, body = await upload(admin, "both.yaml", RAISED.encode(), text=RAISED)
    assert status == 422 and problems_in(body) == [
        "text, file: give either pasted text or a file, not both (clear one and try again)"
    ]
    response, body = await admin.post("/admin/inventory/import", {"text": "  "})
    assert response.status == 422 and problems_in(body) == ["text, file: paste an inventory or choose a file"]
    status, body = await upload(admin, "latin1.yaml", RAISED.replace("Ada Admin", "Adà Admin").encode("latin-1"))
    assert status == 422 and problems_in(body)[0].startswith("latin1.yaml: file: not UTF-8 text")
    status, body = await upload(admin, "nul.yaml", b"version: 1\x00\n")
    assert status == 422 and problems_in(body) == ["nul.yaml: file: may not contain NUL characters"]
    # ${VAR} is not filled in from the server's environment.
    monkeypatch.setenv("NOC_WEB_TEST_COMMUNITY", "leaked-community")
    text = EXAMPLE.replace('community: "ro-Hx92mPq7Lz"', "community: ${NOC_WEB_TEST_COMMUNITY}")
    response, body = await admin.post("/admin/inventory/import", {"text": text})
    assert response.status == 422
    assert problems_in(body) == [
        f"pasted text:{line_of(text, 'community: ${NOC_WEB')}: snmp_profiles[1].community: "
        "environment variable NOC_WEB_TEST_COMMUNITY is not set"
    ]
    assert "leaked-community" not in body
    # Above the size bound: refused before any handler runs, nothing written.
    status, _ = await upload(admin, "huge.yaml", b"#" * (MAX_UPLOAD_BYTES + 1))
    assert status == 413
    assert await export(admin) == before


async def test_an_import_without_the_csrf_token_is_refused(site: Site) -> None:
    admin = await site.visitor("admin")
    await admin.get("/admin/inventory")
    before = await export(admin)
    response, body = await admin.post("/admin/inventory/import", {"text": RAISED}, csrf="")
    assert response.status == 403 and "The form has expired" in body
    await admin.get("/admin/inventory")
    status, body = await upload(admin, "raised.yaml", RAISED.encode(), csrf="forged")
    assert status == 403
    assert await export(admin) == before


async def test_the_admin_imports_in_the_browser(site: Site, browser: Browser) -> None:
    page = await signed_in(browser, site, "admin", PHONE)
    await page.goto(site.base + "/admin/inventory")
    await expect(page.locator("table.devices")).to_contain_text("pe-fra-01")
    await page.get_by_text("Import an inventory").click()
    await page.fill("textarea[name=text]", BROKEN)
    await page.click("#import-form button[type=submit]")
    problems = page.locator("pre.problems")
    for needle, problem in (
        ("127.0.0.300", "devices[3].address: '127.0.0.300' is neither an IP address nor a host name"),
        ("tier: Z", "accounts[2].tier: Input should be 'A', 'B' or 'C'"),
        ("committed_rate_bps: fast", "circuits[5].committed_rate_bps: Input should be a valid integer"),
    ):
        await expect(problems).to_contain_text(f"pasted text:{line_of(BROKEN, needle)}: {problem}")
    await expect(page.locator("textarea[name=text]")).to_have_value(BROKEN)
    await screenshot(page, "admin-import-errors")

    # Too large for the server: refused in the page before anything is sent.
    await page.fill("textarea[name=text]", "")
    big = FilePayload(name="huge.yaml", mimeType="application/yaml", buffer=b"#" * (MAX_UPLOAD_BYTES + 1))
    await page.set_input_files("input[name=file]", files=big)
    await page.click("#import-form button[type=submit]")
    await expect(page.locator("#too-big")).to_contain_text("Too large")
    await expect(problems).to_be_visible()  # still the same page

    raised = FilePayload(name="raised.yaml", mimeType="application/yaml", buffer=RAISED.encode())
    await page.set_input_files("input[name=file]", files=raised)
    await page.click("#import-form button[type=submit]")
    outcome = page.locator("#outcome")
    await expect(outcome).to_contain_text("Imported raised.yaml")
    await expect(outcome.locator("table.changes")).to_contain_text("sla.availability_target_pct")
    await expect(page.locator("table.contracts")).to_contain_text("99.99 %")
    await screenshot(page, "admin-inventory")
