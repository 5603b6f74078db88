"""Real SNMP peers for the collector tests, each started ONCE per session and always stopped.

- ``snmpsim``: one snmpsim process serving the shared LibreNMS recordings plus hostile files written here.
- ``router``: net-snmp snmpd inside a namespace (one namespace = one device) with a management veth to the host
  (where the poller runs) and a test link ``ethT`` to a second namespace ``far`` for real traffic.
- ``client``: a fresh client per test, closed afterwards, once per backend (native, pysnmp);
  ``native`` and ``reference`` (pysnmp) for tests that compare the two.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from collectors.model import DeviceTarget, SnmpCredentials
from collectors.snmp.fast_backend import NativeClient
from collectors.snmp.pysnmp_backend import PysnmpClient
from tests.peers.netns import Lab, Netns, namespaces_available
from tests.peers.require import need
from tests.peers.snmpd import V3_AUTH_KEY, V3_PRIV_KEY, V3_USER, ManagementLink, SnmpdAgent, snmpd_available
from tests.peers.snmpsim import RESPONDER, SnmpsimAgent

RECORDINGS = Path(__file__).resolve().parents[2] / "data" / "recordings"
RECORDING_NAMES = sorted(p.name.removesuffix(".snmprec") for p in RECORDINGS.glob("*.snmprec"))

IF = "1.3.6.1.2.1.2.2.1"
IFX = "1.3.6.1.2.1.31.1.1.1"
UPTIME = "1.3.6.1.2.1.1.3.0|67|123456"
HUGE_ROWS = 2000

HOSTILE: dict[str, str] = {
    # A counter that is a string: must never become a rate.
    "hostile_types": "\n".join(
        [UPTIME, f"{IF}.2.1|4|eth0", f"{IF}.3.1|2|6", f"{IF}.8.1|2|1", f"{IFX}.1.1|4|eth0", f"{IFX}.6.1|4|lots"]
    ),
    # Interfaces but no sysUpTime: discovery works, a poll cannot date its counters.
    "hostile_no_uptime": "\n".join([f"{IF}.2.1|4|eth0", f"{IF}.3.1|2|6", f"{IF}.8.1|2|1", f"{IFX}.6.1|70|5"]),
    # A system group and nothing of IF-MIB.
    "hostile_no_ifmib": "\n".join(["1.3.6.1.2.1.1.1.0|4|empty box", UPTIME, "1.3.6.1.2.1.1.5.0|4|empty"]),
    # A table far larger than any device has.
    "hostile_huge": "\n".join([UPTIME, *(f"{IF}.2.{i}|4|if{i}" for i in range(1, HUGE_ROWS + 1))]),
}
# Served unsorted on purpose: snmpsim then answers GETNEXT/GETBULK with non-increasing OIDs.
HOSTILE_RAW = {
    "hostile_order": "\n".join(
        [UPTIME, f"{IF}.2.1|4|a", f"{IF}.2.3|4|c", f"{IF}.2.2|4|b", f"{IF}.2.4|4|d", f"{IF}.8.1|2|1"]
    )
    + "\n",
}

requires_netns = pytest.mark.skipif(
    not (namespaces_available() and snmpd_available()), reason="needs root, iproute2 and net-snmp snmpd"
)
requires_snmpsim = pytest.mark.skipif(
    not RESPONDER.exists() or shutil.which("snmpget") is None, reason="needs snmpsim and net-snmp tools"
)


Backend = NativeClient | PysnmpClient


@pytest.fixture(params=["native", "pysnmp"])
async def client(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    """Each test that talks to an agent runs on both backends: the default and the reference."""
    snmp: Backend = NativeClient() if request.param == "native" else PysnmpClient()
    try:
        yield snmp
    finally:
        snmp.close()


@pytest.fixture
async def reference() -> AsyncIterator[PysnmpClient]:
    """pysnmp, to cross-check the native client's answers against."""
    snmp = PysnmpClient()
    try:
        yield snmp
    finally:
        snmp.close()


@pytest.fixture
async def native() -> AsyncIterator[NativeClient]:
    snmp = NativeClient()
    try:
        yield snmp
    finally:
        snmp.close()


@pytest.fixture(scope="session")
def snmpsim() -> Iterator[SnmpsimAgent]:
    need(RESPONDER.exists() and shutil.which("snmpget") is not None, "snmpsim and net-snmp tools")
    agent = SnmpsimAgent()
    try:
        for name in RECORDING_NAMES:
            agent.add(name, (RECORDINGS / f"{name}.snmprec").read_text(encoding="latin-1"))
        for name, text in HOSTILE.items():
            agent.add(name, text + "\n")
        for name, text in HOSTILE_RAW.items():
            agent.add(name, text, raw=True)
        agent.start(ready_community=RECORDING_NAMES[0])
        yield agent
    finally:
        agent.cleanup()


def snmpsim_target(agent: SnmpsimAgent, community: str) -> DeviceTarget:
    return DeviceTarget(
        name=community,
        address=agent.address,
        platform="snmpsim",
        snmp=SnmpCredentials("2c", community=community),
        snmp_port=agent.port,
    )


@dataclass
class Router:
    """snmpd in namespace ``ns``; ``ethT`` links it to ``far`` (10.x.x.1 <-> 10.x.x.2)."""

    ns: Netns
    far: Netns
    agent: SnmpdAgent
    link_dev: str
    near_addr: str
    far_addr: str

    def target(self, **overrides: object) -> DeviceTarget:
        fields: dict[str, object] = {
            "name": "router",
            "address": self.agent.address,
            "platform": "linux",
            "snmp": SnmpCredentials("2c", community=self.agent.community),
            "snmp_port": self.agent.port,
        }
        fields.update(overrides)
        return DeviceTarget(**fields)  # type: ignore[arg-type]

    def v3(self, **overrides: object) -> SnmpCredentials:
        fields: dict[str, object] = {
            "version": "3",
            "user": V3_USER,
            "auth_protocol": "SHA-256",
            "auth_key": V3_AUTH_KEY,
            "priv_protocol": "AES",
            "priv_key": V3_PRIV_KEY,
        }
        fields.update(overrides)
        return SnmpCredentials(**fields)  # type: ignore[arg-type]

    def kernel_rx_bytes(self) -> int:
        done = self.ns.run("cat", f"/sys/class/net/{self.link_dev}/statistics/rx_bytes")
        return int(done.stdout)


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    need(namespaces_available() and snmpd_available(), "root, iproute2 and net-snmp snmpd")
    lab = Lab(prefix="nocsnmp")
    try:
        yield lab
    finally:
        lab.close()


@pytest.fixture(scope="session")
def router(lab: Lab) -> Iterator[Router]:
    # Subnets per process in 10.200.128.0/17 so parallel sessions (and the SSH helpers' labs) do not collide.
    octet = 128 + os.getpid() % 120
    ns, far = lab.namespace(), lab.namespace()
    for n in (ns, far):
        # No IPv6 chatter (router solicitations, MLD) on the measured link: only our traffic crosses it.
        n.run("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
        n.run("sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1")
    mgmt = ManagementLink(ns, f"nocm{os.getpid() % 100000}", f"10.200.{octet}.1", f"10.200.{octet}.2")
    agent = SnmpdAgent(address=f"10.200.{octet}.2", port=161, sys_name="router", netns=ns)
    try:
        mgmt.create()
        lab.veth(ns, "ethT", f"10.200.{octet}.5/30", far, "ethF", f"10.200.{octet}.6/30")
        agent.start()
        yield Router(ns, far, agent, "ethT", f"10.200.{octet}.5", f"10.200.{octet}.6")
    finally:
        agent.cleanup()
        mgmt.delete()
        subprocess.run(["ip", "link", "del", mgmt.host_dev], capture_output=True, check=False)
