"""Poller-side ICMP (icmplib): loopback, an address inside a namespace we created (with real loss), privileges."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import icmplib
import pytest

from collectors.icmp import IcmpPermissionError, IcmpSettings, check_icmp_permission, icmp_cycle, icmp_probe
from collectors.model import ProbeTarget
from tests.peers.netns import Lab, Netns, namespaces_available
from tests.peers.require import need

ROOT = Path(__file__).resolve().parents[2]
needs_root = pytest.mark.skipif(not namespaces_available(), reason="needs root (raw ICMP socket, namespaces)")


def probe(target: str, circuit: str = "C-icmp") -> ProbeTarget:
    return ProbeTarget(circuit, "poller", target, "icmp")


@needs_root
async def test_loopback_burst_privileged() -> None:
    s = await icmp_probe(probe("127.0.0.1"), IcmpSettings(count=5, interval_s=0.01, timeout_s=1, privileged=True))
    assert (s.sent, s.received, s.loss_ratio, s.error) == (5, 5, 0.0, None)
    assert s.rtt_min_ms is not None
    assert s.rtt_avg_ms is not None
    assert s.rtt_max_ms is not None
    assert s.rtt_min_ms <= s.rtt_avg_ms <= s.rtt_max_ms
    assert s.jitter_ms is not None
    assert s.jitter_ms >= 0


@dataclass
class Host:
    ns: Netns
    address: str


@pytest.fixture(scope="module")
def namespace_host() -> Iterator[Host]:
    """A namespace reachable from the host over a veth (10.200.<n>.13/30 ↔ .14)."""
    need(namespaces_available(), "root and iproute2")
    lab = Lab(prefix="nocicmp")
    subnet = 60 + os.getpid() % 40  # 10.200.60-99: clear of the SSH (20-59) and SNMP (100-247) labs
    host_dev, tmp = f"ni{os.getpid() % 10000}", f"nj{os.getpid() % 10000}"
    try:
        ns = lab.namespace()
        subprocess.run(["ip", "link", "add", host_dev, "type", "veth", "peer", "name", tmp], check=True)
        subprocess.run(["ip", "link", "set", tmp, "netns", ns.name], check=True)
        ns.run("ip", "addr", "add", f"10.200.{subnet}.14/30", "dev", tmp)
        ns.run("ip", "link", "set", tmp, "up")
        subprocess.run(["ip", "addr", "add", f"10.200.{subnet}.13/30", "dev", host_dev], check=True)
        subprocess.run(["ip", "link", "set", host_dev, "up"], check=True)
        yield Host(ns, f"10.200.{subnet}.14")
    finally:
        subprocess.run(["ip", "link", "del", host_dev], capture_output=True, check=False)
        lab.close()


@pytest.mark.peers
@needs_root
async def test_namespace_address_with_and_without_loss(namespace_host: Host) -> None:
    # icmplib waits for each reply (or its timeout) before the next request, so every lost echo costs timeout_s;
    # a veth answers in well under a millisecond, so 0.1 s keeps 40 losses at 4 s without counting late replies.
    settings = IcmpSettings(count=200, interval_s=0.005, timeout_s=0.1, privileged=True)
    clean = await icmp_probe(probe(namespace_host.address), settings)
    assert (clean.sent, clean.received, clean.error) == (200, 200, None)
    assert clean.rtt_avg_ms is not None
    # ~20 % of echo requests dropped on the far side's input: the band is ±3.5 sd of Binomial(200, 0.2)/200.
    rule = (
        "table inet noctest {\n  chain in {\n    type filter hook input priority 0; policy accept;\n"
        "    icmp type echo-request numgen random mod 10 < 2 drop\n  }\n}\n"
    )
    cmd = namespace_host.ns.cmd("nft", "-f", "-")
    await asyncio.to_thread(subprocess.run, cmd, input=rule, text=True, check=True)
    try:
        [lossy] = await icmp_cycle([probe(namespace_host.address, "C-lossy")], settings)
    finally:
        namespace_host.ns.run("nft", "delete", "table", "inet", "noctest", check=False)
    assert lossy.sent == 200
    assert lossy.loss_ratio is not None
    assert 0.10 <= lossy.loss_ratio <= 0.30


@pytest.mark.peers
@needs_root
def test_unprivileged_mode_without_ping_group_range_is_a_clear_error() -> None:
    """In a fresh namespace ping_group_range is the kernel default "1 0" (no group may open ICMP datagram sockets)."""
    lab = Lab(prefix="nocicmpu")
    try:
        ns = lab.namespace()
        assert ns.run("sysctl", "-n", "net.ipv4.ping_group_range").stdout.split() == ["1", "0"]
        code = (
            "import asyncio\n"
            "from collectors.icmp import IcmpPermissionError, IcmpSettings, check_icmp_permission, icmp_probe\n"
            "from collectors.model import ProbeTarget\n"
            "for attempt in ('check', 'probe'):\n"
            "    try:\n"
            "        if attempt == 'check':\n"
            "            check_icmp_permission(privileged=False)\n"
            "        else:\n"
            "            asyncio.run(icmp_probe(ProbeTarget('C', 'p', '127.0.0.1', 'icmp'), "
            "IcmpSettings(count=1, privileged=False)))\n"
            "    except IcmpPermissionError as exc:\n"
            "        print('ERR', exc)\n"
            "    else:\n"
            "        print('NOERR')\n"
        )
        out = ns.run(sys.executable, "-c", code, check=False)
    finally:
        lab.close()
    lines = out.stdout.splitlines()
    assert len(lines) == 2, out.stderr
    for line in lines:
        assert line.startswith("ERR ")
        assert "ping_group_range" in line


async def test_permission_error_is_typed_through_the_seam(monkeypatch: pytest.MonkeyPatch) -> None:
    async def denied(*args: object, **kwargs: object) -> None:
        raise icmplib.SocketPermissionError(privileged=True)

    monkeypatch.setattr(icmplib, "async_ping", denied)
    with pytest.raises(IcmpPermissionError, match="CAP_NET_RAW"):
        await icmp_probe(probe("127.0.0.1"), IcmpSettings(privileged=True))


def test_check_permission_as_root_passes_for_raw_sockets() -> None:
    if os.geteuid() != 0:
        with pytest.raises(IcmpPermissionError):
            check_icmp_permission(privileged=True)
    else:
        check_icmp_permission(privileged=True)


async def test_bad_address_is_a_state_not_a_crash() -> None:
    s = await icmp_probe(probe("not-an-address"), IcmpSettings(count=1))
    assert s.error is not None
    assert s.error.startswith("command_rejected")
    assert s.loss_ratio is None
