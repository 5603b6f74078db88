"""``/api/docs``: the OpenAPI document (``/api/openapi.json``) rendered by Swagger UI, a maintained renderer
installed by npm (``swagger-ui-dist``) and served by the app itself at ``/vendor/swagger-ui/``. Its start-up
script is a static file of ours (no inline script: the Content-Security-Policy stays strict)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from noc.keys import SETTINGS
from noc.vendor import node_modules, serve_vendor

HERE = Path(__file__).resolve().parent
SWAGGER_FILES = ("swagger-ui.css", "swagger-ui-bundle.js")
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>NOC API</title>
<link rel="stylesheet" href="/vendor/swagger-ui/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/vendor/noc/api-docs.js"></script>
</body>
</html>
"""


async def docs_page(request: web.Request) -> web.Response:
    return web.Response(text=PAGE, content_type="text/html")


async def docs_script(request: web.Request) -> web.FileResponse:
    return web.FileResponse(HERE / "static" / "docs.js", headers={"Content-Type": "text/javascript"})


async def docs_missing(request: web.Request) -> web.Response:
    return web.json_response(
        {"error": "the API documentation page needs swagger-ui-dist (run `make` or `npm ci`); "
                  "the document itself is at /api/openapi.json"},
        status=503,
    )  # fmt: skip


def setup_docs(app: web.Application) -> None:
    found = node_modules(app[SETTINGS].web.assets_dir) / "swagger-ui-dist"
    if serve_vendor(app, "/vendor/swagger-ui/", found, SWAGGER_FILES, "Swagger UI (the API documentation page)"):
        app.router.add_get("/api/docs", docs_page)
        app.router.add_get("/vendor/noc/api-docs.js", docs_script)
    else:
        app.router.add_get("/api/docs", docs_missing)
