"""The one place a channel is built from its settings, and what of its settings must never be shown."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import aiohttp

from noc.notify.mail import EmailSender
from noc.notify.outgoing import Sender
from noc.notify.robots import DingTalkRobot, FeishuRobot, SignedWebhook, SmsGateway, WeComRobot
from noc.settings import (
    Channel,
    DingTalkChannel,
    EmailChannel,
    FeishuChannel,
    SmsChannel,
    WebhookChannel,
    WeComChannel,
)


def secrets_of(settings: Channel) -> tuple[str, ...]:
    """Every value of a channel's settings that must never appear in a record or a log: its secrets, and the
    query values of its URL (a DingTalk access_token is a credential)."""
    found: list[str] = []
    if isinstance(settings, EmailChannel):
        found += [settings.password.get_secret_value()] if settings.password else []
        return tuple(found)
    found += [v for _, v in parse_qsl(urlsplit(settings.url).query) if len(v) >= 4]
    if isinstance(settings, DingTalkChannel | FeishuChannel) and settings.secret is not None:
        found.append(settings.secret.get_secret_value())
    elif isinstance(settings, WeComChannel):
        found.append(settings.key.get_secret_value())
    elif isinstance(settings, WebhookChannel):
        found.append(settings.secret.get_secret_value())
    elif isinstance(settings, SmsChannel):
        found += [v.get_secret_value() for v in settings.headers.values()]
    return tuple(v for v in found if v)


def build_sender(settings: Channel, http: aiohttp.ClientSession) -> Sender:
    if isinstance(settings, EmailChannel):
        return EmailSender(settings)
    if isinstance(settings, DingTalkChannel):
        return DingTalkRobot(settings, http)
    if isinstance(settings, WeComChannel):
        return WeComRobot(settings, http)
    if isinstance(settings, FeishuChannel):
        return FeishuRobot(settings, http)
    if isinstance(settings, WebhookChannel):
        return SignedWebhook(settings, http)
    return SmsGateway(settings, http)
