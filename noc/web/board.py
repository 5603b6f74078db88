"""The NOC board: open incidents and tickets by priority with their timers, devices down, SLA breaches open now.

The page renders the board once; ``/board/events`` (server-sent events) then sends the board again whenever what
it shows changes, so every screen in the room follows without reloading. Each stream reads the database itself
every ``web.board_refresh_s``: a change made by any process (another ``noc serve``, the CLI) reaches the board,
and each viewer sees exactly what their role may see. The timers count down in the browser from the due times
the server sends (``static/board.js``), so the board does not re-send every second.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web
from sqlalchemy import select

from noc import models as m
from noc import slaflow
from noc.app import SESSIONS, SETTINGS, TICKETS
from noc.auth import BrowserSession, browser_session
from noc.timeutil import utcnow
from noc.web.core import COOKIE, fragment, page, render
from tickets.lifecycle import OPEN_STATUSES
from tickets.models import INCIDENT
from tickets.service import TicketSummary

BOARD_ROLES = ("noc", "admin")
HEARTBEAT_S = 15.0
BOARD_LIMIT = 500  # open tickets shown at most: a board with more has stopped being a board
STOPPING = web.AppKey("board_stopping", asyncio.Event)
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
    breaches: list[Breach]
    open_count: int
    more: bool  # the board shows the newest BOARD_LIMIT open tickets; there are more
    as_of: datetime


async def board_for(app: web.Application, username: str) -> Board:
    tickets = await app[TICKETS].list_tickets(username, sorted(OPEN_STATUSES), limit=BOARD_LIMIT)
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
        breaches = await slaflow.open_breaches(session)
    return Board(
        incidents=incidents,
        by_priority=sorted(groups.items()),
        devices_down=[DeviceDown(d.name, d.region, d.site, st.since, st.last_error) for d, st in down],
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


def _event(name: str, data: str) -> bytes:
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"event: {name}\n{lines}\n".encode()


async def _ticks(app: web.Application) -> AsyncIterator[None]:
    """Yields every refresh period until the app begins to stop."""
    stopping = app[STOPPING]
    while not stopping.is_set():
        yield
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), app[SETTINGS].web.board_refresh_s)


@routes.get("/board/events")
@page(*BOARD_ROLES)
async def board_events(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )
    await response.prepare(request)
    sessions, token = request.app[SESSIONS], request.cookies.get(COOKIE, "")
    last, quiet = "", 0.0
    try:
        async for _ in _ticks(request.app):
            current = await browser_session(sessions, token)
            if current is None or current.user.role not in BOARD_ROLES:  # signed out, or no longer allowed
                await response.write(_event("signed-out", "/login"))
                break
            html = _board_html(request, await board_for(request.app, viewer.user.username))
            if html != last:
                await response.write(_event("board", html))
                last, quiet = html, 0.0
            else:
                quiet += request.app[SETTINGS].web.board_refresh_s
                if quiet >= HEARTBEAT_S:
                    await response.write(b": still here\n\n")
                    quiet = 0.0
    except ConnectionResetError:
        pass  # the browser went away
    return response


async def _stop_streams(app: web.Application) -> None:
    # Before the server waits for open requests: the live streams end now instead of holding shutdown up.
    app[STOPPING].set()


def setup_board(app: web.Application) -> None:
    app[STOPPING] = asyncio.Event()
    app.on_shutdown.append(_stop_streams)
    app.router.add_routes(routes)
