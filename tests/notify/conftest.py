"""Notification fixtures: the real SMTP servers (one set per session), the robots' receivers (per test), settings
with one recipient per channel kind pointing at them, and the ticket service over the example operator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from noc.crypto import SecretBox
from noc.inventory import service as inventory
from noc.notify.notifier import Notifier
from noc.settings import NotifySettings, TicketSettings
from tests.conftest import EXAMPLE_INVENTORY
from tests.peers import robots as r
from tests.peers.smtp import PASSWORD, USER, SmtpServers, smtp_servers
from tests.tickets.conftest import DrivenClock
from tickets.service import TicketService

PUBLIC_URL = "https://noc.example.test"
SMS_NUMBER = "+8613900000000"


@pytest.fixture(scope="session")
def smtp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpServers]:
    with smtp_servers(tmp_path_factory.mktemp("smtp")) as servers:
        yield servers


@pytest.fixture
def mail(smtp: SmtpServers) -> SmtpServers:
    smtp.mailbox.clear()  # the servers outlive a test; what they received does not
    return smtp


@pytest.fixture
def robots() -> Iterator[r.Robots]:
    with r.robots() as found:
        yield found


def channels(smtp: SmtpServers, robots: r.Robots) -> dict[str, Any]:
    secured = {"host": "127.0.0.1", "sender": "noc@example.test", "username": USER, "password": PASSWORD}
    return {
        "relay": {"kind": "email", "host": "127.0.0.1", "port": smtp.plain_port, "security": "none",
                  "sender": "noc@example.test"},
        "mail-587": {"kind": "email", "port": smtp.starttls_port, "security": "starttls", "ca_file": str(smtp.ca_file),
                     **secured},
        "mail-465": {"kind": "email", "port": smtp.ssl_port, "security": "ssl", "ca_file": str(smtp.ca_file),
                     **secured},
        "ding": {"kind": "dingtalk", "url": f"{robots.base}/robot/send?access_token={r.DINGTALK_TOKEN}",
                 "secret": r.DINGTALK_SECRET},
        "wecom": {"kind": "wecom", "url": f"{robots.base}/cgi-bin/webhook/send", "key": r.WECOM_KEY},
        "feishu": {"kind": "feishu", "url": f"{robots.base}/open-apis/bot/v2/hook/{r.FEISHU_HOOK}",
                   "secret": r.FEISHU_SECRET},
        "hook": {"kind": "webhook", "url": f"{robots.base}/hook", "secret": r.WEBHOOK_SECRET},
        "sms": {"kind": "sms", "url": f"{robots.base}/sms", "headers": {"X-Api-Key": r.SMS_API_KEY},
                "body_template": '{"mobile": $to, "content": $text}'},
    }  # fmt: skip


def notify_settings(smtp: SmtpServers, robots: r.Robots, **overrides: Any) -> NotifySettings:
    """Opened P1 to one recipient per channel; escalation level 1 to the NOC leads (Feishu, SMS)."""
    recipients = [
        {"name": "noc-duty", "channel": "relay", "address": "duty@example.test"},
        {"name": "noc-587", "channel": "mail-587", "address": "noc587@example.test", "language": "en"},
        {"name": "noc-465", "channel": "mail-465", "address": "noc465@example.test"},
        {"name": "noc-group", "channel": "ding"},
        {"name": "field-north", "channel": "wecom", "role": "technician", "regions": ["north"], "language": "en"},
        {"name": "ops-hook", "channel": "hook", "language": "en"},
        {"name": "lead-group", "channel": "feishu", "role": "noc_lead"},
        {"name": "lead-phone", "channel": "sms", "address": SMS_NUMBER, "role": "noc_lead"},
    ]
    routes = [
        {"events": ["opened"], "priorities": ["P1"], "roles": ["noc", "technician"]},
        {"events": ["escalation"], "levels": [1], "roles": ["noc_lead"]},
    ]
    base = {"channels": channels(smtp, robots), "recipients": recipients, "routes": routes, "retry_initial_s": 30}
    return NotifySettings.model_validate(base | overrides)


@pytest.fixture
def clock() -> DrivenClock:
    return DrivenClock()


@pytest.fixture
async def svc(sessions: async_sessionmaker[AsyncSession], box: SecretBox, clock: DrivenClock) -> TicketService:
    await inventory.import_file(sessions, box, EXAMPLE_INVENTORY, "test")
    return TicketService(sessions, TicketSettings(), box=box, clock=clock)


@pytest.fixture
async def notifier_for(sessions: async_sessionmaker[AsyncSession], clock: DrivenClock) -> Any:
    """Builds a started notifier over the test's database and clock; closes them all at the end."""
    made: list[Notifier] = []

    async def make(settings: NotifySettings) -> Notifier:
        notifier = Notifier(sessions, settings, PUBLIC_URL, clock=clock)
        await notifier.start()
        made.append(notifier)
        return notifier

    yield make
    for notifier in made:
        await notifier.close()
