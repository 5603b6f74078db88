"""The live board with many screens: CPU of ``noc serve`` and the delay from a change to every screen.

Run from the repository root (PostgreSQL on 127.0.0.1:5432 as for the tests; NOC_TEST_PG_URL overrides):

    .venv/bin/python bench/live.py [--streams 200] [--seconds 20] [--changes 5]

What it does (bounded; the database it creates is dropped at the end, the server it starts is stopped):
- a fresh PostgreSQL database, migrated, the example operator imported; ``--streams`` browser sessions of NOC
  engineers (half reading zh-CN, half en) and an API token;
- ``noc serve`` in a child process (the poller off: only the pages are measured), ``web.board_refresh_s`` 2 s;
- first one board stream, then ``--streams`` at once (``/board/events``, server-sent events, as the board page
  opens it); for each, the server's CPU over ``--seconds`` of steady state (from /proc: user + system time of the
  process, as a share of one core);
- then ``--changes`` times: a ticket reported through the API with a unique summary, and the time until every
  stream has received a board update that shows it (change-to-screen delay: median, 95th percentile, max).
No peer offers this (LibreNMS and Zabbix redraw dashboards by polling each screen): the one-stream figure from the
same run is the comparison. Figures only: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import asyncpg  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.api import PG_URL, free_port, wait_healthy  # noqa: E402
from noc import dbadmin  # noqa: E402
from noc.auth import Principal, issue_token, open_session  # noqa: E402
from noc.crypto import SecretBox, generate_key  # noqa: E402
from noc.db import create_engine, session_factory  # noqa: E402
from noc.inventory.service import import_file  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


async def prepare(url: str, key: str, streams: int) -> tuple[list[str], str]:
    engine = create_engine(url)
    await dbadmin.upgrade(engine)
    sessions = session_factory(engine)
    await import_file(sessions, SecretBox.from_text(key), ROOT / "examples" / "inventory.yaml", "bench")
    nina = Principal("nina", "noc")
    cookies = [(await open_session(sessions, nina, timedelta(hours=1)))[0] for _ in range(streams)]
    token = await issue_token(sessions, "nina", "bench")
    await engine.dispose()
    return cookies, token


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


class Screen:
    """One board stream: the board's last update, and when each awaited text first appeared in one."""

    def __init__(self) -> None:
        self.first = asyncio.Event()
        self.seen: dict[str, float] = {}
        self.awaited: dict[str, asyncio.Event] = {}

    def expect(self, marker: str) -> asyncio.Event:
        self.awaited[marker] = asyncio.Event()
        return self.awaited[marker]

    async def watch(self, client: aiohttp.ClientSession, base: str, cookie: str, language: str) -> None:
        headers = {"Cookie": f"noc_session={cookie}", "Accept-Language": language}
        async with client.get(f"{base}/board/events", headers=headers) as response:
            data: list[bytes] = []
            async for line in response.content:
                if line.startswith(b"data: "):
                    data.append(line[6:])
                elif line == b"\n" and data:
                    board = b"".join(data).decode()
                    data = []
                    self.first.set()
                    now = time.perf_counter()
                    for marker in [m for m in self.awaited if m in board]:
                        self.seen[marker] = now
                        self.awaited.pop(marker).set()


async def measure(base: str, pid: int, cookies: list[str], token: str, seconds: float, changes: int) -> None:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as client:
        for count in (1, len(cookies)):
            screens = [Screen() for _ in range(count)]
            tasks = [
                asyncio.create_task(s.watch(client, base, cookies[i], "zh-CN" if i % 2 else "en"))
                for i, s in enumerate(screens)
            ]
            async with asyncio.timeout(60):
                await asyncio.gather(*(s.first.wait() for s in screens))
            before, t0 = cpu_s(pid), time.perf_counter()
            await asyncio.sleep(seconds)
            share = (cpu_s(pid) - before) / (time.perf_counter() - t0)
            print(f"{count:>4} board stream(s): noc serve CPU {100 * share:.1f} % of one core over {seconds:g} s")
            if count > 1:
                await changes_to_screens(client, base, token, screens, changes)
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def changes_to_screens(
    client: aiohttp.ClientSession, base: str, token: str, screens: list[Screen], changes: int
) -> None:
    delays: list[float] = []
    for n in range(changes):
        marker = f"bench-{uuid.uuid4().hex[:10]}"
        arrivals = [s.expect(marker) for s in screens]
        body = {"circuit": "ACME-BJ-001", "summary": marker, "kind": "manual", "cause": marker}
        started = time.perf_counter()
        async with client.post(
            f"{base}/api/tickets", json=body, headers={"Authorization": f"Bearer {token}"}
        ) as response:
            if response.status not in (200, 201):
                raise SystemExit(f"reporting a fault: {response.status} {await response.text()}")
        async with asyncio.timeout(60):
            await asyncio.gather(*(a.wait() for a in arrivals))
        delays += [s.seen[marker] - started for s in screens]
        print(f"change {n + 1}: on every screen within {max(s.seen[marker] for s in screens) - started:.2f} s")
    ms = sorted(1000 * d for d in delays)
    q = statistics.quantiles(ms, n=100)
    print(
        f"change-to-screen over {len(screens)} streams x {changes} changes: "
        f"median {q[49]:.0f} ms  p95 {q[94]:.0f} ms  max {ms[-1]:.0f} ms (refresh period 2 s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--changes", type=int, default=5)
    args = parser.parse_args()
    if not 2 <= args.streams <= 1_000 or not 2 <= args.seconds <= 120 or not 1 <= args.changes <= 20:
        parser.error("--streams 2..1000, --seconds 2..120, --changes 1..20")
    name = f"noc_bench_live_{uuid.uuid4().hex[:8]}"
    admin = make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)

    async def admin_sql(sql: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin_sql(f'create database "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    key = generate_key()
    server: subprocess.Popen[bytes] | None = None
    try:
        cookies, token = asyncio.run(prepare(url, key, args.streams))
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("NOC_")} | {
            "NOC_DATABASE_URL": url, "NOC_SECRET_KEY": key, "NOC_POLLER__ENABLED": "false", "NOC_LOG_LEVEL": "WARNING",
            "NOC_WEB__BOARD_REFRESH_S": "2",
        }  # fmt: skip
        server = subprocess.Popen([sys.executable, "-m", "noc", "serve", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL)  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        asyncio.run(wait_healthy(base))
        asyncio.run(measure(base, server.pid, cookies, token, args.seconds, args.changes))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        asyncio.run(admin_sql(f'drop database if exists "{name}" with (force)'))


if __name__ == "__main__":
    main()
