"""Polling: the minimum PDUs for bandwidth, availability and SLA, against a previous discovery.

All interfaces: one parallel GETBULK walk of sysUpTime (as a non-repeater) + ifOperStatus, HC octets, errors,
discards and ifCounterDiscontinuityTime; the 32-bit octet columns are fetched only for rows without HC counters.
Named interfaces only: GETs of exactly those rows (one PDU per 60 varbinds).

:class:`SnmpCollector` is what a scheduler calls: it keeps each device's discovery and re-discovers on its own
(first poll, older than ``rediscover_after_s``, sysUpTime went backwards, or the agent shows unknown ifIndexes).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal

from collectors.errors import BadAnswer
from collectors.model import DeviceSample, DeviceTarget, InterfaceSample
from collectors.snmp import ifmib
from collectors.snmp.client import EXCEPTION_TYPES, Oid, SnmpClient, SnmpEndpoint, SnmpType, VarBind
from collectors.snmp.discovery import DeviceDiscovery, InterfaceIndex, InterfaceTable, PolledInterface, discover
from collectors.snmp.walk import DEFAULT_MAX_ROWS, DEFAULT_MAX_VARBINDS_PER_PDU, get_many, walk_columns

COMMON_COLUMNS: tuple[Oid, ...] = (
    ifmib.IF_OPER_STATUS,
    ifmib.IF_IN_ERRORS,
    ifmib.IF_OUT_ERRORS,
    ifmib.IF_IN_DISCARDS,
    ifmib.IF_OUT_DISCARDS,
    ifmib.IF_COUNTER_DISCONTINUITY_TIME,
)
HC_COLUMNS: tuple[Oid, ...] = (ifmib.IF_HC_IN_OCTETS, ifmib.IF_HC_OUT_OCTETS)
LEGACY_COLUMNS: tuple[Oid, ...] = (ifmib.IF_IN_OCTETS, ifmib.IF_OUT_OCTETS)
DEFAULT_REDISCOVER_AFTER_S = 6 * 3600.0
MIN_REDISCOVER_INTERVAL_S = 300.0


@dataclass(frozen=True, slots=True)
class PollResult:
    device: DeviceSample
    interfaces: tuple[InterfaceSample, ...]
    missing: tuple[str, ...] = ()  # discovered interfaces the agent no longer shows
    needs_rediscovery: bool = False  # the agent shows rows that discovery did not know
    # A discovery made for this poll, handed out once (the collector keeps only its InterfaceIndex).
    discovery: DeviceDiscovery | None = None


def _value(device: str, row: Mapping[Oid, VarBind], column: Oid, kind: SnmpType) -> int | None:
    vb = row.get(column)
    if vb is None:
        return None
    value = vb.value
    if vb.type is kind and isinstance(value, int):  # the usual answer, checked first (ten per interface)
        return value
    if vb.type in EXCEPTION_TYPES:
        return None
    return ifmib.as_int(device, vb, kind)


def build_samples(
    device: str,
    ts: datetime,
    uptime_ticks: int,
    discovered: Mapping[int, PolledInterface],
    rows: Mapping[int, Mapping[Oid, VarBind]],
) -> list[InterfaceSample]:
    """Pure: per-row varbinds → InterfaceSamples (rows without an oper status are treated as gone)."""
    out = []
    for index, row in sorted(rows.items()):
        info = discovered.get(index)
        status_vb = row.get(ifmib.IF_OPER_STATUS)
        if info is None or status_vb is None or status_vb.type in EXCEPTION_TYPES:
            continue
        hc_in = _value(device, row, ifmib.IF_HC_IN_OCTETS, SnmpType.COUNTER64)
        hc_out = _value(device, row, ifmib.IF_HC_OUT_OCTETS, SnmpType.COUNTER64)
        bits: Literal[32, 64] = 64 if hc_in is not None and hc_out is not None else 32
        if bits == 64:
            in_octets, out_octets = hc_in, hc_out
        else:
            in_octets = _value(device, row, ifmib.IF_IN_OCTETS, SnmpType.COUNTER32)
            out_octets = _value(device, row, ifmib.IF_OUT_OCTETS, SnmpType.COUNTER32)
        out.append(
            InterfaceSample(
                device=device,
                ts=ts,
                if_index=index,
                if_name=info.if_name,
                oper_status=ifmib.as_status(device, status_vb),
                in_octets=in_octets,
                out_octets=out_octets,
                counter_bits=bits,
                speed_bps=info.speed_bps,
                in_errors=_value(device, row, ifmib.IF_IN_ERRORS, SnmpType.COUNTER32),
                out_errors=_value(device, row, ifmib.IF_OUT_ERRORS, SnmpType.COUNTER32),
                in_discards=_value(device, row, ifmib.IF_IN_DISCARDS, SnmpType.COUNTER32),
                out_discards=_value(device, row, ifmib.IF_OUT_DISCARDS, SnmpType.COUNTER32),
                uptime_ticks=uptime_ticks,
                discontinuity_ticks=_value(device, row, ifmib.IF_COUNTER_DISCONTINUITY_TIME, SnmpType.TIMETICKS),
            )
        )
    return out


def _uptime(device: str, vb: VarBind | None) -> int:
    if vb is None or vb.type in EXCEPTION_TYPES or vb.oid[:-1] != ifmib.SYS_UPTIME:
        raise BadAnswer(f"{device}: no sysUpTime in the answer")
    return ifmib.as_int(device, vb, SnmpType.TIMETICKS)


async def poll(
    client: SnmpClient,
    endpoint: SnmpEndpoint,
    discovery: InterfaceTable,
    *,
    only: frozenset[str] | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_varbinds_per_pdu: int = DEFAULT_MAX_VARBINDS_PER_PDU,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> PollResult:
    """One poll of one device; raises CollectorError subclasses (the scheduler turns them into a failed sample)."""
    device = endpoint.device
    known = discovery.by_index()
    wanted = known if only is None else {i: d for i, d in known.items() if d.if_name in only}
    rows: dict[int, dict[Oid, VarBind]] = {}
    if only is None:
        any_hc = any(d.has_hc_counters for d in known.values())
        columns = COMMON_COLUMNS + (HC_COLUMNS if any_hc else LEGACY_COLUMNS)
        walked = await walk_columns(
            client,
            endpoint,
            columns,
            scalars=(ifmib.SYS_UPTIME,),
            max_rows=max_rows,
            max_varbinds_per_pdu=max_varbinds_per_pdu,
            expected_rows=len(known),
        )
        ts = now()
        uptime = _uptime(device, walked.scalars[0] if walked.scalars else None)
        for column, column_rows in walked.columns.items():
            for suffix, vb in column_rows.items():
                if len(suffix) == 1 and 0 < suffix[0] <= ifmib.MAX_IF_INDEX:
                    index = suffix[0]
                else:
                    index = ifmib.single_index(device, column, suffix)  # raises: not an ifIndex
                row = rows.get(index)
                if row is None:
                    rows[index] = row = {}
                row[column] = vb
        legacy_needed = [i for i in rows if i in known and not known[i].has_hc_counters] if any_hc else []
        if legacy_needed:
            oids = [(*col, i) for i in legacy_needed for col in LEGACY_COLUMNS]
            for vb in await get_many(client, endpoint, oids):
                rows[vb.oid[-1]][vb.oid[:-1]] = vb
    else:
        per_row = COMMON_COLUMNS + HC_COLUMNS + LEGACY_COLUMNS
        oids = [(*ifmib.SYS_UPTIME, 0)] + [(*col, i) for i in sorted(wanted) for col in per_row]
        answer = await get_many(client, endpoint, oids)
        ts = now()
        uptime = _uptime(device, answer[0])
        for request, vb in zip(oids[1:], answer[1:], strict=True):
            rows.setdefault(request[-1], {})[request[:-1]] = vb
    samples = build_samples(device, ts, uptime, wanted, rows)
    seen = {s.if_index for s in samples}
    missing = tuple(sorted(d.if_name for i, d in wanted.items() if i not in seen))
    unknown = only is None and any(i not in known for i in rows)
    return PollResult(
        device=DeviceSample(device=device, ts=ts, reachable=True, uptime_ticks=uptime),
        interfaces=tuple(samples),
        missing=missing,
        needs_rediscovery=unknown or (only is not None and bool(missing)),
    )


class SnmpCollector:
    """Discovery cache + polling for many devices over one client (one engine). Not thread-safe; one event loop.

    ``poll(target)`` discovers first when needed, so a caller only ever calls ``poll``; ``discover(target)``
    forces a fresh discovery (on demand, or on the slower discovery schedule). Between polls it keeps each device's
    compact :class:`InterfaceIndex`; a new discovery is handed out once, with the next poll that succeeds
    (``PollResult.discovery``).
    """

    def __init__(
        self,
        client: SnmpClient,
        *,
        timeout_s: float = 2.0,
        retries: int = 1,
        rediscover_after_s: float = DEFAULT_REDISCOVER_AFTER_S,
        max_rows: int = DEFAULT_MAX_ROWS,
        max_varbinds_per_pdu: int = DEFAULT_MAX_VARBINDS_PER_PDU,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._client = client
        self._timeout_s = timeout_s
        self._retries = retries
        self._rediscover_after_s = rediscover_after_s
        self._max_rows = max_rows
        self._max_varbinds = max_varbinds_per_pdu
        self._now = now
        self._indexes: dict[str, InterfaceIndex] = {}
        self._fresh: dict[str, DeviceDiscovery] = {}  # discoveries not yet handed out with a poll
        self._last_uptime: dict[str, int] = {}

    def endpoint(self, target: DeviceTarget) -> SnmpEndpoint:
        return SnmpEndpoint.from_target(target, timeout_s=self._timeout_s, retries=self._retries)

    async def discover(self, target: DeviceTarget) -> DeviceDiscovery:
        result = await discover(
            self._client,
            self.endpoint(target),
            max_rows=self._max_rows,
            max_varbinds_per_pdu=self._max_varbinds,
            now=self._now(),
        )
        self._indexes[target.name] = InterfaceIndex.of(result)
        self._fresh[target.name] = result
        return result

    def _stale(self, discovery: InterfaceIndex) -> bool:
        return (self._now() - discovery.ts).total_seconds() >= self._rediscover_after_s

    async def poll(self, target: DeviceTarget) -> PollResult:
        discovery = self._indexes.get(target.name)
        if discovery is None or self._stale(discovery):
            await self.discover(target)
            discovery = self._indexes[target.name]
        result = await poll(
            self._client,
            self.endpoint(target),
            discovery,
            only=target.interfaces_of_interest,
            max_rows=self._max_rows,
            max_varbinds_per_pdu=self._max_varbinds,
            now=self._now,
        )
        previous_uptime = self._last_uptime.get(target.name)
        uptime = result.device.uptime_ticks
        if uptime is not None:
            self._last_uptime[target.name] = uptime
        rebooted = previous_uptime is not None and uptime is not None and uptime < previous_uptime
        # Rate-limited so that an agent that permanently hides a row cannot make every poll a full discovery.
        age_s = (self._now() - discovery.ts).total_seconds()
        if rebooted or (result.needs_rediscovery and age_s >= MIN_REDISCOVER_INTERVAL_S):
            # Indexes may have moved: rediscover now so that the NEXT poll maps rows to the right names. This poll's
            # samples stay as they are; the rate tracker re-baselines on reboot and on unknown/returning indexes.
            await self.discover(target)
        fresh = self._fresh.pop(target.name, None)
        return result if fresh is None else replace(result, discovery=fresh)

    async def alive(self, target: DeviceTarget) -> int:
        """One GET of sysUpTime, no retry: the cheap check of a device that is down (its TimeTicks)."""
        endpoint = SnmpEndpoint.from_target(target, timeout_s=self._timeout_s, retries=0)
        answer = await self._client.get(endpoint, [(*ifmib.SYS_UPTIME, 0)])
        return _uptime(target.name, answer[0] if answer else None)
