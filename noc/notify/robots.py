"""The HTTP channels: DingTalk, WeCom and Feishu group robots, the signed webhook and the SMS gateway template.

Each robot answers HTTP 200 with a JSON status even when it refuses a message: DingTalk and WeCom
``{"errcode": 0, "errmsg": "ok"}``, Feishu ``{"code": 0, "msg": "success"}``; anything else is a failure.
"""

from __future__ import annotations

import json
import string
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus, urlencode, urlsplit, urlunsplit

import aiohttp

from noc.notify.errors import DeliveryFailed
from noc.notify.outgoing import Outgoing
from noc.notify.signing import dingtalk_sign, feishu_sign, webhook_signature
from noc.settings import DingTalkChannel, FeishuChannel, SmsChannel, WebhookChannel, WeComChannel

JSON_TYPE = "application/json"
Verdict = Callable[[Any], str | None]  # the answer's JSON -> None when accepted, else why not


def with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    extra = urlencode(params)
    return urlunsplit(parts._replace(query=f"{parts.query}&{extra}" if parts.query else extra))


def _errcode(answer: Any) -> str | None:
    if isinstance(answer, dict) and answer.get("errcode") == 0:
        return None
    return f"refused: {answer!r}"[:300]


def _feishu_code(answer: Any) -> str | None:
    if isinstance(answer, dict) and (answer.get("code") == 0 or answer.get("StatusCode") == 0):
        return None
    return f"refused: {answer!r}"[:300]


async def post(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    body: bytes,
    headers: dict[str, str],
    timeout_s: float,
    verdict: Verdict | None,
) -> None:
    """Send; a transport error, a non-2xx status or a refusal in the answer raise DeliveryFailed."""
    host = urlsplit(url).netloc
    try:
        async with http.request(
            method, url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout_s)
        ) as answer:
            status, text = answer.status, await answer.text(errors="replace")
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise DeliveryFailed(f"{host}: {type(exc).__name__}: {exc}") from exc
    if not 200 <= status < 300:
        raise DeliveryFailed(f"{host}: HTTP {status}: {text[:200]}")
    if verdict is not None:
        try:
            parsed = json.loads(text)
        except ValueError as exc:
            raise DeliveryFailed(f"{host}: the answer is not JSON: {text[:200]}") from exc
        why = verdict(parsed)
        if why is not None:
            raise DeliveryFailed(f"{host}: {why}")


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


class DingTalkRobot:
    def __init__(self, settings: DingTalkChannel, http: aiohttp.ClientSession) -> None:
        self.settings, self.http = settings, http

    async def send(self, message: Outgoing) -> None:
        s, url = self.settings, self.settings.url
        if s.secret is not None:
            timestamp = int(time.time() * 1000)
            url = with_query(url, timestamp=str(timestamp), sign=dingtalk_sign(timestamp, s.secret.get_secret_value()))
        body = _json({"msgtype": "text", "text": {"content": message.text}})
        await post(self.http, "POST", url, body, {"Content-Type": JSON_TYPE}, s.timeout_s, _errcode)


class WeComRobot:
    def __init__(self, settings: WeComChannel, http: aiohttp.ClientSession) -> None:
        self.settings, self.http = settings, http

    async def send(self, message: Outgoing) -> None:
        s = self.settings
        url = with_query(s.url, key=s.key.get_secret_value())
        body = _json({"msgtype": "text", "text": {"content": message.text}})
        await post(self.http, "POST", url, body, {"Content-Type": JSON_TYPE}, s.timeout_s, _errcode)


class FeishuRobot:
    def __init__(self, settings: FeishuChannel, http: aiohttp.ClientSession) -> None:
        self.settings, self.http = settings, http

    async def send(self, message: Outgoing) -> None:
        s = self.settings
        payload: dict[str, Any] = {"msg_type": "text", "content": {"text": message.text}}
        if s.secret is not None:
            timestamp = int(time.time())
            payload = {
                "timestamp": str(timestamp),
                "sign": feishu_sign(timestamp, s.secret.get_secret_value()),
            } | payload
        await post(self.http, "POST", s.url, _json(payload), {"Content-Type": JSON_TYPE}, s.timeout_s, _feishu_code)


class SignedWebhook:
    def __init__(self, settings: WebhookChannel, http: aiohttp.ClientSession) -> None:
        self.settings, self.http = settings, http

    async def send(self, message: Outgoing) -> None:
        s = self.settings
        body = _json(
            {
                "event": message.event,
                "ticket_id": message.ticket_id,
                "language": message.language,
                "subject": message.subject,
                "text": message.text,
                "link": message.link,
            }
        )
        timestamp = int(time.time())
        headers = {
            "Content-Type": JSON_TYPE,
            "X-Noc-Timestamp": str(timestamp),
            s.signature_header: webhook_signature(timestamp, body, s.secret.get_secret_value()),
        }
        await post(self.http, "POST", s.url, body, headers, s.timeout_s, None)


class SmsGateway:
    def __init__(self, settings: SmsChannel, http: aiohttp.ClientSession) -> None:
        self.settings, self.http = settings, http
        self._template = string.Template(settings.body_template)

    def body(self, to: str, text: str) -> bytes:
        quote: Callable[[str], str] = json.dumps if self.settings.content_type == JSON_TYPE else quote_plus
        return self._template.substitute(to=quote(to), text=quote(text)).encode()

    async def send(self, message: Outgoing) -> None:
        if message.address is None:
            raise DeliveryFailed("an SMS needs the recipient's number")
        s = self.settings
        headers = {"Content-Type": s.content_type} | {k: v.get_secret_value() for k, v in s.headers.items()}
        await post(self.http, s.method, s.url, self.body(message.address, message.subject), headers, s.timeout_s, None)
