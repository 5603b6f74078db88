"""The real Alertmanager routes to our webhook: a firing alert opens a ticket, repeats add nothing, resolving it
resolves the ticket's fault (and the ticket, on an auto-resolve account)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from noc.crypto import generate_key
from tests.exporters.test_prometheus import get_json, wait_for
from tests.noccli import noc, noc_env
from tests.peers.ports import free_tcp_port

pytestmark = pytest.mark.peers
TOKEN = "am-webhook-token-5f2c"

INVENTORY = """
devices:
  - {name: pe-1, address: 10.0.0.1, platform: linux}
accounts:
  - {name: rhein, legal_name: Rhein Logistik GmbH, tier: C, auto_resolve: true}
contracts:
  - {name: c1, account: rhein, valid_from: 2026-01-01, valid_to: 2027-12-31, timezone: Europe/Berlin,
     sla: {availability_target_pct: "99.5"}}
circuits:
  - {name: ckt-1, account: rhein, contract: c1, device: pe-1, interface: eth1}
"""


@pytest.fixture
def loop(tmp_path: Path) -> Iterator[dict[str, Any]]:
    processes: list[subprocess.Popen[bytes]] = []
    db = tmp_path / "noc.db"
    env = noc_env(
        NOC_DATABASE_URL=f"sqlite+aiosqlite:///{db}",
        NOC_SECRET_KEY=generate_key(),
        NOC_POLLER__ENABLED="false",
        NOC_WEB__ALERTMANAGER_TOKEN=TOKEN,
    )
    (tmp_path / "inventory.yaml").write_text(INVENTORY)
    for args in (["db", "upgrade"], ["inventory", "import", str(tmp_path / "inventory.yaml")]):
        assert noc(env, *args).returncode == 0
    noc_port, am_port = free_tcp_port(), free_tcp_port()
    config = tmp_path / "alertmanager.yml"
    config.write_text(
        "route: {receiver: noc, group_by: [alertname, circuit], group_wait: 1s, group_interval: 1s, "
        "repeat_interval: 2s}\n"
        "receivers:\n  - name: noc\n    webhook_configs:\n"
        f"      - url: http://127.0.0.1:{noc_port}/api/alertmanager\n        send_resolved: true\n"
        f"        http_config: {{authorization: {{type: Bearer, credentials: {TOKEN}}}}}\n"
    )
    try:
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "noc", "serve", "--port", str(noc_port)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=(tmp_path / "noc.log").open("wb"),
            )
        )
        processes.append(
            subprocess.Popen(
                [
                    "prometheus-alertmanager",
                    f"--config.file={config}",
                    f"--storage.path={tmp_path / 'am'}",
                    f"--web.listen-address=127.0.0.1:{am_port}",
                    "--cluster.listen-address=",
                ],
                stdout=subprocess.DEVNULL,
                stderr=(tmp_path / "alertmanager.log").open("wb"),
            )
        )
        wait_for("noc serve", lambda: get_json(f"http://127.0.0.1:{noc_port}/healthz")["status"] == "ok")
        wait_for("alertmanager", lambda: get_json(f"http://127.0.0.1:{am_port}/api/v2/status"))
        yield {"am": f"http://127.0.0.1:{am_port}", "noc": f"http://127.0.0.1:{noc_port}", "db": db}
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def post_alert(am: str, *, ends_at: str | None = None) -> None:
    alert: dict[str, Any] = {
        "labels": {
            "alertname": "NocCircuitLossAboveContract",
            "circuit": "ckt-1",
            "impact": "degraded",
            "severity": "warning",
        },
        "annotations": {"summary": "Circuit ckt-1 loses 2% of probes"},
        "startsAt": STARTS_AT,
    }
    if ends_at:
        alert["endsAt"] = ends_at
    request = urllib.request.Request(
        f"{am}/api/v2/alerts",
        data=json.dumps([alert]).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


STARTS_AT = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def tickets(db: Path) -> list[tuple[str, str, int]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("select cause_key, status, recurrence_count from tickets where kind = 'ticket'").fetchall()


def webhook_notifications(am: str) -> float:
    with urllib.request.urlopen(f"{am}/metrics", timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith('alertmanager_notifications_total{integration="webhook"'):
                return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_alert_opens_repeats_add_nothing_resolve_resolves(loop: dict[str, Any]) -> None:
    post_alert(loop["am"])
    opened = wait_for("a ticket from the alert", lambda: tickets(loop["db"]))
    assert opened == [("alert:NocCircuitLossAboveContract", "new", 1)]
    # Alertmanager repeats the notification (repeat_interval 2 s); each repeat must change nothing
    wait_for("a repeated notification", lambda: webhook_notifications(loop["am"]) >= 3)
    assert tickets(loop["db"]) == [("alert:NocCircuitLossAboveContract", "new", 1)]

    post_alert(loop["am"], ends_at=datetime.now(UTC).isoformat().replace("+00:00", "Z"))
    resolved = wait_for("the ticket resolved", lambda: [t for t in tickets(loop["db"]) if t[1] == "resolved"])
    assert resolved == [("alert:NocCircuitLossAboveContract", "resolved", 1)]


def test_webhook_refuses_bad_token_and_malformed_payload(loop: dict[str, Any]) -> None:
    def post(body: bytes, token: str | None) -> tuple[int, dict[str, Any]]:
        headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
        request = urllib.request.Request(f"{loop['noc']}/api/alertmanager", data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as exc:
            return exc.code, json.load(exc)

    assert post(b'{"version": "4", "status": "firing", "alerts": []}', "wrong") == (
        401,
        {"error": "Authorization: a valid bearer token is required", "field": "Authorization"},
    )
    assert post(b"not json", TOKEN) == (400, {"error": "body: not valid JSON", "field": "body"})
    status, body = post(b'{"version": "4", "status": "firing", "alerts": [{"status": "firing"}]}', TOKEN)
    assert status == 400 and body["error"].startswith("alerts.0.labels")
    assert tickets(loop["db"]) == []  # nothing changed
