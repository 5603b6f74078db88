"""What the server benchmarks share: a scratch PostgreSQL database (dropped at the end, whatever happens) and
``noc serve`` in a child process with the poller off (stopped at the end)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import aiohttp
import asyncpg
from sqlalchemy.engine import make_url

PG_URL = os.environ.get("NOC_TEST_PG_URL", "postgresql+asyncpg://postgres:postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _admin_sql(sql: str) -> None:
    conn = await asyncpg.connect(make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def scratch_database(name: str) -> Iterator[str]:
    """A new, empty PostgreSQL database named ``name``; its SQLAlchemy URL. Dropped on the way out."""
    asyncio.run(_admin_sql(f'create database "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin_sql(f'drop database if exists "{name}" with (force)'))


async def wait_healthy(base: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    async with aiohttp.ClientSession() as client:
        while time.monotonic() < deadline:
            try:
                async with client.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit("noc serve did not become healthy")


@contextmanager
def noc_serve(url: str, key: str, settings: Mapping[str, str] = {}, workers: int = 1) -> Iterator[tuple[str, int]]:
    """``noc serve`` on a free loopback port over ``url`` with the poller off (only the web app and API are
    measured), ``settings`` as more NOC_* variables; (base URL, process id) once healthy. Stopped on the way out."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOC_")} | {
        "NOC_DATABASE_URL": url, "NOC_SECRET_KEY": key, "NOC_POLLER__ENABLED": "false", "NOC_LOG_LEVEL": "WARNING",
    } | dict(settings)  # fmt: skip
    argv = [sys.executable, "-m", "noc", "serve", "--port", str(port), "--workers", str(workers)]
    server = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        asyncio.run(wait_healthy(base))
        yield base, server.pid
    finally:
        server.terminate()
        server.wait(timeout=20)
