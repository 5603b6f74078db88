"""Loopback stand-ins for the chat platforms' group-robot endpoints, a generic webhook receiver and an SMS
gateway. Each checks a request the way its platform documents it, with its own code (not the product's), and
answers as the platform does: DingTalk and WeCom ``{"errcode": ...}``, Feishu ``{"code": ...}``.

* DingTalk ``POST /robot/send?access_token=&timestamp=&sign=``: timestamp in ms within an hour of now, sign =
  Base64(HMAC-SHA256(secret, "{timestamp}\\n{secret}")).
* WeCom ``POST /cgi-bin/webhook/send?key=``: the robot's key.
* Feishu ``POST /open-apis/bot/v2/hook/<id>``: body ``timestamp`` (s) within an hour, ``sign`` =
  Base64(HMAC-SHA256(key="{timestamp}\\n{secret}", msg="")).
* Webhook ``POST /hook``: ``X-Noc-Timestamp`` and ``X-Noc-Signature: sha256=hex(HMAC-SHA256(secret,
  "{timestamp}." + body))``.
* SMS ``POST /sms``: ``X-Api-Key`` and a JSON body ``{"mobile": ..., "content": ...}``.

A platform named in ``down`` answers 503 (an outage); the others record what they accepted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.threaded import serve_in_thread

DINGTALK_TOKEN = "dt-access-token-5c1e9a"
DINGTALK_SECRET = "SECdingtalk0secret0b7f3"
WECOM_KEY = "wecom-key-693a-4ee1"
FEISHU_HOOK = "feishu-hook-77aa"
FEISHU_SECRET = "feishu-secret-2d4c"
WEBHOOK_SECRET = "webhook-secret-ab12cd34ef56"
SMS_API_KEY = "sms-api-key-9f8e7d"
HOUR_S = 3600
PLATFORMS = ("dingtalk", "wecom", "feishu")


@dataclass(frozen=True)
class Accepted:
    platform: str
    text: str
    body: dict[str, Any]


@dataclass
class Robots:
    base: str = ""
    accepted: list[Accepted] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (platform, why)
    down: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def of(self, platform: str) -> list[Accepted]:
        with self.lock:
            return [a for a in self.accepted if a.platform == platform]

    def _keep(self, platform: str, text: str, body: dict[str, Any]) -> None:
        with self.lock:
            self.accepted.append(Accepted(platform, text, body))

    def _refuse(self, platform: str, why: str) -> None:
        with self.lock:
            self.refused.append((platform, why))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/robot/send", self.dingtalk)
        app.router.add_post("/cgi-bin/webhook/send", self.wecom)
        app.router.add_post(f"/open-apis/bot/v2/hook/{FEISHU_HOOK}", self.feishu)
        app.router.add_post("/hook", self.webhook)
        app.router.add_post("/sms", self.sms)
        return app

    async def dingtalk(self, request: web.Request) -> web.Response:
        if "dingtalk" in self.down:
            return web.Response(status=503, text="busy")
        q = request.query
        timestamp = q.get("timestamp", "")
        expected = base64.b64encode(
            hmac.new(DINGTALK_SECRET.encode(), f"{timestamp}\n{DINGTALK_SECRET}".encode(), hashlib.sha256).digest()
        ).decode()
        fresh = timestamp.isdigit() and abs(time.time() * 1000 - int(timestamp)) < HOUR_S * 1000
        if q.get("access_token") != DINGTALK_TOKEN:
            self._refuse("dingtalk", "token")
            return web.json_response({"errcode": 300001, "errmsg": "token is not exist"})
        if not fresh or not hmac.compare_digest(q.get("sign", ""), expected):
            self._refuse("dingtalk", "sign")
            return web.json_response({"errcode": 310000, "errmsg": "sign not match"})
        body = await request.json()
        self._keep("dingtalk", body["text"]["content"], body)
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def wecom(self, request: web.Request) -> web.Response:
        if "wecom" in self.down:
            return web.Response(status=503, text="busy")
        if request.query.get("key") != WECOM_KEY:
            self._refuse("wecom", "key")
            return web.json_response({"errcode": 93000, "errmsg": "invalid webhook url"})
        body = await request.json()
        self._keep("wecom", body["text"]["content"], body)
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def feishu(self, request: web.Request) -> web.Response:
        if "feishu" in self.down:
            return web.Response(status=503, text="busy")
        body = await request.json()
        timestamp = str(body.get("timestamp", ""))
        expected = base64.b64encode(
            hmac.new(f"{timestamp}\n{FEISHU_SECRET}".encode(), b"", hashlib.sha256).digest()
        ).decode()
        fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) < HOUR_S
        if not fresh or not hmac.compare_digest(str(body.get("sign", "")), expected):
            self._refuse("feishu", "sign")
            return web.json_response({"code": 19021, "msg": "sign match fail or timestamp is not within one hour"})
        self._keep("feishu", body["content"]["text"], body)
        return web.json_response({"code": 0, "msg": "success", "data": {}})

    async def webhook(self, request: web.Request) -> web.Response:
        if "webhook" in self.down:
            return web.Response(status=503, text="busy")
        raw = await request.read()
        timestamp = request.headers.get("X-Noc-Timestamp", "")
        expected = (
            "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), f"{timestamp}.".encode() + raw, hashlib.sha256).hexdigest()
        )
        fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) < 300
        if not fresh or not hmac.compare_digest(request.headers.get("X-Noc-Signature", ""), expected):
            self._refuse("webhook", "signature")
            return web.Response(status=401, text="bad signature")
        body = json.loads(raw)
        self._keep("webhook", body["text"], body)
        return web.Response(status=204)

    async def sms(self, request: web.Request) -> web.Response:
        if "sms" in self.down:
            return web.Response(status=503, text="busy")
        if request.headers.get("X-Api-Key") != SMS_API_KEY:
            self._refuse("sms", "key")
            return web.Response(status=403, text="bad key")
        body = await request.json()
        self._keep("sms", body["content"], body)
        return web.json_response({"status": "queued"})


@contextmanager
def robots() -> Iterator[Robots]:
    found = Robots()
    with serve_in_thread(found.app()) as base:
        found.base = base
        yield found
