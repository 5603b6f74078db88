"""Messages in the recipient's language, linking to the ticket, never carrying a phone number or a secret."""

from __future__ import annotations

from dataclasses import replace

import pytest

from noc.notify.compose import compose, mask_personal
from noc.notify.events import NoticeKind
from tests.notify.facts import INCIDENT, TICKET, notice

URL = "https://noc.example.net/"


def test_zh_cn_is_the_default_and_links_to_the_ticket_page() -> None:
    message = compose(notice(), "zh-CN", URL)
    assert message.link == "https://noc.example.net/tickets/7"
    assert message.subject == "[P1] 新事件 I-7：pe-bj-01 down: 3 circuit(s) affected"
    assert "详情: https://noc.example.net/tickets/7" in message.text
    assert "设备: pe-bj-01" in message.text and "客户: acme-bank, city-gov" in message.text
    assert "发现时间: 2026-11-30 08:00:00 UTC" in message.text
    assert compose(notice(), "fr", URL) == message  # a language without a catalogue falls back to zh-CN


def test_english_escalation_names_the_level_and_the_timer() -> None:
    message = compose(notice(NoticeKind.ESCALATION, TICKET, level=1, timer="response"), "en", URL)
    assert message.subject == "[P1] Ticket T-8 escalated to level 1 (response time exceeded): " + TICKET.title
    assert message.text.endswith("Details: https://noc.example.net/tickets/8")
    assert "Circuit: ACME-BJ-001" in message.text


@pytest.mark.parametrize("kind", list(NoticeKind))
@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_every_notice_has_words_in_both_languages(kind: NoticeKind, language: str) -> None:
    message = compose(notice(kind, TICKET, level=0, timer="restoration"), language, URL)
    assert "T-8" in message.subject and message.link in message.text
    assert "{" not in message.text  # every placeholder filled


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("customer called from +86 10 5555 0101 about loss", "customer called from *** about loss"),
        ("call 13800138000 or 010-5555-0202", "call *** or ***"),
        ("loss 40 % on ACME-SH-003 since 08:00, 3 circuits", "loss 40 % on ACME-SH-003 since 08:00, 3 circuits"),
        ("pe-bj-01 at 10.0.0.1 port 161", "pe-bj-01 at 10.0.0.1 port 161"),
        ("mail wang.fang@acme-bank.example now", "mail *** now"),
    ],
)
def test_phone_numbers_and_addresses_in_typed_words_are_masked(typed: str, shown: str) -> None:
    assert mask_personal(typed) == shown


def test_a_complaint_with_a_phone_number_does_not_carry_it() -> None:
    title = "ACME-BJ-001: customer (+86 10 5555 0101, w@acme.example) reports no service"
    ticket = replace(TICKET, title=title, source="complaint")
    for language in ("zh-CN", "en"):
        message = compose(notice(ticket=ticket), language, URL)
        assert "5555" not in message.subject + message.text and "acme.example" not in message.text
        assert "***" in message.subject


def test_an_incident_and_its_child_are_named_as_such() -> None:
    assert compose(notice(), "en", URL).subject.startswith("[P1] New Incident I-7")
    assert compose(notice(ticket=replace(TICKET, child=False)), "en", URL).subject.startswith("[P1] New Ticket T-8")
    assert INCIDENT.incident and not TICKET.incident
