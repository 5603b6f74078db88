"""Against net-snmp snmpd running inside a namespace: real links, real counters, real reboots.

snmpd caches its interface table for a few seconds, so tests poll until the agent's view changes (bounded),
never sleep for a fixed time. The agent-restart test runs last in this file (it changes the shared agent).
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from collectors.counters import RateTracker, Verdict
from collectors.errors import DeviceUnreachable, WeakCryptoRefused
from collectors.model import InterfaceSample, SnmpCredentials
from collectors.scheduler import Scheduler, SchedulerSettings
from collectors.snmp.client import SnmpEndpoint, VarBind, oid
from collectors.snmp.discovery import DeviceDiscovery, discover
from collectors.snmp.poll import PollResult, SnmpCollector, poll
from tests.collectors.snmp.conftest import Backend, Router
from tests.peers.snmpd import V3_AUTH_KEY, V3_PRIV_KEY, V3_USER, SnmpdAgent, free_udp_port

pytestmark = pytest.mark.peers

T = TypeVar("T")
# Bounded waits on the agent's view: snmpd refreshes its interface cache every few seconds.
VIEW_ATTEMPTS = 60
VIEW_PAUSE_S = 0.25
ETHERNET_IPV4_UDP_HEADER_OCTETS = 14 + 20 + 8  # veth counts the Ethernet header, no FCS
ENGINE_ID = oid("1.3.6.1.6.3.10.2.1.1.0")


async def until(probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], what: str) -> T:
    """Re-run ``probe`` until ``done(result)``; a bounded poll of a condition, not a synchronising sleep."""
    for _ in range(VIEW_ATTEMPTS):
        result = await probe()
        if done(result):
            return result
        await asyncio.sleep(VIEW_PAUSE_S)
    raise AssertionError(f"agent never showed {what}")


def endpoint(router: Router, credentials: SnmpCredentials | None = None) -> SnmpEndpoint:
    target = router.target() if credentials is None else router.target(snmp=credentials)
    return SnmpEndpoint.from_target(target, timeout_s=1.0, retries=1)


def iface(result: PollResult, name: str) -> InterfaceSample:
    return next(s for s in result.interfaces if s.if_name == name)


async def test_discovery_finds_the_link_the_test_created(router: Router, client: Backend) -> None:
    discovery = await discover(client, endpoint(router))
    by_name = discovery.by_name()
    assert "ethT" in by_name
    link = by_name["ethT"]
    mac = router.ns.run("cat", "/sys/class/net/ethT/address").stdout.strip().replace(":", "")
    assert link.mac == mac
    assert link.if_type_name == "ethernetCsmacd"
    assert link.has_hc_counters
    assert discovery.system.name == "router"


async def test_link_down_is_seen_as_oper_down(router: Router, client: Backend) -> None:
    ep = endpoint(router)
    discovery = await discover(client, ep)
    only = frozenset({"ethT"})
    before = await poll(client, ep, discovery, only=only)
    assert iface(before, "ethT").oper_status == "up"
    router.ns.link("ethT", "down")
    try:
        down = await until(
            lambda: poll(client, ep, discovery, only=only), lambda r: iface(r, "ethT").oper_status != "up", "down"
        )
        assert iface(down, "ethT").oper_status in {"down", "lowerLayerDown"}
    finally:
        router.ns.link("ethT", "up")
    await until(lambda: poll(client, ep, discovery, only=only), lambda r: iface(r, "ethT").oper_status == "up", "up")


SENDER = """
import socket, sys
dst, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
payload = b"x" * size
for _ in range(count):
    s.sendto(payload, (dst, 9))
"""


async def test_traffic_of_known_volume_is_measured_within_5_percent(router: Router, client: Backend) -> None:
    ep = endpoint(router)
    discovery = await discover(client, ep)
    only = frozenset({"ethT"})
    # One warm-up datagram resolves ARP now, so the measured window holds only our datagrams.
    router.far.run("python3", "-c", SENDER, router.near_addr, "1", "10")

    async def synced() -> PollResult:
        """A poll whose counter equals the kernel's, unchanged around it: the agent's cache caught up."""

        async def probe() -> tuple[int, PollResult, int]:
            before = router.kernel_rx_bytes()
            result = await poll(client, ep, discovery, only=only)
            return before, result, router.kernel_rx_bytes()

        _, result, _ = await until(
            probe, lambda r: r[0] == r[2] == iface(r[1], "ethT").in_octets, "the kernel's rx_bytes"
        )
        return result

    first = await synced()
    count, payload = 3000, 1000
    router.far.run("python3", "-c", SENDER, router.near_addr, str(count), str(payload))
    second = await synced()

    tracker = RateTracker()
    tracker.update(first.device, first.interfaces)
    rates = tracker.update(second.device, second.interfaces)
    rate = next(r for r in rates.interfaces if r.if_name == "ethT")
    assert rate.in_verdict is Verdict.OK
    assert rate.in_bits_per_second is not None
    assert rate.interval_s is not None
    # What we put on the wire, spread over exactly the interval between the two polls (the agent's clock).
    sent_octets = count * (payload + ETHERNET_IPV4_UDP_HEADER_OCTETS)
    expected_bps = sent_octets * 8 / rate.interval_s
    assert rate.in_bits_per_second == pytest.approx(expected_bps, rel=0.05)


async def test_snmpv3_sha256_aes128_works(router: Router, client: Backend) -> None:
    discovery = await discover(client, endpoint(router, router.v3()))
    assert "ethT" in discovery.by_name()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param(
            {"auth_protocol": None, "auth_key": None, "priv_protocol": None, "priv_key": None}, "noAuthNoPriv"
        ),
        pytest.param({"auth_protocol": "MD5"}, "auth protocol MD5 is weak"),
        pytest.param({"auth_protocol": "SHA"}, "auth protocol SHA is weak"),
        pytest.param({"priv_protocol": "DES"}, "privacy protocol DES is weak"),
        pytest.param({"priv_protocol": None, "priv_key": None}, "authNoPriv"),
    ],
)
async def test_weak_snmpv3_settings_are_refused(
    router: Router, client: Backend, overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(WeakCryptoRefused, match=message) as caught:
        await discover(client, endpoint(router, router.v3(**overrides)))
    assert "allow_weak_crypto" in str(caught.value)


async def test_agent_stopped_goes_down_after_n_then_recovers_without_spike(router: Router, client: Backend) -> None:
    """Also: SNMPv3 keeps working after the agent restarts (new engineBoots) with the same client and engine."""
    target = dataclasses.replace(router.target(snmp=router.v3()), interfaces_of_interest=frozenset({"ethT"}))
    collector = SnmpCollector(client, timeout_s=0.3, retries=0)
    scheduler: Scheduler[PollResult] = Scheduler(
        collector.poll, SchedulerSettings(timeout_s=5.0, retries=0, failure_threshold=3)
    )
    tracker = RateTracker()
    up = await scheduler.run_cycle([target])
    assert up.records[0].ok, up.records[0].error
    assert up.records[0].result is not None
    tracker.update(up.records[0].result.device, up.records[0].result.interfaces)

    router.agent.stop()
    try:
        failures = [(await scheduler.run_cycle([target])).records[0] for _ in range(3)]
    finally:
        router.agent.start()
    assert [r.ok for r in failures] == [False, False, False]
    assert [r.transition for r in failures[:2]] == [None, None]
    down = failures[2].transition
    assert down is not None and down.kind == "down"
    assert down.down_since == failures[0].started_at
    assert scheduler.availability(target.name).up is False

    back = (await scheduler.run_cycle([target])).records[0]
    assert back.ok, back.error
    assert back.transition is not None and back.transition.kind == "recovered"
    assert back.transition.down_since == failures[0].started_at
    assert back.result is not None
    rates = tracker.update(back.result.device, back.result.interfaces)
    assert rates.rebooted
    assert all(r.in_bits_per_second is None and r.out_bits_per_second is None for r in rates.interfaces)


async def test_zz_poll_after_discovery_uses_named_rows_only(router: Router, client: Backend) -> None:
    ep = endpoint(router)
    discovery: DeviceDiscovery = await discover(client, ep)
    result = await poll(client, ep, discovery, only=frozenset({"ethT", "lo"}))
    assert sorted(s.if_name for s in result.interfaces) == ["ethT", "lo"]
    assert all(s.counter_bits == 64 for s in result.interfaces)


async def test_snmpv3_agent_with_a_new_engine_id_is_relearned(client: Backend) -> None:
    """A device that forgets its engineID on reboot: one poll times out, the next one works (same engine)."""
    agent = SnmpdAgent(address="127.0.0.1", port=free_udp_port())
    try:
        agent.start()
        creds = SnmpCredentials(
            "3", user=V3_USER, auth_protocol="SHA-256", auth_key=V3_AUTH_KEY, priv_protocol="AES", priv_key=V3_PRIV_KEY
        )
        ep = SnmpEndpoint("forgetful", agent.address, agent.port, creds, timeout_s=0.5, retries=0)
        before = await client.get(ep, [ENGINE_ID])
        agent.stop()
        shutil.rmtree(agent.workdir / "persist")
        agent.start()
        outcomes: list[list[VarBind] | None] = []
        for _ in range(3):  # bounded: the first may time out on the stale engineID
            try:
                outcomes.append(await client.get(ep, [ENGINE_ID]))
                break
            except DeviceUnreachable:
                outcomes.append(None)
        after = outcomes[-1]
        assert after is not None
        assert after[0].value != before[0].value
        assert len(outcomes) <= 2
    finally:
        agent.cleanup()
