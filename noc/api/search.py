"""One search over devices, interfaces, circuits, accounts and ticket numbers, grouped by kind, under the role
rules (``noc.store.search``, the read model the page ``/search`` shows too)."""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from noc.api.errors import ApiError
from noc.api.routes import JSON, Call, Param, Route
from noc.errors import InputError
from noc.store import search as store


async def search(call: Call) -> web.Response:
    async with call.sessions() as session:
        actor = await call.tickets.actor(session, call.user.username)
        try:
            found = await store.search(session, actor, call.request.query.get("q"))
        except InputError as exc:
            raise ApiError(400, str(exc), "q") from exc
    return web.Response(text=found.model_dump_json(), content_type=JSON)


ROUTES: Sequence[Route] = (
    Route(
        "GET",
        "/api/search",
        search,
        "Search device names and addresses, interface names and aliases, circuit and account names, ticket numbers "
        f"(T-123 or 123): case-insensitive partial matches, at most {store.PER_KIND} per kind, what the user may see",
        "search",
        store.SearchResult,
        (
            Param(
                "q",
                "query",
                {"type": "string", "minLength": 1, "maxLength": store.MAX_QUERY},
                "what to look for",
                required=True,
            ),
        ),
        errors=(400, 401),
    ),
)
