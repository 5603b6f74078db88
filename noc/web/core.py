"""What every page shares: the signed-in viewer, the templates, role checks, CSRF, and errors as pages.

A page handler is ``async def view(request, viewer) -> web.StreamResponse`` decorated with ``@page(roles...)``:
no viewer → redirect to the login page (coming back afterwards); a role not listed → a 403 page; the errors the
tickets service and the inventory raise → a page with the same status code and message the API would give.

Forms: every POST carries the session's CSRF token (``csrf`` field); the middleware refuses a POST without it, or
from another origin, or with bytes that are not text, before any handler runs. Cookies are HttpOnly and
SameSite=Lax; the security headers (Content-Security-Policy: no inline script, no third-party resource) are set on
every answer by ``noc.app``.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web
from pydantic import ValidationError
from yarl import URL

from noc import i18n
from noc.api.errors import ApiError, error_response, records_status, ticket_status
from noc.auth import BrowserSession, browser_session
from noc.db import is_transient
from noc.errors import InputError
from noc.i18n import N_
from noc.keys import SESSIONS
from noc.records.errors import TamperedDocument
from noc.web import units
from noc.web.i18n import language_of
from sla.documents.text import maintenance_rule
from tickets.errors import TicketError

log = logging.getLogger(__name__)

COOKIE = "noc_session"
LOGIN_COOKIE = "noc_login_csrf"
VIEWER = web.RequestKey("viewer", BrowserSession)  # absent: nobody signed in
JINJA = web.AppKey("jinja", jinja2.Environment)
HERE = Path(__file__).parent
# Where each role lands after signing in, and the pages its menu lists.
HOME = {"admin": "/board", "noc": "/board", "technician": "/queue", "account_manager": "/accounts"}
MENU: Mapping[str, tuple[tuple[str, str], ...]] = {
    "admin": (
        ("/board", N_("Board")),
        ("/devices", N_("Devices")),
        ("/tickets", N_("Tickets")),
        ("/accounts", N_("Accounts")),
        ("/admin/inventory", N_("Inventory")),
        ("/admin/users", N_("Users")),
        ("/admin/audit", N_("Audit")),
        ("/reviews", N_("Reviews")),
    ),
    "noc": (
        ("/board", N_("Board")),
        ("/devices", N_("Devices")),
        ("/tickets", N_("Tickets")),
        ("/accounts", N_("Accounts")),
        ("/reviews", N_("Reviews")),
    ),
    "technician": (("/queue", N_("My queue")), ("/devices", N_("Devices")), ("/tickets", N_("Tickets"))),
    "account_manager": (("/accounts", N_("My accounts")), ("/tickets", N_("Tickets"))),
}
# The roles as the header names them.
ROLE_NAMES = {
    "admin": N_("administrator"),
    "noc": N_("NOC engineer"),
    "technician": N_("field technician"),
    "account_manager": N_("account manager"),
}
# The words for the codes pages show: a ticket's status, a device's or an interface's state (ifOperStatus).
WORDS = {
    "new": N_("new"),
    "acknowledged": N_("acknowledged"),
    "dispatched": N_("dispatched"),
    "in_progress": N_("in progress"),
    "pending_customer": N_("pending customer"),
    "resolved": N_("resolved"),
    "closed": N_("closed"),
    "reopened": N_("reopened"),
    "up": N_("up"),
    "down": N_("down"),
    "unknown": N_("unknown"),
    "disabled": N_("disabled"),
    "testing": N_("testing"),
    "dormant": N_("dormant"),
    "notPresent": N_("not present"),
    "lowerLayerDown": N_("lower layer down"),
}
PageHandler = Callable[[web.Request, BrowserSession], Awaitable[web.StreamResponse]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _when(value: datetime | None, zone: str = "UTC") -> str:
    """A timestamp as the NOC reads it: local to the given zone, to the minute, with the zone's abbreviation."""
    if value is None:
        return "—"
    return value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


def _iso(value: datetime | None) -> str:
    return "" if value is None else value.isoformat()


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.policies["ext.i18n.trimmed"] = True  # a {% trans %} block's whitespace is one space, as extracted
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["role_names"] = ROLE_NAMES
    env.filters["word"] = lambda code: i18n.gettext(WORDS.get(str(code), str(code).replace("_", " ")))
    env.globals["languages"] = i18n.LANGUAGES
    env.filters["when"] = _when
    env.filters["iso"] = _iso
    env.filters["bits"] = units.bits
    env.filters["ratio_pct"] = units.ratio_pct
    env.filters["number"] = units.number
    env.filters["duration"] = units.duration
    env.filters["filesize"] = units.size_text
    env.globals["objective_value"] = units.objective_value
    env.globals["maintenance_rule"] = maintenance_rule
    # A name as one path segment: "/" too is escaped (names may hold it; urlencode keeps it, splitting the path).
    env.filters["segment"] = lambda text: quote(str(text), safe="")
    return env


def viewer_of(request: web.Request) -> BrowserSession | None:
    return request.get(VIEWER)


def client_of(request: web.Request) -> str:
    """The peer's address as the server sees it (a proxy in front must be the one to tell clients apart)."""
    return request.remote or ""


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    viewer = viewer_of(request)
    menu = MENU.get(viewer.user.role, ()) if viewer else ()
    language = language_of(request)
    with i18n.speaking(language):
        html = (
            request.app[JINJA]
            .get_template(template)
            .render(
                viewer=viewer,
                menu=menu,
                path=request.path,
                here_query=request.query_string,
                notice=request.query.get("notice", ""),
                lang=language,
                **context,
            )
        )
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


def fragment(request: web.Request, template: str, **context: Any) -> str:
    with i18n.speaking(language_of(request)):
        return str(request.app[JINJA].get_template(template).render(**context))


def error_status(exc: Exception) -> tuple[int, str] | None:
    """The status and message of an error we expect (the API's mapping), or None for a bug."""
    if isinstance(exc, ApiError):
        return exc.status, exc.message
    if isinstance(exc, TicketError):
        return ticket_status(exc), str(exc)
    records = records_status(exc)
    if records is not None:
        return records, str(exc)
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "form"
        return 422, f"{where}: {first['msg']}"
    if isinstance(exc, InputError):
        return 422, str(exc)
    return None


def page(*roles: str) -> Callable[[PageHandler], Handler]:
    """Sign-in and role check around a page handler; expected errors become an error page."""

    def decorate(view: PageHandler) -> Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            with i18n.speaking(language_of(request)):  # what the handler says (its notices), in the page's language
                return await checked(request)

        async def checked(request: web.Request) -> web.StreamResponse:
            viewer = viewer_of(request)
            if viewer is None:
                raise web.HTTPSeeOther(f"/login?next={quote(request.path_qs, safe='')}")
            if roles and viewer.user.role not in roles:
                message = i18n.gettext("%(user)s (%(role)s) may not open this page") % {
                    "user": viewer.user.username,
                    "role": viewer.user.role,
                }
                return render(request, "error.html", status=403, message=message)
            try:
                return await view(request, viewer)
            except (ApiError, TicketError, ValidationError, InputError, TamperedDocument) as exc:
                found = error_status(exc)
                assert found is not None
                return render(request, "error.html", status=found[0], message=found[1])

        return handler

    return decorate


def safe_next(target: str | None, fallback: str) -> str:
    """Only a path on this site: never an absolute URL (an open redirect) nor a protocol-relative one."""
    if not target or not target.startswith("/") or "\\" in target or any(ord(c) < 0x21 or c == "\x7f" for c in target):
        return fallback  # control characters and spaces too: URL parsers drop some, turning "/\t/x" into "//x"
    normalised = URL(target)
    if normalised.is_absolute() or str(normalised).startswith("//"):
        return fallback
    return str(normalised)


def back(location: str, notice: str = "") -> web.HTTPSeeOther:
    """Post/redirect/get, with a one-line notice shown on the next page."""
    sep = "&" if "?" in location else "?"
    return web.HTTPSeeOther(f"{location}{sep}notice={quote(notice)}" if notice else location)


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    if not origin or origin == "null":
        return origin is None  # no header: a non-browser client (the token is still checked); "null": refuse
    return urlsplit(origin).netloc == request.host


def is_page_path(path: str) -> bool:
    return not (path.startswith("/api/") or path in ("/metrics", "/healthz") or path.startswith("/static/"))


RETRY_AFTER_S = 10
UNAVAILABLE = "The database cannot be reached right now; nothing was changed. Try again in a moment."


@web.middleware
async def unavailable(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The outermost layer: a database that is away is a 503 with Retry-After (JSON for the API, the error page for
    people), never a plain-text 500; what was being done was not done."""
    try:
        return await handler(request)
    except Exception as exc:
        if not is_transient(exc):
            raise
        log.warning("%s %s: the database cannot be reached (%s)", request.method, request.path, type(exc).__name__)
        headers = {"Retry-After": str(RETRY_AFTER_S)}
        if not is_page_path(request.path):
            response = error_response(503, UNAVAILABLE)
        else:
            request.pop(VIEWER, None)  # the session could not be read: show the page as to anyone
            response = render(request, "error.html", status=503, message=UNAVAILABLE)
        response.headers.update(headers)
        return response


@web.middleware
async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not is_page_path(request.path):
        return await handler(request)
    for name, value in (("path", request.path), *request.query.items()):
        if "\x00" in value:  # PostgreSQL text cannot hold NUL: bad input, refused before any query
            return render(request, "error.html", status=400, message=f"{name}: may not contain NUL characters")
    token = request.cookies.get(COOKIE)
    if token:
        found = await browser_session(request.app[SESSIONS], token)
        if found is not None:
            request[VIEWER] = found
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        if not _same_origin(request):
            return render(request, "error.html", status=403, message="This form came from another site: refused.")
        try:
            form = await request.post()  # cached: the handler reads the same parsed form
        except web.HTTPRequestEntityTooLarge:
            message = "The form is larger than 1 MiB (the server's request limit): nothing was done."
            return render(request, "error.html", status=413, message=message)
        except ValueError:  # bytes that are not text in the form's charset (UnicodeDecodeError), a broken body
            message = "form: the form's bytes are not text in its declared character set: nothing was done."
            return render(request, "error.html", status=400, message=message)
        given = str(form.get("csrf", ""))
        viewer = viewer_of(request)
        if viewer is None and request.path != "/login":
            raise web.HTTPSeeOther("/login")  # the session ended (signed out, expired): nothing to act for
        expected = viewer.csrf_token if viewer else request.cookies.get(LOGIN_COOKIE, "")
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            message = "The form has expired or did not come from this site: reload the page and try again."
            return render(request, "error.html", status=403, message=message)
    response = await handler(request)
    if viewer_of(request) is not None:
        response.headers.setdefault("Cache-Control", "no-store")
    return response


async def form_of(request: web.Request) -> dict[str, str]:
    """The posted form's text fields, stripped (uploads are read by their handlers); NUL is refused."""
    fields = {k: v.strip() for k, v in (await request.post()).items() if isinstance(v, str)}
    for name, value in fields.items():
        if "\x00" in value:
            raise ApiError(422, f"{name}: may not contain NUL characters", name)
    return fields
