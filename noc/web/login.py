"""Signing in and out. Passwords are checked by ``noc.auth`` (Argon2id); a session is a random cookie whose digest
is stored, so signing out (or an admin deactivating the user) ends it at once on every process.

Sign-in cannot be turned against users or the server (``noc.auth.attempt_sign_in``, settings ``web.login_*``):
each client address has a rate per minute, refused before any password hash runs; wrong passwords for a name
from one address delay that address's next try for that name (doubling), never other addresses; at most
``web.login_hash_concurrency`` Argon2 checks run at once per process. The counts are in the database: every
``noc serve`` process and a restart see the same ones. An admin clears a name's delays (``noc users unlock``, the
users page), and so does a new password."""

from __future__ import annotations

import asyncio
import math
import secrets
from datetime import timedelta

from aiohttp import web

from noc import i18n
from noc.api.errors import ApiError
from noc.auth import Throttle, attempt_sign_in, check_password, close_session, open_session, signed_in
from noc.keys import SESSIONS, SETTINGS
from noc.web.core import COOKIE, HOME, LOGIN_COOKIE, client_of, form_of, render, safe_next, viewer_of
from noc.web.i18n import COOKIE as LANGUAGE_COOKIE

MAX_USERNAME = 64  # the users table's limit
THROTTLE = web.AppKey("login_throttle", Throttle)
HASHING = web.AppKey("password_hashing", asyncio.Semaphore)  # bounds the CPU anonymous sign-ins can take
routes = web.RouteTableDef()
LANGUAGE_KEPT_S = 365 * 86400


def setup_login(app: web.Application) -> None:
    settings = app[SETTINGS].web
    app[THROTTLE] = Throttle(
        settings.login_rate_per_minute,
        settings.login_free_failures,
        settings.login_delay_base_s,
        settings.login_delay_max_s,
    )
    app[HASHING] = asyncio.Semaphore(settings.login_hash_concurrency)
    app.router.add_routes(routes)


def _login_form(request: web.Request, status: int = 200, error: str = "", username: str = "") -> web.Response:
    token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)
    response = render(
        request,
        "login.html",
        status=status,
        error=error,
        username=username,
        csrf=token,
        next=request.query.get("next", ""),
    )
    secure = request.app[SETTINGS].web.cookie_secure
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="Strict", secure=secure, path="/login")
    return response


@routes.get("/")
async def home(request: web.Request) -> web.StreamResponse:
    viewer = viewer_of(request)
    raise web.HTTPSeeOther(HOME.get(viewer.user.role, "/tickets") if viewer else "/login")


@routes.get("/language/{code}")
async def choose_language(request: web.Request) -> web.StreamResponse:
    """The header's language switch: remembered in a cookie (a year), then back to the page it was chosen on."""
    code = request.match_info["code"]
    if code not in i18n.LANGUAGES:
        raise web.HTTPNotFound()
    response = web.HTTPSeeOther(safe_next(request.query.get("next"), "/"))
    secure = request.app[SETTINGS].web.cookie_secure
    response.set_cookie(LANGUAGE_COOKIE, code, max_age=LANGUAGE_KEPT_S, httponly=True, samesite="Lax", secure=secure)
    raise response


@routes.get("/login")
async def login_page(request: web.Request) -> web.StreamResponse:
    return _login_form(request)


@routes.post("/login")
async def login(request: web.Request) -> web.StreamResponse:
    try:
        form = await form_of(request)
    except ApiError as exc:
        return _login_form(request, 400, exc.message)
    username, password = form.get("username", ""), form.get("password", "")
    if not username or not password:
        return _login_form(request, 400, "Enter your user name and password.", username)
    if len(username) > MAX_USERNAME:
        return _login_form(request, 400, f"username: at most {MAX_USERNAME} characters.")
    sessions = request.app[SESSIONS]
    client = client_of(request)
    verdict = await attempt_sign_in(sessions, username, client, request.app[THROTTLE])
    if not verdict.allowed:
        wait_s = max(1, math.ceil(verdict.retry_after_s))
        message = f"{verdict.reason.capitalize()}: try again in {wait_s} s, or ask an admin."
        response = _login_form(request, 429, message, username)
        response.headers["Retry-After"] = str(wait_s)
        return response
    async with request.app[HASHING]:
        user = await check_password(sessions, username, password)
    if user is None:
        return _login_form(request, 401, "Wrong user name or password.", username)
    await signed_in(sessions, username, client)
    settings = request.app[SETTINGS].web
    old = request.cookies.get(COOKIE)
    if old:
        await close_session(request.app[SESSIONS], old)  # signing in again replaces the session, never adds one
    token, _ = await open_session(request.app[SESSIONS], user, timedelta(hours=settings.session_hours))
    target = safe_next(request.query.get("next") or form.get("next"), HOME.get(user.role, "/tickets"))
    response = web.HTTPSeeOther(target)
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="Lax",
        secure=settings.cookie_secure,
        max_age=int(settings.session_hours * 3600),
        path="/",
    )
    response.del_cookie(LOGIN_COOKIE, path="/login")
    raise response


@routes.post("/logout")
async def logout(request: web.Request) -> web.StreamResponse:
    token = request.cookies.get(COOKIE)
    if token:
        await close_session(request.app[SESSIONS], token)
    response = web.HTTPSeeOther("/login")
    response.del_cookie(COOKIE, path="/")
    raise response
