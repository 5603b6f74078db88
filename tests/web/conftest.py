"""Page fixtures: the example operator with a password per user, the app on a real loopback port (no poller), a
form-aware HTTP client per role, and headless Chromium (Debian's, driven by Playwright) with screenshots kept as
artefacts under ``artifacts/screenshots`` (``NOC_ARTIFACTS`` moves them)."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse, ClientSession, CookieJar, TCPConnector
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page, async_playwright
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from noc import auth
from noc.app import create_app
from noc.crypto import SecretBox
from noc.inventory import service as inventory
from noc.settings import Settings, WebSettings
from tests.api.conftest import open_manual_ticket
from tests.conftest import EXAMPLE_INVENTORY
from tests.peers import require
from tickets.service import TicketService

CHROMIUM = Path("/usr/bin/chromium")
# Flags for a closed machine: no background fetches Chromium would make, no first-run or sync prompts.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(os.environ.get("NOC_ARTIFACTS", Path(__file__).parents[2] / "artifacts")) / "screenshots"
# The example operator's people, by role; tom covers the north, li the south; karl and mei manage accounts.
USERS = {"admin": "admin", "noc": "nina", "technician": "tom", "account_manager": "karl"}
ALL_USERS = ("admin", "nina", "karl", "mei", "tom", "li")
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 900}
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def password_of(username: str) -> str:
    return f"web-{username}-password"


def csrf_in(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


@dataclass
class Visitor:
    """A browser-less visitor: keeps cookies, and fills in the CSRF token of the page a form came from."""

    http: ClientSession
    base: str
    last_html: str = ""

    async def get(self, path: str, **kw: Any) -> tuple[ClientResponse, str]:
        response = await self.http.get(self.base + path, allow_redirects=kw.pop("allow_redirects", True), **kw)
        text = await response.text() if response.content_type.startswith("text/") else ""
        if text:
            self.last_html = text
        return response, text

    async def post(
        self, path: str, data: dict[str, Any], *, csrf: str | None = None, **kw: Any
    ) -> tuple[ClientResponse, str]:
        form = {"csrf": csrf if csrf is not None else csrf_in(self.last_html), **data}
        response = await self.http.post(self.base + path, data=form, **kw)
        text = await response.text() if response.content_type.startswith("text/") else ""
        if text:
            self.last_html = text
        return response, text

    async def login(self, username: str, password: str | None = None) -> ClientResponse:
        await self.get("/login")
        response, _ = await self.post("/login", {"username": username, "password": password or password_of(username)})
        return response


@dataclass
class Site:
    base: str
    sessions: async_sessionmaker[AsyncSession]
    tickets: TicketService
    visitors: list[ClientSession]

    async def visitor(
        self, username: str | None = None, from_address: str | None = None, language: str = "en"
    ) -> Visitor:
        """A browser; ``from_address`` is another loopback address to connect from (a different client). Its
        Accept-Language asks for English (the tests read the pages' English; test_i18n reads both)."""
        connector = TCPConnector(local_addr=(from_address, 0)) if from_address else None
        http = ClientSession(
            cookie_jar=CookieJar(unsafe=True), connector=connector, headers={"Accept-Language": language}
        )
        self.visitors.append(http)
        visitor = Visitor(http, self.base)
        if username is not None:
            response = await visitor.login(username)
            assert response.status == 200 and "/login" not in str(response.url), f"{username} could not sign in"
        return visitor

    async def open_ticket(
        self, circuit: str = "ACME-BJ-001", summary: str = "latency above contract", cause: str = "manual"
    ) -> int:
        return await open_manual_ticket(self.tickets, circuit, summary, cause)


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    # The pages run on SQLite here; the storage under them is tested on both databases elsewhere.
    return sqlite_url


@pytest.fixture
async def site(
    engine: object, sessions: async_sessionmaker[AsyncSession], box: SecretBox, secret_key: str, db_url: str
) -> AsyncIterator[Site]:
    await inventory.import_file(sessions, box, EXAMPLE_INVENTORY, "test")
    for username in ALL_USERS:
        await auth.set_password(sessions, username, password_of(username))
    settings = Settings(
        database_url=db_url,
        secret_key=SecretStr(secret_key),
        web=WebSettings(board_refresh_s=0.2),
    )
    server = TestServer(create_app(settings, service=False), host="127.0.0.1")
    await server.start_server()
    found = Site(str(server.make_url("")).rstrip("/"), sessions, TicketService(sessions, settings.tickets, box=box), [])
    try:
        yield found
    finally:
        for http in found.visitors:
            await http.close()
        await server.close()


@pytest.fixture
def chromium() -> Path:
    require.need(CHROMIUM.exists(), "Debian's chromium (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


async def signed_in(
    browser: Browser, site: Site, username: str, viewport: dict[str, int] = DESK, locale: str = "en-US"
) -> Page:
    """A fresh browser context signed in through the login form, its browser language ``locale``."""
    context = await browser.new_context(viewport=viewport, accept_downloads=True, locale=locale)  # type: ignore[arg-type]
    page = await context.new_page()
    await page.goto(site.base + "/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", password_of(username))
    await page.click("button[type=submit]")
    await page.wait_for_url(lambda url: "/login" not in url)
    return page


async def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path
