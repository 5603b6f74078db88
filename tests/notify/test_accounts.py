"""Key accounts' reminders: a contract nearing its end and contacts due for re-verification reach the account
manager through the channels, once per stage (pure rules) and end to end to the real SMTP server and the signed
webhook receiver, never carrying a contact's personal data."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from noc.notify.accounts import (
    AccountFacts,
    AccountNoticeKind,
    ExpiringContract,
    UnverifiedContacts,
    expiry_notices,
    expiry_stages,
    reverify_notices,
)
from noc.notify.compose import compose_account
from noc.notify.models import DELIVERED
from noc.notify.outbox import AccountRules
from noc.notify.routing import account_recipients_for
from noc.settings import ACCOUNT_EVENTS, NotifySettings
from tests.notify.conftest import PUBLIC_URL, channels
from tests.notify.test_delivery import MakeNotifier, rows
from tests.peers.robots import Robots
from tests.peers.smtp import SmtpServers
from tests.tickets.conftest import DrivenClock
from tickets.service import TicketService

CITY = AccountFacts(2, "city-gov", "B", "south")
TODAY = date(2026, 11, 22)


def contract(days_left: int) -> ExpiringContract:
    return ExpiringContract(5, "CITYGOV-2025-07", TODAY + timedelta(days=days_left), CITY)


def test_the_stages_are_the_notice_period_a_week_and_the_last_day() -> None:
    assert expiry_stages(30) == (30, 7, 1)
    assert expiry_stages(5) == (5, 1)
    assert expiry_stages(0) == (0,)


@pytest.mark.parametrize(
    ("days_left", "stage"),
    [(30, 30), (23, 30), (8, 30), (7, 7), (5, 7), (2, 7), (1, 1), (0, 1), (31, None), (-1, None)],
)
def test_a_contract_is_reminded_of_at_the_latest_stage_it_reached(days_left: int, stage: int | None) -> None:
    found = expiry_notices([contract(days_left)], TODAY, 30)
    if stage is None:
        assert found == []
        return
    [notice] = found
    assert notice.source == f"expiry:5:{TODAY + timedelta(days=days_left)}:{stage}"
    assert notice.days_left == days_left and notice.kind is AccountNoticeKind.CONTRACT_EXPIRY


def test_contacts_are_reminded_of_once_a_month_while_due() -> None:
    due = [UnverifiedContacts(CITY, 2), UnverifiedContacts(replace(CITY, account_id=3, account="rhein"), 0)]
    [notice] = reverify_notices(due, TODAY)
    assert notice.source == "reverify:2:2026-11" and notice.contacts_due == 2
    assert reverify_notices(due, TODAY + timedelta(days=8))[0].source == "reverify:2:2026-11"
    assert reverify_notices(due, TODAY + timedelta(days=9))[0].source == "reverify:2:2026-12"


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_reminders_have_words_in_both_languages_and_link_to_the_account(language: str) -> None:
    for notice in [*expiry_notices([contract(23)], TODAY, 30), *reverify_notices([UnverifiedContacts(CITY, 2)], TODAY)]:
        message = compose_account(notice, language, PUBLIC_URL + "/", TODAY - timedelta(days=365))
        assert message.link == f"{PUBLIC_URL}/accounts/city-gov" and message.link in message.text
        assert "{" not in message.text and "None" not in message.text
    assert "23 天" in compose_account(expiry_notices([contract(23)], TODAY, 30)[0], "zh-CN", PUBLIC_URL, TODAY).subject


def test_the_settings_name_the_reminders_the_notices_know() -> None:
    assert {kind.value for kind in AccountNoticeKind} == ACCOUNT_EVENTS


SETTINGS: dict[str, Any] = {
    "channels": {"mail": {"kind": "email", "host": "127.0.0.1", "sender": "noc@example.test"}},
    "recipients": [
        {"name": "noc-duty", "channel": "mail", "address": "duty@example.test"},
        {"name": "mei", "channel": "mail", "address": "mei@example.test", "role": "account_manager",
         "accounts": ["city-gov"]},
        {"name": "south-am", "channel": "mail", "address": "s@example.test", "role": "account_manager",
         "regions": ["south"]},
        {"name": "north-am", "channel": "mail", "address": "n@example.test", "role": "account_manager",
         "regions": ["north"]},
    ],
    "routes": [{"events": ["contract_expiry"], "roles": ["account_manager"], "tiers": ["A", "B"]}],
}  # fmt: skip


def test_reminders_go_to_the_accounts_managers_by_tier_and_region() -> None:
    settings = NotifySettings.model_validate(SETTINGS)
    [notice] = expiry_notices([contract(23)], TODAY, 30)
    assert [r.name for r in account_recipients_for(notice, settings)] == ["mei", "south-am"]
    tier_c = replace(notice, account=replace(CITY, tier="C"))
    assert account_recipients_for(tier_c, settings) == []
    [reverify] = reverify_notices([UnverifiedContacts(CITY, 1)], TODAY)
    assert account_recipients_for(reverify, settings) == []  # no route lists it


@pytest.mark.parametrize("ticket_filter", [{"priorities": ["P1"]}, {"levels": [1]}, {"sources": ["complaint"]}])
def test_a_reminders_route_refuses_ticket_filters(ticket_filter: dict[str, Any]) -> None:
    route = {"events": ["opened", "contacts_reverify"], "roles": ["account_manager"], **ticket_filter}
    with pytest.raises(ValidationError, match=f"{next(iter(ticket_filter))}: a ticket filter"):
        NotifySettings.model_validate({**SETTINGS, "routes": [route]})


@pytest.mark.peers
async def test_reminders_reach_the_account_managers_once_per_stage(
    svc: TicketService, mail: SmtpServers, robots: Robots, notifier_for: MakeNotifier, clock: DrivenClock, sessions: Any
) -> None:
    settings = NotifySettings.model_validate(
        {
            "channels": channels(mail, robots),
            "recipients": [
                {"name": "mei", "channel": "relay", "address": "mei@example.test", "role": "account_manager",
                 "accounts": ["city-gov"]},
                {"name": "karl", "channel": "relay", "address": "karl@example.test", "role": "account_manager",
                 "accounts": ["acme-bank", "rhein-logistik"], "language": "en"},
                {"name": "noc-duty", "channel": "relay", "address": "duty@example.test"},
                {"name": "ops-hook", "channel": "hook", "role": "account_manager", "language": "en"},
            ],
            "routes": [{"events": ["contract_expiry", "contacts_reverify"], "roles": ["account_manager"]}],
        }
    )  # fmt: skip
    notifier = await notifier_for(settings)
    # 22 November: CITYGOV-2025-07 ends on 15 December; city-gov's and rhein's contacts were never verified.
    await notifier.tick()

    [reverify, expiry] = sorted(mail.mailbox.to("mei@example.test"), key=lambda m: str(m["Subject"]))
    assert expiry["Subject"] == "合同 CITYGOV-2025-07（city-gov）将于 2026-12-15 到期，剩余 23 天，请及时续约"
    assert f"{PUBLIC_URL}/accounts/city-gov" in expiry.get_content()
    assert reverify["Subject"].startswith("city-gov 有 1 位联系人需要重新核实")
    [karl] = mail.mailbox.to("karl@example.test")  # acme-bank's contact was verified in September
    assert (
        karl["Subject"]
        == "rhein-logistik: 1 contact(s) due for re-verification (last verified before 2025-11-22, or never)"
    )
    assert mail.mailbox.to("duty@example.test") == []
    hooks = robots.of("webhook")
    assert sorted(h.body["event"] for h in hooks) == ["contacts_reverify", "contacts_reverify", "contract_expiry"]
    assert {h.body["ticket_id"] for h in hooks} == {None}
    texts = " ".join(m.get_content() + str(m["Subject"]) for m in mail.mailbox.all()) + " ".join(h.text for h in hooks)
    for personal in ("Zhang Wei", "5555", "duty@city-gov", "Jonas Becker", "j.becker"):
        assert personal not in texts
    stored = await rows(sessions)
    assert len(stored) == 6 and {n.status for n in stored} == {DELIVERED}
    assert {n.ticket_id for n in stored} == {None} and all(n.account_id for n in stored)

    rules = AccountRules(30, 365)
    async with sessions() as session:  # the same day again: nothing new
        assert await notifier.outbox.collect_accounts(session, clock.now(), rules) == 0
    clock.advance(days=8)  # 30 November, 15 days left: still the first stage; contacts already told this month
    async with sessions() as session:
        assert await notifier.outbox.collect_accounts(session, clock.now(), rules) == 0
    clock.advance(days=2)  # 2 December: a new month for the contacts, and 13 days left
    async with sessions() as session:
        assert await notifier.outbox.collect_accounts(session, clock.now(), rules) == 4
    clock.advance(days=6)  # 8 December, 7 days left: the week's reminder
    async with sessions() as session:
        assert await notifier.outbox.collect_accounts(session, clock.now(), rules) == 2  # mei and the hook
    await notifier.tick()
    subjects = [str(m["Subject"]) for m in mail.mailbox.to("mei@example.test")]  # sent at once: in any order
    assert len(subjects) == 4 and sum(s.endswith("剩余 7 天，请及时续约") for s in subjects) == 1
