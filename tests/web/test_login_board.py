"""Signing in and out, CSRF, role checks, and the NOC board's live feed, through HTTP and in headless Chromium."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from playwright.async_api import Browser, expect
from sqlalchemy import select
from yarl import URL

from collectors.gaps import GapChange
from noc import auth
from noc import models as m
from noc.store.gaps import write_gaps
from noc.web.core import ROLE_NAMES, environment
from tests.web.conftest import PHONE, USERS, Site, Visitor, csrf_in, password_of, screenshot, signed_in

HOMES = {"admin": "/board", "noc": "/board", "technician": "/queue", "account_manager": "/accounts"}


async def test_each_role_lands_on_its_home_page(site: Site) -> None:
    for role, username in USERS.items():
        visitor = await site.visitor()
        response = await visitor.login(username)
        assert response.url.path == HOMES[role], role
        assert f"{username} · {ROLE_NAMES[role]}" in visitor.last_html  # the role as people name it


async def test_a_page_without_a_session_sends_to_login_and_back(site: Site) -> None:
    visitor = await site.visitor()
    response, _ = await visitor.get("/board", allow_redirects=False)
    location = URL(response.headers["Location"])
    assert response.status == 303 and location.path == "/login" and location.query["next"] == "/board"
    await visitor.get("/login?next=%2Fboard")
    response, _ = await visitor.post("/login?next=%2Fboard", {"username": "nina", "password": password_of("nina")})
    assert response.url.path == "/board"


async def test_a_wrong_password_is_refused_without_saying_which_part(site: Site) -> None:
    visitor = await site.visitor()
    for username in ("nina", "nobody"):
        await visitor.get("/login")
        response, html = await visitor.post("/login", {"username": username, "password": "not-the-password"})
        assert response.status == 401 and "Wrong user name or password." in html
    response, _ = await visitor.get("/board", allow_redirects=False)
    assert response.status == 303


async def test_nul_in_a_form_or_query_is_refused_naming_the_field(site: Site) -> None:
    visitor = await site.visitor()
    await visitor.get("/login")
    response, html = await visitor.post("/login", {"username": "ni\x00na", "password": "whatever-long"})
    assert response.status == 400 and "username: may not contain NUL characters" in html
    nina = await site.visitor("nina")
    response, html = await nina.get("/tickets?status=new%00")
    assert response.status == 400 and "status: may not contain NUL characters" in html


async def test_repeated_wrong_passwords_delay_that_address_not_the_user(site: Site) -> None:
    visitor = await site.visitor()
    for _ in range(3):  # web.login_free_failures
        await visitor.get("/login")
        response, _ = await visitor.post("/login", {"username": "nina", "password": "guess-guess-guess"})
        assert response.status == 401
    await visitor.get("/login")
    response, html = await visitor.post("/login", {"username": "nina", "password": password_of("nina")})
    assert response.status == 429 and "Too many wrong passwords: try again in" in html
    assert int(response.headers["Retry-After"]) >= 1
    # Another name is not affected, nor nina signing in from another address.
    assert (await visitor.login("admin")).url.path == "/board"
    elsewhere = await site.visitor(from_address="127.0.0.2")
    assert (await elsewhere.login("nina")).url.path == "/board"


async def test_an_open_redirect_after_login_is_refused(site: Site) -> None:
    for target in (
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
    ):
        visitor = await site.visitor()
        await visitor.get("/login")
        response, _ = await visitor.post(f"/login?next={target}", {"username": "nina", "password": password_of("nina")})
        assert response.url.host == "127.0.0.1" and response.url.path == "/board", target


async def test_a_form_without_the_session_csrf_token_is_refused(site: Site) -> None:
    visitor = await site.visitor("nina")
    response, html = await visitor.post("/logout", {}, csrf="forged")
    assert response.status == 403 and "The form has expired" in html
    response, _ = await visitor.get("/board", allow_redirects=False)
    assert response.status == 200  # still signed in
    # From another origin, even with the right token.
    await visitor.get("/board")
    response, html = await visitor.post("/logout", {}, headers={"Origin": "http://evil.example"})
    assert response.status == 403


async def test_guesses_sent_at_once_cannot_all_pass_the_lock(site: Site) -> None:
    visitor = await site.visitor()
    await visitor.get("/login")
    csrf = csrf_in(visitor.last_html)
    answers = await asyncio.gather(
        *(visitor.post("/login", {"username": "nina", "password": f"guess-{i:04d}-x"}, csrf=csrf) for i in range(12))
    )
    assert sum(response.status == 401 for response, _ in answers) <= 3  # web.login_free_failures
    assert {response.status for response, _ in answers} <= {401, 429}


async def test_a_new_password_ends_the_users_sessions(site: Site) -> None:
    visitor = await site.visitor("nina")
    await auth.set_password(site.sessions, "nina", "a-brand-new-password")
    response, _ = await visitor.get("/board", allow_redirects=False)
    assert response.status == 303  # the cookie made with the old password opens nothing


async def test_signing_in_again_replaces_the_session(site: Site) -> None:
    visitor = await site.visitor("nina")
    first = session_cookie(site, visitor)
    assert (await visitor.login("nina")).url.path == "/board"
    assert not await cookie_opens_the_board(site, first)


async def test_the_live_board_stops_when_the_user_may_no_longer_see_it(site: Site) -> None:
    visitor = await site.visitor("nina")
    async with visitor.http.get(site.base + "/board/events") as stream:
        assert (await stream.content.readline()).startswith(b"event: update")
        async with site.sessions() as session:
            user = await session.scalar(select(m.User).where(m.User.username == "nina"))
            assert user is not None
            user.role = "account_manager"
            await session.commit()
        seen = b""
        async with asyncio.timeout(30):
            while b"event: signed-out" not in seen:
                line = await stream.content.readline()
                assert line, "the stream ended without saying why"
                seen += line


def test_names_are_escaped_as_one_path_segment() -> None:
    assert environment().from_string("/accounts/{{ name | segment }}").render(name="acme/east 1") == (
        "/accounts/acme%2Feast%201"
    )


async def test_login_itself_needs_its_csrf_cookie(site: Site) -> None:
    visitor = await site.visitor()
    response, _ = await visitor.post("/login", {"username": "nina", "password": password_of("nina")}, csrf="made-up")
    assert response.status == 403


async def test_sign_out_ends_the_session_on_the_server(site: Site) -> None:
    visitor = await site.visitor("nina")
    cookie = session_cookie(site, visitor)
    await visitor.get("/board")
    response, _ = await visitor.post("/logout", {})
    assert response.url.path == "/login"
    assert not await cookie_opens_the_board(site, cookie)  # replayed by someone who copied it: nothing


def session_cookie(site: Site, visitor: Visitor) -> str:
    return visitor.http.cookie_jar.filter_cookies(URL(site.base))["noc_session"].value


async def cookie_opens_the_board(site: Site, cookie: str) -> bool:
    replay = await site.visitor()
    replay.http.cookie_jar.update_cookies({"noc_session": cookie})
    response, _ = await replay.get("/board", allow_redirects=False)
    return response.status == 200


async def test_pages_refuse_roles_they_are_not_for(site: Site) -> None:
    technician = await site.visitor("tom")
    response, html = await technician.get("/board")
    assert response.status == 403 and "may not open this page" in html
    response, _ = await technician.get("/board/events")
    assert response.status == 403


async def test_pages_carry_security_headers_and_no_cache(site: Site) -> None:
    visitor = await site.visitor()
    signed_in = await visitor.login("nina")
    set_cookie = next(c for c in signed_in.history[0].headers.getall("Set-Cookie") if c.startswith("noc_session="))
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
    response, _ = await visitor.get("/board")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


async def test_board_shows_open_tickets_devices_down_and_breaches(site: Site) -> None:
    ticket_id = await site.open_ticket(summary="loss above contract")
    visitor = await site.visitor("nina")
    _, html = await visitor.get("/board")
    assert f"T-{ticket_id}" in html and "loss above contract" in html
    assert 'data-due="' in html  # the timers the browser counts down


async def test_board_lists_devices_nobody_polls_as_not_monitored_not_down(site: Site) -> None:
    async with site.sessions() as session:
        device = await session.scalar(select(m.Device).order_by(m.Device.name).limit(1))
        assert device is not None
        since = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
        await write_gaps(session, [GapChange(device.name, since)])
        await session.commit()
    visitor = await site.visitor("nina")
    _, html = await visitor.get("/board")
    assert "1 not monitored" in html and f'class="monitoring-gap" data-device="{device.name}"' in html
    assert "0 devices down" in html  # unknown is not down
    async with site.sessions() as session:  # the next poll ends it: the board no longer lists it
        await write_gaps(session, [GapChange(device.name, since, since + timedelta(minutes=3))])
        await session.commit()
    _, html = await visitor.get("/board")
    assert "not monitored" not in html.lower()


async def test_board_says_when_the_customer_holds_the_restore_clock(site: Site) -> None:
    ticket_id = await site.open_ticket()
    await site.tickets.acknowledge("nina", ticket_id)
    await site.tickets.assign("nina", ticket_id, "tom-north")
    await site.tickets.start_work("tom", ticket_id)
    visitor = await site.visitor("nina")
    _, html = await visitor.get("/board")
    assert "restore clock stopped" not in html
    await site.tickets.wait_on_customer("tom", ticket_id, "the customer is away")
    _, html = await visitor.get("/board")
    row = html[html.index(f'data-ref="T-{ticket_id}"') :].split("</li>")[0]
    assert "restore clock stopped" in row and "restore <time" not in row


async def test_board_updates_live_when_a_ticket_opens(site: Site, browser: Browser) -> None:
    page = await signed_in(browser, site, "nina")
    await expect(page.locator("#live")).to_have_attribute("data-state", "live")
    await expect(page.locator("li.ticket")).to_have_count(0)
    url_before = page.url
    ticket_id = await site.open_ticket(summary="rising loss on the Beijing link")
    row = page.locator(f'li.ticket[data-ref="T-{ticket_id}"]')
    await expect(row).to_be_visible()
    await expect(row).to_contain_text("rising loss on the Beijing link")
    await expect(row.locator("time").first).to_contain_text("left")  # the timer counts in the browser
    await expect(page).to_have_title("1 open · Board · NOC")  # a background tab still tells
    assert page.url == url_before
    await screenshot(page, "board")


async def test_board_is_usable_on_a_phone(site: Site, browser: Browser) -> None:
    await site.open_ticket(summary="latency above contract")
    page = await signed_in(browser, site, "nina", PHONE)
    await expect(page.locator("li.ticket")).to_have_count(1)
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the board scrolls sideways on a phone"
    await screenshot(page, "board-phone")


async def test_signing_out_in_the_browser_returns_to_login(site: Site, browser: Browser) -> None:
    page = await signed_in(browser, site, "nina")
    await page.click("form.logout button")
    await page.wait_for_url("**/login")
    await page.goto(site.base + "/board")
    assert URL(page.url).path == "/login" and URL(page.url).query["next"] == "/board"
