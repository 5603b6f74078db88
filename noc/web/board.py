"""The NOC board: open incidents and tickets by priority with their timers, devices down, SLA breaches open now.

The page renders the board once; ``/board/events`` (``noc.web.live``) then sends the board again whenever what it
shows changes, so every screen in the room follows without reloading, each viewer seeing what their role may see.
The timers count down in the browser from the due times the server sends (``static/timers.js``), so the board does
not re-send every second.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aiohttp import web
from sqlalchemy import select

from noc import models as m
from noc.auth import BrowserSession
from noc.keys import SESSIONS, TICKETS
from noc.store.gaps import OpenGap, open_gaps
from noc.store.sla import open_breaches
from noc.timeutil import utcnow
from noc.web import live
from noc.web.core import fragment, page, render
from tickets import filters
from tickets.models import INCIDENT
from tickets.service import TicketSummary

BOARD_ROLES = ("noc", "admin")
BOARD_LIMIT = 500  # open tickets shown at most: a board with more has stopped being a board
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


def _board_html(request: web.Request, board: Board) -> str:
    return fragment(request, "_board.html", board=board)


@routes.get("/board")
@page(*BOARD_ROLES)
async def board_page(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    board = await board_for(request.app, viewer.user.username)
    open_count = f"{board.open_count}{'+' if board.more else ''}"
    return render(request, "board.html", board_html=_board_html(request, board), open_count=open_count)


@routes.get("/board/events")
@page(*BOARD_ROLES)
async def board_events(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    async def region() -> str:
        return _board_html(request, await board_for(request.app, viewer.user.username))

    return await live.stream(request, BOARD_ROLES, region)
