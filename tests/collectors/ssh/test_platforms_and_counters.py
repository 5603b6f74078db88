"""Command templates as data, and the CLI counter parsers → InterfaceSample (same shape as SNMP's)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from collectors.model import InterfaceSample, ProbeTarget
from collectors.ssh import (
    PLATFORMS,
    PingOptions,
    parse_counters,
    parse_ios_show_interfaces,
    parse_ip_link,
    parse_proc_net_dev,
    parse_vrp_display_interface,
    platform_for,
    render_ping,
)
from collectors.ssh.cli_counters import cli_if_index
from collectors.ssh.errors import CommandRejected, OutputParseError, UnsupportedPlatform
from collectors.ssh.platforms import worst_case_burst_s

DATA = Path(__file__).parent / "data"
TS = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def probe(vrf: str | None = None, src: str | None = None, target: str = "192.0.2.1") -> ProbeTarget:
    return ProbeTarget("C-1", "pe1", target, "ssh", vrf=vrf, source_interface=src)


OPTS = PingOptions(count=5, size_bytes=100, timeout_s=2, interval_s=0.2)

RENDER = [
    ("cisco_ios", None, None, "ping 192.0.2.1 repeat 5 size 100 timeout 2"),
    ("cisco_xe", "CUST-A", "Loopback0", "ping vrf CUST-A 192.0.2.1 repeat 5 size 100 timeout 2 source Loopback0"),
    ("huawei_vrp", None, None, "ping -c 5 -s 100 -t 2000 192.0.2.1"),
    ("huawei_vrp", "CUST-A", "GE0/0/1", "ping -vpn-instance CUST-A -c 5 -s 100 -t 2000 -i GE0/0/1 192.0.2.1"),
    ("juniper_junos", None, None, "ping 192.0.2.1 count 5 size 100 wait 2 rapid"),
    ("juniper_junos", "CUST-A", "ge-0/0/1.0",
     "ping 192.0.2.1 count 5 size 100 wait 2 rapid routing-instance CUST-A interface ge-0/0/1.0"),
    ("linux", None, None, "ping -n -q -c 5 -s 100 -W 2 -i 0.2 192.0.2.1"),
    ("linux", "blue", "eth1", "ip vrf exec blue ping -n -q -c 5 -s 100 -W 2 -i 0.2 -I eth1 192.0.2.1"),
]  # fmt: skip


@pytest.mark.parametrize(("platform", "vrf", "src", "expected"), RENDER)
def test_ping_commands_render_from_data(platform: str, vrf: str | None, src: str | None, expected: str) -> None:
    assert render_ping(PLATFORMS[platform], probe(vrf, src), OPTS) == expected


def test_aliases_and_unknown_platforms() -> None:
    assert platform_for("IOS-XE").name == "cisco_xe"
    assert platform_for("huawei").name == "huawei_vrp"
    with pytest.raises(UnsupportedPlatform):
        platform_for("cisco_nxos")


@pytest.mark.parametrize("bad", ["x; reboot", "a b", "eth0\nshutdown", "$(id)", ""])
def test_unsafe_names_never_reach_a_command_line(bad: str) -> None:
    with pytest.raises(CommandRejected):
        render_ping(PLATFORMS["linux"], probe(src=bad) if bad else probe(target="not-an-ip"), OPTS)
    if bad:
        with pytest.raises(CommandRejected):
            render_ping(PLATFORMS["cisco_ios"], probe(vrf=bad), OPTS)


def test_subsecond_timeout_rounds_up_and_worst_case_depends_on_pacing() -> None:
    opts = PingOptions(count=200, timeout_s=0.4, interval_s=0.01)
    assert " -W 1 " in render_ping(PLATFORMS["linux"], probe(), opts)
    assert " -t 400 " in render_ping(PLATFORMS["huawei_vrp"], probe(), opts)
    assert worst_case_burst_s(PLATFORMS["linux"], opts) == pytest.approx(200 * 0.01 + 1)
    assert worst_case_burst_s(PLATFORMS["cisco_ios"], opts) == pytest.approx(200 * 1)


def test_options_are_validated() -> None:
    with pytest.raises(ValueError, match="count"):
        PingOptions(count=0)


IOS_SHOW_INTERFACES = (DATA / "ios_show_interfaces.txt").read_text()


def test_ios_show_interfaces() -> None:
    gi0, gi1 = parse_ios_show_interfaces(IOS_SHOW_INTERFACES, "pe1", TS)
    assert gi0 == InterfaceSample(
        device="pe1", ts=TS, if_index=cli_if_index("GigabitEthernet0/0"), if_name="GigabitEthernet0/0",
        oper_status="up", in_octets=98765432101, out_octets=12345678901, counter_bits=64,
        speed_bps=1_000_000_000, in_errors=2, out_errors=5, in_discards=7, out_discards=3,
    )  # fmt: skip
    assert (gi1.if_name, gi1.oper_status, gi1.in_octets, gi1.speed_bps) == ("GigabitEthernet0/1", "down", 0, 10**8)
    assert gi0.if_index != gi1.if_index
    assert gi0.if_index > 0


VRP_SWITCH = (DATA / "vrp_display_interface_switch.txt").read_text()

VRP_ROUTER = (DATA / "vrp_display_interface_router.txt").read_text()


def test_vrp_display_interface_switch_layout() -> None:
    ge1, ge2 = parse_vrp_display_interface(VRP_SWITCH, "pe2", TS)
    assert (ge1.oper_status, ge1.in_octets, ge1.out_octets, ge1.speed_bps) == ("up", 567890, 98765, 10**9)
    assert (ge1.in_discards, ge1.in_errors, ge1.out_discards, ge1.out_errors) == (6, 2, 8, 0)
    assert (ge2.if_name, ge2.oper_status) == ("GigabitEthernet0/0/2", "down")


def test_vrp_display_interface_router_and_ar_layouts() -> None:
    ge, tun = parse_vrp_display_interface(VRP_ROUTER, "pe2", TS)
    assert (ge.if_index, ge.in_octets, ge.out_octets, ge.speed_bps) == (7, 11223344, 99887766, 10 * 10**9)
    assert (ge.in_discards, ge.in_errors, ge.out_discards, ge.out_errors) == (3, 1, 0, 4)
    assert (tun.oper_status, tun.in_octets, tun.out_octets, tun.in_errors) == ("down", 0, 540, 0)


PROC_NET_DEV = (DATA / "proc_net_dev.txt").read_text()
IP_LINK = (DATA / "ip_o_link.txt").read_text()


def test_linux_proc_net_dev_with_ip_link() -> None:
    lo, core, mgmt = parse_proc_net_dev(PROC_NET_DEV, "pe3", TS, parse_ip_link(IP_LINK))
    assert (lo.if_index, lo.oper_status) == (1, "up")
    assert core == InterfaceSample(
        device="pe3", ts=TS, if_index=8, if_name="core0", oper_status="up", in_octets=18446744073709551000,
        out_octets=48222, counter_bits=64, speed_bps=None, in_errors=1, out_errors=3, in_discards=2, out_discards=4,
    )  # fmt: skip
    assert (mgmt.if_index, mgmt.oper_status) == (9, "lowerLayerDown")
    # The dispatcher routes the two outputs of the Linux counters commands the same way.
    assert parse_counters(platform_for("linux"), [PROC_NET_DEV, IP_LINK], "pe3", TS)[1] == core


def test_linux_without_ip_link_falls_back_to_stable_names() -> None:
    samples = parse_proc_net_dev(PROC_NET_DEV, "pe3", TS)
    assert [s.oper_status for s in samples] == ["unknown"] * 3
    assert samples[1].if_index == cli_if_index("core0")


@pytest.mark.parametrize(
    ("parser", "text"),
    [
        (parse_ios_show_interfaces, "% Invalid input detected at '^' marker."),
        (parse_vrp_display_interface, "Error: Unrecognized command found at '^' position."),
        (parse_proc_net_dev, "cat: /proc/net/dev: No such file or directory"),
        (parse_proc_net_dev, PROC_NET_DEV.replace("  345    1", "  x    1")),
        (parse_proc_net_dev, PROC_NET_DEV.replace("  345    1", "  345²    1")),  # a digit to isdigit(), not to int()
    ],
)
def test_counter_garbage_is_a_parse_error(parser, text: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(OutputParseError):
        parser(text, "d", TS)


def test_junos_counters_are_not_guessed() -> None:
    with pytest.raises(CommandRejected, match="SNMP"):
        parse_counters(platform_for("juniper_junos"), ["whatever"], "d", TS)
