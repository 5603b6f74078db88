"""The NOC board: open incidents and tickets by priority with their timers, devices down, SLA breaches open now.

The page renders the board once; ``/board/events`` (``noc.web.live``) then sends the board again whenever what it
shows changes, so every screen in the room follows without reloading, each viewer seeing what their role may see.
The timers count down in the browser from the due times the server sends (``static/timers.js``), so the board does
not re-send every second.

The board calls for attention (``static/attention.js``): a ticket of the top priority that the page had not shown
before, or a ticket escalated past the level the page last showed, plays a chime (``/board/attention.wav``),
shows a browser notification once the viewer allowed them, and makes the tab's title blink until the page is seen.
What was on the board when the page loaded never alerts. Each row offers acknowledge and assign where the lifecycle
allows them (``ticket_actions``); a refusal shows the board again with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aiohttp import web
from sqlalchemy import select

from noc import models as m
from noc.api.routes import ticket_id_in
from noc.auth import BrowserSession
from noc.keys import SESSIONS, TICKETS
from noc.store.gaps import OpenGap, open_gaps
from noc.store.sla import open_breaches
from noc.timeutil import utcnow
from noc.web import live
from noc.web.chime import chime_wav
from noc.web.core import back, form_of, fragment, page, render
from noc.web.i18n import language_of
from noc.web.ticket_actions import act, list_steps_for, may_ack, may_assign
from noc.web.ticket_pages import RUNS, technician_names
from tickets import filters
from tickets.models import INCIDENT
from tickets.service import TicketSummary

BOARD_ROLES = ("noc", "admin")
BOARD_LIMIT = 500  # open tickets shown at most: a board with more has stopped being a board
ALERT_PRIORITY = "P1"  # a new ticket of this priority calls for attention (and any escalation does)
routes = web.RouteTableDef()


@dataclass(frozen=True, slots=True)
class DeviceDown:
    name: str
    region: str
    site: str
    since: datetime | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class Breach:
    circuit: str
    objective: str
    measured: str
    limit: str
    since: datetime


@dataclass(frozen=True, slots=True)
class Board:
    incidents: list[TicketSummary]
    by_priority: list[tuple[str, list[TicketSummary]]]
    devices_down: list[DeviceDown]
    gaps: list[OpenGap]  # devices nobody polls now: unknown, not down
    breaches: list[Breach]
    open_count: int
    more: bool  # the board shows the newest BOARD_LIMIT open tickets; there are more
    as_of: datetime


async def board_for(app: web.Application, username: str) -> Board:
    tickets = await app[TICKETS].list_tickets(username, filters.OPEN, limit=BOARD_LIMIT)
    incidents = [t for t in tickets if t.kind == INCIDENT]
    groups: dict[str, list[TicketSummary]] = {}
    for t in sorted((t for t in tickets if t.kind != INCIDENT), key=lambda t: (t.priority, t.id)):
        groups.setdefault(t.priority, []).append(t)
    async with app[SESSIONS]() as session:
        down = (
            await session.execute(
                select(m.Device, m.DeviceStatus)
                .join(m.DeviceStatus, m.DeviceStatus.device_id == m.Device.id)
                .where(m.DeviceStatus.available.is_(False), m.Device.enabled.is_(True))
                .order_by(m.DeviceStatus.since, m.Device.name)
            )
        ).all()
        breaches = await open_breaches(session)
        gaps = await open_gaps(session)
    return Board(
        incidents=incidents,
        by_priority=sorted(groups.items()),
        devices_down=[DeviceDown(d.name, d.region, d.site, st.since, st.last_error) for d, st in down],
        gaps=gaps,
        breaches=[
            Breach(circuit, row.objective, str(row.measured), str(row.limit), row.since) for row, circuit in breaches
        ],
        open_count=len(tickets),
        more=len(tickets) >= BOARD_LIMIT,
        as_of=utcnow(),
    )


async def _board_html(request: web.Request, viewer: BrowserSession, csrf: str | None = None) -> tuple[Board, str]:
    board = await board_for(request.app, viewer.user.username)
    steps = list_steps_for(viewer.user.role)
    html = fragment(
        request,
        "_board.html",
        board=board,
        csrf=viewer.csrf_token if csrf is None else csrf,
        steps=steps,
        may_ack=may_ack,
        may_assign=may_assign,
        technicians=await technician_names(request) if "assign" in steps else [],
    )
    return board, html


async def _board_page(request: web.Request, viewer: BrowserSession, status: int = 200, error: str = "") -> web.Response:
    board, html = await _board_html(request, viewer)
    open_count = f"{board.open_count}{'+' if board.more else ''}"
    return render(
        request,
        "board.html",
        status=status,
        board_html=html,
        open_count=open_count,
        alert_priority=ALERT_PRIORITY,
        error=error,
    )


@routes.get("/board")
@page(*BOARD_ROLES)
async def board_page(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    return await _board_page(request, viewer)


@routes.post(r"/board/tickets/{ticket_id:\d{1,12}}/{step:ack|assign}")
@page(*BOARD_ROLES)
async def board_step(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    """Acknowledge or assign from a board row, as the ticket page would; back to the board, or the board again
    with the reason and the code the API would give."""
    ticket_id, step = ticket_id_in(request), request.match_info["step"]
    form = await form_of(request)
    outcome = await act(RUNS[step], request.app[TICKETS], viewer.user.username, ticket_id, form)
    if not outcome.done:
        return await _board_page(request, viewer, outcome.status, outcome.message)
    raise back("/board", outcome.message)


@routes.get("/board/attention.wav")
async def attention_sound(request: web.Request) -> web.StreamResponse:
    return web.Response(body=chime_wav(), content_type="audio/wav", headers={"Cache-Control": "max-age=86400"})


CSRF_SLOT = "__noc_csrf_slot__"  # where each stream puts its own session's CSRF token


@routes.get("/board/events")
@page(*BOARD_ROLES)
async def board_events(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    async def region() -> str:  # one rendering for every screen of this role and language: no one's token in it
        return (await _board_html(request, viewer, csrf=CSRF_SLOT))[1]

    # The board shows every open ticket to the NOC and admins alike: its content depends on the role (the steps
    # offered) and the language, and on nobody's name.
    key = ("board", viewer.user.role, language_of(request))
    return await live.stream(
        request, BOARD_ROLES, region, key, personal=lambda html: html.replace(CSRF_SLOT, viewer.csrf_token)
    )
