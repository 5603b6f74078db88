"""The robots' signatures against published values and an independent HMAC (``cryptography``'s, not hashlib's)."""

from __future__ import annotations

import base64
from urllib.parse import quote_plus

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.hmac import HMAC

from noc.notify.robots import with_query
from noc.notify.signing import dingtalk_sign, feishu_sign, webhook_signature


def _hmac_sha256(key: bytes, msg: bytes) -> bytes:
    mac = HMAC(key, hashes.SHA256())
    mac.update(msg)
    return mac.finalize()


def test_dingtalk_matches_a_published_example() -> None:
    # The value the `dingding` crate's test states for timestamp 1700000000000 and secret "secret" (URL-encoded).
    assert quote_plus(dingtalk_sign(1700000000000, "secret")) == "OuzzJR5%2BxZ4%2FEYwqtNt6sMYZQMTa%2FHEGvc9miJe7XzY%3D"


def test_dingtalk_keys_with_the_secret_and_signs_timestamp_newline_secret() -> None:
    expected = _hmac_sha256(b"SECabc", b"1732950000123\nSECabc")
    assert base64.b64decode(dingtalk_sign(1732950000123, "SECabc")) == expected


def test_feishu_keys_with_timestamp_newline_secret_and_signs_nothing() -> None:
    expected = _hmac_sha256(b"1732950000\nfs-secret", b"")
    assert base64.b64decode(feishu_sign(1732950000, "fs-secret")) == expected
    assert feishu_sign(1732950000, "fs-secret") != feishu_sign(1732950001, "fs-secret")


def test_webhook_signs_timestamp_and_body() -> None:
    body = b'{"event": "opened"}'
    expected = _hmac_sha256(b"k" * 16, b"1732950000." + body).hex()
    assert webhook_signature(1732950000, body, "k" * 16) == f"sha256={expected}"


def test_the_sign_is_url_encoded_once_in_the_query() -> None:
    url = with_query("https://oapi.dingtalk.com/robot/send?access_token=t", timestamp="1", sign="a+b/c=")
    assert url == "https://oapi.dingtalk.com/robot/send?access_token=t&timestamp=1&sign=a%2Bb%2Fc%3D"
    assert with_query("http://127.0.0.1:1/send", key="k") == "http://127.0.0.1:1/send?key=k"
