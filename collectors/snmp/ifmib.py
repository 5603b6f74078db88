"""SNMPv2-MIB system group and IF-MIB: numeric OIDs and strict value decoders.

Debian ships no IETF MIB files and we never load MIBs at run time: the few objects we read are named here.
Decoders check the SNMP type of every value; a wrong type is a :class:`~collectors.errors.BadAnswer` naming the
device, the object and what came instead (an agent that sends a string for a counter must not become a rate).
"""

from __future__ import annotations

from typing import Final

from collectors.errors import BadAnswer
from collectors.model import OperStatus
from collectors.snmp.client import Oid, SnmpType, VarBind, oid, oid_str

SYS_DESCR: Final = oid("1.3.6.1.2.1.1.1")
SYS_OBJECT_ID: Final = oid("1.3.6.1.2.1.1.2")
SYS_UPTIME: Final = oid("1.3.6.1.2.1.1.3")
SYS_CONTACT: Final = oid("1.3.6.1.2.1.1.4")
SYS_NAME: Final = oid("1.3.6.1.2.1.1.5")
SYS_LOCATION: Final = oid("1.3.6.1.2.1.1.6")
SYSTEM_SCALARS: Final = (SYS_DESCR, SYS_OBJECT_ID, SYS_UPTIME, SYS_CONTACT, SYS_NAME, SYS_LOCATION)

_IF_ENTRY = "1.3.6.1.2.1.2.2.1."
_IFX_ENTRY = "1.3.6.1.2.1.31.1.1.1."
IF_INDEX: Final = oid(_IF_ENTRY + "1")
IF_DESCR: Final = oid(_IF_ENTRY + "2")
IF_TYPE: Final = oid(_IF_ENTRY + "3")
IF_MTU: Final = oid(_IF_ENTRY + "4")
IF_SPEED: Final = oid(_IF_ENTRY + "5")
IF_PHYS_ADDRESS: Final = oid(_IF_ENTRY + "6")
IF_ADMIN_STATUS: Final = oid(_IF_ENTRY + "7")
IF_OPER_STATUS: Final = oid(_IF_ENTRY + "8")
IF_IN_OCTETS: Final = oid(_IF_ENTRY + "10")
IF_IN_DISCARDS: Final = oid(_IF_ENTRY + "13")
IF_IN_ERRORS: Final = oid(_IF_ENTRY + "14")
IF_OUT_OCTETS: Final = oid(_IF_ENTRY + "16")
IF_OUT_DISCARDS: Final = oid(_IF_ENTRY + "19")
IF_OUT_ERRORS: Final = oid(_IF_ENTRY + "20")
IF_NAME: Final = oid(_IFX_ENTRY + "1")
IF_HC_IN_OCTETS: Final = oid(_IFX_ENTRY + "6")
IF_HC_OUT_OCTETS: Final = oid(_IFX_ENTRY + "10")
IF_HIGH_SPEED: Final = oid(_IFX_ENTRY + "15")
IF_ALIAS: Final = oid(_IFX_ENTRY + "18")
IF_COUNTER_DISCONTINUITY_TIME: Final = oid(_IFX_ENTRY + "19")

IF_SPEED_SATURATED: Final = 4_294_967_295

STATUS_NAMES: Final[dict[int, OperStatus]] = {
    1: "up",
    2: "down",
    3: "testing",
    4: "unknown",
    5: "dormant",
    6: "notPresent",
    7: "lowerLayerDown",
}

# IANAifType-MIB names for the types seen in the field; others are shown as their number.
IANA_IF_TYPES: Final[dict[int, str]] = {
    1: "other",
    6: "ethernetCsmacd",
    18: "ds1",
    22: "propPointToPointSerial",
    23: "ppp",
    24: "softwareLoopback",
    30: "ds3",
    32: "frameRelay",
    37: "atm",
    39: "sonet",
    49: "aal5",
    53: "propVirtual",
    62: "fastEther",
    71: "ieee80211",
    81: "ds0",
    117: "gigabitEthernet",
    131: "tunnel",
    134: "atmSubInterface",
    135: "l2vlan",
    136: "l3ipvlan",
    150: "mplsTunnel",
    160: "usb",
    161: "ieee8023adLag",
    166: "mpls",
    209: "bridge",
}


def if_type_name(if_type: int) -> str:
    return IANA_IF_TYPES.get(if_type, str(if_type))


def wrong_type(device: str, vb: VarBind, expected: str) -> BadAnswer:
    return BadAnswer(f"{device}: {oid_str(vb.oid)} should be {expected}, got {vb.type.value} {vb.value!r:.60}")


def as_int(device: str, vb: VarBind, *types: SnmpType) -> int:
    if vb.type not in types or not isinstance(vb.value, int):
        raise wrong_type(device, vb, "/".join(t.value for t in types))
    return vb.value


def as_bytes(device: str, vb: VarBind) -> bytes:
    if vb.type is not SnmpType.OCTET_STRING or not isinstance(vb.value, bytes):
        raise wrong_type(device, vb, "OCTET STRING")
    return vb.value


def as_text(device: str, vb: VarBind) -> str:
    # DisplayString is ASCII by definition; real agents send Latin-1 and UTF-8 too. NULs pad some vendors' fields.
    raw = as_bytes(device, vb).rstrip(b"\x00")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def as_oid(device: str, vb: VarBind) -> Oid:
    if vb.type is not SnmpType.OBJECT_IDENTIFIER or not isinstance(vb.value, tuple):
        raise wrong_type(device, vb, "OBJECT IDENTIFIER")
    return vb.value


def as_status(device: str, vb: VarBind) -> OperStatus:
    value = as_int(device, vb, SnmpType.INTEGER)
    status = STATUS_NAMES.get(value)
    if status is None:
        raise wrong_type(device, vb, "an ifOperStatus/ifAdminStatus value 1..7")
    return status


def single_index(device: str, column: Oid, suffix: Oid) -> int:
    """ifTable/ifXTable rows are indexed by one ifIndex (1..2147483647)."""
    if len(suffix) != 1 or not 0 < suffix[0] <= 2_147_483_647:
        raise BadAnswer(f"{device}: bad ifIndex {oid_str(suffix)} under {oid_str(column)}")
    return suffix[0]


def mac_hex(raw: bytes) -> str | None:
    """ifPhysAddress as 12 lowercase hex digits (None when the agent sends an empty string)."""
    return raw.hex() if raw else None


def speed_bps(if_speed: int | None, if_high_speed_mbps: int | None) -> int | None:
    """ifSpeed unless it saturates at 2**32-1 (or is absent); then ifHighSpeed in Mbit/s. 0 means unknown."""
    if if_speed is not None and if_speed != IF_SPEED_SATURATED:
        return if_speed or None
    if if_high_speed_mbps is not None:
        return if_high_speed_mbps * 1_000_000 or None
    return if_speed or None
