"""``noc tickets`` and ``noc accounts show`` as an operator runs them: messages and exit codes (0 / 1 / 2)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from noc.crypto import SecretBox
from noc.db import create_engine, session_factory
from noc.models import AuditEvent
from noc.settings import TicketSettings
from tests.conftest import EXAMPLE_INVENTORY
from tests.noc.test_cli import Cli, _cli
from tests.tickets.conftest import T0, DrivenClock
from tickets.rules import FaultEvent, FaultKind, Impact
from tickets.service import TicketService


async def _open_tickets(url: str, secret_key: str) -> list[int]:
    engine = create_engine(url)
    try:
        svc = TicketService(
            session_factory(engine), TicketSettings(), box=SecretBox.from_text(secret_key), clock=DrivenClock()
        )
        ids = []
        for circuit, summary in (("ACME-BJ-001", "loss 5 % towards far end"), ("CITY-SH-001", "latency 60 ms")):
            event = FaultEvent(FaultKind.SLA_BREACH, circuit, "sla:loss", Impact.DEGRADED, T0, summary)
            ids.append((await svc.handle_fault(event)).ticket_id)
        return ids
    finally:
        await engine.dispose()


async def _audit(url: str) -> list[tuple[str, str, str]]:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            rows = await session.scalars(
                select(AuditEvent).where(AuditEvent.action == "personal_data.read").order_by(AuditEvent.id)
            )
            return [(r.actor, r.subject, r.outcome) for r in rows]
    finally:
        await engine.dispose()


@pytest.fixture
def seeded(tmp_path: Path, sqlite_url: str, secret_key: str) -> tuple[Cli, list[int]]:
    cli = _cli(tmp_path, sqlite_url, secret_key)
    assert cli("inventory", "import", str(EXAMPLE_INVENTORY)).returncode == 0
    return cli, asyncio.run(_open_tickets(sqlite_url, secret_key))


def test_ticket_commands_and_their_exit_codes(seeded: tuple[Cli, list[int]]) -> None:
    cli, (acme, city) = seeded
    listed = cli("tickets", "list", "--json", "--as", "nina")
    assert listed.returncode == 0, listed.stderr
    assert [t["account"] for t in json.loads(listed.stdout)] == ["city-gov", "acme-bank"]
    assert [t["ref"] for t in json.loads(cli("tickets", "list", "--json", env={"NOC_USER": "karl"}).stdout)] == [
        f"T-{acme}"
    ]

    # the same filters as the pages and the API: a part of a name narrows what karl may see (city-gov is not his)
    narrowed = cli("tickets", "list", "--json", "--account", "CITY", "--as", "karl")
    assert narrowed.returncode == 0 and json.loads(narrowed.stdout) == []
    found = cli(
        "tickets", "list", "--json", "--status", "open", "--circuit", "sh-0", "--sort", "oldest", "--as", "nina"
    )
    assert [t["ref"] for t in json.loads(found.stdout)] == [f"T-{city}"]
    bad = cli("tickets", "list", "--status", "opened", "--as", "nina")
    assert bad.returncode == 2 and bad.stderr.startswith("error: status: 'opened' is not a status")

    assert cli("tickets", "ack", str(acme), "--as", "nina").returncode == 0
    again = cli("tickets", "ack", str(acme), "--as", "admin")
    assert again.returncode == 1 and "already acknowledged by nina" in again.stderr

    early = cli("tickets", "close", str(acme), "--as", "nina")
    assert early.returncode == 1 and "is acknowledged: it cannot become closed" in early.stderr
    assert cli("tickets", "resolve", str(acme), "--as", "nina").returncode == 0
    bare = cli("tickets", "close", str(acme), "--as", "nina")
    assert bare.returncode == 1
    assert "tier-A account acme-bank: it closes only with a cause category (--cause)" in bare.stderr
    unknown = cli("tickets", "close", str(acme), "--cause", "gremlins", "--resolution", "x", "--as", "nina")
    assert unknown.returncode == 2
    closed = cli("tickets", "close", str(acme), "--cause", "fibre_cut", "--resolution", "spliced", "--as", "nina")
    assert closed.returncode == 0 and f"T-{acme} closed: closed" in closed.stdout

    assert cli("tickets", "rate", str(acme), "--score", "9", "--as", "karl").returncode == 2
    assert cli("tickets", "rate", str(acme), "--score", "5", "--comment", "fast", "--as", "karl").returncode == 0
    assert cli("tickets", "note", str(city), "on it", "--as", "nina").returncode == 0
    reported = cli(
        "tickets",
        "open",
        "ACME-SH-003",
        "--summary",
        "customer: no service",
        "--impact",
        "service_down",
        "--as",
        "karl",
    )
    assert reported.returncode == 0 and reported.stdout.strip().endswith("opened (P1)")

    shown = cli("tickets", "show", str(city), "--json", "--as", "mei")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["worklog"][0]["text"] == "on it"

    missing = cli("tickets", "show", "999", "--as", "nina")
    assert (missing.returncode, missing.stderr.strip()) == (2, "error: no ticket 999")
    nobody = cli("tickets", "list")
    assert nobody.returncode == 2 and "--as USERNAME" in nobody.stderr
    stranger = cli("tickets", "list", "--as", "mallory")
    assert stranger.returncode == 2 and "no active user named 'mallory'" in stranger.stderr


def test_accounts_show_and_the_personal_data_audit(seeded: tuple[Cli, list[int]], sqlite_url: str) -> None:
    cli, _ = seeded
    record = cli("accounts", "show", "city-gov", "--as", "mei")
    assert record.returncode == 0, record.stderr
    assert "REMINDER: CITYGOV-2025-07 expires 2026-12-15" in record.stdout
    assert "+86 21 5555 0202" not in record.stdout and "contacts: 1 on record" in record.stdout
    assert "SLA compliance:\n  (no month measured)\n" in record.stdout  # read from the (empty) SLA storage

    other = cli("accounts", "show", "city-gov", "--as", "karl")
    assert (other.returncode, other.stderr.strip()) == (1, "error: karl (account_manager) may not see account city-gov")

    technician = cli("tickets", "show", "1", "--contacts", "--as", "tom")  # his region, not his ticket
    assert technician.returncode == 1 and "may not read the contacts of account acme-bank" in technician.stderr
    assert "+86 10 5555 0101" not in technician.stdout + technician.stderr

    allowed = cli("accounts", "show", "city-gov", "--contacts", "--json", "--as", "mei")
    assert allowed.returncode == 0, allowed.stderr
    assert json.loads(allowed.stdout)["contacts"][0]["phone"] == "+86 21 5555 0202"

    assert asyncio.run(_audit(sqlite_url)) == [("tom", "acme-bank", "refused"), ("mei", "city-gov", "allowed")]


def test_a_technicians_steps_from_the_command_line(seeded: tuple[Cli, list[int]], tmp_path: Path) -> None:
    cli, (acme, city) = seeded
    refused = cli("tickets", "take", str(acme), "--as", "li")
    assert refused.returncode == 1 and "it is in region north, not one of theirs (south)" in refused.stderr
    bad = cli("tickets", "ack", str(city), "--until", "2026-11-30T10:00", "--as", "nina")
    assert bad.returncode == 2 and bad.stderr.startswith("error: until: ") and "no time zone" in bad.stderr
    acked = cli("tickets", "ack", str(city), "--note", "PE uplink swap", "--until", "2099-01-01", "--as", "nina")
    assert acked.returncode == 2 and "until: at most 7 days" in acked.stderr  # nothing stored: still new
    taken = cli("tickets", "take", str(acme), "--as", "tom")
    assert taken.returncode == 0 and f"T-{acme} taken: dispatched, technician tom-north" in taken.stdout
    assert cli("tickets", "start", str(acme), "--as", "tom").returncode == 0
    no_reason = cli("tickets", "pending", str(acme), "--as", "tom")
    assert no_reason.returncode == 2 and "--reason" in no_reason.stderr
    pending = cli("tickets", "pending", str(acme), "--reason", "customer's room locked", "--as", "tom")
    assert pending.returncode == 0 and "pending_customer" in pending.stdout
    shown = json.loads(cli("tickets", "show", str(acme), "--json", "--as", "tom").stdout)
    [waiting] = [e for e in shown["events"] if e["kind"] == "waiting_on_customer"]
    assert (waiting["actor"], waiting["detail"]) == ("tom", {"reason": "customer's room locked"})
    resolved = cli("tickets", "resolve", str(acme), "--on-site", "--note", "cleaned the connector", "--as", "tom")
    assert resolved.returncode == 0 and "resolved" in resolved.stdout
    photo = tmp_path / "odf.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 24)
    attached = cli("tickets", "attach", str(acme), str(photo), "--note", "the port after cleaning", "--as", "tom")
    assert attached.returncode == 0 and f"T-{acme}: odf.png attached (image/png, 32 bytes, sha256 " in attached.stdout
    program = tmp_path / "tool.png"
    program.write_bytes(b"MZ\x90\x00")
    refused = cli("tickets", "attach", str(acme), str(program), "--as", "tom")
    assert refused.returncode == 2 and "file: tool.png is not one of the accepted kinds" in refused.stderr
    missing = cli("tickets", "attach", str(acme), str(tmp_path / "nothing.png"), "--as", "tom")
    assert missing.returncode == 2 and "file: cannot read" in missing.stderr
