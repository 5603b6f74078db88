"""Live parts of pages over server-sent events: a page's region is sent again whenever what it shows changes.

Each stream re-renders its region every ``web.board_refresh_s`` from the database (so a change made by any
process — another ``noc serve``, the CLI — arrives) and sends it only when it differs from what it sent last; a
comment line every ``HEARTBEAT_S`` keeps proxies from closing a quiet stream. A stream ends when the viewer's
session ends or their role no longer opens the page (``signed-out``: the browser goes to the login page), and
when the server begins to stop. ``static/live.js`` is the browser side.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from noc.auth import browser_session
from noc.keys import SESSIONS, SETTINGS
from noc.web.core import COOKIE

HEARTBEAT_S = 15.0
STOPPING = web.AppKey("live_stopping", asyncio.Event)


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


async def stream(
    request: web.Request, roles: tuple[str, ...], region: Callable[[], Awaitable[str]]
) -> web.StreamResponse:
    """Sends ``region()`` as an ``update`` event whenever it changes, for as long as the viewer may see it."""
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )
    await response.prepare(request)
    sessions, token = request.app[SESSIONS], request.cookies.get(COOKIE, "")
    refresh = request.app[SETTINGS].web.board_refresh_s
    last, quiet = "", 0.0
    try:
        async for _ in _ticks(request.app):
            current = await browser_session(sessions, token)
            if current is None or current.user.role not in roles:  # signed out, or no longer allowed
                await response.write(_event("signed-out", "/login"))
                break
            html = await region()
            if html != last:
                await response.write(_event("update", html))
                last, quiet = html, 0.0
            else:
                quiet += refresh
                if quiet >= HEARTBEAT_S:
                    await response.write(b": still here\n\n")
                    quiet = 0.0
    except ConnectionResetError:
        pass  # the browser went away
    return response


async def _stop_streams(app: web.Application) -> None:
    # Before the server waits for open requests: the live streams end now instead of holding shutdown up.
    app[STOPPING].set()


def setup_live(app: web.Application) -> None:
    app[STOPPING] = asyncio.Event()
    app.on_shutdown.append(_stop_streams)
