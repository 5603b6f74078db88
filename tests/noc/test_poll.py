"""``noc poll`` end to end against real net-snmp agents on loopback: JSON shape, rates, availability, storage."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from noc.crypto import generate_key
from tests.noccli import noc, noc_env
from tests.peers.snmpd import SnmpdAgent, free_udp_port

pytestmark = pytest.mark.peers


@pytest.fixture(scope="module")
def agent() -> Iterator[SnmpdAgent]:
    snmpd = SnmpdAgent("127.0.0.1", free_udp_port(), community="noc-lab-ro", sys_name="lab-pe")
    snmpd.start()
    try:
        yield snmpd
    finally:
        snmpd.cleanup()


@pytest.mark.parametrize("backend", ["pysnmp", "native"])
def test_poll_prints_measures_and_stores(agent: SnmpdAgent, tmp_path: Path, backend: str) -> None:
    dead_port = free_udp_port()  # nothing listens there: a dead agent
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(
        "snmp_profiles:\n"
        "  - {name: lab, version: 2c, community: noc-lab-ro}\n"
        "devices:\n"
        f"  - {{name: lab-pe, address: 127.0.0.1, platform: linux, snmp_profile: lab, snmp_port: {agent.port}}}\n"
        f"  - {{name: dead-pe, address: 127.0.0.1, platform: linux, snmp_profile: lab, snmp_port: {dead_port}}}\n"
        "accounts:\n  - {name: acme, legal_name: ACME, tier: A}\n"
        "contracts:\n  - {name: c1, account: acme, valid_from: 2026-01-01, valid_to: 2027-12-31, timezone: UTC,\n"
        "     sla: {availability_target_pct: '99.9'}}\n"
        "circuits:\n"
        "  - {name: ckt-lo, account: acme, contract: c1, device: lab-pe, interface: lo}\n"
        "  - {name: ckt-dead, account: acme, contract: c1, device: dead-pe, interface: eth0}\n"
    )
    db = tmp_path / "noc.db"
    env = noc_env(
        NOC_DATABASE_URL=f"sqlite+aiosqlite:///{db}",
        NOC_SECRET_KEY=generate_key(),
        NOC_POLLER__TIMEOUT_S="1",
        NOC_POLLER__RETRIES="0",
        NOC_POLLER__DOWN_AFTER_FAILURES="2",
        NOC_POLLER__SNMP_BACKEND=backend,
    )

    assert noc(env, "db", "upgrade").returncode == 0
    assert noc(env, "inventory", "import", str(inventory)).returncode == 0
    polled = noc(env, "poll", "--cycles", "3", "--interval", "1", "--json")
    assert polled.returncode == 0, polled.stderr
    objects = [json.loads(line) for line in polled.stdout.splitlines()]

    for obj in objects:
        assert obj["kind"] in {"device", "interface"}
        assert datetime.fromisoformat(obj["ts"]).utcoffset() is not None
        assert obj["ts"].endswith("+00:00")
    live = [o for o in objects if o["kind"] == "device" and o["device"] == "lab-pe"]
    dead = [o for o in objects if o["kind"] == "device" and o["device"] == "dead-pe"]
    assert [o["available"] for o in live] == [True, True, True]
    assert all(isinstance(o["uptime_s"], float) for o in live)
    # down after 2 consecutive failures, dated from the first of them
    assert [o["available"] for o in dead] == [True, False, False]
    assert all(o["uptime_s"] is None for o in dead)

    loopback = [o for o in objects if o["kind"] == "interface" and o["if_name"] == "lo"]
    assert len(loopback) == 3
    assert loopback[0]["in_bps"] is None and loopback[0]["out_bps"] is None  # first cycle: nothing to compare
    # later cycles compare with the one before: a rate, unless the loopback's 10 Mbit/s was exceeded by the
    # machine's other traffic meanwhile (then the rate is refused as above speed, and says so)
    assert all(set(o["verdict"].split("/")) <= {"ok", "above_speed"} for o in loopback[1:]), loopback
    assert all(isinstance(o["in_bps"], float) and o["in_bps"] >= 0 for o in loopback[1:] if o["verdict"] == "ok")
    assert {"if_name", "oper_status", "in_bps", "out_bps"} <= set(loopback[0])

    with sqlite3.connect(db) as conn:
        outages = conn.execute(
            "select o.start_at, o.end_at from device_outages o join devices d on d.id = o.device_id "
            "where d.name = 'dead-pe'"
        ).fetchall()
        assert len(outages) == 1 and outages[0][1] is None
        assert datetime.fromisoformat(outages[0][0]) == datetime.fromisoformat(dead[0]["ts"]).replace(tzinfo=None)
        interfaces = dict(
            conn.execute(
                "select i.name, i.present from interfaces i join devices d on d.id = i.device_id "
                "where d.name = 'lab-pe'"
            ).fetchall()
        )
        assert interfaces.get("lo") == 1
        stored = conn.execute("select count(*) from interface_measurements where if_name = 'lo'").fetchone()[0]
        assert stored == 3
        assert conn.execute("select count(*) from poll_cycles").fetchone()[0] == 3
        # the SLA engine's hourly rollups (Δt runs are decided once a Δt has ended: see test_sla_engine)
        hours = conn.execute(
            "select sum(h.in_n) from circuit_hour_stats h join circuits c on c.id = h.circuit_id "
            "where c.name = 'ckt-lo'"
        ).fetchone()[0]
        assert hours == 2  # two cycles had a rate (the first only a baseline)


def test_discover_lists_and_stores_interfaces(agent: SnmpdAgent, tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(
        "snmp_profiles:\n"
        "  - {name: lab, version: 2c, community: noc-lab-ro}\n"
        "devices:\n"
        f"  - {{name: lab-pe, address: 127.0.0.1, platform: linux, snmp_profile: lab, snmp_port: {agent.port}}}\n"
        f"  - {{name: dead-pe, address: 127.0.0.1, platform: linux, snmp_profile: lab, snmp_port: {free_udp_port()}}}\n"
    )
    env = noc_env(
        NOC_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'noc.db'}",
        NOC_SECRET_KEY=generate_key(),
        NOC_POLLER__TIMEOUT_S="1",
        NOC_POLLER__RETRIES="0",
    )
    for args in (["db", "upgrade"], ["inventory", "import", str(inventory)]):
        assert noc(env, *args).returncode == 0
    only_live = noc(env, "discover", "--device", "lab-pe", "--json")
    assert only_live.returncode == 0, only_live.stderr
    rows = [json.loads(line) for line in only_live.stdout.splitlines()]
    lo = next(r for r in rows if r["if_name"] == "lo")
    assert lo["if_type"] == "softwareLoopback" and lo["oper_status"] == "up" and lo["device"] == "lab-pe"
    both = noc(env, "discover")
    assert both.returncode == 1
    assert "dead-pe: discovery failed" in both.stderr and "lab-pe" in both.stdout


def test_poll_refuses_an_unknown_device(tmp_path: Path) -> None:
    env = noc_env(
        NOC_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'noc.db'}",
        NOC_SECRET_KEY=generate_key(),
    )
    assert noc(env, "db", "upgrade").returncode == 0
    result = noc(env, "poll", "--device", "pe-nowhere")
    assert result.returncode == 2 and "--device: no enabled device named 'pe-nowhere'" in result.stderr
