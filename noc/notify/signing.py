"""Signatures of the outgoing webhooks, each as its platform documents it. Pure.

* DingTalk group robot (加签): ``timestamp`` in milliseconds; ``sign`` = Base64(HMAC-SHA256(key=secret,
  msg=f"{timestamp}\\n{secret}")), URL-encoded, both in the query string.
* Feishu group robot (签名校验): ``timestamp`` in seconds; ``sign`` = Base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}",
  msg=b"")), both in the JSON body.
* The generic webhook: ``sha256=`` + hex(HMAC-SHA256(key=secret, msg=f"{timestamp}.".encode() + body)) in the
  signature header, ``timestamp`` (seconds) in ``X-Noc-Timestamp``: the receiver checks both, and the age.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def dingtalk_sign(timestamp_ms: int, secret: str) -> str:
    """The ``sign`` query value, not yet URL-encoded (the URL builder encodes it once)."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_sign(timestamp_s: int, secret: str) -> str:
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def webhook_signature(timestamp_s: int, body: bytes, secret: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp_s}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"
