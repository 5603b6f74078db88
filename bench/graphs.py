"""A 30-day interface graph: how long the read model takes, and how many points it returns per series.

Run from the repository root (PostgreSQL on 127.0.0.1:5432 as for the tests; NOC_TEST_PG_URL overrides):

    .venv/bin/python bench/graphs.py [--days 35] [--poll-s 60] [--runs 20]

What it does (bounded; the databases it creates are removed at the end):
- on SQLite (a file in a temporary folder) and on a fresh PostgreSQL database: the migrations, the example
  operator, then ``--days`` of one interface's samples every ``--poll-s`` seconds, written as the store writes them
  (raw rows in day partitions on PostgreSQL, then the 5-minute rollups by the store's own statement);
- asks the read model the pages and the API use (``noc.store.series.interface_graph_for``) for the traffic graph
  over 30 days, and for 24 hours, ``--runs`` times each after one warm-up;
- prints the answer time (median and max) and the points per series. Goal from issue 17: at most 100 ms and at most
  5,000 points per series for 30 days. Figures only: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from noc import dbadmin  # noqa: E402
from noc.crypto import SecretBox, generate_key  # noqa: E402
from noc.db import create_engine, session_factory  # noqa: E402
from noc.inventory.service import import_file  # noqa: E402
from noc.store import series  # noqa: E402
from tests.graphdata import instants, seed_interface  # noqa: E402
from tickets.access import Actor  # noqa: E402

PG_URL = os.environ.get("NOC_TEST_PG_URL", "postgresql+asyncpg://postgres:postgres@127.0.0.1:5432/postgres")
INVENTORY = ROOT / "examples" / "inventory.yaml"
DEVICE, INTERFACE = "pe-bj-01", "GigabitEthernet0/0/1"


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(_dsn(PG_URL), timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def measure(url: str, label: str, days: int, poll_s: int, runs: int) -> None:
    engine = create_engine(url)
    try:
        await dbadmin.upgrade(engine)
        sessions = session_factory(engine)
        await import_file(sessions, SecretBox.from_text(generate_key()), INVENTORY, "bench")
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        stamps = instants(now - timedelta(days=days), now, poll_s)
        began = time.perf_counter()
        await seed_interface(sessions, DEVICE, INTERFACE, stamps)
        if engine.dialect.name == "postgresql":
            async with engine.connect() as conn:  # what autovacuum does after a load: statistics for the planner
                await conn.execute(text("ANALYZE interface_rollups"))
                await conn.execute(text("ANALYZE interface_measurements"))
                await conn.commit()
        print(f"{label}: {len(stamps):,} samples written with their rollups in {time.perf_counter() - began:.1f} s")
        actor = Actor("bench", "noc")
        for name in ("30d", "24h"):
            window = series.window_for(name, None, None, now)
            times = []
            graph = None
            for _ in range(runs + 1):
                async with sessions() as session:
                    began = time.perf_counter()
                    graph = await series.interface_graph_for(
                        session, actor, DEVICE, INTERFACE, series.InterfaceMetric.TRAFFIC, window
                    )
                    times.append((time.perf_counter() - began) * 1000)
            assert graph is not None
            measured = sum(v is not None for v in graph.series[0].values)
            print(
                f"{label}: {name:>3} graph from {graph.source:<9} median {statistics.median(times[1:]):6.1f} ms, "
                f"max {max(times[1:]):6.1f} ms; {len(graph.t):,} points per series ({measured:,} measured), "
                f"a point per {graph.step_s} s  (goal for 30d: <= 100 ms, <= {series.MAX_POINTS:,} points)"
            )
    finally:
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=35)
    parser.add_argument("--poll-s", type=int, default=60)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        await measure(f"sqlite+aiosqlite:///{Path(folder) / 'noc.db'}", "SQLite    ", args.days, args.poll_s, args.runs)
    name = f"noc_bench_graphs_{uuid.uuid4().hex[:8]}"
    try:
        await _admin(f'CREATE DATABASE "{name}"')
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"PostgreSQL: not measured ({type(exc).__name__}: {exc})")
        return
    try:
        url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        await measure(url, "PostgreSQL", args.days, args.poll_s, args.runs)
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())
