"""``noc serve`` as an operator runs it, in a child process against real agents, for the fault tests: its HTTP
answers, its /metrics samples, and what it stored (read straight from the database)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from noc.crypto import generate_key
from tests.noccli import NOC, noc, noc_env
from tests.peers.ports import free_tcp_port
from tests.peers.snmpd import SnmpdAgent, free_udp_port


def rows(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """A query against the service's database, from outside the service."""

    async def run() -> list[tuple[Any, ...]]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                return [tuple(r) for r in await conn.execute(text(sql), params)]
        finally:
            await engine.dispose()

    return asyncio.run(run())


def inventory(agents: dict[str, SnmpdAgent]) -> str:
    """One device per agent (named as the agent's sysName), one tier-A circuit on its loopback."""
    lines = ["snmp_profiles:"]
    lines += [f"  - {{name: p-{n}, version: 2c, community: {a.community}}}" for n, a in agents.items()]
    lines.append("devices:")
    lines += [
        f"  - {{name: {n}, address: 127.0.0.1, platform: linux, snmp_profile: p-{n}, snmp_port: {a.port}}}"
        for n, a in agents.items()
    ]
    lines += [
        "accounts:\n  - {name: acme, legal_name: ACME, tier: A}",
        "contracts:\n  - {name: c1, account: acme, valid_from: 2026-01-01, valid_to: 2027-12-31, timezone: UTC,",
        "     sla: {availability_target_pct: '99.9'}}",
        "circuits:",
    ]
    lines += [f"  - {{name: ckt-{n}, account: acme, contract: c1, device: {n}, interface: lo}}" for n in agents]
    return "\n".join(lines) + "\n"


def agent(name: str) -> SnmpdAgent:
    return SnmpdAgent("127.0.0.1", free_udp_port(), community=f"c-{name}", sys_name=name)


@dataclass
class Serve:
    database_url: str
    workdir: Path
    interval_s: float = 10.0
    extra: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_tcp_port)
    process: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        defaults = dict(
            NOC_DATABASE_URL=self.database_url,
            NOC_SECRET_KEY=generate_key(),
            NOC_POLLER__INTERVAL_S=str(self.interval_s),
            NOC_POLLER__TIER_A_INTERVAL_S=str(self.interval_s),
            NOC_POLLER__TIMEOUT_S="1",
            NOC_POLLER__RETRIES="0",
            NOC_POLLER__DOWN_AFTER_FAILURES="2",
            NOC_POLLER__JITTER_RATIO="0",
            NOC_POLLER__SLA_TICK_S="2",
            NOC_POLLER__NAME="test-poller",
            NOC_BUS__SPILL_DIR=str(self.workdir / "spill"),
            NOC_BUS__RETRY_MAX_S="2",
            NOC_BUS__BATCH_WAIT_S="0.2",
            NOC_WEB__METRICS_OPEN="true",  # loopback test: /metrics without a token
        )
        self.env = noc_env(**(defaults | self.extra))

    def setup(self, inventory_text: str) -> None:
        path = self.workdir / "inventory.yaml"
        path.write_text(inventory_text)
        for args in (("db", "upgrade"), ("inventory", "import", str(path))):
            done = noc(self.env, *args)
            assert done.returncode == 0, done.stderr

    def start(self) -> None:
        log = (self.workdir / "serve.log").open("ab")
        self.process = subprocess.Popen(
            [*NOC, "serve", "--port", str(self.port)],
            env=self.env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )

    def signal(self, sig: int) -> int:
        """Send ``sig`` to the service's process group and wait for it to end (bounded); the process is
        forgotten only once it has ended, so a cleanup still kills one that did not."""
        assert self.process is not None
        os.killpg(self.process.pid, sig)
        code = self.process.wait(timeout=120)
        self.process = None
        return code

    def cleanup(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.signal(signal.SIGKILL)

    def log(self) -> str:
        return (self.workdir / "serve.log").read_text(errors="replace")

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, dict(answer.headers), answer.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()

    def json(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        status, _, body = self.get(path, headers)
        return status, json.loads(body)

    def metric(self, name: str, **labels: str) -> float | None:
        """One sample of /metrics, or None when the series is absent."""
        _, _, body = self.get("/metrics")
        want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        for line in body.decode().splitlines():
            if line.startswith(f"{name}{{") or line.startswith(f"{name} "):
                series, _, value = line.rpartition(" ")
                found = series[len(name) :].strip("{}")
                if not labels or all(part in found.split(",") for part in want.split(",")):
                    return float(value)
        return None
