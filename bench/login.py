"""Sign-in under attack: what 100 anonymous wrong-password tries from one address cost, whether the user can still
sign in from elsewhere, and what the API's latency does meanwhile.

Run from the repository root:

    .venv/bin/python bench/login.py [--tries 100] [--window-s 60] [--database-url URL]

What it does (bounded; everything it creates is in a temporary directory, the server it starts is stopped):
- a fresh SQLite database (or ``--database-url``), migrated, the example operator imported, a password for
  ``nina`` and an API token;
- ``noc serve`` in a child process (the poller off), default ``web.login_*`` settings;
- idle: the API's latency (GET /api/tickets, one request at a time) for ``--samples`` requests;
- attack: ``--tries`` sign-ins for nina with wrong passwords from 127.0.0.1, spread evenly over ``--window-s``
  (each fetches the login form for its CSRF token, as a browser would), alone: the server's CPU time for it;
- the same attack from 127.0.0.3 while the same API probe runs;
- prints the answers each attack got, the server's CPU time for the first beside the CPU the same number of
  Argon2 checks costs in this process (what an unthrottled server would have spent), the API median and p95 idle
  and under attack with their ratio, and whether nina then signs in from 127.0.0.2 with her password.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from argon2 import PasswordHasher  # noqa: E402
from argon2.exceptions import VerificationError  # noqa: E402

from bench.api import free_port, wait_healthy  # noqa: E402
from noc import auth, dbadmin  # noqa: E402
from noc.crypto import SecretBox, generate_key  # noqa: E402
from noc.db import create_engine, session_factory  # noqa: E402
from noc.inventory.service import import_file  # noqa: E402

PASSWORD = "bench-nina-password"  # noqa: S105 - a throwaway account in a throwaway database
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def prepare(url: str, key: str) -> str:
    engine = create_engine(url)
    try:
        await dbadmin.upgrade(engine)
        sessions = session_factory(engine)
        await import_file(sessions, SecretBox.from_text(key), ROOT / "examples" / "inventory.yaml", "bench")
        await auth.set_password(sessions, "nina", PASSWORD)
        return await auth.issue_token(sessions, "nina", "bench")
    finally:
        await engine.dispose()


async def sign_in(base: str, password: str, local: str) -> int:
    """One browser sign-in from ``local``: the form (for its CSRF token), then the post; the answer's status."""
    connector = aiohttp.TCPConnector(local_addr=(local, 0))
    async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(f"{base}/login") as form:
            found = CSRF.search(await form.text())
        assert found is not None, "no CSRF token on the login form"
        data = {"username": "nina", "password": password, "csrf": found.group(1)}
        async with http.post(f"{base}/login", data=data, allow_redirects=False) as answer:
            return answer.status


async def probe(base: str, token: str, until: float | None, samples: int) -> list[float]:
    """API latencies (ms), one request at a time: ``samples`` of them, or as many as fit before ``until``."""
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as http:
        while (until is None and len(latencies) < samples) or (until is not None and time.monotonic() < until):
            started = time.perf_counter()
            async with http.get(f"{base}/api/tickets?limit=1", headers=headers) as answer:
                await answer.read()
                assert answer.status == 200, answer.status
            latencies.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.05)  # a client's pace between requests, not a synchronisation
    return latencies


async def attack(base: str, tries: int, window_s: float, source: str) -> Counter[int]:
    """``tries`` wrong passwords for nina from ``source``, started on schedule over ``window_s`` (open loop)."""
    start = time.monotonic()

    async def one(i: int) -> int:
        await asyncio.sleep(max(0.0, start + i * window_s / tries - time.monotonic()))
        return await sign_in(base, f"wrong-guess-{i:04d}", source)

    return Counter(await asyncio.gather(*(one(i) for i in range(tries))))


def quantiles(values: list[float]) -> tuple[float, float]:
    return statistics.median(values), statistics.quantiles(values, n=20)[-1]


def answers(statuses: Counter[int]) -> str:
    return ", ".join(f"{n} x {status}" for status, n in sorted(statuses.items()))


async def measure(base: str, token: str, pid: int, opts: argparse.Namespace) -> None:
    idle = await probe(base, token, None, opts.samples)
    # The attack's own cost, nothing else running; then a second attacker (a fresh address) while the API is probed.
    cpu_before, started = cpu_s(pid), time.monotonic()
    alone = await attack(base, opts.tries, opts.window_s, "127.0.0.1")
    elapsed, cpu_attack = time.monotonic() - started, cpu_s(pid) - cpu_before
    started = time.monotonic()
    meanwhile, busy = await asyncio.gather(
        attack(base, opts.tries, opts.window_s, "127.0.0.3"), probe(base, token, started + opts.window_s, 0)
    )
    hasher = PasswordHasher()
    stored = hasher.hash(PASSWORD)
    t0 = time.process_time()
    for _ in range(opts.tries):
        with contextlib.suppress(VerificationError):  # a mismatch is the point: only its cost is measured
            hasher.verify(stored, "wrong-guess")
    argon2_s = time.process_time() - t0
    elsewhere = await sign_in(base, PASSWORD, "127.0.0.2")
    (idle_p50, idle_p95), (busy_p50, busy_p95) = quantiles(idle), quantiles(busy)
    print(f"attack: {opts.tries} wrong passwords for nina from 127.0.0.1 over {elapsed:.1f} s: {answers(alone)}")
    print(f"  server CPU for it: {cpu_attack:.2f} s ({cpu_attack / opts.tries * 1000:.1f} ms per try)")
    print(f"  the same {opts.tries} Argon2 checks unthrottled (this process): {argon2_s:.2f} s")
    print(f"API GET /api/tickets, ms: idle p50 {idle_p50:.1f} p95 {idle_p95:.1f} ({len(idle)} requests)")
    print(f"  during a second such attack (from 127.0.0.3: {answers(meanwhile)}):")
    ratio = busy_p50 / idle_p50
    print(f"  p50 {busy_p50:.1f} p95 {busy_p95:.1f} ({len(busy)} requests); median ratio {ratio:.2f} (goal <= 2)")
    outcome = "signed in (303 to her page)" if elsewhere == 303 else f"refused: {elsewhere}"
    print(f"nina from 127.0.0.2 with her password afterwards: {outcome}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tries", type=int, default=100)
    parser.add_argument("--window-s", type=float, default=60.0)
    parser.add_argument("--samples", type=int, default=100, help="idle API requests")
    parser.add_argument("--database-url", help="default: SQLite in a temporary directory")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="noc-bench-login-") as tmp:
        url = opts.database_url or f"sqlite+aiosqlite:///{tmp}/noc.db"
        key = generate_key()
        token = asyncio.run(prepare(url, key))
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("NOC_")} | {
            "NOC_DATABASE_URL": url,
            "NOC_SECRET_KEY": key,
            "NOC_POLLER__ENABLED": "false",
            "NOC_LOG_LEVEL": "WARNING",
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "noc", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(Path(tmp) / "serve.log").open("wb"),
        )
        try:
            base = f"http://127.0.0.1:{port}"
            asyncio.run(wait_healthy(base))
            asyncio.run(measure(base, token, server.pid, opts))
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
