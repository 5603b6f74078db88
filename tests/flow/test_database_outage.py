"""The database goes away for a minute while ``noc serve`` polls real agents every 10 s; one agent stops during
the outage and another, down before it, comes back during it. Nothing is lost: every poll is stored exactly once,
the outages and incidents carry their real times, /metrics showed the truth meanwhile and the API answered 503.
Run with the in-process bus and with Redis Streams."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.exporters.test_prometheus import wait_for
from tests.flow.serve import Serve, agent, inventory, rows
from tests.peers.postgres import PrivateCluster, private_cluster_available
from tests.peers.redis import PrivateRedis, redis_available
from tests.peers.snmpd import SnmpdAgent

pytestmark = [
    pytest.mark.peers,
    pytest.mark.postgres,
    pytest.mark.skipif(not private_cluster_available(), reason="needs root and the PostgreSQL server binaries"),
]
INTERVAL_S = 10.0
# 60 s in the suite; NOC_TEST_OUTAGE_S=600 runs the ten-minute outage by hand
OUTAGE_S = float(os.environ.get("NOC_TEST_OUTAGE_S", "60"))
STATUS = "select d.name, s.available from device_status s join devices d on d.id = s.device_id"


@pytest.fixture
def cluster() -> Iterator[PrivateCluster]:
    pg = PrivateCluster()
    pg.create()
    pg.start()
    try:
        yield pg
    finally:
        pg.cleanup()


@pytest.fixture
def agents() -> Iterator[dict[str, SnmpdAgent]]:
    made = {name: agent(name) for name in ("steady", "failing", "returning")}
    try:
        yield made
    finally:
        for a in made.values():
            a.cleanup()


def now() -> datetime:
    return datetime.now(UTC)


@pytest.mark.parametrize("bus", ["memory", "redis"])
def test_a_minute_without_the_database_loses_nothing(
    bus: str, cluster: PrivateCluster, agents: dict[str, SnmpdAgent], tmp_path: Path
) -> None:
    if bus == "redis" and not redis_available():
        pytest.skip("redis-server is not installed")
    redis = PrivateRedis() if bus == "redis" else None
    extra = {"NOC_BUS__URL": redis.url} if redis is not None else {}
    serve = Serve(cluster.url, tmp_path, INTERVAL_S, extra)
    try:
        if redis is not None:
            redis.start()
        agents["steady"].start()
        agents["failing"].start()
        serve.setup(inventory(agents))
        serve.start()
        db = cluster.url
        wait_for(
            "'returning' down and the others up, stored",
            lambda: (
                sorted(rows(db, "select d.name, s.available from device_status s join devices d on d.id = s.device_id"))
                == [("failing", True), ("returning", False), ("steady", True)]
            ),
            timeout_s=90,
        )
        (down_before,) = rows(
            db,
            "select o.start_at from device_outages o join devices d on d.id = o.device_id "
            "where d.name = 'returning' and o.end_at is null",
        )

        cluster.stop()
        outage_start = now()
        status, headers, body = serve.get("/api/tickets", {"Authorization": "Bearer noc_" + "x" * 43})
        assert status == 503 and headers.get("Retry-After") == "10", body
        assert headers["Content-Type"].startswith("application/json") and b'"error"' in body
        page_status, _, _ = serve.get("/login")
        assert page_status in (200, 503)  # the login form needs no database; any page that does says 503
        health, _, _ = serve.get("/healthz")
        assert health == 503

        agents["failing"].stop()
        failing_stopped = now()
        agents["returning"].start()
        returning_started = now()
        wait_for("/metrics: 'failing' down", lambda: serve.metric("noc_device_up", device="failing") == 0.0)
        wait_for("/metrics: 'returning' up", lambda: serve.metric("noc_device_up", device="returning") == 1.0)
        assert serve.metric("noc_device_up", device="steady") == 1.0
        time.sleep(max(0.0, OUTAGE_S - (now() - outage_start).total_seconds()))  # the outage's length, not a wait
        cluster.start()
        outage_end = now()

        wait_for("the store to catch up", lambda: serve.get("/healthz")[0] == 200, timeout_s=120)
        wait_for(
            "the incident of 'failing'",
            lambda: rows(
                db,
                "select t.id from tickets t join devices d on d.id = t.device_id "
                "where t.kind = 'incident' and d.name = 'failing'",
            ),
            timeout_s=60,
        )
        assert serve.signal(15) == 0
    finally:
        serve.cleanup()
        if redis is not None:
            redis.cleanup()

    # Every poll of the steady device is stored exactly once, through the outage: one sample per interval slot.
    stamps = [
        r[0]
        for r in rows(
            db,
            "select m.ts from interface_measurements m join devices d on d.id = m.device_id "
            "where d.name = 'steady' and m.if_name = 'lo' order by m.ts",
        )
    ]
    slots = Counter(round((ts - stamps[0]).total_seconds() / INTERVAL_S) for ts in stamps)
    assert set(slots.values()) == {1}, slots
    assert sorted(slots) == list(range(len(slots))), "a poll is missing"
    during = [ts for ts in stamps if outage_start < ts < outage_end]
    assert len(during) >= int(OUTAGE_S / INTERVAL_S) - 1

    # The device that stopped during the outage: one open outage from its first failed poll, and its incident.
    (start, end), *more = rows(
        db,
        "select o.start_at, o.end_at from device_outages o join devices d "
        "on d.id = o.device_id where d.name = 'failing'",
    )
    assert not more and end is None
    assert failing_stopped - timedelta(seconds=1) <= start <= failing_stopped + timedelta(seconds=INTERVAL_S + 2)
    (detected,) = rows(
        db,
        "select t.detected_at from tickets t join devices d on d.id = t.device_id "
        "where t.kind = 'incident' and d.name = 'failing'",
    )[0:1][0]
    assert detected == start

    # The device that came back during the outage: its outage closed at its real recovery, its incident cleared.
    ((start, end),) = rows(
        db,
        "select o.start_at, o.end_at from device_outages o join devices d "
        "on d.id = o.device_id where d.name = 'returning'",
    )
    assert start == down_before[0]
    assert end is not None and returning_started <= end <= returning_started + timedelta(seconds=INTERVAL_S + 2)
    assert end < outage_end
    cleared = rows(
        db,
        "select t.fault_cleared_at from tickets t join devices d on d.id = t.device_id "
        "where t.kind = 'incident' and d.name = 'returning'",
    )
    assert cleared and cleared[0][0] == end

    # Every Δt of the steady circuit during the outage was decided and stored: no hole in its state runs.
    runs = rows(
        db,
        "select r.start_at, r.end_at from sla_state_runs r join circuits c on c.id = r.circuit_id "
        "where c.name = 'ckt-steady' order by r.start_at",
    )
    covered_to = runs[0][0]
    for run_start, run_end in runs:
        assert run_start <= covered_to or run_start > outage_end, f"a hole before {run_start}"
        covered_to = max(covered_to, run_end)
    # (a Δt is decided once it has ended: the one still running when the service stopped is not among them)
    assert runs[0][0] < outage_start and covered_to >= outage_end.replace(second=0, microsecond=0)
