"""SLA report cost: a month of Δt rollups for many circuits, then every contract's monthly report, and one.

Run from the repository root (PostgreSQL on 127.0.0.1:5432 as for the tests; NOC_TEST_PG_URL overrides):

    .venv/bin/python bench/sla_report.py [--circuits 10000] [--per-contract 10] [--db sqlite,postgres]

What it does (bounded; everything it creates is dropped at the end):
- a fresh database per backend, migrated by the product's own migrations;
- ``--circuits`` circuits in contracts of ``--per-contract`` circuits (plus one contract of 100 circuits) on
  100 devices, each with a month (May 2026, UTC and Europe/Berlin contracts) of rollups as the live engine writes
  them: Δt state runs (a few outages per circuit) and one hourly-statistics row per circuit-hour (744 per circuit);
- times ``noc.store.reports.build_reports`` for every contract at once (all reports) and ``build_report`` for single
  contracts (median of 5),
  printing rows loaded and the goals (all <= 10 s on PostgreSQL; one <= 100 ms).
Loading the data uses the drivers' bulk paths (COPY / executemany); only the reports are timed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
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
from sqlalchemy.engine import make_url  # noqa: E402

from noc import dbadmin  # noqa: E402
from noc.db import create_engine, session_factory  # noqa: E402
from noc.store.reports import build_report, build_reports  # noqa: E402

PG_URL = os.environ.get("NOC_TEST_PG_URL", "postgresql+asyncpg://postgres:postgres@127.0.0.1:5432/postgres")
MONTH_START = datetime(2026, 5, 1, tzinfo=UTC)
HOURS = 31 * 24
BIG = "BIG-100"

HOUR_COLUMNS = [
    "circuit_id", "hour_start",
    "rtt_n", "rtt_sum_ms", "rtt_min_ms", "rtt_max_ms",
    "loss_n", "loss_sum_ratio", "loss_min_ratio", "loss_max_ratio",
    "jitter_n", "jitter_sum_ms", "jitter_min_ms", "jitter_max_ms",
    "in_n", "in_sum_bps", "in_min_bps", "in_max_bps",
    "out_n", "out_sum_bps", "out_min_bps", "out_max_bps",
    "util_n", "util_sum_ratio", "util_min_ratio", "util_max_ratio",
    "speed_min_bps", "speed_max_bps",
]  # fmt: skip


def contracts_plan(circuits: int, per_contract: int) -> list[tuple[str, int]]:
    plan = [(BIG, 100)]
    left = circuits - 100
    i = 0
    while left > 0:
        n = min(per_contract, left)
        plan.append((f"K-{i:05d}", n))
        left -= n
        i += 1
    return plan


def generate(plan: list[tuple[str, int]], seed: int = 1) -> dict[str, list[tuple[object, ...]]]:
    """Rows for every table, ids assigned here (the database is empty)."""
    rng = random.Random(seed)
    rows: dict[str, list[tuple[object, ...]]] = {
        k: [] for k in ("devices", "accounts", "contracts", "circuits", "runs", "hours")
    }
    for d in range(100):
        rows["devices"].append((d + 1, f"pe-{d:03d}", f"10.0.{d // 250}.{d % 250 + 1}", "linux"))
    circuit_id = 0
    for k, (name, size) in enumerate(plan, start=1):
        rows["accounts"].append((k, f"acct-{k}", f"Account {k}", "ABC"[k % 3]))
        tz = "Europe/Berlin" if k % 2 else "UTC"
        rows["contracts"].append((k, name, k, tz))
        for _ in range(size):
            circuit_id += 1
            rows["circuits"].append((circuit_id, f"ckt-{circuit_id:06d}", k, k, circuit_id % 100 + 1))
            # a month of decided Δt: available, with 0-3 outages of 1-90 minutes
            cursor = MONTH_START - timedelta(days=1)
            end = MONTH_START + timedelta(days=32)
            for _ in range(rng.randint(0, 3)):
                down = MONTH_START + timedelta(minutes=rng.randrange(HOURS * 60))
                if down <= cursor:
                    continue
                length = timedelta(minutes=rng.randint(1, 90))
                rows["runs"].append((circuit_id, cursor, down, "available", "[]"))
                rows["runs"].append((circuit_id, down, down + length, "unavailable", '["interface_down"]'))
                cursor = down + length
            rows["runs"].append((circuit_id, cursor, end, "available", "[]"))
            base = rng.uniform(2, 20)
            for h in range(HOURS):
                rtt = base + rng.random()
                traffic = rng.uniform(1e6, 8e7)
                rows["hours"].append((
                    circuit_id, MONTH_START + timedelta(hours=h),
                    60, rtt * 60, rtt * 0.8, rtt * 1.5,
                    60, 0.0, 0.0, rng.choice((0.0, 0.0, 0.2)),
                    60, 30.0, 0.1, 2.0,
                    60, traffic * 60, traffic * 0.5, traffic * 1.8,
                    60, traffic * 30, traffic * 0.2, traffic,
                    60, traffic * 60 / 1e8, traffic * 0.5 / 1e8, traffic * 1.8 / 1e8,
                    1e8, 1e8,
                ))  # fmt: skip
    return rows


def _inventory_rows(rows: dict[str, list[tuple[object, ...]]]) -> dict[str, tuple[str, list[tuple[object, ...]]]]:
    """(insert SQL with $n placeholders, rows) for the inventory tables."""
    return {
        "devices": (
            "insert into devices (id, name, address, platform, role, region, site, snmp_port, ssh_port, enabled) "
            "values ($1, $2, $3, $4, 'pe', '', '', 161, 22, true)",
            rows["devices"],
        ),
        "key_accounts": (
            "insert into key_accounts (id, name, legal_name, tier, region, auto_resolve, services) "
            "values ($1, $2, $3, $4, '', false, '[]')",
            rows["accounts"],
        ),
        "contracts": (
            "insert into contracts (id, name, account_id, valid_from, valid_to, timezone, month_length, monthly_fee, "
            "currency, availability_target_pct, response_time_s, restore_time_s, sliding_window_n, unknown_time, "
            "maintenance_windows, credit_bands, credit_cap_pct, archive_ref) values ($1, $2, $3, '2026-01-01', "
            "'2027-12-31', $4, 'calendar', '1000.00', 'EUR', '99.9', 2700, 14400, 1, 'excluded', '[]', "
            '\'[{"below_pct": "99.9", "credit_pct": "10"}]\', \'30\', \'\')',
            rows["contracts"],
        ),
        "circuits": (
            "insert into circuits (id, name, account_id, contract_id, device_id, interface_name, committed_rate_bps, "
            "probe, service, description) values ($1, $2, $3, $4, $5, 'eth1', 100000000, 'none', '', '')",
            rows["circuits"],
        ),
    }


async def load_postgres(dsn: str, rows: dict[str, list[tuple[object, ...]]]) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for sql, data in _inventory_rows(rows).values():
            await conn.executemany(sql, data)
        await conn.copy_records_to_table(
            "sla_state_runs", records=rows["runs"], columns=["circuit_id", "start_at", "end_at", "state", "causes"]
        )
        await conn.copy_records_to_table("circuit_hour_stats", records=rows["hours"], columns=HOUR_COLUMNS)
        await conn.execute("analyze")
    finally:
        await conn.close()


def load_sqlite(path: Path, rows: dict[str, list[tuple[object, ...]]]) -> None:
    db = sqlite3.connect(path)
    try:
        for sql, data in _inventory_rows(rows).values():
            lite = sql.replace("true", "1").replace("false", "0")
            for i in range(9, 0, -1):
                lite = lite.replace(f"${i}", "?")
            db.executemany(lite, data)
        iso = [(c, s.isoformat(sep=" "), e.isoformat(sep=" "), st, ca) for c, s, e, st, ca in rows["runs"]]
        db.executemany(
            "insert into sla_state_runs (circuit_id, start_at, end_at, state, causes) values (?, ?, ?, ?, ?)", iso
        )
        marks = ", ".join("?" for _ in HOUR_COLUMNS)
        db.executemany(
            f"insert into circuit_hour_stats ({', '.join(HOUR_COLUMNS)}) values ({marks})",  # noqa: S608 - fixed names
            ((r[0], r[1].isoformat(sep=" "), *r[2:]) for r in rows["hours"]),  # type: ignore[attr-defined]
        )
        db.commit()
        db.execute("analyze")
    finally:
        db.close()


async def time_reports(url: str, plan: list[tuple[str, int]]) -> None:
    engine = create_engine(url)
    sessions = session_factory(engine)
    try:
        start = time.perf_counter()
        async with sessions() as session:
            reports = await build_reports(session, 2026, 5)
        total = time.perf_counter() - start
        assert len(reports) == len(plan)
        print(
            f"    all reports: {len(plan):,} contracts, {sum(n for _, n in plan):,} circuits in {total:.2f} s "
            f"({1000 * total / len(plan):.1f} ms per contract)"
        )
        for label, name in (("one report, typical contract", plan[1][0]), ("one report, 100-circuit contract", BIG)):
            samples = []
            for _ in range(5):
                t0 = time.perf_counter()
                async with sessions() as session:
                    report, _ = await build_report(session, name, 2026, 5)
                samples.append(time.perf_counter() - t0)
            size = len(report.circuits)
            print(f"    {label} ({size} circuits): {1000 * statistics.median(samples):.1f} ms (median of 5)")
    finally:
        await engine.dispose()


async def bench_postgres(plan: list[tuple[str, int]], rows: dict[str, list[tuple[object, ...]]]) -> None:
    name = f"noc_bench_{uuid.uuid4().hex[:10]}"
    admin = make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(admin)
    await conn.execute(f'create database "{name}"')
    await conn.close()
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        engine = create_engine(url)
        await dbadmin.upgrade(engine)
        await engine.dispose()
        t0 = time.perf_counter()
        await load_postgres(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False), rows)
        print(
            f"PostgreSQL: loaded {len(rows['hours']):,} hourly rows, {len(rows['runs']):,} runs in "
            f"{time.perf_counter() - t0:.1f} s"
        )
        await time_reports(url, plan)
    finally:
        conn = await asyncpg.connect(admin)
        await conn.execute(f'drop database if exists "{name}" with (force)')
        await conn.close()


async def bench_sqlite(plan: list[tuple[str, int]], rows: dict[str, list[tuple[object, ...]]]) -> None:
    with tempfile.TemporaryDirectory(prefix="noc-bench-") as tmp:
        path = Path(tmp) / "bench.db"
        url = f"sqlite+aiosqlite:///{path}"
        engine = create_engine(url)
        await dbadmin.upgrade(engine)
        await engine.dispose()
        t0 = time.perf_counter()
        load_sqlite(path, rows)
        print(
            f"SQLite: loaded {len(rows['hours']):,} hourly rows, {len(rows['runs']):,} runs in "
            f"{time.perf_counter() - t0:.1f} s"
        )
        await time_reports(url, plan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--circuits", type=int, default=10_000)
    parser.add_argument("--per-contract", type=int, default=10)
    parser.add_argument("--db", default="sqlite,postgres")
    args = parser.parse_args()
    if not 100 <= args.circuits <= 50_000:
        parser.error("--circuits must lie in 100..50000")
    plan = contracts_plan(args.circuits, args.per_contract)
    t0 = time.perf_counter()
    rows = generate(plan)
    print(
        f"generated a month of rollups for {args.circuits:,} circuits in {len(plan):,} contracts "
        f"in {time.perf_counter() - t0:.1f} s"
    )
    for db in args.db.split(","):
        asyncio.run(bench_postgres(plan, rows) if db == "postgres" else bench_sqlite(plan, rows))
    print("goals: all reports <= 10 s on PostgreSQL; one report <= 100 ms")


if __name__ == "__main__":
    main()
