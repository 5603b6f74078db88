"""``/api/docs`` in headless Chromium: Swagger UI (served from node_modules by the app) renders every operation of
the app's own OpenAPI document under the strict Content-Security-Policy, loading nothing from elsewhere."""

from __future__ import annotations

import json

from playwright.async_api import Browser, expect

from tests.web.conftest import Site, screenshot

METHODS = ("get", "post", "put", "patch", "delete")


async def test_the_api_docs_page_lists_every_operation(site: Site, browser: Browser) -> None:
    response, _ = await (await site.visitor()).get("/api/openapi.json")
    paths = json.loads(await response.text())["paths"]
    operations = sum(1 for item in paths.values() for method in item if method in METHODS)
    context = await browser.new_context(viewport={"width": 1366, "height": 900})
    page = await context.new_page()
    refused: list[str] = []
    outside: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(site.base) else None)
    await page.goto(site.base + "/api/docs")
    blocks = page.locator(".opblock")
    await expect(blocks.first).to_be_visible()
    await expect(blocks).to_have_count(operations)
    await expect(page.locator(".opblock-summary-path", has_text="/api/tickets").first).to_be_visible()
    await screenshot(page, "api-docs")
    assert refused == [] and outside == []
    await context.close()
