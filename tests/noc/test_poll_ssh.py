"""``noc poll`` with circuits probed over SSH from their PE (FakeNOS Cisco IOS and Huawei VRP shells): the probe
objects carry the values the device printed, and a device without SNMP gets its counters from the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from noc.crypto import generate_key
from tests.noccli import noc, noc_env
from tests.peers.fakenos import FakeHost, FakeNosPeer
from tests.peers.ports import free_tcp_port

pytestmark = pytest.mark.peers

DATA = Path(__file__).resolve().parents[1] / "data" / "ping"
PASSWORD = "fakenos-e2e-Pw-93kd"


@pytest.fixture(scope="module")
def fakenos() -> Iterator[dict[str, int]]:
    ports = {"pe-ios": free_tcp_port(), "pe-vrp": free_tcp_port()}
    peer = FakeNosPeer(
        [
            FakeHost(
                "pe-ios",
                "cisco_ios",
                ports["pe-ios"],
                "noc",
                PASSWORD,
                {"ping 10.0.0.1 repeat 5 size 100 timeout 2": (DATA / "cisco_ios" / "partial_loss.txt").read_text()},
            ),
            FakeHost(
                "pe-vrp",
                "huawei_vrp",
                ports["pe-vrp"],
                "noc",
                PASSWORD,
                {"ping -c 5 -s 100 -t 2000 10.1.1.2": (DATA / "huawei_vrp" / "partial_loss.txt").read_text()},
            ),
        ]
    )
    peer.start()
    try:
        yield ports
    finally:
        peer.stop()


def test_probe_objects_carry_what_the_device_printed(fakenos: dict[str, int], tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(
        f"""
ssh_profiles:
  - {{name: cli, username: noc, password: "{PASSWORD}"}}
devices:
  - {{name: pe-ios, address: 127.0.0.1, platform: cisco_ios, ssh_profile: cli, ssh_port: {fakenos["pe-ios"]}}}
  - {{name: pe-vrp, address: 127.0.0.1, platform: huawei_vrp, ssh_profile: cli, ssh_port: {fakenos["pe-vrp"]}}}
accounts:
  - {{name: acme, legal_name: ACME, tier: A}}
contracts:
  - {{name: c1, account: acme, valid_from: 2026-01-01, valid_to: 2026-12-31, timezone: UTC,
     sla: {{availability_target_pct: "99.9"}}}}
circuits:
  - {{name: ckt-ios, account: acme, contract: c1, device: pe-ios, interface: Gi0/1, far_end: 10.0.0.1, probe: ssh}}
  - {{name: ckt-vrp, account: acme, contract: c1, device: pe-vrp, interface: GE0/0/1, far_end: 10.1.1.2, probe: ssh}}
"""
    )
    env = noc_env(
        NOC_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'noc.db'}",
        NOC_SECRET_KEY=generate_key(),
        NOC_LOG_LEVEL="DEBUG",
    )

    assert noc(env, "db", "upgrade").returncode == 0
    assert noc(env, "inventory", "import", str(inventory)).returncode == 0
    polled = noc(env, "poll", "--cycles", "1", "--json")
    assert polled.returncode == 0, polled.stderr
    objects = [json.loads(line) for line in polled.stdout.splitlines()]
    probes = {o["circuit"]: o for o in objects if o["kind"] == "probe"}
    assert probes["ckt-ios"] | {"ts": None} == {
        "kind": "probe",
        "circuit": "ckt-ios",
        "device": "pe-ios",
        "target": "10.0.0.1",
        "method": "ssh",
        "ts": None,
        "sent": 5,
        "received": 4,
        "loss_ratio": 0.2,
        "rtt_min_ms": 1.0,
        "rtt_avg_ms": 2.0,
        "rtt_max_ms": 4.0,
        "jitter_ms": None,
        "error": None,  # IOS prints no deviation: none is made up
    }
    vrp = probes["ckt-vrp"]
    assert (vrp["sent"], vrp["received"], vrp["loss_ratio"]) == (5, 4, 0.2)
    assert (vrp["rtt_min_ms"], vrp["rtt_avg_ms"], vrp["rtt_max_ms"]) == (1.0, 2.0, 4.0)
    assert vrp["jitter_ms"] is not None  # VRP prints each reply: the deviation is computed from them
    # no SNMP profile: availability and counters come over SSH
    devices = {o["device"]: o for o in objects if o["kind"] == "device"}
    assert devices["pe-ios"]["available"] is True
    assert any(o["kind"] == "interface" and o["device"] == "pe-ios" for o in objects)
    assert PASSWORD not in polled.stderr and PASSWORD not in polled.stdout
