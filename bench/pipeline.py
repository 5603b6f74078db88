"""The measurement path end to end: ``noc serve`` polling N device entries of 48 ports, on SQLite and PostgreSQL.

Run as root from the repository root:
    .venv/bin/python bench/pipeline.py [--devices 1000 10000] [--agents 4] [--window 120] [--databases sqlite postgres]

What it does (everything bounded; everything it starts is stopped on exit, also on error):
- K net-snmp agents that look like 48-port boxes (network namespaces with 24 veth pairs each, as bench/snmp_poll.py
  builds one); N device entries share them round robin (several entries may point at one agent);
- a fresh database (a file for SQLite, a new database on the local PostgreSQL server), the inventory imported;
- ``noc serve`` at a 60 s interval (the default), warmed up for one interval, then measured over ``--window``:
  the ``noc`` process CPU, the database server's CPU (the PostgreSQL backends serving it; SQLite runs inside
  ``noc``), the device polls done (from ``noc_poll_duration_seconds_count``), RSS at the end;
- the collector's share from the same run: the same agents polled by the bench process through the same native
  SNMP collector, CPU per poll; the pipeline's share is what ``noc`` spends per device poll beyond it.

Prints a table per database and N: CPU ms per device poll (noc total, collector, pipeline), database CPU ms per
device poll, RSS per device, polls per minute achieved.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from bench.snmp_poll import device_48_ports, process_cpu_s  # noqa: E402
from collectors.model import DeviceTarget, SnmpCredentials  # noqa: E402
from collectors.snmp.fast_backend import NativeClient  # noqa: E402
from collectors.snmp.poll import SnmpCollector  # noqa: E402
from noc import models as m  # noqa: E402
from noc.crypto import generate_key  # noqa: E402
from tests.conftest import PG_URL, _pg_admin  # noqa: E402
from tests.noccli import NOC, noc, noc_env  # noqa: E402
from tests.peers.ports import free_tcp_port  # noqa: E402
from tests.peers.snmpd import SnmpdAgent  # noqa: E402

COMMUNITY = "public"
WARMUP_MAX_S = 1800.0  # discovering 10,000 devices at once takes minutes on two cores


def inventory(agents: list[SnmpdAgent], n: int) -> str:
    lines = [f"snmp_profiles:\n  - {{name: lab, version: 2c, community: {COMMUNITY}}}", "devices:"]
    for i in range(n):
        a = agents[i % len(agents)]
        lines.append(
            f"  - {{name: pe-{i:05d}, address: {a.address}, platform: linux, snmp_profile: lab, snmp_port: {a.port}}}"
        )
    return "\n".join(lines) + "\n"


def metrics(port: int, *names: str) -> dict[str, float]:
    """Sums of these series in one scrape of ``noc serve``'s /metrics (taken outside the measured window: at 10,000
    devices the exposition has half a million series and costs noc CPU itself)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=120) as answer:
        totals = dict.fromkeys(names, 0.0)
        for line in answer.read().decode().splitlines():
            for name in names:
                if line.startswith(name + "{") or line.startswith(name + " "):
                    totals[name] += float(line.rsplit(" ", 1)[1])
        return totals


POLLS, BACKLOG, FAILED = "noc_poll_duration_seconds_count", "noc_flow_backlog_messages", "noc_poll_errors_total"


def polls_between(url: str, since: datetime, until: datetime) -> int:
    """Device polls stored with a sample time in [since, until): one per device and time."""

    async def count() -> int:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                query = select(func.count()).select_from(
                    select(m.InterfaceMeasurement.device_id, m.InterfaceMeasurement.ts)
                    .where(m.InterfaceMeasurement.ts >= since, m.InterfaceMeasurement.ts < until)
                    .distinct()
                    .subquery()
                )
                return int((await conn.execute(query)).scalar_one())
        finally:
            await engine.dispose()

    return asyncio.run(count())


def storage_bytes_per_row(url: str) -> dict[str, float]:
    """Bytes on disk per stored row (table, its indexes and TOAST) of the raw interface table and the 5-minute
    rollups: PostgreSQL sums the day partitions' relation sizes, SQLite reads its ``dbstat`` table."""

    async def measure() -> dict[str, float]:
        engine = create_async_engine(url)
        out: dict[str, float] = {}
        try:
            async with engine.connect() as conn:
                for table in ("interface_measurements", "interface_rollups"):
                    count = text(f"select count(*) from {table}")  # noqa: S608 - our own table names
                    rows = int((await conn.execute(count)).scalar_one())
                    if conn.dialect.name == "postgresql":
                        size = (await conn.execute(text(
                            "select coalesce(sum(pg_total_relation_size(c.oid)), 0) from pg_class c "
                            "where c.oid = cast(:t as regclass) or c.oid in "
                            "(select inhrelid from pg_inherits where inhparent = cast(:t as regclass))"
                        ), {"t": table})).scalar_one()  # fmt: skip
                    else:
                        size = (await conn.execute(text(
                            "select sum(pgsize) from dbstat where name = :t or name in "
                            "(select name from sqlite_master where type = 'index' and tbl_name = :t)"
                        ), {"t": table})).scalar_one()  # fmt: skip
                    out[table] = int(size or 0) / max(rows, 1)
        finally:
            await engine.dispose()
        return out

    return asyncio.run(measure())


def discovered(url: str) -> int:
    """Devices the store has a discovery for (the first poll of each device walks its interface tables)."""

    async def count() -> int:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                query = select(func.count()).where(m.DeviceStatus.discovered_at.is_not(None))
                return int((await conn.execute(query)).scalar_one())
        finally:
            await engine.dispose()

    return asyncio.run(count())


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def pg_backends_cpu(database: str) -> float:
    """CPU seconds of the PostgreSQL backends serving ``database`` (psql on the local server)."""
    done = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc",
         f"select pid from pg_stat_activity where datname = '{database}'"],  # noqa: S608 - our own name
        capture_output=True, text=True, check=False, env={**os.environ, "PGPASSWORD": "postgres"},
    )  # fmt: skip
    total = 0.0
    for pid in done.stdout.split():
        try:
            total += process_cpu_s(int(pid))
        except (FileNotFoundError, ValueError):
            continue
    return total


async def collector_cpu_ms(agents: list[SnmpdAgent], polls: int) -> float:
    """CPU ms per device poll of the native collector alone, in this process (the collector's share)."""
    client = NativeClient()
    try:
        snmp = SnmpCollector(client, timeout_s=2, retries=1)
        targets = [
            DeviceTarget(name=f"c{i}", address=a.address, platform="linux",
                         snmp=SnmpCredentials(version="2c", community=COMMUNITY), snmp_port=a.port)
            for i, a in enumerate(agents)
        ]  # fmt: skip
        for t in targets:
            await snmp.poll(t)  # discovery first, as the service does once per six hours
        start = time.process_time()
        for i in range(polls):
            await snmp.poll(targets[i % len(targets)])
        return (time.process_time() - start) * 1000 / polls
    finally:
        client.close()


def run_one(database: str, n: int, agents: list[SnmpdAgent], window_s: float, collector_ms: float) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="noc-bench-pipeline-"))
    pg_name = None
    if database == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir}/noc.db"
    else:
        pg_name = f"noc_bench_{uuid.uuid4().hex[:8]}"
        asyncio.run(_pg_admin(f'CREATE DATABASE "{pg_name}"'))
        url = PG_URL.rsplit("/", 1)[0] + f"/{pg_name}"
    port = free_tcp_port()
    env = noc_env(NOC_DATABASE_URL=url, NOC_SECRET_KEY=generate_key(), NOC_WEB__METRICS_OPEN="true",
                  NOC_BUS__SPILL_DIR=str(workdir / "spill"), NOC_LOG_LEVEL="WARNING")  # fmt: skip
    proc: subprocess.Popen[bytes] | None = None
    try:
        (workdir / "inventory.yaml").write_text(inventory(agents, n))
        for args in (("db", "upgrade"), ("inventory", "import", str(workdir / "inventory.yaml"))):
            done = noc(env, *args, timeout_s=900)
            assert done.returncode == 0, done.stderr
        log = (workdir / "serve.log").open("wb")
        proc = subprocess.Popen([*NOC, "serve", "--port", str(port)], env=env, stdout=log, stderr=log,
                                start_new_session=True)  # fmt: skip
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                metrics(port, POLLS)
                break
            except OSError:
                time.sleep(0.5)  # the service is starting
        started = time.monotonic()
        print(f"  noc serve pid {proc.pid}: warming up (every device discovered, then one interval)", flush=True)
        while discovered(url) < n and time.monotonic() - started < WARMUP_MAX_S and proc.poll() is None:
            time.sleep(5)  # an external process's progress, checked now and then
        print(f"  {discovered(url)} devices discovered after {time.monotonic() - started:.0f} s", flush=True)
        time.sleep(60)  # one interval of steady polling before the window
        before = metrics(port, POLLS, FAILED)
        cpu0, db0 = process_cpu_s(proc.pid), 0.0
        if pg_name:
            db0 = pg_backends_cpu(pg_name)
        start, since = time.monotonic(), datetime.now(UTC)
        time.sleep(window_s)
        cpu1, until = process_cpu_s(proc.pid), datetime.now(UTC)
        db1 = pg_backends_cpu(pg_name) if pg_name else 0.0
        elapsed = time.monotonic() - start
        after = metrics(port, POLLS, BACKLOG, FAILED)
        polls = int(after[POLLS] - before[POLLS])  # device polls the poll stage made in the window
        failed = int(after[FAILED] - before[FAILED])  # of them: no answer, so no interface rows to store
        # what the store wrote of the window, once it caught up (bounded): does storage keep pace with polling?
        stored, caught_up = polls_between(url, since, until), time.monotonic() + 300
        while stored < polls - failed and time.monotonic() < caught_up:
            time.sleep(5)
            stored = polls_between(url, since, until)
        noc_ms = (cpu1 - cpu0) * 1000 / max(polls, 1)
        db_ms = (db1 - db0) * 1000 / max(polls, 1) if pg_name else 0.0
        rss = rss_kib(proc.pid)
        if proc.poll() is not None:
            tail = (workdir / "serve.log").read_text(errors="replace").splitlines()[-30:]
            print(f"  noc serve ended with {proc.returncode} during the run; its log ends:", *tail, sep="\n    ")
        per_row = storage_bytes_per_row(url)
        # a 48-port device at 60 s: 48 raw rows a poll (1,440 polls a day), 48 rollup rows per 5 minutes (288 a day)
        raw_day = per_row["interface_measurements"] * 48 * 1440
        rollup_day = per_row["interface_rollups"] * 48 * 288
        print(
            f"{database:9} N={n:6d}  polls/min {polls * 60 / elapsed:8.0f}  noc CPU/poll {noc_ms:6.2f} ms "
            f"(collector {collector_ms:5.2f}, pipeline {noc_ms - collector_ms:5.2f})  "
            f"db CPU/poll {db_ms:5.2f} ms  RSS {rss / 1024:7.1f} MiB = {rss / n:6.1f} KiB/device",
            flush=True,
        )
        print(
            f"{'':9} stored {stored} of the window's {polls} polls ({failed} of them failed: nothing to store) "
            f"within 5 minutes after it; store backlog at its end {after[BACKLOG]:.0f} messages",
            flush=True,
        )
        print(
            f"{'':9} storage per 48-port device and day: raw {raw_day / 2**20:5.2f} MiB "
            f"({per_row['interface_measurements']:.0f} B/row), 5-minute rollups {rollup_day / 2**20:5.2f} MiB "
            f"({per_row['interface_rollups']:.0f} B/row)",
            flush=True,
        )
    finally:
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        if pg_name:
            asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--agents", type=int, default=4)
    parser.add_argument("--window", type=float, default=120.0, help="seconds measured after the warm-up")
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"])
    args = parser.parse_args()
    with ExitStack() as stack:
        agents = [stack.enter_context(device_48_ports(i)) for i in range(args.agents)]
        collector_ms = asyncio.run(collector_cpu_ms(agents, 200))
        print(f"collector alone (native SNMP, 48-port device): {collector_ms:.2f} ms CPU per poll", flush=True)
        for database in args.databases:
            for n in args.devices:
                run_one(database, n, agents, args.window, collector_ms)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
