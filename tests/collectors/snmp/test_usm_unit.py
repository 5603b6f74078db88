"""USM, pure: keys against pysnmp's (the reference), messages round-tripped and tampered with, the time window."""

from __future__ import annotations

import itertools

import pytest
from pyasn1.type.univ import OctetString  # type: ignore[import-untyped]
from pysnmp.proto.secmod.eso.priv import aes192, aes256
from pysnmp.proto.secmod.rfc3414 import localkey
from pysnmp.proto.secmod.rfc7860.auth import hmacsha2

from collectors.errors import BadAnswer
from collectors.snmp import ber, usm
from collectors.snmp.client import SnmpType

ENGINE = bytes.fromhex("80001f8880e9bd0c1d12667a5100000000")
PYSNMP_ENGINE = OctetString(ENGINE)
_PYSNMP_AUTH = {
    "SHA-224": hmacsha2.HmacSha2.SHA224_SERVICE_ID,
    "SHA-256": hmacsha2.HmacSha2.SHA256_SERVICE_ID,
    "SHA-384": hmacsha2.HmacSha2.SAH384_SERVICE_ID,
    "SHA-512": hmacsha2.HmacSha2.SHA512_SERVICE_ID,
}
_PYSNMP_EXTENDED = {
    "AES-192": aes192.AesBlumenthal192,
    "AES-256": aes256.AesBlumenthal256,
    "AES-192-C": aes192.Aes192,
    "AES-256-C": aes256.Aes256,
}


def _pysnmp_keys(auth: str, priv: str, auth_password: bytes, priv_password: bytes) -> tuple[bytes, bytes]:
    service = _PYSNMP_AUTH[auth]
    digest = hmacsha2.HmacSha2.HASH_ALGORITHM[service]
    auth_key = localkey.localize_key(localkey.hash_passphrase(auth_password, digest), PYSNMP_ENGINE, digest)
    hashed = localkey.hash_passphrase(priv_password, digest)
    if priv == "AES":
        priv_key = localkey.localize_key(hashed, PYSNMP_ENGINE, digest)[:16]
    else:
        priv_key = _PYSNMP_EXTENDED[priv]().localize_key(service, hashed, PYSNMP_ENGINE)
    return bytes(auth_key), bytes(priv_key)


@pytest.mark.parametrize(("auth", "priv"), list(itertools.product(usm.AUTH_PROTOCOLS, usm.PRIV_PROTOCOLS)))
def test_localised_keys_match_pysnmp(auth: str, priv: str) -> None:
    keys = usm.localized_keys(auth, "auth-pass-123", priv, "priv-pass-456", ENGINE)
    assert (keys.auth_key, keys.priv_key) == _pysnmp_keys(auth, priv, b"auth-pass-123", b"priv-pass-456")
    assert len(keys.priv_key) == keys.priv.key_octets
    assert "pass" not in repr(keys) and keys.auth_key.hex() not in repr(keys)


def test_the_two_key_extensions_differ_only_when_the_hash_is_shorter_than_the_key() -> None:
    def key(auth: str, priv: str) -> bytes:
        return usm.localized_keys(auth, "a" * 12, priv, "p" * 12, ENGINE).priv_key

    assert key("SHA-224", "AES-256") != key("SHA-224", "AES-256-C")  # 28 octets of hash for a 32-octet key
    assert key("SHA-224", "AES-192") == key("SHA-224", "AES-192-C")
    assert key("SHA-256", "AES-256") == key("SHA-256", "AES-256-C")


def _clock(boots: int = 7, time: int = 1000) -> usm.EngineClock:
    return usm.EngineClock(ENGINE, boots, time, learned_at=50.0)


def _response_pdu(request_id: int = 42) -> bytes:
    pdu = ber.encode_pdu(ber.PDU_GET, request_id, [(1, 3, 6, 1, 2, 1, 1, 3, 0)], 0, 0)
    return bytes((ber.PDU_RESPONSE,)) + pdu[1:]


@pytest.mark.parametrize("auth", list(usm.AUTH_PROTOCOLS))
@pytest.mark.parametrize("priv", ["AES", "AES-256-C"])
def test_a_message_round_trips_and_is_authentic(auth: str, priv: str) -> None:
    keys = usm.localized_keys(auth, "auth-pass-123", priv, "priv-pass-456", ENGINE)
    message = usm.encode_request(
        msg_id=42, clock=_clock(), now=60.0, user=b"v3user", keys=keys, salt=2**64 - 1, pdu=_response_pdu()
    )
    assert ber.message_key(message) == (ber.SNMP_V3, 42)
    envelope = usm.decode_envelope(message)
    assert (envelope.msg_id, envelope.engine_id, envelope.boots, envelope.time, envelope.user) == (
        42, ENGINE, 7, 1010, b"v3user",
    )  # fmt: skip
    assert envelope.flags == usm.FLAG_AUTH | usm.FLAG_PRIV | usm.FLAG_REPORTABLE
    assert envelope.encrypted and envelope.priv_params == b"\xff" * 8
    assert usm.authentic(message, envelope, keys)
    pdu = usm.scoped_pdu(message, envelope, keys)
    assert (pdu.tag, pdu.request_id, [(vb.oid, vb.type) for vb in pdu.varbinds]) == (
        ber.PDU_RESPONSE, 42, [((1, 3, 6, 1, 2, 1, 1, 3, 0), SnmpType.NULL)],
    )  # fmt: skip


def test_every_flipped_bit_is_caught() -> None:
    keys = usm.localized_keys("SHA-256", "auth-pass-123", "AES", "priv-pass-456", ENGINE)
    message = usm.encode_request(msg_id=9, clock=_clock(), now=50.0, user=b"u", keys=keys, salt=1, pdu=_response_pdu())
    for position in range(len(message)):
        for bit in (0x01, 0x80):
            tampered = bytearray(message)
            tampered[position] ^= bit
            try:
                envelope = usm.decode_envelope(bytes(tampered))
            except BadAnswer:
                continue
            assert not usm.authentic(bytes(tampered), envelope, keys), (position, bit)


def test_another_key_is_not_authentic() -> None:
    keys = usm.localized_keys("SHA-512", "auth-pass-123", "AES-256", "priv-pass-456", ENGINE)
    other = usm.localized_keys("SHA-512", "auth-pass-124", "AES-256", "priv-pass-456", ENGINE)
    message = usm.encode_request(msg_id=1, clock=_clock(), now=50.0, user=b"u", keys=keys, salt=3, pdu=_response_pdu())
    assert not usm.authentic(message, usm.decode_envelope(message), other)


def test_discovery_request_is_plain_and_reportable() -> None:
    envelope = usm.decode_envelope(usm.encode_discovery(5, 5))
    assert (envelope.flags, envelope.engine_id, envelope.user, envelope.encrypted) == (
        usm.FLAG_REPORTABLE, b"", b"", False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("boots", "time", "now", "inside"),
    [
        (7, 1000, 50.0, True),
        (7, 1100, 200.0, True),  # agent's clock 150 s behind ours at most
        (7, 1000, 201.0, False),  # older than the window: stale or replayed
        (6, 5000, 50.0, False),  # an earlier boot
        (8, 0, 50.0, True),  # rebooted since: later
        (usm.MAX_BOOTS, 0, 50.0, False),  # boots latched at the maximum
    ],
)
def test_time_window(boots: int, time: int, now: float, inside: bool) -> None:
    assert _clock().in_window(boots, time, now) is inside


def test_the_clock_only_moves_forward() -> None:
    clock = _clock()
    assert clock.advanced(7, 900, 60.0) is clock
    assert clock.advanced(7, 2000, 60.0) == usm.EngineClock(ENGINE, 7, 2000, 60.0)
    assert clock.advanced(8, 3, 60.0) == usm.EngineClock(ENGINE, 8, 3, 60.0)
    assert clock.time_at(1050.0) == 2000


@pytest.mark.parametrize(("index", "kind"), [(i, k) for i, k in enumerate(usm.ReportKind, start=1)])
def test_reports_name_their_counter(index: int, kind: usm.ReportKind) -> None:
    report = ber.Pdu(ber.PDU_REPORT, 1, 0, 0, [])
    assert usm.report_kind(report) is None
    vb = ber.decode_response(
        ber.encode_v2c(
            b"c",
            ber.tlv(
                ber.PDU_RESPONSE,
                ber.encode_integer(1)
                + ber.encode_integer(0) * 2
                + ber.tlv(
                    0x30, ber.tlv(0x30, ber.encode_oid((1, 3, 6, 1, 6, 3, 15, 1, 1, index, 0)) + b"\x41\x01\x05")
                ),
            ),
        )
    )[1].varbinds
    assert usm.report_kind(ber.Pdu(ber.PDU_REPORT, 1, 0, 0, vb)) is kind
