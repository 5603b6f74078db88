"""Backup and restore: a backup of a database with every kind of record (inventory, contacts, tickets with a parent
incident, documents, raw measurements in day partitions, SLA rollups, destruction records, the audit) restored into
an empty database reproduces every table and document, on SQLite, on PostgreSQL and from SQLite into PostgreSQL; a
damaged, truncated or foreign backup is refused naming what is wrong, and nothing is half-restored; a database that
is not empty is refused."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from noc import audit, auth, dbadmin
from noc import models as m
from noc.crypto import SecretBox, generate_key
from noc.db import create_engine, session_factory
from noc.inventory import service as inventory
from noc.records import backup, documents, retention, sealed
from noc.records.errors import RecordsInputError
from noc.settings import RecordsSettings, Settings
from noc.store import partitions
from tests.conftest import EXAMPLE_INVENTORY, new_pg_database
from tests.noc.test_cli import Cli, _cli
from tests.records.test_documents import PDF, PDF_V2
from tickets.rules import DeviceDown, FaultEvent, FaultKind, Impact
from tickets.service import TicketService

ORIGIN = audit.Origin("ada", "admin", "cli", "ada")
T0 = datetime(2026, 11, 28, 23, 50, tzinfo=UTC)  # measurements on both sides of a day boundary: two partitions


async def seed(sessions: async_sessionmaker[AsyncSession], box: SecretBox) -> None:
    """Every kind of record the system keeps."""
    await inventory.import_file(sessions, box, EXAMPLE_INVENTORY, "test")
    service = TicketService(sessions, Settings().tickets, box=box)
    await service.handle_device_down(DeviceDown("pe-bj-01", T0, summary="pe-bj-01 unreachable"))
    await service.handle_fault(FaultEvent(FaultKind.MANUAL, "RHEIN-FRA-001", "manual", Impact.DEGRADED, T0, "slow"))
    for content in (PDF, PDF_V2):
        await documents.attach(sessions, ORIGIN, "ACME-2026-01", "signed.pdf", content, RecordsSettings())
    await auth.issue_token(sessions, "nina", "laptop")
    await retention.run(sessions, ORIGIN, 730, today=date(2029, 1, 1))  # city-gov's contacts go
    async with sessions() as session:
        device = await session.scalar(select(m.Device).where(m.Device.name == "pe-bj-01"))
        circuit = await session.scalar(select(m.Circuit).where(m.Circuit.name == "ACME-BJ-001"))
        assert device is not None and circuit is not None
        stamps = [T0 + timedelta(minutes=5 * i) for i in range(6)]
        await partitions.ensure_for(session, "interface_measurements", stamps)
        await partitions.ensure_for(session, "probe_measurements", stamps)
        for i, ts in enumerate(stamps):
            session.add(
                m.InterfaceMeasurement(
                    device_id=device.id,
                    if_name="ge-0/0/1",
                    ts=ts,
                    if_index=3,
                    oper_status="up",
                    in_bps=1e6 + i / 3,
                    out_bps=None,
                    verdict="ok",
                    speed_bps=10**9,
                )
            )
            session.add(
                m.ProbeMeasurement(
                    circuit_id=circuit.id,
                    ts=ts,
                    method="ssh",
                    sent=5,
                    received=5 - i % 2,
                    loss_ratio=(i % 2) / 5,
                    rtt_avg_ms=12.25 + i,
                    jitter_ms=0.1 * i,
                )
            )
        session.add(m.SlaStateRun(circuit_id=circuit.id, start_at=T0, end_at=stamps[-1], state="available", causes=[]))
        await session.commit()


async def dump(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows in key order, as Python values (the same on both databases)."""
    out = {}
    async with engine.connect() as conn:
        for table in backup.tables():
            order = list(table.primary_key.columns) or list(table.columns)
            out[table.name] = [tuple(r) for r in await conn.execute(select(table).order_by(*order))]
    return out


def same_records(before: dict[str, list[tuple[Any, ...]]], after: dict[str, list[tuple[Any, ...]]]) -> None:
    """Every table alike; the audit has the backup's row at the source and the restore's at the target."""
    audit_before, audit_after = before.pop("audit_events"), after.pop("audit_events")
    assert after == before
    assert [r[:3] for r in audit_after[:-1]] == [r[:3] for r in audit_before[:-1]]
    assert audit_after[:-1] == audit_before[:-1]
    assert (audit_before[-1][2], audit_after[-1][2]) == ("backup.create", "backup.restore")


@pytest.fixture
def other_url(db_url: str, tmp_path: Path) -> Iterator[str]:
    """A second, empty database of the same kind (the restore's target)."""
    if db_url.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'restored.db'}"
        return
    with new_pg_database() as url:
        yield url


async def _round_trip(source: AsyncEngine, target_url: str, file: Path, box: SecretBox) -> AsyncEngine:
    before = await dump(source)
    manifest = await backup.create(source, file, ORIGIN, box)
    assert {t.name: t.rows for t in manifest.tables} == {name: len(rows) for name, rows in before.items()}
    target = create_engine(target_url)
    await backup.restore(target, file, ORIGIN, box)
    same_records(before | {"audit_events": (await dump(source))["audit_events"]}, await dump(target))
    return target


async def test_backup_then_restore_reproduces_every_table_and_document(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], box: SecretBox, other_url: str, tmp_path: Path
) -> None:
    await seed(sessions, box)
    async with engine.connect() as conn:  # the backup covers every table the database has
        names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert {t.name for t in backup.tables()} == {
        n for n in names if n != "alembic_version" and not partitions.is_partition(n)
    }
    target = await _round_trip(engine, other_url, tmp_path / "noc.backup", box)
    try:
        restored = session_factory(target)
        assert (await documents.fetch(restored, ORIGIN, "ACME-2026-01", 1))[1] == PDF  # hashes hold after restore
        assert (await documents.fetch(restored, ORIGIN, "ACME-2026-01", 2))[1] == PDF_V2
        # new rows after the restore take new ids (PostgreSQL's sequences follow the restored rows)
        await documents.attach(restored, ORIGIN, "ACME-2026-01", "signed-v3.pdf", PDF, RecordsSettings())
        await auth.issue_token(restored, "tom", "phone")
        with pytest.raises(RecordsInputError, match=r"not empty \(table \w+ has rows\)"):
            await backup.restore(target, tmp_path / "noc.backup", ORIGIN, box)
    finally:
        await target.dispose()


@pytest.mark.postgres
async def test_a_sqlite_backup_restores_into_postgresql(
    sqlite_url: str, pg_url: str, box: SecretBox, tmp_path: Path
) -> None:
    source = create_engine(sqlite_url)
    await dbadmin.upgrade(source)
    try:
        await seed(session_factory(source), box)
        target = await _round_trip(source, pg_url, tmp_path / "noc.backup", box)
        await target.dispose()
    finally:
        await source.dispose()


def _plain(source: Path, box: SecretBox) -> Path:
    plain = source.with_suffix(".tar.gz")
    with plain.open("wb") as out:
        sealed.unseal(source, out, box)
    return plain


def _rewrite(source: Path, target: Path, change: dict[str, bytes], box: SecretBox) -> None:
    """A copy of the backup with some members' bytes replaced, sealed again with the right key (what a bug, or
    someone holding the key, could make): the checks inside the seal still hold."""
    edited = target.with_suffix(".edited")
    with tarfile.open(_plain(source, box), "r:gz") as tar, tarfile.open(edited, "w:gz") as out:
        for info in tar.getmembers():
            fh = tar.extractfile(info)
            assert fh is not None
            data = change.get(info.name, fh.read())
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    with target.open("wb") as sealed_out:
        sealed.seal(edited, sealed_out, box)


def _member(source: Path, name: str, box: SecretBox) -> bytes:
    with tarfile.open(_plain(source, box), "r:gz") as tar:
        fh = tar.extractfile(name)
        assert fh is not None
        return fh.read()


async def test_a_damaged_backup_is_refused_and_nothing_is_restored(
    sqlite_url: str, box: SecretBox, secret_key: str, tmp_path: Path
) -> None:
    source = create_engine(sqlite_url)
    await dbadmin.upgrade(source)
    await seed(session_factory(source), box)
    good = tmp_path / "good.backup"
    await backup.create(source, good, ORIGIN, box)
    await source.dispose()
    with pytest.raises(RecordsInputError, match="exists; a backup never overwrites"):
        await backup.create(create_engine(sqlite_url), good, ORIGIN, box)

    truncated = tmp_path / "truncated.backup"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    flipped = tmp_path / "flipped.backup"
    data = bytearray(good.read_bytes())
    data[len(data) // 2] ^= 0x01
    flipped.write_bytes(bytes(data))
    tickets = _member(good, "tables/tickets.jsonl", box)
    manifest = json.loads(_member(good, backup.MANIFEST, box))
    users = _member(good, "tables/users.jsonl", box)
    first_user = users.split(b"\n")[0] + b"\n"
    forged_users = users + first_user  # a duplicate key, with the manifest made to agree
    forged_manifest = dict(manifest)
    forged_manifest["tables"] = [
        t
        | ({"rows": t["rows"] + 1, "sha256": hashlib.sha256(forged_users).hexdigest()} if t["name"] == "users" else {})
        for t in manifest["tables"]
    ]
    cases = {
        "truncated": (truncated, "file", "cut off or damaged after 0 MiB \\(no final part\\)"),
        "changed bytes": (flipped, "file", "no configured secret key opens it \\(or its first part is damaged\\)"),
        "not a backup": (EXAMPLE_INVENTORY, "file", "not a sealed noc backup"),
        "edited row": (
            {"tables/tickets.jsonl": tickets.replace(b'"P1"', b'"P4"', 1)},
            "tables/tickets.jsonl",
            "the manifest says .* damaged or truncated",
        ),
        "lost rows": (
            {"tables/tickets.jsonl": tickets[: tickets.rindex(b"\n", 0, -1) + 1]},
            "tables/tickets.jsonl",
            "damaged or truncated",
        ),
        "other schema": (
            {backup.MANIFEST: json.dumps(manifest | {"schema_revision": "0009_device_text"}).encode()},
            backup.MANIFEST,
            "the backup is of schema 0009_device_text, this code's is",
        ),
        "refused by the database": (
            {"tables/users.jsonl": forged_users, backup.MANIFEST: json.dumps(forged_manifest).encode()},
            "tables/users.jsonl",
            "rows the database refuses",
        ),
    }
    for label, (given, field, reason) in cases.items():
        if isinstance(given, dict):
            path = tmp_path / f"{label}.backup"
            _rewrite(good, path, given, box)
        else:
            path = given
        target_file = tmp_path / f"{label}.db"
        target = create_engine(f"sqlite+aiosqlite:///{target_file}")
        try:
            with pytest.raises(RecordsInputError, match=reason) as caught:
                await backup.restore(target, path, ORIGIN, box)
            assert caught.value.field == field, label
            if await dbadmin.current_revision(target) is not None:  # refused after the schema was made: no row in
                assert all(not rows for name, rows in (await dump(target)).items() if name not in backup.SEEDED), label
        finally:
            await target.dispose()
    assert backup.verify(good, box).revision == dbadmin.head_revision()  # the good one is still good
    other = SecretBox.from_text(generate_key())
    with pytest.raises(RecordsInputError, match="no configured secret key opens it"):
        backup.verify(good, other)
    rotated = SecretBox.from_text(f"{generate_key()},{secret_key}")  # a new key first, the old one kept
    assert backup.verify(good, rotated).revision == dbadmin.head_revision()


def test_backup_and_restore_from_the_command_line(tmp_path: Path, sqlite_url: str, secret_key: str) -> None:
    cli: Cli = _cli(tmp_path, sqlite_url, secret_key)
    assert cli("inventory", "import", str(EXAMPLE_INVENTORY)).returncode == 0
    (tmp_path / "signed.pdf").write_bytes(PDF)
    assert cli("documents", "attach", "ACME-2026-01", str(tmp_path / "signed.pdf")).returncode == 0
    made = cli("backup", "create", str(tmp_path / "noc.backup"))
    assert made.returncode == 0, made.stderr
    assert "1 documents" in made.stdout
    assert (tmp_path / "noc.backup").stat().st_mode & 0o777 == 0o600  # the database's data: its owner's alone
    checked = cli("backup", "verify", str(tmp_path / "noc.backup"))
    assert checked.returncode == 0 and "intact" in checked.stdout
    refused = cli("backup", "restore", str(tmp_path / "noc.backup"))
    assert refused.returncode == 2 and "database: not empty (table audit_events has rows)" in refused.stderr
    new = {"NOC_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"}
    restored = cli("backup", "restore", str(tmp_path / "noc.backup"), env=new)
    assert restored.returncode == 0, restored.stderr
    assert cli("inventory", "export", env=new).stdout == cli("inventory", "export").stdout
    fetched = cli("documents", "fetch", "ACME-2026-01", "--output", str(tmp_path / "out.pdf"), env=new)
    assert fetched.returncode == 0 and (tmp_path / "out.pdf").read_bytes() == PDF


def test_a_sealed_file_keeps_its_parts_in_order_and_complete(box: SecretBox, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.write_bytes(bytes(range(256)) * (5 * 1024 * 1024 // 256 // 2))  # 2.5 MiB: three parts
    with (tmp_path / "sealed").open("wb") as out:
        sealed.seal(plain, out, box)
    data = (tmp_path / "sealed").read_bytes()
    assert bytes(range(256)) * 4 not in data  # nothing of the content in clear
    out_plain = io.BytesIO()
    sealed.unseal(tmp_path / "sealed", out_plain, box)
    assert out_plain.getvalue() == plain.read_bytes()
    header = len(sealed.MAGIC) + 16 + 7
    first = header + 4 + int.from_bytes(data[header : header + 4], "big")
    second = first + 4 + int.from_bytes(data[first : first + 4], "big")
    damaged = {
        "without its last part": (data[:second], "cut off or damaged after 2 MiB"),
        "parts swapped": (data[:first] + data[second:] + data[first:second], "part 2 was changed or is out of place"),
        "with more after the end": (data + data[header:first], "data after the final part"),
    }
    for label, (content, reason) in damaged.items():
        (tmp_path / label).write_bytes(content)
        with pytest.raises(sealed.SealError, match=reason):
            sealed.unseal(tmp_path / label, io.BytesIO(), box)
