"""Discovery against real-world recordings served by snmpsim, and hostile agents that must not stop the poller."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
from typing import Any

import pytest

from collectors.errors import BadAnswer, CollectorError
from collectors.scheduler import PollRecord, Scheduler, SchedulerSettings
from collectors.snmp.client import SnmpEndpoint
from collectors.snmp.discovery import DeviceDiscovery, discover
from collectors.snmp.ifmib import display_text
from collectors.snmp.poll import PollResult, SnmpCollector, poll
from tests.collectors.snmp.conftest import HUGE_ROWS, RECORDING_NAMES, RECORDINGS, Backend, snmpsim_target
from tests.peers.snmpsim import SnmpsimAgent

pytestmark = pytest.mark.peers

# LibreNMS's port filters (see tests/data/recordings/README.md): the expected tables were built with them.
BAD_IF_SUBSTRINGS = (
    "voip-null", "virtual-", "unrouted", "eobc", "lp0", "-atm", "faith0", "container", "async", "plip",
    "-physical", "bluetooth", "isatap", "ras", "qos", "span rp", "span sp", "sslvpn", "pppoe-", "irtual",
)  # fmt: skip
BAD_IF_REGEXPS = (re.compile(r"^ng[0-9]+$"), re.compile(r"^sl[0-9]"))
BAD_IFTYPE = [
    "voiceEncap",
    "voiceFXO",
    "voiceFXS",
    "voiceOverAtm",
    "voiceOverFrameRelay",
    "voiceOverIp",
    "ds0",
    "ds1",
    "ds3",
    "sonet",
    "atmSubInterface",
    "aal5",
    "mpls",
    "macSecControlledIF",
    "macSecUncontrolledIF",
]


def librenms_view(discovery: DeviceDiscovery) -> list[dict[str, Any]]:
    """Our discovery, every field as we show it, minus the rows LibreNMS's port filters drop (its policy, not ours:
    applied here, test-side). The display conventions (trim, ifName/ifDescr/ifAlias fallbacks) are the product's."""
    out = []
    for port in discovery.interfaces:
        descr = display_text(port.raw.descr)
        if not descr:  # LibreNMS's is_port_valid(): no (or an empty) ifDescr
            continue
        if any(bad in descr.lower() for bad in BAD_IF_SUBSTRINGS) or any(r.search(descr) for r in BAD_IF_REGEXPS):
            continue
        if any(bad in port.if_type_name for bad in BAD_IFTYPE) or port.oper_status == "notPresent":
            continue
        out.append(
            {
                "ifIndex": port.if_index,
                "ifName": port.if_name,
                "ifDescr": port.if_descr,
                "ifAlias": port.if_alias,
                "ifType": port.if_type_name,
                "ifSpeed": port.speed_bps,
                "ifAdminStatus": port.admin_status,
                "ifOperStatus": port.oper_status,
                "ifPhysAddress": port.mac,
                "ifMtu": port.mtu,
            }
        )
    return out


def endpoint(agent: SnmpsimAgent, community: str) -> SnmpEndpoint:
    return SnmpEndpoint.from_target(snmpsim_target(agent, community), timeout_s=3.0, retries=1)


@pytest.mark.parametrize("name", RECORDING_NAMES)
async def test_discovery_matches_librenms_ports(snmpsim: SnmpsimAgent, client: Backend, name: str) -> None:
    expected = json.loads((RECORDINGS / f"{name}.ports.json").read_text())["ports"]
    discovery = await discover(client, endpoint(snmpsim, name))
    ours = librenms_view(discovery)
    assert [p["ifIndex"] for p in ours] == [p["ifIndex"] for p in expected]
    for got, want in zip(ours, expected, strict=True):  # field by field: a failure names the port and the field
        assert got == want, {k: (got[k], want[k]) for k in want if got.get(k) != want[k]}


async def test_poll_of_a_recording_returns_every_port(snmpsim: SnmpsimAgent, client: Backend) -> None:
    ep = endpoint(snmpsim, "junos_mx5t-isis")
    discovery = await discover(client, ep)
    result = await poll(client, ep, discovery)
    assert {s.if_index for s in result.interfaces} == {d.if_index for d in discovery.interfaces}
    assert all(s.counter_bits == 64 and s.in_octets is not None for s in result.interfaces)
    only = frozenset({discovery.interfaces[0].if_name})
    named = await poll(client, ep, discovery, only=only)
    assert [s.if_name for s in named.interfaces] == sorted(only)


async def test_agent_without_ifxtable_falls_back_to_32_bit_counters(snmpsim: SnmpsimAgent, client: Backend) -> None:
    ep = endpoint(snmpsim, "zxr10_5928")
    discovery = await discover(client, ep)
    assert not any(d.has_hc_counters for d in discovery.interfaces)
    result = await poll(client, ep, discovery)
    assert result.interfaces
    assert all(s.counter_bits == 32 for s in result.interfaces)


@pytest.mark.parametrize(
    ("community", "message"),
    [
        pytest.param("hostile_types", r"should be Counter64, got OCTET STRING", id="wrong-type"),
        pytest.param("hostile_no_ifmib", r"no IF-MIB", id="missing-tables"),
        pytest.param("hostile_huge", r"more than 500 rows", id="huge-table"),
        pytest.param("hostile_order", r"non-increasing OID", id="non-increasing-oids"),
    ],
)
async def test_hostile_discovery_gives_a_clear_error(
    snmpsim: SnmpsimAgent, client: Backend, community: str, message: str
) -> None:
    with pytest.raises(BadAnswer, match=message) as caught:
        await discover(client, endpoint(snmpsim, community), max_rows=500)
    assert community in str(caught.value)


async def test_huge_table_within_limit_is_walked(snmpsim: SnmpsimAgent, client: Backend) -> None:
    discovery = await discover(client, endpoint(snmpsim, "hostile_huge"), max_rows=HUGE_ROWS)
    assert len(discovery.interfaces) == HUGE_ROWS


async def test_missing_uptime_fails_the_poll_clearly(snmpsim: SnmpsimAgent, client: Backend) -> None:
    ep = endpoint(snmpsim, "hostile_no_uptime")
    discovery = await discover(client, ep)
    assert [d.if_name for d in discovery.interfaces] == ["eth0"]
    with pytest.raises(BadAnswer, match="no sysUpTime"):
        await poll(client, ep, discovery)


async def test_hostile_devices_never_stop_the_poller(snmpsim: SnmpsimAgent, client: Backend) -> None:
    good = ["vrp_ar169sfp", "routeros_crs317"]
    hostile = ["hostile_types", "hostile_no_ifmib", "hostile_order", "hostile_no_uptime"]
    targets = [snmpsim_target(snmpsim, name) for name in good + hostile]
    collector = SnmpCollector(client, timeout_s=3.0, retries=0, max_rows=500)
    records: list[PollRecord[PollResult]] = []
    enough = asyncio.Event()

    def on_record(record: PollRecord[PollResult]) -> None:
        records.append(record)
        if len(records) >= 2 * len(targets):
            enough.set()

    settings = SchedulerSettings(jitter_ratio=0.0, timeout_s=10.0, retries=0, max_concurrency=8)
    scheduler: Scheduler[PollResult] = Scheduler(collector.poll, settings, on_record=on_record)
    fast = [dataclasses.replace(t, poll_interval_s=0.05) for t in targets]
    await scheduler.run(fast, rounds=2)
    assert enough.is_set()
    by_device: dict[str, list[PollRecord[PollResult]]] = {}
    for record in records:
        by_device.setdefault(record.device, []).append(record)
    for name in good:
        assert [r.ok for r in by_device[name]] == [True, True]
        assert all(r.result is not None and r.result.interfaces for r in by_device[name])
    for name in hostile:
        assert [r.ok for r in by_device[name]] == [False, False]
        errors = {r.error for r in by_device[name]}
        assert all(e is not None and name in e for e in errors)
    assert issubclass(BadAnswer, CollectorError)
