"""The search box's page: what the header's box finds, grouped by kind, each hit linking to its page
(``noc.store.search``: the same read model and role rules as ``GET /api/search``)."""

from __future__ import annotations

from aiohttp import web

from noc.auth import BrowserSession
from noc.errors import InputError
from noc.i18n import N_
from noc.keys import SESSIONS, TICKETS
from noc.store import search as store
from noc.web.core import page, render

routes = web.RouteTableDef()
KIND_TITLES = {
    store.Kind.DEVICE: N_("Devices"),
    store.Kind.INTERFACE: N_("Interfaces"),
    store.Kind.CIRCUIT: N_("Circuits"),
    store.Kind.ACCOUNT: N_("Accounts"),
    store.Kind.TICKET: N_("Tickets"),
}


@routes.get("/search")
@page()
async def search_page(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    raw = request.query.get("q", "")
    async with request.app[SESSIONS]() as session:
        actor = await request.app[TICKETS].actor(session, viewer.user.username)
        try:
            found = await store.search(session, actor, raw)
        except InputError as exc:  # said on the page, with the box to try again
            return render(request, "search.html", status=400, search_q=raw.strip(), found=None, error=str(exc))
    return render(request, "search.html", search_q=found.q, found=found, error="", titles=KIND_TITLES)
