"""``noc serve --workers 2``: two processes on one port; every answer to /metrics is the polling process's; a
session made through one process is good on the other; SIGTERM stops them all."""

from __future__ import annotations

import os
import signal
import subprocess
import urllib.request
from pathlib import Path

from noc.crypto import generate_key
from tests.exporters.test_prometheus import wait_for
from tests.noccli import NOC, noc, noc_env
from tests.peers.ports import free_tcp_port

TOKEN = "scrape-token-for-the-test"


def _get(url: str) -> str:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(response.read().decode())


def test_two_workers_share_the_port_and_the_poller_s_metrics(tmp_path: Path) -> None:
    env = noc_env(
        NOC_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/noc.db",
        NOC_SECRET_KEY=generate_key(),
        NOC_WEB__METRICS_TOKEN=TOKEN,  # checked by the worker asked, and again by the polling one it passes it to
    )
    assert noc(env, "db", "upgrade").returncode == 0
    port = free_tcp_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [*NOC, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        wait_for("noc serve", lambda: "ok" in _get(f"{base}/healthz"))
        # New connection each time: the kernel spreads them over both processes; the poller's own series (only
        # the first process polls) are in every answer, so the other process passes the first one's exposition on.
        for _ in range(30):
            body = _get(f"{base}/metrics")
            assert "noc_polls_in_flight" in body and "noc_build_info" in body
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    wait_for("every worker to end", lambda: not _group_alive(proc.pid), timeout_s=15)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_workers_need_a_fixed_port(tmp_path: Path) -> None:
    env = noc_env(NOC_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/noc.db", NOC_SECRET_KEY=generate_key())
    result = noc(env, "serve", "--port", "0", "--workers", "2")
    assert result.returncode == 2 and "--workers: several processes need a fixed --port" in result.stderr
