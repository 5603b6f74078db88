"""Ticket list latency under load: GET /api/tickets at a fixed request rate with 100,000 tickets in PostgreSQL.

Run from the repository root (PostgreSQL on 127.0.0.1:5432 as for the tests; NOC_TEST_PG_URL overrides):

    .venv/bin/python bench/api.py [--tickets 100000] [--rate 200] [--seconds 15]

What it does (bounded; the database it creates is dropped at the end, the server it starts is stopped):
- a fresh PostgreSQL database, migrated, the example operator imported, ``--tickets`` tickets bulk-loaded (COPY)
  across its circuits and statuses, an API token for the NOC operator ``nina``;
- ``noc serve`` in a child process (the poller off: only the API is measured);
- an open-loop load: one request every 1/rate seconds for ``--seconds`` (requests are sent on schedule whether or
  not earlier ones have answered, so a slow server shows as latency, not as a lower rate); each request lists the
  first page of open tickets;
- prints achieved rate, errors, and latency p50 / p95 / p99 / max. Goal from the issue: p99 at 200 requests/s.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import asyncpg  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.scratch import noc_serve, scratch_database  # noqa: E402
from noc import dbadmin  # noqa: E402
from noc.auth import issue_token  # noqa: E402
from noc.crypto import SecretBox, generate_key  # noqa: E402
from noc.db import create_engine, session_factory  # noqa: E402
from noc.inventory.service import import_file  # noqa: E402

STATUSES = ("new", "acknowledged", "dispatched", "in_progress", "resolved", "closed")
COLUMNS = [
    "kind", "account_id", "circuit_id", "device_id", "source", "cause_key", "title", "symptoms", "status", "impact",
    "priority", "detected_at", "opened_at", "escalation_level", "timer_marks", "recurrence_count", "version",
    "response_time_s", "restore_time_s", "response_due_at", "restore_due_at",
]  # fmt: skip


async def prepare(url: str, key: str, tickets: int) -> str:
    engine = create_engine(url)
    await dbadmin.upgrade(engine)
    sessions = session_factory(engine)
    await import_file(sessions, SecretBox.from_text(key), ROOT / "examples" / "inventory.yaml", "bench")
    token = await issue_token(sessions, "nina", "bench")
    await engine.dispose()
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        circuits = await conn.fetch("select id, account_id, device_id, name from circuits")
        rng = random.Random(3)
        start = datetime(2026, 1, 1, tzinfo=UTC)
        rows = []
        for i in range(tickets):
            c = circuits[i % len(circuits)]
            at = start + timedelta(minutes=7 * i)
            rows.append((
                "ticket", c["account_id"], c["id"], c["device_id"], "sla_breach", f"sla:bench-{i}",
                f"{c['name']}: SLA loss", "loss above the ceiling", rng.choice(STATUSES), "degraded", "P2", at, at, 0,
                "[]", 1, 1, 2700, 14400, at + timedelta(minutes=45), at + timedelta(hours=4),
            ))  # fmt: skip
        await conn.copy_records_to_table("tickets", records=rows, columns=COLUMNS)
        await conn.execute("analyze")
    finally:
        await conn.close()
    return token


async def load(base: str, token: str, rate: float, seconds: float) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    headers = {"Authorization": f"Bearer {token}"}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as client:

        async def one() -> None:
            nonlocal errors
            started = time.perf_counter()
            try:
                async with client.get(f"{base}/api/tickets?status=new&limit=50") as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
                        return
            except aiohttp.ClientError:
                errors += 1
                return
            latencies.append(time.perf_counter() - started)

        loop = asyncio.get_running_loop()
        begin = loop.time()
        total = int(rate * seconds)
        tasks = []
        for i in range(total):
            await asyncio.sleep(max(0.0, begin + i / rate - loop.time()))
            tasks.append(asyncio.create_task(one()))
        await asyncio.gather(*tasks)
        elapsed = loop.time() - begin
    return latencies, errors, total / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--workers", type=int, default=1, help="noc serve --workers (processes on one port)")
    args = parser.parse_args()
    if not 1_000 <= args.tickets <= 1_000_000 or not 1 <= args.rate <= 2_000 or not 1 <= args.seconds <= 120:
        parser.error("--tickets 1000..1000000, --rate 1..2000, --seconds 1..120")
    if not 1 <= args.workers <= 16:
        parser.error("--workers 1..16")
    key = generate_key()
    with scratch_database(f"noc_bench_api_{uuid.uuid4().hex[:8]}") as url:
        t0 = time.perf_counter()
        token = asyncio.run(prepare(url, key, args.tickets))
        print(f"loaded {args.tickets:,} tickets in {time.perf_counter() - t0:.1f} s")
        with noc_serve(url, key, workers=args.workers) as (base, _):
            latencies, errors, achieved = asyncio.run(load(base, token, args.rate, args.seconds))
        ms = sorted(1000 * v for v in latencies)
        q = statistics.quantiles(ms, n=100) if len(ms) >= 2 else [ms[0]] * 99
        print(f"GET /api/tickets?status=new&limit=50 at {args.rate:g} req/s for {args.seconds:g} s, "
              f"{args.workers} worker(s): "
              f"achieved {achieved:.0f} req/s, {errors} errors")  # fmt: skip
        print(f"latency ms: p50 {q[49]:.1f}  p95 {q[94]:.1f}  p99 {q[98]:.1f}  max {ms[-1]:.1f}")


if __name__ == "__main__":
    main()
