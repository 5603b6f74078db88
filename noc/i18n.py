"""The languages people read: zh-CN (the operator's staff read Chinese first) and en, for the pages and the
customer's documents.

Text is written in English where it is used (templates' ``{% trans %}`` and ``_()``, ``N_()`` in code), extracted
by Babel into ``locale/messages.pot`` and translated in ``locale/zh_CN/LC_MESSAGES/messages.po`` (``make
messages``; a test names any message left untranslated). The catalogue is read from the ``.po`` file when first
needed (no compiled ``.mo`` to keep in step).

What is being written runs inside ``speaking(language)``: ``gettext`` reads the language from a context variable,
so one template environment and one document builder serve every language, per request and per thread (a
``to_thread`` call carries the caller's context). Outside any ``speaking``, text is the English it was written in.
"""

from __future__ import annotations

import gettext as stdlib_gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = ("zh-CN", "en")
DEFAULT = "zh-CN"  # for people who did not choose
SOURCE = "en"  # the language the text is written in
LOCALE_DIR = Path(__file__).parent / "locale"
CATALOGUE = LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po"
_speaking: ContextVar[str] = ContextVar("noc_language", default=SOURCE)


@cache
def translations(language: str) -> stdlib_gettext.NullTranslations:
    """The catalogue of a language; English is the text's own."""
    if language == SOURCE:
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
    """Marks text defined in code for extraction; it is translated where it is shown (``gettext``)."""
    return message


@contextmanager
def speaking(language: str) -> Iterator[None]:
    if language not in LANGUAGES:
        raise ValueError(f"language: one of {', '.join(LANGUAGES)}, not {language!r}")
    token = _speaking.set(language)
    try:
        yield
    finally:
        _speaking.reset(token)


def accepted(header: str) -> str | None:
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
