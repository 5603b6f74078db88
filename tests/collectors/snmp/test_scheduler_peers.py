"""Scheduler against real agents: one snmpd blackholed by nftables among several keeps nobody else waiting."""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from collectors.model import DeviceTarget, SnmpCredentials
from collectors.scheduler import PollRecord, Scheduler, SchedulerSettings
from collectors.snmp.fast_backend import NativeClient
from collectors.snmp.poll import PollResult, SnmpCollector
from tests.peers.snmpd import SnmpdAgent, free_udp_port, snmpd_available

pytestmark = [
    pytest.mark.peers,
    pytest.mark.skipif(
        os.geteuid() != 0 or shutil.which("nft") is None or not snmpd_available(),
        reason="needs root, nftables and snmpd",
    ),
]

INTERVAL_S = 0.5
GOOD_POLLS = 8
DEAD_POLLS = 2


@pytest.fixture(scope="module")
def agents() -> Iterator[list[SnmpdAgent]]:
    started = [SnmpdAgent("127.0.0.1", free_udp_port(), sys_name=f"lo{i}") for i in range(4)]
    try:
        for agent in started:
            agent.start()
        yield started
    finally:
        for agent in started:
            agent.cleanup()


@pytest.fixture
def blackhole(agents: list[SnmpdAgent]) -> Iterator[SnmpdAgent]:
    """Drop every datagram to the first agent's port (our own nftables table, deleted afterwards)."""
    victim = agents[0]
    table = f"nocblk{os.getpid()}"
    subprocess.run(["nft", "add", "table", "inet", table], check=True)
    try:
        subprocess.run(
            ["nft", "add", "chain", "inet", table, "out", "{ type filter hook output priority 0; }"], check=True
        )
        rule = ["ip", "daddr", victim.address, "udp", "dport", str(victim.port), "drop"]
        subprocess.run(["nft", "add", "rule", "inet", table, "out", *rule], check=True)
        yield victim
    finally:
        subprocess.run(["nft", "delete", "table", "inet", table], check=False, capture_output=True)


async def test_blackholed_agent_does_not_delay_the_others(agents: list[SnmpdAgent], blackhole: SnmpdAgent) -> None:
    targets = [
        DeviceTarget(
            name=f"dev{i}",
            address=agent.address,
            platform="linux",
            snmp=SnmpCredentials("2c", community=agent.community),
            snmp_port=agent.port,
            poll_interval_s=INTERVAL_S,
            interfaces_of_interest=frozenset({"lo"}),
        )
        for i, agent in enumerate(agents)
    ]
    dead = targets[0].name
    good = [t.name for t in targets[1:]]
    by_device: dict[str, list[PollRecord[PollResult]]] = {t.name: [] for t in targets}
    enough = asyncio.Event()

    def on_record(record: PollRecord[PollResult]) -> None:
        by_device[record.device].append(record)
        if len(by_device[dead]) >= DEAD_POLLS and all(len(by_device[g]) >= GOOD_POLLS for g in good):
            enough.set()

    client = NativeClient()
    try:
        collector = SnmpCollector(client, timeout_s=1.0, retries=0)
        settings = SchedulerSettings(jitter_ratio=0.5, timeout_s=5.0, retries=1, max_concurrency=4)
        scheduler: Scheduler[PollResult] = Scheduler(collector.poll, settings, on_record=on_record)
        run = asyncio.create_task(scheduler.run(targets))
        try:
            await asyncio.wait_for(enough.wait(), timeout=60)
        finally:
            run.cancel()
            with pytest.raises(asyncio.CancelledError):
                await run
    finally:
        client.close()

    dead_records = by_device[dead]
    assert all(not r.ok for r in dead_records)
    assert all(r.attempts == 2 for r in dead_records)
    first_outage = dead_records[0]
    for name in good:
        records = by_device[name]
        assert all(r.ok for r in records), [r.error for r in records if not r.ok]
        # While the dead device spent its whole first cycle timing out, every other device kept polling.
        during = [r for r in records if first_outage.started_at <= r.started_at <= first_outage.finished_at]
        assert len(during) >= 2
        # Their schedule stayed on the interval: due times exactly one interval apart (no slot skipped). The first
        # poll is left out: it includes the discovery and the engine set-up, and may skip one slot.
        steady = records[1:]
        gaps = [(b.scheduled_at - a.scheduled_at).total_seconds() for a, b in itertools.pairwise(steady)]
        assert gaps == pytest.approx([INTERVAL_S] * len(gaps), abs=0.01)
