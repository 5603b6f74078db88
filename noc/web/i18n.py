"""The page's language: the ``noc_lang`` cookie (set by the switch in the header), else the browser's
Accept-Language, else zh-CN. Translation itself is ``noc.i18n``."""

from __future__ import annotations

from aiohttp import web

from noc.i18n import DEFAULT, LANGUAGES, accepted

COOKIE = "noc_lang"


def language_of(request: web.Request) -> str:
    chosen = request.cookies.get(COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    return accepted(request.headers.get("Accept-Language", "")) or DEFAULT
