"""The SNMP client seam: plain typed values in, plain typed values out, no library types across it.

A backend implements :class:`SnmpClient` (two coroutines: GET and GETBULK). Everything above it (walks, MIB
readers, discovery, polling) is backend-neutral, so a faster encoder/decoder can be dropped in and checked
against the pysnmp adapter with the same tests.

SNMPv3 policy (:func:`check_credentials`, applied before any packet is sent): authPriv with an SHA-2 family
authentication protocol and AES privacy. noAuthNoPriv, authNoPriv, MD5, SHA-1 and DES are refused with
:class:`~collectors.errors.WeakCryptoRefused` unless the profile sets ``allow_weak_crypto``. SHA-1 is treated as
weak on purpose: the issue asks for "SHA-2 family" and RFC 7860 exists precisely to move USM off HMAC-96-SHA-1;
devices that only speak SHA-1 are still reachable with an explicit ``allow_weak_crypto: true``.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from collectors.errors import CollectorError, WeakCryptoRefused
from collectors.model import DeviceTarget, SnmpCredentials

Oid = tuple[int, ...]


def oid(text: str) -> Oid:
    """``"1.3.6.1.2.1.1.3"`` (leading dot allowed) → ``(1, 3, 6, 1, 2, 1, 1, 3)``."""
    return tuple(int(part) for part in text.strip(".").split("."))


def oid_str(value: Oid) -> str:
    return ".".join(map(str, value))


class SnmpType(enum.Enum):
    INTEGER = "INTEGER"
    OCTET_STRING = "OCTET STRING"
    NULL = "NULL"
    OBJECT_IDENTIFIER = "OBJECT IDENTIFIER"
    IP_ADDRESS = "IpAddress"
    COUNTER32 = "Counter32"
    GAUGE32 = "Gauge32"
    TIMETICKS = "TimeTicks"
    OPAQUE = "Opaque"
    COUNTER64 = "Counter64"
    # Exceptions a v2c/v3 agent puts in place of a value.
    NO_SUCH_OBJECT = "noSuchObject"
    NO_SUCH_INSTANCE = "noSuchInstance"
    END_OF_MIB_VIEW = "endOfMibView"

    # Members are singletons: identity hashing (in C) instead of Enum's hash of the name (in Python), because every
    # varbind of a walk is looked up in a set of types.
    __hash__ = object.__hash__


EXCEPTION_TYPES = frozenset({SnmpType.NO_SUCH_OBJECT, SnmpType.NO_SUCH_INSTANCE, SnmpType.END_OF_MIB_VIEW})


class VarBind(NamedTuple):
    """One OID and its value. A named tuple, not a dataclass: a walk makes thousands (5x cheaper to build)."""

    oid: Oid
    type: SnmpType
    # int for numeric types, bytes for OCTET STRING/IpAddress/Opaque, Oid for OBJECT IDENTIFIER, None otherwise.
    value: int | bytes | Oid | None


@dataclass(frozen=True, slots=True)
class SnmpEndpoint:
    """Where and how to ask one device. ``timeout_s``/``retries`` apply per request (PDU)."""

    device: str
    address: str
    port: int
    credentials: SnmpCredentials
    timeout_s: float = 2.0
    retries: int = 1

    @classmethod
    def from_target(cls, target: DeviceTarget, *, timeout_s: float = 2.0, retries: int = 1) -> SnmpEndpoint:
        if target.snmp is None:
            raise CollectorError(f"{target.name}: no SNMP credentials in its profile")
        return cls(target.name, target.address, target.snmp_port, target.snmp, timeout_s, retries)


class SnmpClient(Protocol):
    """The seam. Implementations raise only :class:`collectors.errors.CollectorError` subclasses."""

    async def get(self, endpoint: SnmpEndpoint, oids: Sequence[Oid]) -> list[VarBind]:
        """One GET PDU; the answer has one varbind per requested OID, in order."""
        ...

    async def get_bulk(
        self, endpoint: SnmpEndpoint, oids: Sequence[Oid], *, non_repeaters: int, max_repetitions: int
    ) -> list[VarBind]:
        """One GETBULK PDU; the answer is in the RFC 3416 order (non-repeaters, then rows of repeaters)."""
        ...


STRONG_AUTH = frozenset({"SHA-224", "SHA-256", "SHA-384", "SHA-512"})
STRONG_PRIV = frozenset({"AES", "AES-192", "AES-256", "AES-192-C", "AES-256-C"})


def check_credentials(device: str, credentials: SnmpCredentials) -> None:
    """Validate a profile against the SNMP security policy; raise with a message naming what to change."""
    if credentials.version == "2c":
        if not credentials.community:
            raise CollectorError(f"{device}: SNMP v2c profile has no community")
        return
    if not credentials.user:
        raise CollectorError(f"{device}: SNMPv3 profile has no user")
    if credentials.allow_weak_crypto:
        return
    if credentials.auth_protocol is None or not credentials.auth_key:
        raise WeakCryptoRefused(
            f"{device}: SNMPv3 noAuthNoPriv refused; use authPriv with SHA-256 (or SHA-224/384/512) and AES, "
            "or set allow_weak_crypto: true in the device profile"
        )
    if credentials.auth_protocol not in STRONG_AUTH:
        raise WeakCryptoRefused(
            f"{device}: SNMPv3 auth protocol {credentials.auth_protocol} is weak; use SHA-224/256/384/512, "
            "or set allow_weak_crypto: true in the device profile"
        )
    if credentials.priv_protocol is None or not credentials.priv_key:
        raise WeakCryptoRefused(
            f"{device}: SNMPv3 authNoPriv refused (no privacy); add AES privacy, "
            "or set allow_weak_crypto: true in the device profile"
        )
    if credentials.priv_protocol not in STRONG_PRIV:
        raise WeakCryptoRefused(
            f"{device}: SNMPv3 privacy protocol {credentials.priv_protocol} is weak; use AES (128/192/256), "
            "or set allow_weak_crypto: true in the device profile"
        )
