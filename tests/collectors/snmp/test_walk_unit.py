"""Walks, discovery decoding and SnmpCollector re-discovery against an in-memory agent behind the seam."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from collectors.counters import RateTracker, Verdict
from collectors.errors import BadAnswer, CollectorError, WeakCryptoRefused
from collectors.model import DeviceTarget, SnmpCredentials
from collectors.snmp.client import Oid, SnmpEndpoint, SnmpType, VarBind, check_credentials, oid
from collectors.snmp.discovery import discover
from collectors.snmp.ifmib import (
    NAME_CUT_MARKER,
    NAME_MAX_CHARS,
    display_name,
    display_text,
    iana_if_types,
    if_type_name,
    speed_bps,
)
from collectors.snmp.poll import SnmpCollector
from collectors.snmp.walk import walk_columns

IF = "1.3.6.1.2.1.2.2.1"
IFX = "1.3.6.1.2.1.31.1.1.1"


class FakeAgent:
    """A sorted in-memory MIB answering GET/GETBULK like an agent; ``truncate`` caps varbinds per answer."""

    def __init__(self, values: dict[str, tuple[SnmpType, int | bytes | Oid]], truncate: int = 10_000) -> None:
        self.set(values)
        self.truncate = truncate
        self.requests = 0

    def set(self, values: dict[str, tuple[SnmpType, int | bytes | Oid]]) -> None:
        self.mib = sorted((oid(k), v) for k, v in values.items())
        self.keys = [k for k, _ in self.mib]

    def _next(self, after: Oid) -> VarBind:
        i = bisect.bisect_right(self.keys, after)
        if i >= len(self.mib):
            return VarBind(after, SnmpType.END_OF_MIB_VIEW, None)
        key, (kind, value) = self.mib[i]
        return VarBind(key, kind, value)

    async def get(self, endpoint: SnmpEndpoint, oids: Sequence[Oid]) -> list[VarBind]:
        self.requests += 1
        found = dict(self.mib)
        out = []
        for o in oids:
            if o in found:
                kind, value = found[o]
                out.append(VarBind(o, kind, value))
            else:
                out.append(VarBind(o, SnmpType.NO_SUCH_INSTANCE, None))
        return out

    async def get_bulk(
        self, endpoint: SnmpEndpoint, oids: Sequence[Oid], *, non_repeaters: int, max_repetitions: int
    ) -> list[VarBind]:
        self.requests += 1
        out = [self._next(o) for o in oids[:non_repeaters]]
        cursors = list(oids[non_repeaters:])
        for _ in range(max_repetitions):
            row = [self._next(c) for c in cursors]
            out.extend(row)
            cursors = [vb.oid for vb in row]
        return out[: self.truncate]


def ep(name: str = "fake") -> SnmpEndpoint:
    return SnmpEndpoint(name, "192.0.2.1", 161, SnmpCredentials("2c", community="c"))


def device(
    rows: int, *, uptime: int = 1000, octets: int = 0, start_index: int = 1
) -> dict[str, tuple[SnmpType, int | bytes | Oid]]:
    mib: dict[str, tuple[SnmpType, int | bytes | Oid]] = {"1.3.6.1.2.1.1.3.0": (SnmpType.TIMETICKS, uptime)}
    for i in range(start_index, start_index + rows):
        mib[f"{IF}.2.{i}"] = (SnmpType.OCTET_STRING, f"ge-{i}".encode())
        mib[f"{IF}.3.{i}"] = (SnmpType.INTEGER, 6)
        mib[f"{IF}.5.{i}"] = (SnmpType.GAUGE32, 4_294_967_295)
        mib[f"{IF}.8.{i}"] = (SnmpType.INTEGER, 1)
        mib[f"{IFX}.1.{i}"] = (SnmpType.OCTET_STRING, f"ge{i}".encode())
        mib[f"{IFX}.6.{i}"] = (SnmpType.COUNTER64, octets)
        mib[f"{IFX}.10.{i}"] = (SnmpType.COUNTER64, octets)
        mib[f"{IFX}.15.{i}"] = (SnmpType.GAUGE32, 10_000)
    return mib


@pytest.mark.parametrize("truncate", [1, 7, 10_000])
async def test_parallel_walk_survives_truncated_answers(truncate: int) -> None:
    agent = FakeAgent(device(30), truncate=truncate)
    columns = [oid(f"{IF}.2"), oid(f"{IF}.8"), oid(f"{IFX}.1")]
    result = await walk_columns(agent, ep(), columns, max_varbinds_per_pdu=30)
    assert [len(result.columns[c]) for c in columns] == [30, 30, 30]


async def test_walk_uses_few_pdus() -> None:
    agent = FakeAgent(device(48))
    columns = [oid(f"{IF}.{c}") for c in (2, 3, 5, 8)]
    result = await walk_columns(agent, ep(), columns, max_varbinds_per_pdu=200)
    assert result.requests == 1


class RecordingAgent(FakeAgent):
    """Remembers the max-repetitions of each GETBULK."""

    def __init__(self, values: dict[str, tuple[SnmpType, int | bytes | Oid]], truncate: int) -> None:
        super().__init__(values, truncate)
        self.asked: list[int] = []

    async def get_bulk(
        self, endpoint: SnmpEndpoint, oids: Sequence[Oid], *, non_repeaters: int, max_repetitions: int
    ) -> list[VarBind]:
        self.asked.append(max_repetitions)
        return await super().get_bulk(endpoint, oids, non_repeaters=non_repeaters, max_repetitions=max_repetitions)


@pytest.mark.parametrize(("rows", "asked"), [(30, [30, 21, 11, 1]), (35, [30, 21, 11, 1, 30])])
async def test_expected_rows_only_sizes_the_pdus_near_the_end(rows: int, asked: list[int]) -> None:
    agent = RecordingAgent(device(rows), truncate=40)  # 10 rows of 4 columns per answer at most
    columns = [oid(f"{IF}.{c}") for c in (2, 3, 5, 8)]
    result = await walk_columns(agent, ep(), columns, max_varbinds_per_pdu=120, expected_rows=30)
    assert [len(result.columns[c]) for c in columns] == [rows] * 4  # a table that grew is walked to its end
    assert agent.asked == asked


async def test_walk_refuses_a_table_over_the_limit() -> None:
    with pytest.raises(BadAnswer, match="more than 10 rows"):
        await walk_columns(FakeAgent(device(11)), ep(), [oid(f"{IF}.2")], max_rows=10)


class LoopingAgent(FakeAgent):
    async def get_bulk(
        self, endpoint: SnmpEndpoint, oids: Sequence[Oid], *, non_repeaters: int, max_repetitions: int
    ) -> list[VarBind]:
        # Always answers the same row: a walk that trusted it would never end.
        return [VarBind(oid(f"{IF}.2.1"), SnmpType.OCTET_STRING, b"x")] * len(oids)


async def test_walk_refuses_a_repeating_agent() -> None:
    with pytest.raises(BadAnswer, match="non-increasing"):
        await walk_columns(LoopingAgent(device(1)), ep(), [oid(f"{IF}.2")])


async def test_discovery_uses_high_speed_when_if_speed_saturates() -> None:
    result = await discover(FakeAgent(device(2)), ep())
    assert [(i.if_index, i.if_name, i.speed_bps) for i in result.interfaces] == [
        (1, "ge1", 10_000_000_000),
        (2, "ge2", 10_000_000_000),
    ]


@pytest.mark.parametrize(
    ("if_speed", "high", "expected"),
    [
        pytest.param(100_000_000, 100, (100_000_000, "ifSpeed"), id="agree"),
        pytest.param(4_294_967_295, 10_000, (10_000_000_000, "ifHighSpeed"), id="saturated"),
        pytest.param(None, 40_000, (40_000_000_000, "ifHighSpeed"), id="high-only"),
        pytest.param(1_544_000, 2, (1_544_000, "ifSpeed"), id="t1-more-exact"),
        pytest.param(64_000, 0, (64_000, "ifSpeed"), id="sub-megabit"),
        pytest.param(1_410_065_408, 10_000, (10_000_000_000, "ifHighSpeed"), id="wrapped-10g-disagrees"),
        pytest.param(10_000_000, 1_000, (1_000_000_000, "ifHighSpeed"), id="stale-if-speed-disagrees"),
        pytest.param(0, None, (None, "ifSpeed"), id="zero"),
        pytest.param(None, 0, (None, "ifHighSpeed"), id="high-zero"),
        pytest.param(None, None, (None, None), id="absent"),
        pytest.param(4_294_967_295, None, (4_294_967_295, "ifSpeed"), id="saturated-no-high"),
    ],
)
def test_speed_rule(if_speed: int | None, high: int | None, expected: tuple[int | None, str | None]) -> None:
    assert speed_bps(if_speed, high) == expected


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (' "uplink to core" ', "uplink to core"),
        ("Gi0/1\r\n", "Gi0/1"),
        ("path\\", "path"),
        ("\tinner  spaces kept\t", "inner  spaces kept"),
        (None, ""),
    ],
)
def test_display_text_trims_like_the_mature_nms(raw: str | None, shown: str) -> None:
    assert display_text(raw) == shown


def test_a_name_longer_than_the_key_limit_is_cut_with_a_marker() -> None:
    name = "x" * 3000
    shown = display_name(name)
    assert len(shown) == NAME_MAX_CHARS and shown.endswith(NAME_CUT_MARKER)
    assert display_name("ge-0/0/0") == "ge-0/0/0"


async def test_display_conventions_keep_the_raw_values() -> None:
    mib = device(3)
    mib[f"{IFX}.18.1"] = (SnmpType.OCTET_STRING, b"")  # empty alias shows ifDescr
    mib[f"{IF}.2.2"] = (SnmpType.OCTET_STRING, b"")  # empty descr shows ifName
    mib[f"{IFX}.18.3"] = (SnmpType.OCTET_STRING, b' "A" ' * 400 + b"\\\r\n")  # 2,000+ chars, padded
    result = await discover(FakeAgent(mib), ep())
    one, two, three = result.interfaces
    assert (one.if_alias, one.raw.alias) == (one.if_descr, "")
    assert (two.if_descr, two.raw.descr) == ("ge2", "")
    assert three.if_alias == (' "A" ' * 400).strip(' "')
    assert three.raw.alias is not None and three.raw.alias.endswith("\\\r\n")
    assert one.if_type_name == "ethernetCsmacd"


def test_every_iana_if_type_is_named_from_the_registry() -> None:
    names = iana_if_types()
    assert len(names) > 250  # the whole registry, not a hand-picked list
    assert (names[6], names[24], names[53], names[135], names[161], names[209]) == (
        "ethernetCsmacd", "softwareLoopback", "propVirtual", "l2vlan", "ieee8023adLag", "bridge",
    )  # fmt: skip
    assert if_type_name(99_999) == "99999"


async def test_wrong_type_names_device_and_object() -> None:
    mib = device(1)
    mib[f"{IF}.8.1"] = (SnmpType.OCTET_STRING, b"up")
    with pytest.raises(BadAnswer, match=r"fake: 1\.3\.6\.1\.2\.1\.2\.2\.1\.8\.1 should be INTEGER"):
        await discover(FakeAgent(mib), ep())


async def test_collector_rediscovers_on_reboot_and_index_change_without_spike() -> None:
    clock = [datetime(2026, 1, 1, tzinfo=UTC)]
    agent = FakeAgent(device(2, uptime=1000, octets=10**9))
    collector = SnmpCollector(agent, now=lambda: clock[0])
    target = DeviceTarget(name="fake", address="192.0.2.1", platform="x", snmp=SnmpCredentials("2c", community="c"))
    tracker = RateTracker()
    first = await collector.poll(target)
    tracker.update(first.device, first.interfaces)
    # Reboot: uptime restarts, counters restart, and the agent renumbers its interfaces (index 1,2 -> 5,6).
    clock[0] += timedelta(seconds=60)
    agent.set(device(2, uptime=500, octets=1000, start_index=5))
    second = await collector.poll(target)
    rates = tracker.update(second.device, second.interfaces)
    assert rates.rebooted
    assert all(r.in_bits_per_second is None for r in rates.interfaces)
    assert second.discovery is not None  # the rediscovery after the reboot, handed out once
    assert sorted(second.discovery.by_index()) == [5, 6]
    clock[0] += timedelta(seconds=60)
    agent.set(device(2, uptime=6500, octets=751_000, start_index=5))
    third = await collector.poll(target)
    rates = tracker.update(third.device, third.interfaces)
    assert [r.if_name for r in rates.interfaces] == ["ge5", "ge6"]
    assert all(r.in_verdict is Verdict.GAP for r in rates.interfaces)  # new indexes: baseline, not a rate
    clock[0] += timedelta(seconds=60)
    agent.set(device(2, uptime=12500, octets=1_501_000, start_index=5))
    fourth = await collector.poll(target)
    rates = tracker.update(fourth.device, fourth.interfaces)
    assert [r.in_bits_per_second for r in rates.interfaces] == [100_000.0, 100_000.0]


def test_v2c_needs_a_community_and_v3_policy_is_explicit() -> None:
    with pytest.raises(CollectorError, match="no community"):
        check_credentials("d", SnmpCredentials("2c"))
    weak = SnmpCredentials("3", user="u", auth_protocol="MD5", auth_key="k" * 8, priv_protocol="DES", priv_key="p" * 8)
    with pytest.raises(WeakCryptoRefused, match="MD5"):
        check_credentials("d", weak)
    check_credentials("d", SnmpCredentials("3", user="u", allow_weak_crypto=True))
    strong = SnmpCredentials(
        "3", user="u", auth_protocol="SHA-512", auth_key="k" * 8, priv_protocol="AES-256", priv_key="p" * 8
    )
    check_credentials("d", strong)
