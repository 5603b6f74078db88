"""Redis (the bus) restarted mid-run: polling goes on (the poll stage keeps its messages in a local spool while Redis
is away), the consumers resume from their groups, and every poll is applied once: one stored sample per device and
interval, none missing, and the SLA engine's hourly counts equal the samples (nothing counted twice)."""

from __future__ import annotations

import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.exporters.test_prometheus import wait_for
from tests.flow.serve import Serve, agent, inventory, rows
from tests.flow.test_restarts import utc
from tests.peers.redis import PrivateRedis, redis_available
from tests.peers.snmpd import SnmpdAgent

pytestmark = [pytest.mark.peers, pytest.mark.skipif(not redis_available(), reason="redis-server is not installed")]
INTERVAL_S = 5.0
SAMPLES = (
    "select d.name, m.ts, m.in_bps from interface_measurements m join devices d on d.id = m.device_id "
    "where m.if_name = 'lo' order by m.ts"
)
HOURS = "select c.name, sum(h.in_n) from circuit_hour_stats h join circuits c on c.id = h.circuit_id group by c.name"


@pytest.fixture
def agents() -> Iterator[dict[str, SnmpdAgent]]:
    made = {name: agent(name) for name in ("north", "south")}
    try:
        yield made
    finally:
        for a in made.values():
            a.cleanup()


def test_a_redis_restart_applies_every_poll_once(agents: dict[str, SnmpdAgent], tmp_path: Path) -> None:
    redis = PrivateRedis()
    db = f"sqlite+aiosqlite:///{tmp_path}/noc.db"
    serve = Serve(db, tmp_path, INTERVAL_S, {"NOC_BUS__URL": redis.url})
    try:
        redis.start()
        for a in agents.values():
            a.start()
        serve.setup(inventory(agents))
        serve.start()
        wait_for("three polls stored", lambda: len(rows(db, SAMPLES)) >= 6, timeout_s=90)
        redis.stop()
        before = len(rows(db, SAMPLES))
        wait_for("the consumers noticing", lambda: serve.get("/healthz")[0] == 503, timeout_s=60)
        polled = _polls(serve)
        wait_for("two polls of each device while Redis is away", lambda: _polls(serve) >= polled + 4, timeout_s=60)
        redis.start()
        wait_for("the store catching up", lambda: len(rows(db, SAMPLES)) >= before + 4, timeout_s=90)
        wait_for("healthy again", lambda: serve.get("/healthz")[0] == 200, timeout_s=60)
        assert serve.signal(signal.SIGTERM) == 0
    finally:
        serve.cleanup()
        redis.cleanup()
    by_device: dict[str, list[tuple[object, float | None]]] = {}
    for name, ts, in_bps in rows(db, SAMPLES):
        by_device.setdefault(name, []).append((utc(ts), in_bps))
    for name, samples in by_device.items():
        first = samples[0][0]
        slots = Counter(round((ts - first).total_seconds() / INTERVAL_S) for ts, _ in samples)  # type: ignore[attr-defined]
        assert set(slots.values()) == {1}, (name, slots)
        assert sorted(slots) == list(range(len(slots))), f"{name}: a poll is missing"
    rated = Counter(name for name, samples in by_device.items() for _, bps in samples if bps is not None)
    assert dict(rows(db, HOURS)) == {f"ckt-{name}": count for name, count in rated.items()}


def _polls(serve: Serve) -> float:
    return serve.metric("noc_poll_duration_seconds_count", collector="snmp") or 0.0
