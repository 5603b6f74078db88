"""Retention of personal data: a key account whose last contract ended beyond the retention period loses its
contacts (rows deleted, freed space overwritten), a destruction record and an audit row say so without a value,
and nothing of the contacts is left in the database's files; a dry run changes nothing."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from pathlib import Path

from prometheus_client import CollectorRegistry
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from exporters.collector import FlowMetrics, PollerMetrics
from exporters.snapshot import Snapshot
from noc import audit
from noc import models as m
from noc.crypto import SecretBox
from noc.flow.service import NocService
from noc.inventory import service as inventory
from noc.records import retention
from noc.records.models import DestructionRecord
from noc.settings import BusSettings, PollerSettings, RecordsSettings, Settings
from tests.conftest import EXAMPLE_INVENTORY
from tests.noc.test_cli import Cli, _cli
from tests.noc.test_service import until
from tickets.service import TicketService

# city-gov's contact in the example inventory, and an earlier phone number the contact had (changed by a re-import)
CITY_GOV_VALUES = ("Zhang Wei", "+86 21 5555 0202", "duty@city-gov.example", "+86 21 5555 0999")
ENDED = date(2025, 12, 31)
DAYS = 300
ORIGIN = audit.Origin("ada", "admin", "cli", "ada")


async def _stored_tokens(sessions: async_sessionmaker[AsyncSession], account: str) -> list[str]:
    async with sessions() as session:
        rows = await session.execute(
            select(m.Contact.name_enc, m.Contact.phone_enc, m.Contact.email_enc)
            .join(m.KeyAccount, m.KeyAccount.id == m.Contact.account_id)
            .where(m.KeyAccount.name == account)
        )
        return [token for row in rows.all() for token in row if token]


async def _counts(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int, int]:
    async with sessions() as session:
        return (
            int(await session.scalar(select(func.count(m.Contact.id))) or 0),
            int(await session.scalar(select(func.count(DestructionRecord.id))) or 0),
            int(await session.scalar(select(func.count(m.AuditEvent.id))) or 0),
        )


async def _database_bytes(engine: AsyncEngine) -> dict[str, bytes]:
    """What is on disk: the SQLite file and its WAL / journal; on PostgreSQL the contacts table's heap file, read
    by the server after a checkpoint (the tests connect as a superuser)."""
    if engine.dialect.name == "sqlite":
        assert engine.url.database is not None
        db = Path(engine.url.database)
        return {p.name: p.read_bytes() for p in db.parent.glob(db.name + "*")}
    async with engine.connect() as conn:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("CHECKPOINT"))
        heap = await autocommit.scalar(text("SELECT pg_read_binary_file(pg_relation_filepath('contacts'))"))
    return {"contacts heap": bytes(heap)}


async def _import_with_history(sessions: async_sessionmaker[AsyncSession], box: SecretBox, tmp_path: Path) -> list[str]:
    """The example operator, city-gov's contact having had another phone number first; returns the tokens that
    contact ever had in the database."""
    earlier = tmp_path / "earlier.yaml"
    earlier.write_text(EXAMPLE_INVENTORY.read_text().replace("+86 21 5555 0202", "+86 21 5555 0999"))
    await inventory.import_file(sessions, box, earlier, "test")
    tokens = await _stored_tokens(sessions, "city-gov")
    await inventory.import_file(sessions, box, EXAMPLE_INVENTORY, "test")
    return tokens + await _stored_tokens(sessions, "city-gov")


async def test_contacts_past_retention_are_destroyed_without_a_trace(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], box: SecretBox, tmp_path: Path
) -> None:
    tokens = await _import_with_history(sessions, box, tmp_path)
    current = await _stored_tokens(sessions, "city-gov")
    async with sessions() as session:
        await session.execute(update(m.Contract).where(m.Contract.name == "CITYGOV-2025-07").values(valid_to=ENDED))
        await session.commit()
    on_disk = b"".join((await _database_bytes(engine)).values())
    assert all(token.encode() in on_disk for token in current)  # the grep below looks where the values were

    before = await _counts(sessions)
    planned = await retention.run(sessions, ORIGIN, DAYS, today=date(2026, 11, 30), dry_run=True)
    assert [(d.account, d.contract, d.ended_on, d.contacts) for d in planned.due] == [
        ("city-gov", "CITYGOV-2025-07", ENDED, 1)
    ]
    assert await _counts(sessions) == before  # the dry run wrote nothing, not even an audit row
    assert await _stored_tokens(sessions, "city-gov") == current

    # one day short of the period: nothing is due
    short = await retention.run(sessions, ORIGIN, DAYS, today=ENDED + timedelta(days=DAYS))
    assert short.due == () and await _counts(sessions) == before

    done = await retention.run(sessions, ORIGIN, DAYS, today=date(2026, 11, 30))
    assert [d.account for d in done.due] == ["city-gov"] and done.scrubbed
    assert await _stored_tokens(sessions, "city-gov") == []
    assert await _stored_tokens(sessions, "acme-bank") != []  # accounts with a running contract keep theirs
    async with sessions() as session:
        record = (await session.scalars(select(DestructionRecord))).one()
        events = list(await session.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "retention.destroy")))
    assert (record.kind, record.account, record.contract, record.ended_on, record.records, record.actor) == (
        "contacts",
        "city-gov",
        "CITYGOV-2025-07",
        "2025-12-31",
        1,
        "ada",
    )
    assert record.rule == "contacts: 300 days after the account's last contract ended"
    assert record.fields == "name, phone, email"
    assert [(e.subject, e.detail["records"], e.detail["contract"]) for e in events] == [
        ("city-gov", 1, "CITYGOV-2025-07")
    ]
    for name, blob in (await _database_bytes(engine)).items():
        for value in (*CITY_GOV_VALUES, *tokens):
            assert value.encode() not in blob, f"{value[:24]!r} left in {name}"

    again = await retention.run(sessions, ORIGIN, DAYS, today=date(2026, 11, 30))
    assert again.due == ()  # destroyed once, recorded once


def test_the_command_destroys_and_the_dry_run_only_lists(tmp_path: Path, sqlite_url: str, secret_key: str) -> None:
    cli: Cli = _cli(tmp_path, sqlite_url, secret_key)
    cli.env["NOC_RECORDS__CONTACTS_RETENTION_DAYS"] = str(DAYS)
    ended = date.today() - timedelta(days=DAYS + 1)
    assert cli("inventory", "import", str(EXAMPLE_INVENTORY)).returncode == 0
    db = tmp_path / "noc.db"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE contracts SET valid_to = ? WHERE name = 'CITYGOV-2025-07'", (ended.isoformat(),))
        tokens = [t for row in conn.execute("SELECT name_enc, phone_enc, email_enc FROM contacts") for t in row if t]
    conn.close()

    listed = cli("retention", "run", "--dry-run")
    assert listed.returncode == 0, listed.stderr
    planned = f"would destroy 1 contact(s) of city-gov (contract CITYGOV-2025-07 ended {ended.isoformat()})"
    assert planned in listed.stdout
    assert "dry run, nothing changed: 1 record(s) of 1 account(s)" in listed.stdout
    export = cli("inventory", "export")
    assert "it-duty" in export.stdout, export.stderr  # still there

    done = cli("retention", "run")
    assert done.returncode == 0, done.stderr
    assert "destroyed 1 contact(s) of city-gov" in done.stdout
    assert "it-duty" not in cli("inventory", "export").stdout
    audit_rows = cli("audit", "--action", "retention.destroy").stdout
    assert "retention.destroy" in audit_rows and "city-gov" in audit_rows
    records = cli("retention", "records")
    assert records.returncode == 0, records.stderr
    assert f"destroyed 1 contacts (name, phone, email) of city-gov, contract CITYGOV-2025-07 ended {ended}" in (
        records.stdout
    )
    files = {p.name: p.read_bytes() for p in tmp_path.glob("noc.db*")}
    assert files  # the database and, if any, its WAL
    gone = [t for t in tokens if t not in files["noc.db"].decode("latin-1")]
    assert len(gone) == 3  # exactly city-gov's name, phone and e-mail went; the other accounts' contacts stay
    for name, blob in files.items():
        for value in CITY_GOV_VALUES[:3]:
            assert value.encode() not in blob, f"{value!r} in {name}"


async def test_the_service_destroys_what_is_due_on_its_own(
    sessions: async_sessionmaker[AsyncSession], box: SecretBox, tmp_path: Path
) -> None:
    await inventory.import_file(sessions, box, EXAMPLE_INVENTORY, "test")
    async with sessions() as session:
        await session.execute(update(m.Contract).where(m.Contract.name == "CITYGOV-2025-07").values(valid_to=ENDED))
        await session.commit()
    settings = Settings(
        poller=PollerSettings(enabled=False),
        bus=BusSettings(spill_dir=tmp_path / "spill"),
        records=RecordsSettings(contacts_retention_days=DAYS),
    )
    registry = CollectorRegistry()
    service = NocService(
        sessions,
        box,
        settings,
        Snapshot(),
        PollerMetrics(registry),
        FlowMetrics(registry),
        TicketService(sessions, settings.tickets, box=box),
    )
    await service.start()
    try:
        await until("the daily retention job's first run", lambda: _destroyed(sessions))
    finally:
        await service.stop()
    assert await _stored_tokens(sessions, "city-gov") == []
    async with sessions() as session:
        record = (await session.scalars(select(DestructionRecord))).one()
    assert (record.account, record.actor, record.records) == ("city-gov", "system", 1)


async def _destroyed(sessions: async_sessionmaker[AsyncSession]) -> bool:
    return (await _counts(sessions))[1] > 0
