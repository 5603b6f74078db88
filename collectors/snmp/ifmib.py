"""SNMPv2-MIB system group and IF-MIB: numeric OIDs and strict value decoders.

Debian ships no IETF MIB files and we never load MIBs at run time: the few objects we read are named here.
Decoders check the SNMP type of every value; a wrong type is a :class:`~collectors.errors.BadAnswer` naming the
device, the object and what came instead (an agent that sends a string for a counter must not become a rate).
"""

from __future__ import annotations

import functools
import warnings
from pathlib import Path
from typing import Final, Literal

import pysnmp_mibs  # type: ignore[import-untyped]  # data only: compiled MIB modules, no stubs
from pysnmp.smi.builder import DirMibSource, MibBuilder

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
MAX_IF_INDEX: Final = 2_147_483_647

STATUS_NAMES: Final[dict[int, OperStatus]] = {
    1: "up",
    2: "down",
    3: "testing",
    4: "unknown",
    5: "dormant",
    6: "notPresent",
    7: "lowerLayerDown",
}


@functools.cache
def iana_if_types() -> dict[int, str]:
    """IANAifType-MIB's names by number, from the compiled module pysnmp-mibs ships (IANA's registry as a MIB).

    Loaded once, on first use, through pysnmp's own MIB builder: the names are never typed by hand here.
    """
    builder = MibBuilder()
    builder.add_mib_sources(DirMibSource(str(Path(pysnmp_mibs.__file__).parent)))
    with warnings.catch_warnings():  # the module was compiled for pysnmp's older camelCase builder API
        warnings.simplefilter("ignore", DeprecationWarning)
        builder.load_modules("IANAifType-MIB")
    (syntax,) = builder.import_symbols("IANAifType-MIB", "IANAifType")
    return {int(number): str(name) for name, number in syntax.namedValues.items()}


def if_type_name(if_type: int) -> str:
    """The IANAifType name; a number the registry (as shipped) does not know yet is shown as the number."""
    return iana_if_types().get(if_type, str(if_type))


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
    """ifTable/ifXTable rows are indexed by one ifIndex (1..MAX_IF_INDEX)."""
    if len(suffix) != 1 or not 0 < suffix[0] <= MAX_IF_INDEX:
        raise BadAnswer(f"{device}: bad ifIndex {oid_str(suffix)} under {oid_str(column)}")
    return suffix[0]


def mac_hex(raw: bytes) -> str | None:
    """ifPhysAddress as 12 lowercase hex digits (None when the agent sends an empty string)."""
    return raw.hex() if raw else None


SpeedSource = Literal["ifSpeed", "ifHighSpeed"]


def speed_bps(if_speed: int | None, if_high_speed_mbps: int | None) -> tuple[int | None, SpeedSource | None]:
    """The interface speed in bit/s and the column it came from; ``(None, ...)`` when the agent says 0 (unknown).

    The rule where the two columns meet (RFC 2863: ifSpeed is a Gauge32 in bit/s that saturates at 2**32-1,
    ifHighSpeed is in units of 1,000,000 bit/s, rounded):

    - only one present: that one;
    - ifSpeed saturated: ifHighSpeed;
    - both present and agreeing to within ifHighSpeed's rounding (|ifSpeed - ifHighSpeed x 10^6| < 10^6):
      ifSpeed, the more exact (a 1.544 Mbit/s T1, a 64 kbit/s serial line whose ifHighSpeed is 0 or 2);
    - both present and disagreeing beyond that: ifHighSpeed, the column every agent of the 64-bit era keeps
      current (agents that wrap a 10 Gbit/s ifSpeed modulo 2**32, or leave it at a default, are common), and
      the one LibreNMS stores.
    """
    if if_high_speed_mbps is None:
        return (if_speed or None), (None if if_speed is None else "ifSpeed")
    high = if_high_speed_mbps * 1_000_000
    if if_speed is not None and if_speed != IF_SPEED_SATURATED and abs(if_speed - high) < 1_000_000:
        return (if_speed or None), "ifSpeed"
    return (high or None), "ifHighSpeed"


# LibreNMS's trim (and what real agents pad with): spaces, tabs, CR/LF, double quotes and backslashes at either end.
_TRIMMED = ' \t\r\n"\\'
NAME_MAX_CHARS: Final = 200
NAME_CUT_MARKER: Final = "…"


def display_text(raw: str | None) -> str:
    """A DisplayString as shown and stored: trimmed of surrounding whitespace, CR/LF, quotes and backslashes."""
    return "" if raw is None else raw.strip(_TRIMMED)


def display_name(raw: str) -> str:
    """An interface name as stored: names are keys (indexed columns), so one longer than NAME_MAX_CHARS is cut
    and ends with NAME_CUT_MARKER; the raw value stays in the discovery result."""
    if len(raw) <= NAME_MAX_CHARS:
        return raw
    return raw[: NAME_MAX_CHARS - len(NAME_CUT_MARKER)] + NAME_CUT_MARKER
