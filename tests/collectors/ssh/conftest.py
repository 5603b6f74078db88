"""Peers for the SSH collector tests, each started once per test session and always stopped.

* ``sshd_pe``: OpenSSH sshd in a namespace (a Linux PE) with two far-end addresses behind a veth.
* ``fakenos``: FakeNOS Cisco IOS / Huawei VRP / Junos hosts with canned ping outputs from tests/data/ping.
* ``bad_servers``: TCP servers on 127.0.0.1 that misbehave (banner then stall; accept and stay silent) and a port
  with nothing listening.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from collectors.model import DeviceTarget, SshCredentials
from tests.peers.fakenos import FakeHost, FakeNosPeer
from tests.peers.netns import Lab, namespaces_available
from tests.peers.ports import free_tcp_port
from tests.peers.require import need
from tests.peers.sshd import SshdPE, sshd_available

PING_DATA = Path(__file__).resolve().parents[2] / "data" / "ping"
FAKENOS_USER = "noc"
FAKENOS_PASSWORD = "fakenos-Pw-7f3a9"  # the test that greps logs for secrets looks for this exact text
WRONG_PASSWORD = "wrong-Pw-c41d2"

# Commands exactly as the templates render them for PingOptions(count=5, size_bytes=100, timeout_s=2).
IOS_PING = "ping 10.0.0.1 repeat 5 size 100 timeout 2"
IOS_PING_VRF = "ping vrf CUST-A 192.0.2.10 repeat 5 size 100 timeout 2 source Loopback0"
VRP_PING = "ping -c 5 -s 100 -t 2000 10.1.1.2"
JUNOS_PING = "ping 192.0.2.1 count 5 size 100 wait 2 rapid"


def ping_fixture(platform: str, name: str) -> str:
    return (PING_DATA / platform / f"{name}.txt").read_text()


@pytest.fixture(scope="session")
def sshd_pe() -> Iterator[SshdPE]:
    need(namespaces_available() and sshd_available(), "root, iproute2, nftables and OpenSSH sshd")
    lab = Lab(prefix="nocssh")
    # A subnet per test process in 10.200.20-59 so parallel runs (and the SNMP labs: 100-119 bench, 128-247 tests,
    # the ICMP test: 60-99) do not collide.
    pe = SshdPE(lab, subnet=20 + os.getpid() % 40)
    try:
        pe.start()
        yield pe
    finally:
        pe.stop()
        lab.close()


def pe_target(pe: SshdPE, name: str = "pe-linux", key_text: str | None = None) -> DeviceTarget:
    creds = SshCredentials("root", private_key=key_text if key_text is not None else pe.client_key_text)
    return DeviceTarget(name=name, address=pe.address, platform="linux", ssh=creds, ssh_port=pe.port)


@dataclass
class FakeNos:
    peer: FakeNosPeer
    ports: dict[str, int] = field(default_factory=dict)

    def target(self, name: str, platform: str, password: str = FAKENOS_PASSWORD) -> DeviceTarget:
        return DeviceTarget(
            name=name,
            address="127.0.0.1",
            platform=platform,
            ssh=SshCredentials(FAKENOS_USER, password=password),
            ssh_port=self.ports[name],
        )


@pytest.fixture(scope="session")
def fakenos() -> Iterator[FakeNos]:
    ports = {name: free_tcp_port() for name in ("ios", "vrp", "junos")}
    hosts = [
        FakeHost(
            "ios",
            "cisco_ios",
            ports["ios"],
            FAKENOS_USER,
            FAKENOS_PASSWORD,
            {
                IOS_PING: ping_fixture("cisco_ios", "partial_loss"),
                IOS_PING_VRF: ping_fixture("cisco_ios", "total_loss"),
            },
        ),
        FakeHost(
            "vrp",
            "huawei_vrp",
            ports["vrp"],
            FAKENOS_USER,
            FAKENOS_PASSWORD,
            {VRP_PING: ping_fixture("huawei_vrp", "partial_loss")},
        ),
        FakeHost(
            "junos",
            "juniper_junos",
            ports["junos"],
            FAKENOS_USER,
            FAKENOS_PASSWORD,
            {
                JUNOS_PING: ping_fixture("juniper_junos", "rapid_ok"),
                # What a real Junos CLI answers; FakeNOS's own entries print nothing, so netmiko's session
                # preparation would wait for these patterns until its read timeout (10 s per connection).
                "set cli complete-on-space off": "Disabling complete-on-space",
                "set cli screen-length 0": "Screen length set to 0",
            },
        ),
    ]
    peer = FakeNosPeer(hosts)
    try:
        peer.start()
        yield FakeNos(peer, ports)
    finally:
        peer.stop()


class MisbehavingServer:
    """A TCP server on 127.0.0.1 that accepts and then either sends an SSH banner and stalls, or stays silent.

    It reads and discards what the client sends (so the client's writes never block) and holds each connection
    until the client goes away or the server stops.
    """

    def __init__(self, banner: bytes | None) -> None:
        self.banner = banner
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port: int = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._main = threading.Thread(target=self._serve, daemon=True)
        self._main.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            t = threading.Thread(target=self._hold, args=(conn,), daemon=True)
            self._threads.append(t)
            t.start()

    def _hold(self, conn: socket.socket) -> None:
        with conn:
            if self.banner is not None:
                conn.sendall(self.banner)
            conn.settimeout(0.2)
            while not self._stop.is_set():
                try:
                    if conn.recv(4096) == b"":
                        return  # the client gave up
                except TimeoutError:
                    continue
                except OSError:
                    return

    def stop(self) -> None:
        self._stop.set()
        self.sock.close()
        self._main.join(timeout=5)
        for t in self._threads:
            t.join(timeout=5)


@dataclass
class BadServers:
    banner_then_stall: MisbehavingServer
    silent: MisbehavingServer
    closed_port: int


@pytest.fixture(scope="session")
def bad_servers() -> Iterator[BadServers]:
    stall = MisbehavingServer(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
    silent = MisbehavingServer(None)
    try:
        yield BadServers(stall, silent, free_tcp_port())  # bound and released: nothing listens there
    finally:
        stall.stop()
        silent.stop()
