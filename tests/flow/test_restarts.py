"""``noc serve`` killed and stopped at random moments: what it had open stays open once, from the same start.

- Five SIGKILLs while a device is down and its circuit's availability breach is open: afterwards one open outage
  and one open breach, both from their first start, and no ticket gained a recurrence.
- SIGTERM while polling a thousand device entries: the service is gone within its stop timeout, and a restart
  stores what the stop left on the bus, once.
"""

from __future__ import annotations

import random
import signal
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from noc.messages import DevicePolled, decode
from tests.exporters.test_prometheus import wait_for
from tests.flow.serve import Serve, agent, inventory, rows
from tests.peers.snmpd import SnmpdAgent

pytestmark = pytest.mark.peers

OUTAGES = "select o.start_at from device_outages o join devices d on d.id = o.device_id where o.end_at is null"
BREACHES = "select objective, since from sla_breaches where until is null"
RECURRENCES = (
    "select t.id, t.recurrence_count, (select count(*) from ticket_recurrences r where r.ticket_id = t.id) "
    "from tickets t"
)


@pytest.fixture
def agents() -> Iterator[dict[str, SnmpdAgent]]:
    made = {name: agent(name) for name in ("alive", "dead")}
    try:
        yield made
    finally:
        for a in made.values():
            a.cleanup()


def test_five_kills_leave_one_outage_one_breach_and_no_recurrence(
    agents: dict[str, SnmpdAgent], tmp_path: Path
) -> None:
    agents["alive"].start()  # "dead" never answers
    db = f"sqlite+aiosqlite:///{tmp_path}/noc.db"
    serve = Serve(db, tmp_path, interval_s=2.0)
    serve.setup(inventory(agents))
    try:
        serve.start()
        wait_for("the availability breach of ckt-dead", lambda: rows(db, BREACHES), timeout_s=180)
        wait_for("the incident's tickets", lambda: len(rows(db, RECURRENCES)) >= 2, timeout_s=60)
        outages, breaches, recurrences = rows(db, OUTAGES), rows(db, BREACHES), rows(db, RECURRENCES)
        assert len(outages) == 1 and len(breaches) == 1
        seed = random.randrange(1_000_000)
        chance = random.Random(seed)
        for _ in range(5):
            time.sleep(chance.uniform(0.5, 6.0))  # a random moment to kill at, not a wait for anything
            assert serve.signal(signal.SIGKILL) == -signal.SIGKILL
            serve.start()
        wait_for("a poll after the last restart", lambda: serve.get("/healthz")[0] == 200, timeout_s=60)
        last_poll = rows(db, "select max(last_poll_at) from device_status")[0][0]
        wait_for("two more polls", lambda: rows(db, "select max(last_poll_at) from device_status")[0][0] > last_poll)
        assert serve.signal(signal.SIGTERM) == 0
    finally:
        serve.cleanup()
    assert rows(db, OUTAGES) == outages, f"seed {seed}"
    assert rows(db, BREACHES) == breaches, f"seed {seed}"
    assert rows(db, RECURRENCES) == recurrences, f"seed {seed}"


def test_sigterm_with_a_thousand_devices_stops_in_time_and_the_rest_is_stored_once(
    agents: dict[str, SnmpdAgent], tmp_path: Path
) -> None:
    for a in agents.values():
        a.start()
    pool = list(agents.values())
    lines = ["snmp_profiles:"]
    lines += [f"  - {{name: p{i}, version: 2c, community: {a.community}}}" for i, a in enumerate(pool)]
    lines.append("devices:")
    lines += [
        f"  - {{name: d{n:04d}, address: 127.0.0.1, platform: linux, snmp_profile: p{n % len(pool)}, "
        f"snmp_port: {pool[n % len(pool)].port}}}"
        for n in range(1000)
    ]
    db_file = tmp_path / "noc.db"
    extra = {"NOC_POLLER__JITTER_RATIO": "0.5"}
    serve = Serve(f"sqlite+aiosqlite:///{db_file}", tmp_path, interval_s=20.0, extra=extra)
    serve.setup("\n".join(lines) + "\n")
    spill = tmp_path / "spill" / "store"
    try:
        serve.start()
        wait_for("a hundred devices stored", lambda: rows(serve.database_url, COUNT)[0][0] >= 100, timeout_s=120)
        # The database refuses writes (another process holds it): what is polled now waits on the bus.
        with sqlite3.connect(db_file, timeout=60, isolation_level=None) as holder:
            holder.execute("BEGIN EXCLUSIVE")
            wait_for("messages waiting for the store", lambda: serve.metric(BACKLOG, stage="store"), timeout_s=60)
            assert serve.signal(signal.SIGTERM) == 0  # within service.stop_timeout_s: see the log's timing
            left = [decode(line) for f in sorted(spill.glob("seg-*.jsonl")) for line in f.read_bytes().splitlines()]
            holder.execute("ROLLBACK")
        polled = {(m.device, r.if_name, r.ts) for m in left if isinstance(m, DevicePolled) for r in m.interfaces}
        assert polled, "the stop left nothing on the bus to replay"
        serve.start()
        wait_for("the spill files replayed", lambda: not list(spill.glob("seg-*.jsonl")), timeout_s=120)
        wait_for("what the stop left, stored", lambda: len(replayed(serve.database_url, polled)) == len(polled))
        assert serve.signal(signal.SIGTERM) == 0
    finally:
        serve.cleanup()
    assert set(replayed(serve.database_url, polled).values()) == {1}


def replayed(url: str, polled: set[tuple[str, str, datetime]]) -> Counter[tuple[str, str, datetime]]:
    """How often each polled sample is stored."""
    return Counter(key for d, n, t in rows(url, STORED) if (key := (d, n, utc(t))) in polled)


def utc(value: datetime | str) -> datetime:
    """A stored time as SQLite's driver gives it back to a plain query (naive text, UTC) or as a datetime."""
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


COUNT = "select count(*) from device_status"
BACKLOG = "noc_flow_backlog_messages"
STORED = "select d.name, m.if_name, m.ts from interface_measurements m join devices d on d.id = m.device_id"
