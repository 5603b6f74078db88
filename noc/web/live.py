"""Live parts of pages over server-sent events: a page's region is sent again whenever what it shows changes.

Each stream looks at its region every ``web.board_refresh_s``, read from the database (so a change made by any
process — another ``noc serve``, the CLI — arrives), and sends it only when it differs from what it sent last; a
comment line every ``HEARTBEAT_S`` keeps proxies from closing a quiet stream. A stream ends when the viewer's
session ends or their role no longer opens the page (``signed-out``: the browser goes to the login page), and
when the server begins to stop. ``static/live.js`` is the browser side.

Streams that show the same thing share its rendering (``Fanout``): a region is rendered once per key (what decides
its content: the page, the role, the language...) and half a refresh period, whatever the number of screens
showing it, and what differs per viewer (the session's CSRF token in the board's forms) is put in per stream.
Two hundred board screens cost about what two do.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass

from aiohttp import web

from noc.auth import browser_session
from noc.keys import SESSIONS, SETTINGS
from noc.web.core import COOKIE

HEARTBEAT_S = 15.0
STOPPING = web.AppKey("live_stopping", asyncio.Event)
KEPT_PERIODS = 10  # a key no stream asked for in this many refresh periods is forgotten


@dataclass
class _Render:
    at: float
    task: asyncio.Future[str]


class Fanout:
    """One rendering per key and half refresh period, shared by every stream that asks for that key meanwhile."""

    def __init__(self, period_s: float) -> None:
        self.period_s = period_s
        self._renders: dict[Hashable, _Render] = {}
        self.rendered = 0  # how many renderings were made: what sharing saves shows here

    async def get(self, key: Hashable, render: Callable[[], Awaitable[str]], not_before: float = 0.0) -> str:
        """The rendering of ``key``: a shared one if it began less than half a period ago and not before
        ``not_before`` (a stream's first look takes none begun before it connected: its viewer may just have acted
        on what it shows), else a new one."""
        clock = asyncio.get_running_loop()
        now = clock.time()
        shared = self._renders.get(key)
        if (
            shared is None
            or now - shared.at >= self.period_s / 2
            or shared.at < not_before
            or (shared.task.done() and shared.task.exception())
        ):
            self._forget(now)
            shared = _Render(now, asyncio.ensure_future(render()))
            self._renders[key] = shared
            self.rendered += 1
        # Shielded: a viewer who goes away cancels their wait, not the rendering the others wait for.
        return await asyncio.shield(shared.task)

    def _forget(self, now: float) -> None:
        stale = [k for k, r in self._renders.items() if now - r.at > KEPT_PERIODS * self.period_s and r.task.done()]
        for key in stale:
            del self._renders[key]


FANOUT = web.AppKey("live_fanout", Fanout)


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
    request: web.Request,
    roles: tuple[str, ...],
    region: Callable[[], Awaitable[str]],
    key: Hashable,
    personal: Callable[[str], str] = lambda html: html,
) -> web.StreamResponse:
    """Sends the region as an ``update`` event whenever it changes, for as long as the viewer may see it.
    ``region()`` renders it for every viewer of ``key`` (shared); ``personal`` puts in what is this viewer's."""
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )
    await response.prepare(request)
    sessions, token = request.app[SESSIONS], request.cookies.get(COOKIE, "")
    refresh = request.app[SETTINGS].web.board_refresh_s
    last, quiet = "", 0.0
    connected = asyncio.get_running_loop().time()
    try:
        async for _ in _ticks(request.app):
            current = await browser_session(sessions, token)
            if current is None or current.user.role not in roles:  # signed out, or no longer allowed
                await response.write(_event("signed-out", "/login"))
                break
            html = personal(await request.app[FANOUT].get(key, region, not_before=connected))
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
    app[FANOUT] = Fanout(app[SETTINGS].web.board_refresh_s)
    app.on_shutdown.append(_stop_streams)
