"""A poller fleet on loopback: three ``noc poller`` processes and one ``noc serve --no-poller`` share 60 device
entries on real snmpd agents through a private Redis; what the database holds says who polled what, and when."""

from __future__ import annotations

import contextlib
import itertools
import signal
import subprocess
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.exporters.test_prometheus import wait_for
from tests.flow.serve import Serve, agent, rows
from tests.flow.test_restarts import utc
from tests.noccli import NOC
from tests.peers.ports import free_tcp_port
from tests.peers.process import stop_group
from tests.peers.redis import PrivateRedis, redis_available
from tests.peers.snmpd import SnmpdAgent

pytestmark = [pytest.mark.peers, pytest.mark.skipif(not redis_available(), reason="redis-server is not installed")]
INTERVAL_S = 5.0
FAILOVER_S = 4.0
DEVICES = 60
SAMPLES = (
    "select d.name, m.ts, m.in_bps, m.verdict from interface_measurements m join devices d on d.id = m.device_id "
    "where m.if_name = 'lo' and m.ts >= :since order by m.ts"
)
GAPS = "select d.name, g.ended_at from monitoring_gaps g join devices d on d.id = g.device_id order by g.started_at"
GAPS_SINCE = (
    "select d.name, g.ended_at from monitoring_gaps g join devices d on d.id = g.device_id where g.started_at >= :since"
)
OWNERS = "select d.name, s.poller from device_status s join devices d on d.id = s.device_id"


@dataclass
class Poller:
    """``noc poller`` in a child process, with the service's settings (database, key, Redis)."""

    name: str
    serve: Serve
    group: str | None = None  # the service's by default
    port: int = field(default_factory=free_tcp_port)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = (self.serve.workdir / f"{self.name}.log").open("ab")
        argv = [*NOC, "poller", "--name", self.name, "--port", str(self.port)]
        env = self.serve.env | ({} if self.group is None else {"NOC_POLLER__GROUP": self.group})
        self.process = subprocess.Popen(argv, env=env, stdout=log, stderr=log, start_new_session=True)

    def metric(self, name: str) -> float:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=10) as answer:
            for line in answer.read().decode().splitlines():
                if line.startswith(name + "{") or line.startswith(name + " "):
                    return float(line.rsplit(" ", 1)[1])
        return 0.0

    def kill(self) -> None:
        proc, self.process = self.process, None
        assert proc is not None
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)

    def cleanup(self) -> None:
        proc, self.process = self.process, None
        stop_group(proc)


def fleet_settings(redis: PrivateRedis, **extra: str) -> dict[str, str]:
    """What every process of the fleet shares: the Redis bus, fast heartbeats; noc serve polls nothing itself."""
    return {
        "NOC_BUS__URL": redis.url,
        "NOC_POLLER__ENABLED": "false",  # noc serve --no-poller: the fleet polls
        "NOC_FLEET__HEARTBEAT_S": "1",
        "NOC_FLEET__FAILOVER_S": str(FAILOVER_S),
        "NOC_FLEET__INVENTORY_CHECK_S": "2",
        **extra,
    }


def fleet_inventory(agents: list[SnmpdAgent]) -> str:
    lines = ["snmp_profiles:"]
    lines += [f"  - {{name: p{i}, version: 2c, community: {a.community}}}" for i, a in enumerate(agents)]
    lines.append("devices:")
    for n in range(DEVICES):
        i = n % len(agents)
        lines.append(
            f"  - {{name: pe-{n:02d}, address: 127.0.0.1, platform: linux, snmp_profile: p{i}, "
            f"snmp_port: {agents[i].port}}}"
        )
    return "\n".join(lines) + "\n"


@pytest.fixture
def agents() -> Iterator[list[SnmpdAgent]]:
    made = [agent(f"box{i}") for i in range(3)]
    try:
        for a in made:
            a.start()
        yield made
    finally:
        for a in made:
            a.cleanup()


def stored_now() -> datetime:
    """Now, as the service's SQLite file stores times (naive UTC text), for comparisons in plain queries."""
    return datetime.now(UTC).replace(tzinfo=None)


def polls(samples: list[tuple[str, datetime]], since: datetime) -> tuple[dict[str, list[datetime]], int]:
    """Each device's sample times, and the most polls one poller per device can have made since ``since``: the
    scheduler never bursts to catch up (a late poll is late, not doubled), so more than that is two pollers."""
    by_device: dict[str, list[datetime]] = {}
    for name, ts in samples:
        by_device.setdefault(name, []).append(ts)
    span = max(t for times in by_device.values() for t in times) - since.replace(tzinfo=UTC)
    return by_device, int(span.total_seconds() // INTERVAL_S) + 1


@dataclass
class Fleet:
    redis: PrivateRedis
    db: str
    serve: Serve
    pollers: list[Poller]
    settled_at: datetime  # every device polled by its owner since


@contextlib.contextmanager
def running_fleet(agents: list[SnmpdAgent], tmp_path: Path, size: int) -> Iterator[Fleet]:
    """A private Redis, ``noc serve --no-poller`` and ``size`` pollers sharing the 60 devices, once every member
    sees the others, all devices are owned and each has been polled by its owner (the start's hand-overs done)."""
    redis = PrivateRedis()
    db = f"sqlite+aiosqlite:///{tmp_path}/noc.db"
    serve = Serve(db, tmp_path, INTERVAL_S, fleet_settings(redis, NOC_FLEET__GRACE_S="3"))
    pollers = [Poller(f"p{i}", serve) for i in range(size)]
    try:
        redis.start()
        serve.setup(fleet_inventory(agents))
        serve.start()
        for p in pollers:
            p.start()
        wait_for(
            f"{size} members sharing all devices",
            lambda: (
                all(p.metric("noc_fleet_members") == size for p in pollers)
                and sum(p.metric("noc_fleet_owned_devices") for p in pollers) == DEVICES
            ),
            timeout_s=120,
        )
        owners_since = stored_now()
        wait_for(
            "every device polled by its owner",
            lambda: len({r[0] for r in rows(db, SAMPLES, since=owners_since)}) == DEVICES,
            timeout_s=120,
        )
        yield Fleet(redis, db, serve, pollers, owners_since)
        assert serve.signal(signal.SIGTERM) == 0
    finally:
        for p in pollers:
            p.cleanup()
        serve.cleanup()
        redis.cleanup()


def test_three_pollers_share_the_devices_take_over_a_killed_one_and_give_back_on_its_return(
    agents: list[SnmpdAgent], tmp_path: Path
) -> None:
    with running_fleet(agents, tmp_path, 3) as fleet:
        db, pollers = fleet.db, fleet.pollers
        shares = {p.name: p.metric("noc_fleet_owned_devices") for p in pollers}
        assert all(n >= 8 for n in shares.values()), shares  # rendezvous hashing: roughly a third each
        since = stored_now()
        wait_for(
            "three polls of every device",
            lambda: (
                min(Counter(r[0] for r in rows(db, SAMPLES, since=since)).values(), default=0) >= 3
                and len({r[0] for r in rows(db, SAMPLES, since=since)}) == DEVICES
            ),
            timeout_s=120,
        )
        steady, most = polls([(n, utc(ts)) for n, ts, _, _ in rows(db, SAMPLES, since=since)], since)
        # one poll per device and interval: never two pollers on one device
        assert all(3 <= len(times) <= most for times in steady.values()), (most, steady)
        owners = dict(rows(db, OWNERS))
        assert Counter(owners.values()) == Counter({k: int(v) for k, v in shares.items()})

        # kill -9 one poller: the others take its devices within failover_s + one interval
        victim = pollers[1]
        lost = sorted(name for name, owner in owners.items() if owner == victim.name)
        victim.kill()
        killed_at = time.monotonic()
        after = stored_now()
        others = [pollers[0], pollers[2]]
        wait_for(
            "the survivors owning every device",
            lambda: sum(p.metric("noc_fleet_owned_devices") for p in others) == DEVICES,
            timeout_s=60,
        )
        wait_for(
            "each handed-over device polled again",
            lambda: {r[0] for r in rows(db, SAMPLES, since=after)} >= set(lost),
            timeout_s=60,
        )
        took_s = time.monotonic() - killed_at
        assert took_s <= FAILOVER_S + INTERVAL_S + 10, took_s  # bounded (slack for a loaded machine)
        handed = [r for r in rows(db, SAMPLES, since=after) if r[0] in lost]
        first = {}
        for name, _, in_bps, verdict in handed:
            first.setdefault(name, (in_bps, verdict))
        # the new owner's first poll re-baselines: no rate, never a spike
        assert all(v == (None, "first") for v in first.values()), first
        assert rows(db, "select count(*) from device_outages") == [(0,)]  # a hand-over is no downtime
        # a failover longer than two intervals is a monitoring gap of the dead poller's devices, ended by the
        # new owner's first poll (whether there was one depends on where in its interval each device was)
        wait_for("no gap left open", lambda: all(ended is not None for _, ended in rows(db, GAPS)))
        assert {name for name, _ in rows(db, GAPS_SINCE, since=after)} <= set(lost)  # (a slow start may leave its own)
        new_owners = dict(rows(db, OWNERS))
        assert {new_owners[name] for name in lost} <= {"p0", "p2"}

        # the killed poller comes back: after the grace period it takes its share back, once
        comeback = stored_now()
        victim.start()
        wait_for("the comeback owning its share", lambda: victim.metric("noc_fleet_owned_devices") > 0, timeout_s=60)
        wait_for(
            "every device polled by its owner after the comeback",
            lambda: (
                victim.name in dict(rows(db, OWNERS)).values() and len(rows(db, SAMPLES, since=comeback)) >= 3 * DEVICES
            ),
            timeout_s=90,
        )
        back = sorted(name for name, owner in rows(db, OWNERS) if owner == victim.name)
        assert set(back) <= set(lost)  # rendezvous hashing: it gets back what it had, nothing else moves
        whole, most = polls([(n, utc(ts)) for n, ts, _, _ in rows(db, SAMPLES, since=since)], since)
        assert all(len(times) <= most for times in whole.values()), (most, whole)  # no double poll at hand-overs
        longest = max((b - a).total_seconds() for times in whole.values() for a, b in itertools.pairwise(times))
        assert longest <= FAILOVER_S + 2 * INTERVAL_S + 10, longest  # the failover's gap, bounded
        handed_back: dict[str, float] = {}
        for name in back:
            samples = [(utc(ts), verdict) for n, ts, _, verdict in rows(db, SAMPLES, since=since) if n == name]
            k = next(i for i, (ts, verdict) in enumerate(samples) if verdict == "first" and ts >= utc(comeback))
            handed_back[name] = (samples[k][0] - samples[k - 1][0]).total_seconds()
        # each hand-over re-baselines its counters, one interval after the previous owner's last poll: no double
        assert all(g >= 0.5 * INTERVAL_S for g in handed_back.values()), handed_back
        assert rows(db, "select count(*) from device_outages") == [(0,)]


def test_a_device_is_polled_only_by_its_group_and_is_a_monitoring_gap_without_one(
    agents: list[SnmpdAgent], tmp_path: Path
) -> None:
    redis = PrivateRedis()
    db = f"sqlite+aiosqlite:///{tmp_path}/noc.db"
    serve = Serve(db, tmp_path, INTERVAL_S, fleet_settings(redis, NOC_POLLER__GROUP="north"))
    north = Poller("n1", serve)
    groups = {"pe-n1": ("north", agents[0]), "pe-n2": ("north", agents[1]), "pe-s1": ("south", agents[2])}

    def grouped(disabled: str = "") -> str:
        lines = ["snmp_profiles:"]
        lines += [f"  - {{name: p{i}, version: 2c, community: {a.community}}}" for i, a in enumerate(agents)]
        lines.append("devices:")
        for name, (group, a) in groups.items():
            lines.append(
                f"  - {{name: {name}, address: 127.0.0.1, platform: linux, snmp_profile: p{agents.index(a)}, "
                f"snmp_port: {a.port}, poller_group: {group}, enabled: {str(name != disabled).lower()}}}"
            )
        return "\n".join(lines) + "\n"

    south = Poller("s1", serve, group="south")
    try:
        redis.start()
        serve.setup(grouped())
        serve.start()
        north.start()
        start = stored_now()
        wait_for(
            "the north devices polled twice",
            lambda: Counter(r[0] for r in rows(db, SAMPLES, since=start)) >= Counter({"pe-n1": 2, "pe-n2": 2}),
            timeout_s=90,
        )
        wait_for("the south device a gap", lambda: serve.metric("noc_device_monitoring_gap", device="pe-s1") == 1.0)
        assert serve.metric("noc_device_monitoring_gap", device="pe-n1") == 0.0
        wait_for("the gap recorded", lambda: rows(db, GAPS) == [("pe-s1", None)])
        assert {r[0] for r in rows(db, SAMPLES, since=start)} == {"pe-n1", "pe-n2"}  # never by a north poller
        assert north.metric("noc_fleet_owned_devices") == 2
        assert rows(db, "select count(*) from device_outages") == [(0,)]  # a gap is not downtime

        # an inventory change reaches the running poller and service: pe-n2 disabled stops, its series go
        serve.setup(grouped(disabled="pe-n2"))
        wait_for("pe-n2 no longer polled", lambda: north.metric("noc_fleet_owned_devices") == 1)
        wait_for("pe-n2's series gone", lambda: serve.metric("noc_device_up", device="pe-n2") is None)
        # a south poller arrives: it polls pe-s1, whose gap ends at that first poll
        south.start()
        wait_for(  # the gap's end and the poll's rows are written by two consumers, in either order
            "the gap closed and the south poll stored",
            lambda: rows(db, GAPS)[0][1] is not None and "pe-s1" in {r[0] for r in rows(db, SAMPLES, since=start)},
            timeout_s=60,
        )
        ((_, ended),) = rows(db, GAPS)
        first_south = min(utc(ts) for n, ts, _, _ in rows(db, SAMPLES, since=start) if n == "pe-s1")
        assert abs((utc(ended) - first_south).total_seconds()) < INTERVAL_S  # ended by that first poll
        wait_for("pe-s1 no gap", lambda: serve.metric("noc_device_monitoring_gap", device="pe-s1") == 0.0)
        assert rows(db, "select count(*) from device_outages") == [(0,)]
        assert serve.signal(signal.SIGTERM) == 0
    finally:
        south.cleanup()
        north.cleanup()
        serve.cleanup()
        redis.cleanup()


def test_pollers_keep_their_devices_and_every_poll_while_redis_is_away(
    agents: list[SnmpdAgent], tmp_path: Path
) -> None:
    def polled(p: Poller) -> float:
        return p.metric("noc_poll_duration_seconds_count")

    def handovers(p: Poller) -> float:
        return p.metric("noc_fleet_handovers_total")

    with running_fleet(agents, tmp_path, 2) as fleet:
        db, redis, pollers, settled_at = fleet.db, fleet.redis, fleet.pollers, fleet.settled_at
        owners = dict(rows(db, OWNERS))
        moved = {p.name: handovers(p) for p in pollers}
        owned = {p.name: p.metric("noc_fleet_owned_devices") for p in pollers}

        # Redis away for three intervals (over twice failover_s): both keep polling what they own
        redis.stop()
        away_from = stored_now()
        before = {p.name: polled(p) for p in pollers}
        wait_for(
            "three polls of every owned device while Redis is away",
            lambda: all(polled(p) - before[p.name] >= 3 * owned[p.name] for p in pollers),
            timeout_s=90,
        )
        away_until = stored_now()
        redis.start()  # the same data directory: the append-only file keeps the stream and the groups

        # back: the spooled polls reach the store, in order, once; nobody took anything over
        wait_for(
            "every device's polls of the outage stored",
            lambda: (
                min(
                    Counter(r[0] for r in rows(db, SAMPLES, since=away_from) if utc(r[1]) < utc(away_until)).values(),
                    default=0,
                )
                >= 2
                and len({r[0] for r in rows(db, SAMPLES, since=away_from)}) == DEVICES
            ),
            timeout_s=120,
        )
        resumed = stored_now()
        wait_for(
            "polls after the return",
            lambda: len({r[0] for r in rows(db, SAMPLES, since=resumed)}) == DEVICES,
            timeout_s=60,
        )
        assert dict(rows(db, OWNERS)) == owners
        assert {p.name: handovers(p) for p in pollers} == moved  # no device changed hands
        whole, _ = polls([(n, utc(ts)) for n, ts, _, _ in rows(db, SAMPLES, since=settled_at)], settled_at)
        spacing = [(b - a).total_seconds() for times in whole.values() for a, b in itertools.pairwise(sorted(times))]
        assert min(spacing) >= INTERVAL_S / 2, min(spacing)  # no poll stored twice, no device polled twice
        assert rows(db, "select count(*) from device_outages") == [(0,)]
        assert rows(db, GAPS) == []  # polled all along: no monitoring gap
