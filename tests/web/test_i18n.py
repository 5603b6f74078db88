"""Every page in zh-CN and en: no template text outside a translation, every message translated, and the pages
rendered in both languages (chosen by the header's switch, else by the browser's Accept-Language, else zh-CN)."""

from __future__ import annotations

import re
import string
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from jinja2 import Environment
from playwright.async_api import Browser, expect
from yarl import URL

from noc.i18n import CATALOGUE, LOCALE_DIR, accepted
from noc.web.core import HERE, environment
from tests.web.conftest import PHONE, Site, screenshot, signed_in
from tests.web.test_network_pages import lab

ROOT = HERE.parent.parent
TEMPLATES = sorted((HERE / "templates").glob("*.html"))
SHOWN_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "label"}
# Words that read the same in both languages: acronyms, units, codes.
SAME_IN_BOTH = {
    "NOC", "SLA", "SNMP", "SSH", "API", "UTC", "CSV", "JSON", "PDF", "ID", "IP", "CNY", "RTT", "MIB", "P1", "P2",
    "P3", "P4", "ms", "bps", "kbit", "Mbit", "Gbit", "s", "PE", "OpenAPI", "Prometheus", "ifIndex", "ifAlias",
    "sysName", "sysDescr", "T", "I",
}  # fmt: skip
PLACEHOLDER = "\x1f"


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_data(self, data: str) -> None:
        self.found.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and (
                name in SHOWN_ATTRIBUTES or (tag == "input" and name == "value" and ("type", "submit") in attrs)
            ):
                self.found.append(value)


def untranslated(env: Environment, source: str) -> list[str]:
    """The words of a template shown to people outside a ``{% trans %}`` block or ``_()``: its data with every tag
    and expression replaced by a placeholder, read as HTML (text and shown attributes)."""
    kept: list[str] = []
    in_trans = False
    tag: list[str] = []
    for _, kind, value in env.lex(source):
        if kind == "block_begin":
            tag = []
        elif kind == "name" and not tag:
            tag.append(value)
            in_trans = {"trans": True, "endtrans": False}.get(value, in_trans)
        if kind == "data" and not in_trans:
            kept.append(value)
        elif kind in ("variable_begin", "block_begin"):
            kept.append(PLACEHOLDER)
    parser = _Text()
    parser.feed("".join(kept))
    words = []
    for text in parser.found:
        for word in re.findall(r"[^\s" + re.escape(string.punctuation + PLACEHOLDER) + r"·—–→←›‹×…]+", text):
            if not any(c.isdigit() for c in word) and word not in SAME_IN_BOTH:  # codes and times pass
                words.append(word)
    return words


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_no_template_text_is_left_untranslated(template: Path) -> None:
    assert untranslated(environment(), template.read_text(encoding="utf-8")) == []


def test_the_checker_finds_text_outside_a_translation() -> None:
    source = '<p title="Down {{ x }}">{% trans %}Up{% endtrans %} since {{ t }}</p><b>{{ _("ok") }}</b> 42 ms'
    assert untranslated(environment(), source) == ["Down", "since"]


BRACED = re.compile(r"\{(\w+)\}")


def _braced(message: object) -> bool:
    return isinstance(message, str) and "%(" not in message and bool(BRACED.search(message))


def test_every_message_has_its_zh_cn_translation() -> None:
    method_map = [
        ("noc/web/**.py", "python"),
        ("sla/documents/wording.py", "python"),
        ("sla/documents/text.py", "python"),
        ("noc/web/templates/**.html", "jinja2"),
    ]
    options = {"noc/web/templates/**.html": {"trimmed": "true"}}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    extracted = {
        message if isinstance(message, str) else message[0]
        for _, _, message, _, _ in extract_from_dir(str(ROOT), method_map, options, keywords=keywords)
        if message
    }
    with CATALOGUE.open("rb") as po:
        catalog = read_po(po, locale="zh_CN")
    missing = sorted(m for m in extracted if m not in catalog)
    assert missing == [], "run `make messages` and translate these"
    untranslated_ids = sorted(
        str(m.id)
        for m in catalog
        if m.id and (m.fuzzy or not (m.string if isinstance(m.string, str) else all(m.string)))
    )
    assert untranslated_ids == []
    # Templates' messages are %-format (Jinja's); the documents' are str.format ({share}), which Babel's check
    # takes for %-format when a "%" sign follows a placeholder: those are checked by their braces instead.
    problems = [(str(m.id), [str(e) for e in errors]) for m, errors in catalog.check() if not _braced(m.id)]
    assert problems == []
    braces = [
        str(m.id)
        for m in catalog
        if m.id and _braced(m.id) and set(BRACED.findall(str(m.string))) - set(BRACED.findall(str(m.id)))
    ]
    assert braces == [], "a translation names a placeholder its message does not give"
    assert (LOCALE_DIR / "messages.pot").exists()


@pytest.mark.parametrize(
    ("header", "chosen"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("en-US,en;q=0.9", "en"),
        ("de-DE,en;q=0.5,zh;q=0.4", "en"),
        ("zh-TW", "zh-CN"),
        ("fr, de", None),
        ("en;q=0, zh;q=0.1", "zh-CN"),
        ("en;q=bad", None),
    ],
)
def test_the_browser_language_picks_ours_by_quality(header: str, chosen: str | None) -> None:
    assert accepted(header) == chosen


PAGES = [
    "/board",
    "/devices",
    "/devices/pe-bj-01",
    "/devices/pe-bj-01/interface?name=GigabitEthernet0/0/1",
    "/circuits/ACME-BJ-001",
    "/accounts",
    "/accounts/acme-bank",
    "/accounts/acme-bank/weekly",
    "/reports/ACME-2026-01",
    "/tickets",
    "/tickets/1",
    "/queue?technician=tom-north",
    "/search?q=pe-bj",
    "/admin/inventory",
    "/admin/users",
    "/admin/audit",
]
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.peers
async def test_every_page_renders_in_both_languages(site: Site) -> None:
    await lab(site)  # a device down, traffic, probes, an outage and a ticket: the pages show data
    for language in ("zh-CN", "en"):
        admin = await site.visitor("admin", language=language)
        for path in PAGES:
            response, html = await admin.get(path)
            assert response.status == 200, (language, path)
            assert f'<html lang="{language}">' in html, (language, path)
            assert "%(" not in html and "{{" not in html and "{%" not in html, (language, path)
            main = html.split("<main>", 1)[1]
            assert bool(CJK.search(main)) == (language == "zh-CN"), (language, path)


@pytest.mark.peers
async def test_the_switch_remembers_the_language_and_goes_back(site: Site) -> None:
    nina = await site.visitor("nina", language="zh-CN")
    _, html = await nina.get("/devices")
    assert '<html lang="zh-CN">' in html and "没有匹配的设备" not in html and "<h1>设备</h1>" in html
    response, html = await nina.get("/language/en?next=/devices%3Fregion%3Dnorth")
    assert str(response.url).endswith("/devices?region=north") and "<h1>Devices</h1>" in html
    _, html = await nina.get("/tickets")  # the cookie outranks the browser's zh-CN
    assert '<html lang="en">' in html
    response, _ = await nina.get("/language/en?next=https://evil.example/", allow_redirects=False)
    assert response.headers["Location"] == "/"
    response, _ = await nina.get("/language/fr", allow_redirects=False)
    assert response.status == 404
    stranger = await site.visitor(language="de-DE,de;q=0.9")
    _, html = await stranger.get("/login")
    assert '<html lang="zh-CN">' in html and "<h1>登录</h1>" in html  # neither of ours: zh-CN


@pytest.mark.peers
async def test_a_chinese_browser_gets_the_board_in_chinese_on_a_phone(site: Site, browser: Browser) -> None:
    """Chromium set to zh-CN: the board in Chinese, no sideways scroll at 390 px, the switch to English kept."""
    await lab(site)
    page = await signed_in(browser, site, "nina", PHONE, locale="zh-CN")
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    await expect(page.locator("#open-count")).to_contain_text("个未关闭")
    await expect(page.locator("#live")).to_have_attribute("data-state", "live")
    await expect(page.locator("#live")).to_have_text("实时")  # the live script's words are the page's
    await expect(page.locator("time[data-due]").first).to_contain_text("剩余")  # and the timers'

    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await screenshot(page, "board-zh-phone")
    await page.click("nav.language a[hreflang=en]")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.locator("#open-count")).to_contain_text("open")
    assert URL(page.url).path == "/board"


@pytest.mark.peers
async def test_what_a_step_says_is_in_the_page_s_language(site: Site) -> None:
    ticket = await site.open_ticket(summary="loss towards the branch")
    nina = await site.visitor("nina", language="zh-CN")
    await nina.get(f"/tickets/{ticket}")
    _, html = await nina.post(f"/tickets/{ticket}/ack", {})
    assert f'<p class="notice" role="status">T-{ticket} 已确认</p>' in html
    tom = await site.visitor("tom", language="zh-CN")
    response, html = await tom.get("/admin/users")
    assert response.status == 403 and "tom（technician）无权打开此页面" in html
