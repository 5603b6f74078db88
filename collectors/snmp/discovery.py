"""Discovery: the system group and IF-MIB ifTable/ifXTable of one device, as an immutable typed result.

Rows are keyed by the index suffix of ANY column, not by the ifIndex column: many agents (and most recordings)
omit ifIndex, ifSpeed or whole ifXTable columns. A row is kept when it has at least one identifying column
(ifDescr, ifName or ifAlias) or a type; decoding is strict (wrong SNMP types raise BadAnswer for the device).
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple, Protocol

from collectors.errors import BadAnswer
from collectors.model import OperStatus
from collectors.snmp import ifmib
from collectors.snmp.client import EXCEPTION_TYPES, Oid, SnmpClient, SnmpEndpoint, SnmpType, VarBind
from collectors.snmp.walk import DEFAULT_MAX_ROWS, DEFAULT_MAX_VARBINDS_PER_PDU, get_many, walk_columns

DISCOVERY_COLUMNS: tuple[Oid, ...] = (
    ifmib.IF_DESCR,
    ifmib.IF_TYPE,
    ifmib.IF_MTU,
    ifmib.IF_SPEED,
    ifmib.IF_PHYS_ADDRESS,
    ifmib.IF_ADMIN_STATUS,
    ifmib.IF_OPER_STATUS,
    ifmib.IF_NAME,
    ifmib.IF_HIGH_SPEED,
    ifmib.IF_ALIAS,
    ifmib.IF_HC_IN_OCTETS,  # presence tells the poller whether 64-bit counters exist per row
)


@dataclass(frozen=True, slots=True)
class RawText:
    """ifDescr, ifName and ifAlias exactly as the agent sent them (decoded; None when absent)."""

    descr: str | None
    name: str | None
    alias: str | None


@dataclass(frozen=True, slots=True)
class DiscoveredInterface:
    """One ifTable/ifXTable row with the display conventions of the mature NMSs applied (LibreNMS's, checked
    field by field against its tables on real recordings): text trimmed (:func:`ifmib.display_text`), an empty
    ifName shows ifDescr, an empty ifDescr shows ifName, an empty ifAlias shows ifDescr. ``raw`` keeps what the
    agent sent."""

    if_index: int
    if_name: str  # ifName, or ifDescr when empty; cut to ifmib.NAME_MAX_CHARS with a marker (it is a key)
    if_descr: str  # ifDescr, or ifName when empty
    if_alias: str  # ifAlias, or ifDescr when empty
    if_type: int  # IANAifType number; ifmib.if_type_name() gives the name
    speed_bps: int | None  # ifmib.speed_bps(): None if 0/unknown
    speed_source: ifmib.SpeedSource | None  # which column speed_bps came from
    admin_status: OperStatus | None
    oper_status: OperStatus | None
    mac: str | None  # lowercase hex digits (12 for Ethernet)
    mtu: int | None
    has_hc_counters: bool
    raw: RawText

    @property
    def if_type_name(self) -> str:
        return ifmib.if_type_name(self.if_type)


@dataclass(frozen=True, slots=True)
class SystemInfo:
    descr: str | None
    object_id: str | None
    uptime_ticks: int | None
    contact: str | None
    name: str | None
    location: str | None


@dataclass(frozen=True, slots=True)
class DeviceDiscovery:
    device: str
    ts: datetime
    system: SystemInfo
    interfaces: tuple[DiscoveredInterface, ...]  # sorted by ifIndex

    def by_index(self) -> dict[int, DiscoveredInterface]:
        return {i.if_index: i for i in self.interfaces}

    def by_name(self) -> dict[str, DiscoveredInterface]:
        return {i.if_name: i for i in self.interfaces}


class PolledInterface(Protocol):
    """What a poll needs of a discovered interface (a :class:`DiscoveredInterface`, or an :class:`InterfaceIndex`'s
    row)."""

    @property
    def if_name(self) -> str: ...

    @property
    def speed_bps(self) -> int | None: ...

    @property
    def has_hc_counters(self) -> bool: ...


class InterfaceTable(Protocol):
    def by_index(self) -> Mapping[int, PolledInterface]: ...


class IndexedInterface(NamedTuple):
    if_name: str
    speed_bps: int | None
    has_hc_counters: bool


@dataclass(frozen=True, slots=True)
class InterfaceIndex:
    """What polling keeps of a device's discovery between polls, in columns: about 1.5 KB for 48 ports instead of
    about 22 KB of :class:`DiscoveredInterface` objects. Names are interned (devices of one kind share them)."""

    ts: datetime  # when the discovery was made
    if_indexes: array[int]  # sorted
    if_names: tuple[str, ...]
    speeds_bps: array[int]  # 0: unknown
    hc_counters: bytes  # 1: the row has 64-bit counters

    @classmethod
    def of(cls, discovery: DeviceDiscovery) -> InterfaceIndex:
        rows = discovery.interfaces
        return cls(
            discovery.ts,
            array("I", (i.if_index for i in rows)),
            tuple(sys.intern(i.if_name) for i in rows),
            array("Q", (i.speed_bps or 0 for i in rows)),
            bytes(i.has_hc_counters for i in rows),
        )

    def by_index(self) -> dict[int, IndexedInterface]:
        return {
            index: IndexedInterface(name, speed or None, bool(hc))
            for index, name, speed, hc in zip(
                self.if_indexes, self.if_names, self.speeds_bps, self.hc_counters, strict=True
            )
        }


def _system(device: str, answer: list[VarBind]) -> SystemInfo:
    values: dict[Oid, VarBind] = {vb.oid[:-1]: vb for vb in answer if vb.type not in EXCEPTION_TYPES}

    def text(column: Oid) -> str | None:
        vb = values.get(column)
        return None if vb is None else ifmib.as_text(device, vb)

    uptime = values.get(ifmib.SYS_UPTIME)
    object_id = values.get(ifmib.SYS_OBJECT_ID)
    return SystemInfo(
        descr=text(ifmib.SYS_DESCR),
        object_id=None if object_id is None else ".".join(map(str, ifmib.as_oid(device, object_id))),
        uptime_ticks=None if uptime is None else ifmib.as_int(device, uptime, SnmpType.TIMETICKS),
        contact=text(ifmib.SYS_CONTACT),
        name=text(ifmib.SYS_NAME),
        location=text(ifmib.SYS_LOCATION),
    )


def build_interfaces(device: str, columns: Mapping[Oid, Mapping[Oid, VarBind]]) -> tuple[DiscoveredInterface, ...]:
    """Pure: walked columns → interfaces. Raises BadAnswer on wrong types or malformed indexes."""
    by_row: dict[int, dict[Oid, VarBind]] = {}
    for column, rows in columns.items():
        for suffix, vb in rows.items():
            index = ifmib.single_index(device, column, suffix)
            by_row.setdefault(index, {})[column] = vb
    out = []
    for index in sorted(by_row):
        row = by_row[index]

        def text(column: Oid, row: dict[Oid, VarBind] = row) -> str | None:
            vb = row.get(column)
            return None if vb is None else ifmib.as_text(device, vb)

        def number(column: Oid, *types: SnmpType, row: dict[Oid, VarBind] = row) -> int | None:
            vb = row.get(column)
            return None if vb is None else ifmib.as_int(device, vb, *types)

        def status(column: Oid, row: dict[Oid, VarBind] = row) -> OperStatus | None:
            vb = row.get(column)
            return None if vb is None else ifmib.as_status(device, vb)

        raw = RawText(text(ifmib.IF_DESCR), text(ifmib.IF_NAME), text(ifmib.IF_ALIAS))
        descr, name, alias = ifmib.display_text(raw.descr), ifmib.display_text(raw.name), ifmib.display_text(raw.alias)
        if_type = number(ifmib.IF_TYPE, SnmpType.INTEGER)
        if not (descr or name or alias) and if_type is None:
            continue
        phys = row.get(ifmib.IF_PHYS_ADDRESS)
        hc = row.get(ifmib.IF_HC_IN_OCTETS)
        if hc is not None and hc.type is not SnmpType.COUNTER64:
            raise ifmib.wrong_type(device, hc, "Counter64")
        speed, speed_source = ifmib.speed_bps(
            number(ifmib.IF_SPEED, SnmpType.GAUGE32), number(ifmib.IF_HIGH_SPEED, SnmpType.GAUGE32)
        )
        out.append(
            DiscoveredInterface(
                if_index=index,
                if_name=ifmib.display_name(name or descr),
                if_descr=descr or name,
                if_alias=alias or descr,
                if_type=if_type if if_type is not None else 1,
                speed_bps=speed,
                speed_source=speed_source,
                admin_status=status(ifmib.IF_ADMIN_STATUS),
                oper_status=status(ifmib.IF_OPER_STATUS),
                mac=None if phys is None else ifmib.mac_hex(ifmib.as_bytes(device, phys)),
                mtu=number(ifmib.IF_MTU, SnmpType.INTEGER),
                has_hc_counters=hc is not None,
                raw=raw,
            )
        )
    return tuple(out)


async def discover(
    client: SnmpClient,
    endpoint: SnmpEndpoint,
    *,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_varbinds_per_pdu: int = DEFAULT_MAX_VARBINDS_PER_PDU,
    now: datetime | None = None,
) -> DeviceDiscovery:
    """System group + ifTable/ifXTable of one device. Raises CollectorError subclasses only."""
    ts = now or datetime.now(UTC)
    system_answer = await get_many(client, endpoint, [(*col, 0) for col in ifmib.SYSTEM_SCALARS])
    system = _system(endpoint.device, system_answer)
    walked = await walk_columns(
        client, endpoint, DISCOVERY_COLUMNS, max_rows=max_rows, max_varbinds_per_pdu=max_varbinds_per_pdu
    )
    interfaces = build_interfaces(endpoint.device, walked.columns)
    if not interfaces and not any(walked.columns.values()):
        raise BadAnswer(f"{endpoint.device}: agent has no IF-MIB ifTable/ifXTable rows")
    return DeviceDiscovery(endpoint.device, ts, system, interfaces)
