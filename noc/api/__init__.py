"""The REST API under ``/api/``: routes from one table (``noc.api.routes``), its OpenAPI document at
``/api/openapi.json`` (rendered at ``/api/docs``), token authentication and the tickets service's role rules on
every route."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from noc.auth import TokenCache

OPENAPI = web.AppKey("openapi", dict[str, Any])
TOKENS = web.AppKey("token_cache", TokenCache)


async def serve_openapi(request: web.Request) -> web.Response:
    return web.json_response(request.app[OPENAPI])


def setup_api(app: web.Application) -> None:
    # Imported here, not above: the routes use noc.app's keys and noc.app imports this package, so the package
    # itself stays light and either module can be imported first.
    from noc.api.docs import setup_docs
    from noc.api.openapi import build_document
    from noc.api.routes import wrap
    from noc.api.table import ROUTES
    from noc.api.webhook import PATH, alertmanager_webhook
    from noc.keys import SETTINGS

    # Built once: the document depends on code only, never on data.
    app[OPENAPI] = build_document(ROUTES)
    app[TOKENS] = TokenCache(app[SETTINGS].web.token_cache_s)
    app.router.add_get("/api/openapi.json", serve_openapi)
    setup_docs(app)
    app.router.add_post(PATH, alertmanager_webhook)
    for route in ROUTES:
        app.router.add_route(route.method, route.path, wrap(route))
