"""Acceptance against FakeNOS devices (Cisco IOS, Huawei VRP, Junos) and against servers that misbehave."""

from __future__ import annotations

import asyncio
import logging

import pytest

from collectors.model import DeviceTarget, ProbeTarget, SshCredentials
from collectors.ssh import PingOptions, SshCollector, SshCollectorSettings
from tests.collectors.ssh.conftest import (
    FAKENOS_PASSWORD,
    WRONG_PASSWORD,
    BadServers,
    FakeNos,
)

pytestmark = pytest.mark.peers

CANNED = PingOptions(count=5, size_bytes=100, timeout_s=2)


async def test_canned_pings_parse_to_the_canned_values(fakenos: FakeNos) -> None:
    plan = [
        (
            fakenos.target("ios", "cisco_ios"),
            [
                ProbeTarget("C-ios", "ios", "10.0.0.1", "ssh"),
                ProbeTarget("C-ios-vrf", "ios", "192.0.2.10", "ssh", vrf="CUST-A", source_interface="Loopback0"),
                ProbeTarget("C-ios-badvrf", "ios", "192.0.2.10", "ssh", vrf="NOPE"),
            ],
        ),
        (fakenos.target("vrp", "huawei_vrp"), [ProbeTarget("C-vrp", "vrp", "10.1.1.2", "ssh")]),
        (fakenos.target("junos", "juniper_junos"), [ProbeTarget("C-junos", "junos", "192.0.2.1", "ssh")]),
    ]
    async with SshCollector(SshCollectorSettings(max_sessions=3, connect_timeout_s=10)) as ssh:
        results = {r.device: r for r in await ssh.probe_cycle(plan, CANNED)}
    assert {d: r.state for d, r in results.items()} == {"ios": "ok", "vrp": "ok", "junos": "ok"}

    def fig(s):  # type: ignore[no-untyped-def]
        return (s.sent, s.received, s.rtt_min_ms, s.rtt_avg_ms, s.rtt_max_ms, s.jitter_ms, s.error)

    ios, ios_vrf, ios_bad = results["ios"].samples
    assert fig(ios) == (5, 4, 1.0, 2.0, 4.0, None, None)  # "Success rate is 80 percent (4/5) ... = 1/2/4 ms"
    assert ios.loss_ratio == pytest.approx(0.2)
    assert fig(ios_vrf) == (5, 0, None, None, None, None, None)  # "Success rate is 0 percent (0/5)"
    assert ios_bad.error is not None
    assert ios_bad.error.startswith("command_rejected:")  # "% Invalid input detected", same session
    [vrp] = results["vrp"].samples
    assert fig(vrp) == (5, 4, 1.0, 2.0, 4.0, pytest.approx(1.5**0.5), None)  # per-reply times 2, 1, 4, 1 ms
    [junos] = results["junos"].samples
    assert fig(junos) == (5, 5, 1.228, 1.489, 2.029, 0.287, None)  # min/avg/max/stddev line


async def test_ios_show_interfaces_from_the_cli(fakenos: FakeNos) -> None:
    async with SshCollector(SshCollectorSettings(connect_timeout_s=10)) as ssh:
        res = await ssh.collect_counters(fakenos.target("ios", "cisco_ios"))
    assert res.state == "ok", res.reason
    by_name = {s.if_name: s for s in res.samples}
    te = by_name["TenGigabitEthernet1/1/1"]
    # Values as FakeNOS's canned "show interfaces" prints them.
    assert (te.oper_status, te.in_octets, te.out_octets, te.speed_bps) == (
        "up",
        2783400652228,
        377708181830,
        10_000_000_000,
    )
    assert (te.in_errors, te.out_errors, te.in_discards, te.out_discards) == (0, 0, 0, 4)
    assert by_name["FastEthernet1"].oper_status == "down"


async def test_failures_end_as_states_within_the_timeout_while_others_complete(
    fakenos: FakeNos, bad_servers: BadServers, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, netmiko's and paramiko's included: secrets must not appear

    def local(name: str, port: int) -> DeviceTarget:
        creds = SshCredentials("noc", password=FAKENOS_PASSWORD)
        return DeviceTarget(name=name, address="127.0.0.1", platform="cisco_ios", ssh=creds, ssh_port=port)

    devices = [
        fakenos.target("ios", "cisco_ios"),
        fakenos.target("vrp", "huawei_vrp", password=WRONG_PASSWORD),
        local("refused", bad_servers.closed_port),
        local("stalled", bad_servers.banner_then_stall.port),
        local("silent", bad_servers.silent.port),
    ]
    plan = [(d, [ProbeTarget(f"C-{d.name}", d.name, "10.0.0.1", "ssh")]) for d in devices]
    settings = SshCollectorSettings(max_sessions=5, connect_timeout_s=2, auth_timeout_s=2, session_timeout_s=8)
    async with SshCollector(settings) as ssh:
        results = await asyncio.wait_for(ssh.probe_cycle(plan, CANNED), timeout=30)
    by_device = {r.device: r for r in results}
    assert {d: r.state for d, r in by_device.items()} == {
        "ios": "ok",
        "vrp": "auth_failed",
        "refused": "refused",
        "stalled": "timeout",
        "silent": "timeout",
    }
    assert by_device["ios"].samples[0].received == 4
    for name in ("stalled", "silent"):
        # Ended by the 2 s connect/banner timeout, well inside the 8 s device deadline.
        assert by_device[name].duration_s < settings.session_timeout_s  # type: ignore[operator]
    for r in results:
        assert len(r.samples) == 1
        assert (r.samples[0].error is None) == (r.state == "ok")
    assert bad_servers.banner_then_stall.accepted >= 1
    assert FAKENOS_PASSWORD not in caplog.text
    assert WRONG_PASSWORD not in caplog.text
    transitions = [r.getMessage() for r in caplog.records if r.name == "collectors.ssh.collector"]
    assert sum(m.startswith("device vrp: auth_failed") for m in transitions) == 1
