"""Notifications from the ticket history to real peers on loopback: the SMTP server (plain, STARTTLS with AUTH, TLS
with AUTH) and the robots' receivers, which verify each platform's signature. On SQLite and PostgreSQL.

The ticket service knows nothing of notifications: the tests drive it as the pipeline does (a device goes down,
the timers run) and the notifier reads what it recorded.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
import yaml
from pydantic import SecretStr
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from noc.notify.channels import build_sender
from noc.notify.delivery import Deliverer
from noc.notify.models import DELIVERED, FAILED, PENDING, Notification, NotifyCursor
from noc.notify.notifier import Notifier
from noc.notify.outbox import Outbox
from noc.notify.outgoing import Outgoing, Sender
from noc.notify.records import notifications_of
from noc.settings import NotifySettings
from tests.conftest import EXAMPLE_INVENTORY
from tests.notify.conftest import PUBLIC_URL, SMS_NUMBER, notify_settings
from tests.peers import robots as r
from tests.peers.robots import Robots
from tests.peers.smtp import PASSWORD, SmtpServers
from tests.tickets.conftest import DrivenClock
from tickets.rules import DeviceDown, FaultEvent, FaultKind, Impact
from tickets.service import TicketService

pytestmark = pytest.mark.peers
MakeNotifier = Callable[[NotifySettings], Awaitable[Notifier]]


async def rows(sessions: async_sessionmaker[AsyncSession]) -> list[Notification]:
    async with sessions() as session:
        return list(await session.scalars(select(Notification).order_by(Notification.id)))


def link(ticket_id: int) -> str:
    return f"{PUBLIC_URL}/tickets/{ticket_id}"


async def test_a_device_down_incident_reaches_every_channel_once(
    svc: TicketService, mail: SmtpServers, robots: Robots, notifier_for: MakeNotifier, sessions: Any
) -> None:
    notifier = await notifier_for(notify_settings(mail, robots))
    incident = await svc.handle_device_down(DeviceDown("pe-bj-01", svc.clock.now()))
    await notifier.tick()

    for address in ("duty@example.test", "noc587@example.test", "noc465@example.test"):
        [message] = mail.mailbox.to(address)
        assert message["From"] == "noc@example.test" and f"I-{incident.parent_id}" in message["Subject"]
        assert link(incident.parent_id) in message.get_content()
    assert mail.mailbox.to("noc587@example.test")[0]["Subject"].startswith("[P1] New Incident")  # its language
    assert "新事件" in mail.mailbox.to("duty@example.test")[0]["Subject"]  # zh-CN by default
    for platform in ("dingtalk", "wecom", "webhook"):
        [accepted] = robots.of(platform)
        assert link(incident.parent_id) in accepted.text
    assert robots.of("webhook")[0].body["event"] == "opened"
    assert robots.refused == [] and robots.of("feishu") == [] and robots.of("sms") == []  # leads: not for this
    stored = await rows(sessions)
    assert {(n.recipient, n.status, n.attempts) for n in stored} == {
        (name, DELIVERED, 1) for name in ("noc-duty", "noc-587", "noc-465", "noc-group", "field-north", "ops-hook")
    }
    assert {n.ticket_id for n in stored} == {incident.parent_id}  # its children do not each make a storm

    # Read again from the start (a crash before the cursor moved): nothing is sent twice.
    async with sessions() as session:
        await session.execute(update(NotifyCursor).values(last_id=0))
        await session.commit()
    await notifier.tick()
    await svc.handle_device_down(DeviceDown("pe-bj-01", svc.clock.now()))  # the same failure delivered again
    await notifier.tick()
    assert len(mail.mailbox.all()) == 3 and len(robots.accepted) == 3 and len(await rows(sessions)) == 6


async def test_an_escalation_at_the_response_time_goes_to_the_next_level(
    svc: TicketService, mail: SmtpServers, robots: Robots, notifier_for: MakeNotifier, clock: DrivenClock
) -> None:
    notifier = await notifier_for(notify_settings(mail, robots))
    incident = await svc.handle_device_down(DeviceDown("pe-bj-01", clock.now()))
    await notifier.tick()
    clock.advance(minutes=29)
    await svc.run_timers()  # the 75 % warnings: no route for them
    await notifier.tick()
    assert robots.of("feishu") == [] and robots.of("sms") == []

    clock.advance(minutes=2)  # acme-bank's contract: response within 30 minutes
    notices = await svc.run_timers()
    await notifier.tick()
    [escalated] = [n for n in notices if n.event.level == 1]
    acme = next(c for c in incident.children if c.ref == escalated.ref)
    [group] = robots.of("feishu")
    assert f"{acme.ref} 已升级至第 1 级（响应超时）" in group.text and link(acme.ticket_id) in group.text
    [sms] = robots.of("sms")
    assert sms.body["mobile"] == SMS_NUMBER and acme.ref in sms.text
    assert robots.refused == []


async def test_a_failing_channel_is_retried_with_backoff_and_the_failure_is_recorded(
    svc: TicketService,
    mail: SmtpServers,
    robots: Robots,
    notifier_for: MakeNotifier,
    clock: DrivenClock,
    sessions: Any,
) -> None:
    notifier = await notifier_for(notify_settings(mail, robots, max_attempts=3))
    robots.down = {"dingtalk", "wecom"}
    incident = await svc.handle_device_down(DeviceDown("pe-bj-01", clock.now()))

    async def attempts() -> dict[str, tuple[str, int]]:
        return {n.recipient: (n.status, n.attempts) for n in await rows(sessions) if n.channel_kind in r.PLATFORMS}

    await notifier.tick()
    assert await attempts() == {"noc-group": (PENDING, 1), "field-north": (PENDING, 1)}
    await notifier.tick()  # not due yet: no attempt
    assert await attempts() == {"noc-group": (PENDING, 1), "field-north": (PENDING, 1)}
    clock.advance(seconds=30)
    robots.down = {"dingtalk"}  # WeCom is back
    await notifier.tick()
    assert await attempts() == {"noc-group": (PENDING, 2), "field-north": (DELIVERED, 2)}
    clock.advance(seconds=59)  # the second wait is twice the first
    await notifier.tick()
    assert (await attempts())["noc-group"] == (PENDING, 2)
    clock.advance(seconds=1)
    await notifier.tick()
    assert (await attempts())["noc-group"] == (FAILED, 3)
    assert robots.of("dingtalk") == [] and len(robots.of("wecom")) == 1

    async with sessions() as session:
        shown = {n.recipient: n for n in await notifications_of(session, incident.parent_id)}
    assert shown["noc-group"].status == FAILED and "HTTP 503" in (shown["noc-group"].error or "")
    assert r.DINGTALK_TOKEN not in json.dumps([n.to_json() for n in shown.values()])
    assert shown["noc-duty"].status == DELIVERED and shown["noc-duty"].error is None


async def test_a_refused_signature_is_a_failure_with_the_platforms_words(
    svc: TicketService, mail: SmtpServers, robots: Robots, notifier_for: MakeNotifier, sessions: Any
) -> None:
    settings = notify_settings(mail, robots, max_attempts=1)
    wrong = settings.channels["ding"].model_copy(update={"secret": SecretStr("SECnot-the-robots-secret")})
    notifier = await notifier_for(settings.model_copy(update={"channels": settings.channels | {"ding": wrong}}))
    await svc.handle_device_down(DeviceDown("pe-bj-01", svc.clock.now()))
    await notifier.tick()
    [ding] = [n for n in await rows(sessions) if n.channel == "ding"]
    assert ding.status == FAILED and "sign not match" in (ding.error or "")
    assert "SECnot-the-robots-secret" not in (ding.error or "") and r.DINGTALK_TOKEN not in (ding.error or "")
    assert robots.refused == [("dingtalk", "sign")]


async def test_a_channel_over_its_rate_waits_for_the_next_minute(
    svc: TicketService, mail: SmtpServers, robots: Robots, notifier_for: MakeNotifier, sessions: Any
) -> None:
    settings = notify_settings(mail, robots)
    slow = settings.channels["ding"].model_copy(update={"rate_per_minute": 1})
    notifier = await notifier_for(settings.model_copy(update={"channels": settings.channels | {"ding": slow}}))
    for device in ("pe-bj-01", "pe-sh-01"):
        await svc.handle_device_down(DeviceDown(device, svc.clock.now()))
    await notifier.tick()
    ding = [(n.status, n.attempts) for n in await rows(sessions) if n.channel == "ding"]
    assert sorted(ding) == [(DELIVERED, 1), (PENDING, 0)] and len(robots.of("dingtalk")) == 1
    assert len(robots.of("webhook")) == 2  # the other channels are not held up


async def test_no_message_carries_a_secret_or_a_contacts_phone(
    svc: TicketService, mail: SmtpServers, robots: Robots, notifier_for: MakeNotifier, clock: DrivenClock, sessions: Any
) -> None:
    routes = [{"events": ["opened", "escalation", "warning", "resolved"], "roles": ["noc", "noc_lead", "technician"]}]
    notifier = await notifier_for(notify_settings(mail, robots, routes=routes))
    await svc.handle_device_down(DeviceDown("pe-bj-01", clock.now()))
    summary = "customer Wang (+86 10 5555 0101, wang.fang@acme-bank.example) reports no service"
    await svc.handle_fault(FaultEvent(FaultKind.COMPLAINT, "ACME-SH-003", "complaint", Impact.SERVICE_DOWN,
                                      clock.now(), summary))  # fmt: skip
    clock.advance(hours=5)
    await svc.run_timers()
    await notifier.tick()

    inventory = yaml.safe_load(EXAMPLE_INVENTORY.read_text())
    contacts = [c for a in inventory["accounts"] for c in a.get("contacts", [])]
    personal = [c[k] for c in contacts for k in ("phone", "email") if c.get(k)]
    personal += [c["phone"].replace(" ", "") for c in contacts if c.get("phone")]
    secrets = [PASSWORD, r.DINGTALK_TOKEN, r.DINGTALK_SECRET, r.WECOM_KEY, r.FEISHU_SECRET, r.WEBHOOK_SECRET,
               r.SMS_API_KEY, *(p["community"] for p in inventory["snmp_profiles"] if p.get("community"))]  # fmt: skip
    said = [f"{m['Subject']}\n{m.get_content()}" for m in mail.mailbox.all()] + [
        json.dumps(a.body, ensure_ascii=False) for a in robots.accepted
    ]
    said += [f"{n.subject}\n{n.text}\n{n.error}" for n in await rows(sessions)]
    assert len(mail.mailbox.all()) >= 6 and len(robots.accepted) >= 8  # opened, warnings, escalations went out
    assert any("***" in text for text in said)  # the complaint's number was there to mask
    for text in said:
        for value in personal + secrets:
            assert value not in text


async def test_a_message_whose_recipient_left_the_settings_fails_once_and_says_why(
    svc: TicketService, mail: SmtpServers, robots: Robots, notifier_for: MakeNotifier, sessions: Any
) -> None:
    settings = notify_settings(mail, robots)
    queued = await notifier_for(settings)
    await svc.handle_device_down(DeviceDown("pe-bj-01", svc.clock.now()))
    async with sessions() as session:
        await queued.outbox.collect(session, svc.clock.now())  # queued, not yet sent
    kept = tuple(r for r in settings.recipients if r.name != "noc-group")
    restarted = await notifier_for(settings.model_copy(update={"recipients": kept}))
    await restarted.tick()
    [gone] = [n for n in await rows(sessions) if n.recipient == "noc-group"]
    assert (gone.status, gone.attempts) == (FAILED, 1) and "no longer configured" in (gone.error or "")
    assert robots.of("dingtalk") == [] and len(mail.mailbox.to("duty@example.test")) == 1


@dataclass
class Gate:
    """Sends held until ``opened``; ``all_started`` once ``expected`` sends have begun."""

    expected: int
    started: int = 0
    all_started: asyncio.Event = field(default_factory=asyncio.Event)
    opened: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Gated:
    inner: Sender
    gate: Gate

    async def send(self, message: Outgoing) -> None:
        self.gate.started += 1
        if self.gate.started == self.gate.expected:
            self.gate.all_started.set()
        await self.gate.opened.wait()
        await self.inner.send(message)


async def test_two_processes_delivering_at_once_send_each_message_once(
    svc: TicketService, mail: SmtpServers, robots: Robots, sessions: Any, clock: DrivenClock
) -> None:
    """Two ``noc serve`` replicas run the loop over one database: while one is sending, the other finds every
    message claimed and sends none of them."""
    settings = notify_settings(mail, robots)
    await svc.handle_device_down(DeviceDown("pe-bj-01", clock.now()))
    async with aiohttp.ClientSession() as http:
        senders = {name: build_sender(channel, http) for name, channel in settings.channels.items()}
        gate = Gate(expected=6)
        gated = {name: Gated(sender, gate) for name, sender in senders.items()}
        first, second = Deliverer(settings, gated, PUBLIC_URL), Deliverer(settings, senders, PUBLIC_URL)
        async with sessions() as session:
            assert await Outbox(settings, PUBLIC_URL).collect(session, clock.now()) == 6
        sending = asyncio.create_task(first.deliver(sessions, clock.now()))
        async with asyncio.timeout(10):
            await gate.all_started.wait()  # every message claimed and on its way
        assert await second.deliver(sessions, clock.now()) == 0
        gate.opened.set()
        assert await sending == 6
    stored = await rows(sessions)
    assert {(n.status, n.attempts) for n in stored} == {(DELIVERED, 1)}
    assert len(mail.mailbox.all()) == 3 and len(robots.accepted) == 3
