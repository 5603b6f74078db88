"""SNMPv3 with the User-based Security Model for the own codec: pure functions over bytes, no socket.

What is implemented, and from where:

- Message layout and processing: RFC 3412 (SNMPv3Message, HeaderData, ScopedPDU) and RFC 3414 §3.1/§3.2 (outgoing
  and incoming USM processing) for a non-authoritative engine (a manager): engine discovery with an empty
  engineID (§4), boots/time kept per authoritative engine and advanced by the local clock, the time window
  (§3.2.7: an answer older than 150 s or from an earlier boot is refused) and the Report-PDUs (§3.2 error
  counters ``usmStats*``) mapped to :class:`ReportKind`.
- Keys: password to key and key localisation (RFC 3414 A.2) with the authentication protocol's hash, as RFC 7860
  §9.1 generalises them to SHA-2; ``Kul`` is cached per (password, engine ID): a hash of a megabyte runs once per
  credential and engine, not per message.
- Authentication: HMAC-SHA-2 with the truncations of RFC 7860 (SHA-224 → 16, SHA-256 → 24, SHA-384 → 32,
  SHA-512 → 48 octets). MD5/SHA-1 are not here: weak profiles go through the pysnmp backend when allowed.
- Privacy: AES-CFB-128 (RFC 3826; IV = engineBoots ‖ engineTime ‖ 64-bit salt), and AES-192/256 with the key
  extension named in the profile: ``AES-192``/``AES-256`` the Blumenthal draft (draft-blumenthal-aes-usm-04
  §3.1.2.1, what net-snmp's ``AES-192``/``AES-256`` do: ``K ‖ H(K)`` until long enough), ``AES-192-C``/
  ``AES-256-C`` the Reeder draft (draft-reeder-snmpv3-usm-3desede-00 §2.1, what Cisco does: the localised key is
  hashed again as if it were a password and localised again). The two differ only when the hash is shorter than
  the AES key (SHA-224 with AES-256).

Every primitive (hashes, HMAC, AES) is ``cryptography``'s. Decoders raise only
:class:`~collectors.errors.BadAnswer`; a secret never appears in a message or a ``repr``.
"""

from __future__ import annotations

import enum
import functools
import hmac as stdlib_hmac
from dataclasses import dataclass, field
from typing import Final

from cryptography.hazmat.decrepit.ciphers.modes import CFB
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

from collectors.errors import BadAnswer
from collectors.snmp import ber
from collectors.snmp.client import Oid

SECURITY_MODEL_USM: Final = 3
FLAG_AUTH: Final = 0x01
FLAG_PRIV: Final = 0x02
FLAG_REPORTABLE: Final = 0x04
MAX_MESSAGE_SIZE: Final = 65507
TIME_WINDOW_S: Final = 150
MAX_BOOTS: Final = 2_147_483_647
_PASSWORD_EXPANSION: Final = 1_048_576  # RFC 3414 A.2: the password repeated to one megabyte


@dataclass(frozen=True, slots=True)
class AuthProtocol:
    name: str
    hash: type[hashes.HashAlgorithm]
    mac_octets: int


@dataclass(frozen=True, slots=True)
class PrivProtocol:
    name: str
    key_octets: int
    reeder: bool  # key extension of the Reeder draft (Cisco) instead of Blumenthal (net-snmp)


AUTH_PROTOCOLS: Final[dict[str, AuthProtocol]] = {
    p.name: p
    for p in (
        AuthProtocol("SHA-224", hashes.SHA224, 16),
        AuthProtocol("SHA-256", hashes.SHA256, 24),
        AuthProtocol("SHA-384", hashes.SHA384, 32),
        AuthProtocol("SHA-512", hashes.SHA512, 48),
    )
}
PRIV_PROTOCOLS: Final[dict[str, PrivProtocol]] = {
    p.name: p
    for p in (
        PrivProtocol("AES", 16, reeder=False),
        PrivProtocol("AES-192", 24, reeder=False),
        PrivProtocol("AES-256", 32, reeder=False),
        PrivProtocol("AES-192-C", 24, reeder=True),
        PrivProtocol("AES-256-C", 32, reeder=True),
    )
}


class ReportKind(enum.Enum):
    """The usmStats counters a Report-PDU names (RFC 3414 §5, usmStats 1..6) and what each means for the device."""

    UNSUPPORTED_SECURITY_LEVEL = "the agent does not support authPriv for this user"
    NOT_IN_TIME_WINDOW = "message outside the agent's time window"
    UNKNOWN_USER = "the agent does not know the SNMPv3 user"
    UNKNOWN_ENGINE_ID = "the agent's engine ID changed"
    WRONG_DIGEST = "the agent rejected the authentication digest (wrong auth key or protocol)"
    DECRYPTION_ERROR = "the agent could not decrypt the request (wrong privacy key or protocol)"


_USM_STATS: Final = (1, 3, 6, 1, 6, 3, 15, 1, 1)
REPORT_OIDS: Final[dict[Oid, ReportKind]] = {
    (*_USM_STATS, 1, 0): ReportKind.UNSUPPORTED_SECURITY_LEVEL,
    (*_USM_STATS, 2, 0): ReportKind.NOT_IN_TIME_WINDOW,
    (*_USM_STATS, 3, 0): ReportKind.UNKNOWN_USER,
    (*_USM_STATS, 4, 0): ReportKind.UNKNOWN_ENGINE_ID,
    (*_USM_STATS, 5, 0): ReportKind.WRONG_DIGEST,
    (*_USM_STATS, 6, 0): ReportKind.DECRYPTION_ERROR,
}


# ---------------------------------------------------------------- keys


@functools.lru_cache(maxsize=256)
def password_to_key(password: bytes, auth: str) -> bytes:
    """RFC 3414 A.2 (RFC 7860 §9.1.1 for SHA-2): the hash of the password repeated to 1,048,576 octets."""
    if not password:
        raise ValueError("an SNMPv3 password must not be empty")
    digest = hashes.Hash(AUTH_PROTOCOLS[auth].hash())
    digest.update((password * (_PASSWORD_EXPANSION // len(password) + 1))[:_PASSWORD_EXPANSION])
    return digest.finalize()


def localize(key: bytes, engine_id: bytes, auth: str) -> bytes:
    """RFC 3414 A.2: Kul = H(Ku ‖ snmpEngineID ‖ Ku)."""
    digest = hashes.Hash(AUTH_PROTOCOLS[auth].hash())
    digest.update(key + engine_id + key)
    return digest.finalize()


def _digest(data: bytes, auth: str) -> bytes:
    digest = hashes.Hash(AUTH_PROTOCOLS[auth].hash())
    digest.update(data)
    return digest.finalize()


def priv_key(password: bytes, engine_id: bytes, auth: str, priv: str) -> bytes:
    """The localised AES key, extended by the profile's rule when the hash is shorter than the key."""
    protocol = PRIV_PROTOCOLS[priv]
    key = localize(password_to_key(password, auth), engine_id, auth)
    while len(key) < protocol.key_octets:
        if protocol.reeder:
            key += localize(password_to_key(key, auth), engine_id, auth)
        else:
            key += _digest(key, auth)
    return key[: protocol.key_octets]


@dataclass(frozen=True, slots=True)
class UsmKeys:
    """One user's localised keys at one engine, with the protocols they belong to."""

    auth: AuthProtocol
    priv: PrivProtocol
    auth_key: bytes = field(repr=False)
    priv_key: bytes = field(repr=False)


@functools.lru_cache(maxsize=4096)
def localized_keys(auth: str, auth_password: str, priv: str, priv_password: str, engine_id: bytes) -> UsmKeys:
    """Cached per credential and engine ID: a new engine ID (replaced agent) localises again."""
    return UsmKeys(
        AUTH_PROTOCOLS[auth],
        PRIV_PROTOCOLS[priv],
        localize(password_to_key(auth_password.encode(), auth), engine_id, auth),
        priv_key(priv_password.encode(), engine_id, auth, priv),
    )


# ---------------------------------------------------------------- engine clock


@dataclass(frozen=True, slots=True)
class EngineClock:
    """What a manager knows of an authoritative engine: its ID, boots and time at ``learned_at`` (monotonic s)."""

    engine_id: bytes
    boots: int
    time: int
    learned_at: float

    def time_at(self, now: float) -> int:
        return min(MAX_BOOTS, self.time + int(now - self.learned_at))

    def in_window(self, boots: int, time: int, now: float) -> bool:
        """RFC 3414 §3.2.7 a) for a non-authoritative receiver."""
        if boots == MAX_BOOTS or boots < self.boots:
            return False
        return not (boots == self.boots and time < self.time_at(now) - TIME_WINDOW_S)

    def advanced(self, boots: int, time: int, now: float) -> EngineClock:
        """RFC 3414 §3.2.7 b): adopt the agent's boots/time when they are later than what we hold."""
        if boots > self.boots or (boots == self.boots and time > self.time_at(now)):
            return EngineClock(self.engine_id, boots, time, now)
        return self


# ---------------------------------------------------------------- encoding


def _octets(value: bytes) -> bytes:
    return ber.tlv(ber.TAG_OCTET_STRING, value)


def _global_data(msg_id: int, flags: int) -> bytes:
    return ber.tlv(
        ber.TAG_SEQUENCE,
        ber.encode_integer(msg_id)
        + ber.encode_integer(MAX_MESSAGE_SIZE)
        + _octets(bytes((flags,)))
        + ber.encode_integer(SECURITY_MODEL_USM),
    )


def _scoped_pdu(context_engine_id: bytes, pdu: bytes) -> bytes:
    return ber.tlv(ber.TAG_SEQUENCE, _octets(context_engine_id) + _octets(b"") + pdu)


def encode_discovery(msg_id: int, request_id: int) -> bytes:
    """RFC 3414 §4: noAuthNoPriv, reportable, empty engine ID and user; the agent answers usmStatsUnknownEngineIDs
    in a Report carrying its engine ID, boots and time."""
    security = ber.tlv(
        ber.TAG_SEQUENCE, _octets(b"") + ber.encode_integer(0) + ber.encode_integer(0) + _octets(b"") * 3
    )
    pdu = ber.encode_pdu(ber.PDU_GET, request_id, [], 0, 0)
    body = (
        ber.encode_integer(ber.SNMP_V3)
        + _global_data(msg_id, FLAG_REPORTABLE)
        + _octets(security)
        + _scoped_pdu(b"", pdu)
    )
    return ber.tlv(ber.TAG_SEQUENCE, body)


@functools.lru_cache(maxsize=4096)
def _aes_key(key: bytes) -> algorithms.AES:
    return algorithms.AES(key)  # checked once per localised key, not once per message


def _aes(key: bytes, boots: int, time: int, salt: bytes) -> Cipher[CFB]:
    # RFC 3826 §3.1.2.1: IV = engineBoots (4) ‖ engineTime (4) ‖ salt (8), AES in 128-bit CFB mode.
    return Cipher(_aes_key(key), CFB(boots.to_bytes(4, "big") + time.to_bytes(4, "big") + salt))


def _mac(keys: UsmKeys, message: bytes) -> bytes:
    mac = hmac.HMAC(keys.auth_key, keys.auth.hash())
    mac.update(message)
    return mac.finalize()[: keys.auth.mac_octets]


# What every authPriv request repeats: the version, and the global header after msgID.
_REQUEST_VERSION: Final = ber.encode_integer(ber.SNMP_V3)
_REQUEST_GLOBAL_TAIL: Final = (
    ber.encode_integer(MAX_MESSAGE_SIZE)
    + _octets(bytes((FLAG_AUTH | FLAG_PRIV | FLAG_REPORTABLE,)))
    + ber.encode_integer(SECURITY_MODEL_USM)
)


@functools.lru_cache(maxsize=4096)
def _request_parts(engine_id: bytes, user: bytes, mac_octets: int) -> tuple[bytes, bytes, bytes]:
    """What the requests to one engine for one user repeat: the contextEngineID and contextName that open the
    scoped PDU, the msgAuthoritativeEngineID, and msgUserName with the header of the authentication parameters."""
    return (
        _octets(engine_id) + _octets(b""),
        _octets(engine_id),
        _octets(user) + bytes((ber.TAG_OCTET_STRING, mac_octets)),
    )


def encode_request(
    *, msg_id: int, clock: EngineClock, now: float, user: bytes, keys: UsmKeys, salt: int, pdu: bytes
) -> bytes:
    """An authPriv request (RFC 3414 §3.1.1): the scoped PDU encrypted, the whole message authenticated."""
    boots, time = clock.boots, clock.time_at(now)
    mac_octets = keys.auth.mac_octets
    context, engine, user_and_mac_header = _request_parts(clock.engine_id, user, mac_octets)
    salt_octets = salt.to_bytes(8, "big")
    encryptor = _aes(keys.priv_key, boots, time, salt_octets).encryptor()
    encrypted = encryptor.update(ber.tlv(ber.TAG_SEQUENCE, context + pdu)) + encryptor.finalize()
    privacy = b"\x04\x08" + salt_octets  # msgPrivacyParameters
    msg_data = ber.tlv(ber.TAG_OCTET_STRING, encrypted)
    security = ber.tlv(
        ber.TAG_SEQUENCE,
        engine
        + ber.encode_integer(boots)
        + ber.encode_integer(time)
        + user_and_mac_header
        + bytes(mac_octets)
        + privacy,
    )
    message = ber.tlv(
        ber.TAG_SEQUENCE,
        _REQUEST_VERSION
        + ber.tlv(ber.TAG_SEQUENCE, ber.encode_integer(msg_id) + _REQUEST_GLOBAL_TAIL)
        + _octets(security)
        + msg_data,
    )
    # The zeroed msgAuthenticationParameters end where msgPrivacyParameters and msgData begin.
    offset = len(message) - len(msg_data) - len(privacy) - mac_octets
    return message[:offset] + _mac(keys, message) + message[offset + mac_octets :]


# ---------------------------------------------------------------- decoding


@dataclass(frozen=True, slots=True)
class Envelope:
    """The clear parts of an SNMPv3 message; ``auth_offset`` locates msgAuthenticationParameters in the datagram."""

    msg_id: int
    flags: int
    engine_id: bytes
    boots: int
    time: int
    user: bytes
    auth_params: bytes
    auth_offset: int
    priv_params: bytes
    data_start: int
    data_stop: int
    encrypted: bool


def decode_envelope(data: bytes) -> Envelope:
    end = len(data)
    start, stop = ber.expect(data, 0, end, ber.TAG_SEQUENCE)
    version, pos = ber.integer_at(data, start, stop)
    if version != ber.SNMP_V3:
        raise BadAnswer("not an SNMPv3 message")
    g_start, g_stop = ber.expect(data, pos, stop, ber.TAG_SEQUENCE)
    msg_id, gpos = ber.integer_at(data, g_start, g_stop)
    _, gpos = ber.integer_at(data, gpos, g_stop)  # msgMaxSize: ours is a datagram anyway
    flags_octets, _, gpos = ber.octets_at(data, gpos, g_stop)
    model, gpos = ber.integer_at(data, gpos, g_stop)
    if len(flags_octets) != 1:
        raise BadAnswer("msgFlags is not one octet")
    if model != SECURITY_MODEL_USM:
        raise BadAnswer(f"security model {model} is not USM")
    flags = flags_octets[0]
    if flags & FLAG_PRIV and not flags & FLAG_AUTH:
        raise BadAnswer("msgFlags: privacy without authentication")
    o_start, pos = ber.expect(data, g_stop, stop, ber.TAG_OCTET_STRING)
    s_start, s_stop = ber.expect(data, o_start, pos, ber.TAG_SEQUENCE)
    engine_id, _, spos = ber.octets_at(data, s_start, s_stop)
    boots, spos = ber.integer_at(data, spos, s_stop)
    time, spos = ber.integer_at(data, spos, s_stop)
    user, _, spos = ber.octets_at(data, spos, s_stop)
    auth_params, auth_offset, spos = ber.octets_at(data, spos, s_stop)
    priv_params, _, _ = ber.octets_at(data, spos, s_stop)
    if not (0 <= boots <= MAX_BOOTS and 0 <= time <= MAX_BOOTS) or len(engine_id) > 32:
        raise BadAnswer("USM security parameters out of range")
    tag, d_start, d_stop = ber.header(data, pos, stop)
    if tag == ber.TAG_OCTET_STRING:
        encrypted = True
    elif tag == ber.TAG_SEQUENCE:
        encrypted = False
        d_start = pos  # the scoped PDU TLV itself
    else:
        raise BadAnswer(f"msgData: unexpected BER tag 0x{tag:02x}")
    if encrypted != bool(flags & FLAG_PRIV):
        raise BadAnswer("msgData does not match msgFlags")
    return Envelope(
        msg_id, flags, engine_id, boots, time, user, auth_params, auth_offset, priv_params, d_start, d_stop, encrypted
    )


def authentic(data: bytes, envelope: Envelope, keys: UsmKeys) -> bool:
    """RFC 3414 §3.2.6 / RFC 7860 §4.2: the HMAC over the message with its authentication parameters zeroed."""
    if len(envelope.auth_params) != keys.auth.mac_octets:
        return False
    zeroed = (
        data[: envelope.auth_offset] + bytes(keys.auth.mac_octets) + data[envelope.auth_offset + keys.auth.mac_octets :]
    )
    return stdlib_hmac.compare_digest(_mac(keys, zeroed), envelope.auth_params)


def scoped_pdu(data: bytes, envelope: Envelope, keys: UsmKeys | None) -> ber.Pdu:
    """The PDU inside msgData, decrypted when the message is private (then ``keys`` are required)."""
    if envelope.encrypted:
        if keys is None or len(envelope.priv_params) != 8:
            raise BadAnswer("encrypted scoped PDU without usable privacy parameters")
        decryptor = _aes(keys.priv_key, envelope.boots, envelope.time, envelope.priv_params).decryptor()
        plain = decryptor.update(data[envelope.data_start : envelope.data_stop]) + decryptor.finalize()
        try:
            return _decode_scoped(plain, 0, len(plain))
        except BadAnswer as exc:
            raise BadAnswer(f"decryption error (scoped PDU unreadable: {exc})") from exc
    return _decode_scoped(data, envelope.data_start, envelope.data_stop)


def _decode_scoped(data: bytes, pos: int, end: int) -> ber.Pdu:
    start, stop = ber.expect(data, pos, end, ber.TAG_SEQUENCE)
    _, _, cpos = ber.octets_at(data, start, stop)  # contextEngineID
    _, _, cpos = ber.octets_at(data, cpos, stop)  # contextName
    return ber.decode_pdu(data, cpos, stop)


def report_kind(pdu: ber.Pdu) -> ReportKind | None:
    """What a Report-PDU reports (None for a report of something else, e.g. a non-USM counter)."""
    if pdu.tag != ber.PDU_REPORT or not pdu.varbinds:
        return None
    return REPORT_OIDS.get(pdu.varbinds[0].oid)
