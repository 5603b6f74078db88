"""The pages' languages: zh-CN (the operator's staff read Chinese first: the default) and en.

Template text is English in the templates (``{% trans %}`` blocks and ``_()``), extracted by Babel into
``locale/messages.pot`` and translated in ``locale/zh_CN/LC_MESSAGES/messages.po`` (``make messages`` extracts and
updates; a test finds any template text outside a translation and any message without its translation). The
catalogue is read from the ``.po`` file at the first page (no compiled ``.mo`` to keep in step).

The language of a page: the ``noc_lang`` cookie (set by the switch in the header), else the browser's
Accept-Language, else zh-CN. Rendering runs with it in a context variable, which the templates' ``gettext`` reads,
so one environment serves every language.
"""

from __future__ import annotations

import gettext as stdlib_gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from aiohttp import web
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = ("zh-CN", "en")
DEFAULT = "zh-CN"
COOKIE = "noc_lang"
LOCALE_DIR = Path(__file__).parent / "locale"
CATALOGUE = LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po"
_speaking: ContextVar[str] = ContextVar("noc_page_language", default=DEFAULT)


@cache
def translations(language: str) -> stdlib_gettext.NullTranslations:
    """The catalogue of a language; English is the templates' own text."""
    if language == "en":
        return stdlib_gettext.NullTranslations()
    with CATALOGUE.open("rb") as po:
        catalog = read_po(po, locale="zh_CN")
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled)


def gettext(message: str) -> str:
    return translations(_speaking.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_speaking.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks text defined in code (menu labels) for extraction; the template translates it where it shows it."""
    return message


@contextmanager
def speaking(language: str) -> Iterator[None]:
    token = _speaking.set(language)
    try:
        yield
    finally:
        _speaking.reset(token)


def _accepted(header: str) -> str | None:
    """The first of our languages in an Accept-Language header, by its q-values (``zh``, ``zh-TW`` → zh-CN)."""
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-")[0]
        language = {"zh": "zh-CN", "en": "en"}.get(primary)
        if language is not None and q > 0:
            ranked.append((-q, i, language))
    return min(ranked)[2] if ranked else None


def language_of(request: web.Request) -> str:
    chosen = request.cookies.get(COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    return _accepted(request.headers.get("Accept-Language", "")) or DEFAULT
