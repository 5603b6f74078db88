"""``noc demo`` end to end, as ``make demo`` runs it: the lab comes up on loopback, the service polls and probes the
simulated routers, the injected fault opens an incident through the running service, and Ctrl-C leaves nothing
behind."""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from noc.demo import DATA, DEMO_POLLER, FAULT_DEVICE, LOSSY_CIRCUIT, demo_password, demo_settings, free_port, snmprec
from noc.settings import Settings
from noc.store.compliance import months_before
from tickets.rules import device_cause

BOUND_S = 120.0  # the whole wait, start to ticket; typically about 20 s


def _processes_mentioning(text: str) -> list[int]:
    """Pids whose command line names ``text`` (the demo's directory is on every child's command line)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if text in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                found.append(int(entry.name))
    return found


def _get(url: str, token: str | None = None) -> str | None:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=2) as resp:
            body: bytes = resp.read()
            return body.decode()
    except OSError:
        return None


def _board(url: str, username: str, password: str) -> str:
    """The NOC board as the user sees it after signing in through the login form, as a browser would."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(f"{url}/login", timeout=10) as resp:
        csrf = re.search(r'name="csrf" value="([^"]+)"', resp.read().decode())
    assert csrf is not None
    form = urllib.parse.urlencode({"csrf": csrf.group(1), "username": username, "password": password}).encode()
    with opener.open(urllib.request.Request(f"{url}/login", data=form), timeout=10) as resp:
        assert resp.url.endswith("/board"), resp.url
        return str(resp.read().decode())


def _incident(db: Path, device: str) -> tuple[int, list[str]] | None:
    """The open incident for ``device`` going down and the circuits of its child tickets, once it is there."""
    if not db.exists():
        return None
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=2)) as conn:
            parent = conn.execute(
                "SELECT id FROM tickets WHERE kind = 'incident' AND cause_key = ?", (device_cause(device),)
            ).fetchone()
            if parent is None:
                return None
            children = conn.execute(
                "SELECT c.name FROM tickets t JOIN circuits c ON c.id = t.circuit_id WHERE t.parent_id = ?",
                (parent[0],),
            ).fetchall()
    except sqlite3.OperationalError:  # schema not there yet, or the service holds the write lock this instant
        return None
    return parent[0], sorted(name for (name,) in children)


def _token(workdir: Path, role: str) -> str | None:
    """The demo's API token for the first user with ``role``, from the logins file it writes (0600)."""
    path = workdir / "logins.txt"
    if not path.exists():
        return None
    assert path.stat().st_mode & 0o077 == 0
    for line in path.read_text().splitlines():
        _username, user_role, _password, token = line.split()
        if user_role == role:
            return token
    return None


def _loss_breach(db: Path, circuit: str) -> bool:
    """An SLA loss breach recorded on ``circuit`` and the ticket that has it as a cause (opened for it, or the
    circuit's ticket for the same fault that it joined)."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=2)) as conn:
            row = conn.execute(
                "SELECT (SELECT count(*) FROM sla_breaches b WHERE b.circuit_id = c.id AND b.objective = 'loss'),"
                " (SELECT count(*) FROM tickets t WHERE t.circuit_id = c.id AND (t.cause_key LIKE '%loss%' OR EXISTS"
                "  (SELECT 1 FROM ticket_events e WHERE e.ticket_id = t.id AND e.kind = 'cause_added'"
                "   AND e.detail LIKE '%sla:loss%')))"
                " FROM circuits c WHERE c.name = ?",
                (circuit,),
            ).fetchone()
    except sqlite3.OperationalError:
        return False
    return row is not None and row[0] > 0 and row[1] > 0


@pytest.fixture
def demo_dir(tmp_path: Path) -> Iterator[Path]:
    workdir = tmp_path / "demo"
    yield workdir
    for pid in _processes_mentioning(str(workdir)):  # only if the test failed half-way: never leak a simulator
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.peers
def test_demo_lab_polls_probes_opens_an_incident_for_the_fault_and_stops_everything(demo_dir: Path) -> None:
    template = yaml.safe_load((DATA / "inventory.yaml").read_text())
    devices = {d["name"] for d in template["devices"]}
    ssh_circuits = {c["name"] for c in template["circuits"] if c.get("probe") == "ssh"}
    on_fault_device = sorted(c["name"] for c in template["circuits"] if c["device"] == FAULT_DEVICE)
    port = free_port(socket.SOCK_STREAM)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOC_")} | {
        "NOC_POLLER__INTERVAL_S": "2",
        "NOC_POLLER__DOWN_AFTER_FAILURES": "2",
        "NOC_POLLER__TIMEOUT_S": "2",  # a loaded CI machine must not lose a first poll
        "NOC_POLLER__RETRIES": "0",
        "NOC_POLLER__SLA_TICK_S": "2",
    }
    argv = [sys.executable, "-m", "noc", "demo", "--dir", str(demo_dir), "--fault-after", "5", "--port", str(port)]
    log = demo_dir.parent / "demo.log"
    started = time.monotonic()
    with log.open("w") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        seen_up: set[str] = set()
        seen_probed: set[str] = set()
        seen_down = False
        incident = None
        on_board: list[dict[str, object]] = []
        while time.monotonic() - started < BOUND_S:
            assert proc.poll() is None, f"noc demo exited early with {proc.returncode}:\n{log.read_text()}"
            token_file = demo_dir / "metrics.token"  # written by the demo at start, for Prometheus
            scrape_token = token_file.read_text().strip() if token_file.exists() else None
            if _get(f"{url}/healthz") is not None and (text := _get(f"{url}/metrics", scrape_token)) is not None:
                for family in text_string_to_metric_families(text):
                    for s in family.samples:
                        if s.name == "noc_device_up" and s.value == 1:
                            seen_up.add(s.labels["device"])
                        if s.name == "noc_device_up" and s.value == 0 and s.labels["device"] == FAULT_DEVICE:
                            seen_down = True
                        if s.name == "noc_circuit_rtt_seconds" and s.labels.get("stat") == "avg":
                            seen_probed.add(s.labels["circuit"])
            incident = _incident(demo_dir / "noc.db", FAULT_DEVICE)
            if incident is not None and not on_board and (token := _token(demo_dir, "noc")) is not None:
                page = _get(f"{url}/api/tickets", token)  # what the NOC operator's board lists
                on_board = [] if page is None else json.loads(page)["items"]
            breach = _loss_breach(demo_dir / "noc.db", LOSSY_CIRCUIT)
            if seen_up == devices and ssh_circuits <= seen_probed and seen_down and on_board and breach:
                break
            time.sleep(0.5)  # the polling loop's pace, not a synchronisation
        took = time.monotonic() - started
        assert seen_up == devices, log.read_text()
        assert ssh_circuits <= seen_probed, log.read_text()  # every canned ping matched the rendered command
        assert seen_down, log.read_text()
        assert incident is not None, log.read_text()
        assert incident[1] == on_fault_device  # one child ticket per circuit on the stopped PE
        listed = {(t["kind"], t["cause"], t["circuit"]) for t in on_board}
        assert ("incident", device_cause(FAULT_DEVICE), None) in listed
        assert {c for kind, _, c in listed if kind == "ticket"} >= set(on_fault_device)
        assert breach, log.read_text()  # the lossy far end: a loss breach and the ticket it opened
        print(f"lab up, probed, fault seen as incident I-{incident[0]} and a loss ticket after {took:.1f} s")
        board = _board(url, "nina", demo_password("nina"))  # the demo's printed login
        assert f'data-ref="I-{incident[0]}"' in board and FAULT_DEVICE in board
        assert f'data-circuit="{LOSSY_CIRCUIT}"' in board  # the loss breach, open now
        # The seeded history: each account's archive shows last month's SLA compliance (its contract's month).
        ((year, month),) = months_before(datetime.now(ZoneInfo("Asia/Shanghai")).date(), 1)
        health = json.loads(_get(f"{url}/api/accounts/acme-bank/health", _token(demo_dir, "noc")) or "{}")
        assert [(e["contract"], e["month"], e["met"]) for e in health["sla_compliance"]][:1] == [
            ("ACME-2026-01", f"{year:04d}-{month:02d}", True)
        ]

        children = set(_processes_mentioning(str(demo_dir))) - {proc.pid}
        assert len(children) == len(devices) - 1 + 1  # an snmpsim per live PE, one FakeNOS
        proc.send_signal(signal.SIGINT)
        stopping = time.monotonic()
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail(f"noc demo did not stop within 30 s of SIGINT:\n{log.read_text()}")
        assert code == 0, log.read_text()
        print(f"stopped in {time.monotonic() - stopping:.1f} s")
        assert _processes_mentioning(str(demo_dir)) == []
        with pytest.raises(ProcessLookupError):
            os.killpg(proc.pid, 0)  # nothing left in the demo's own process group either
        assert "fault injected" in log.read_text()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.mark.parametrize("device", ["pe-bj-01", "pe-sh-01"])
def test_snmprec_is_in_oid_order_with_growing_counters_for_each_circuit_interface(device: str) -> None:
    template = yaml.safe_load((DATA / "inventory.yaml").read_text())
    pe = next(d for d in template["devices"] if d["name"] == device)
    circuits = [c for c in template["circuits"] if c["device"] == device]
    lines = snmprec(pe, circuits).splitlines()
    oids = [tuple(int(p) for p in line.split("|")[0].split(".")) for line in lines]
    assert oids == sorted(set(oids))  # snmpsim answers GETNEXT by file position
    names = [line.split("|")[2] for line in lines if line.startswith("1.3.6.1.2.1.31.1.1.1.1.")]
    assert names[1:] == [c["interface"] for c in circuits]
    assert sum("|70:numeric|" in line for line in lines) == 2 * len(names)  # HC in and out on every interface


def test_demo_pace_applies_only_where_the_operator_set_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [k for k in os.environ if k.startswith("NOC_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("NOC_POLLER__INTERVAL_S", "3")
    settings = demo_settings(Settings(), tmp_path)
    assert settings.poller.interval_s == 3  # given: kept
    assert settings.poller.tier_a_interval_s == 3  # one pace for every demo device
    assert settings.poller.down_after_failures == DEMO_POLLER["down_after_failures"]
    assert settings.database_url.endswith(f"{tmp_path}/noc.db")
    assert (tmp_path / "noc.key").stat().st_mode & 0o077 == 0


@pytest.mark.peers
def test_a_killed_demo_leaves_no_simulator_behind(demo_dir: Path) -> None:
    """SIGKILL gives the demo no chance to clean up: the kernel ends snmpsim (parent-death signal) and FakeNOS
    stops when its stdin closes."""
    port = free_port(socket.SOCK_STREAM)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOC_")}
    argv = [sys.executable, "-m", "noc", "demo", "--dir", str(demo_dir), "--fault-after", "600", "--port", str(port)]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + BOUND_S
        while _get(f"http://127.0.0.1:{port}/healthz") is None:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.5)
        assert len(set(_processes_mentioning(str(demo_dir))) - {proc.pid}) == 5  # 4 snmpsim, 1 FakeNOS
    finally:
        proc.kill()
        proc.wait(timeout=10)
    deadline = time.monotonic() + 20
    while _processes_mentioning(str(demo_dir)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_mentioning(str(demo_dir)) == []
