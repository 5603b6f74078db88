"""Contract documents: stored per contract in versions with their SHA-256 and size, checked by size and kind,
verified on every read; a document whose bytes changed in the database (even with its row's hash changed to match)
is refused and flagged, through the service, the API and the CLI."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from noc import audit
from noc import models as m
from noc.crypto import SecretBox
from noc.inventory import service as inventory
from noc.records import documents
from noc.records.errors import NotFound, RecordsInputError, TamperedDocument
from noc.records.models import ContractDocument
from noc.settings import RecordsSettings
from tests.conftest import EXAMPLE_INVENTORY
from tests.noc.test_cli import Cli, _cli

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n% signed by both parties 2026-01-05\n%%EOF\n"
PDF_V2 = PDF.replace(b"2026-01-05", b"2026-02-11")
ADMIN = audit.Origin("admin", "admin", "api", client="192.0.2.7")
NINA = audit.Origin("nina", "noc", "api", client="192.0.2.8")
SETTINGS = RecordsSettings()


async def tamper(sessions: async_sessionmaker[AsyncSession], version: int, *, fix_hash: bool = False) -> bytes:
    """Change the stored bytes of ACME-2026-01's document as someone with database access would; with
    ``fix_hash`` the row's hash is changed to match."""
    changed = PDF.replace(b"2026-01-05", b"2026-01-06") if version == 1 else PDF_V2.replace(b"02-11", b"02-12")
    values: dict[str, object] = {"content": changed}
    if fix_hash:
        values["sha256"] = hashlib.sha256(changed).hexdigest()
    async with sessions() as session:
        await session.execute(update(ContractDocument).where(ContractDocument.version == version).values(**values))
        await session.commit()
    return changed


async def test_documents_are_stored_with_their_hash_and_verified_on_read(
    sessions: async_sessionmaker[AsyncSession], box: SecretBox
) -> None:
    await inventory.import_file(sessions, box, EXAMPLE_INVENTORY, "test")
    first = await documents.attach(sessions, ADMIN, "ACME-2026-01", "signed.pdf", PDF, SETTINGS, "ARCH-2026-0042")
    second = await documents.attach(sessions, ADMIN, "ACME-2026-01", "signed-v2.pdf", PDF_V2, SETTINGS)
    assert (first.version, first.sha256, first.size_bytes, first.kind) == (
        1,
        hashlib.sha256(PDF).hexdigest(),
        len(PDF),
        "pdf",
    )
    assert (first.archive_ref, first.stored_by, second.version) == ("ARCH-2026-0042", "admin", 2)
    async with sessions() as session:
        listed = await documents.list_documents(session, "ACME-2026-01")
        assert await documents.list_documents(session, "CITYGOV-2025-07") == []
    assert [(d.version, d.filename, d.tampered_at) for d in listed] == [
        (2, "signed-v2.pdf", None),
        (1, "signed.pdf", None),
    ]
    assert (await documents.fetch(sessions, NINA, "ACME-2026-01"))[1] == PDF_V2  # the newest by default
    info, content = await documents.fetch(sessions, NINA, "ACME-2026-01", 1)
    assert content == PDF and info.media_type == "application/pdf"

    await tamper(sessions, 1)
    with pytest.raises(TamperedDocument, match=r"ACME-2026-01 document version 1 \(signed.pdf\): .* refused"):
        await documents.fetch(sessions, NINA, "ACME-2026-01", 1)
    await tamper(sessions, 2, fix_hash=True)  # the row's hash recomputed: the audit's record still tells
    with pytest.raises(TamperedDocument, match=f"not the {second.sha256} recorded when it was stored"):
        await documents.fetch(sessions, NINA, "ACME-2026-01", 2)
    async with sessions() as session:
        flagged = await documents.list_documents(session, "ACME-2026-01")
        events = list(await session.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "document.tampered")))
    assert all(d.tampered_at is not None for d in flagged)
    assert [(e.actor, e.outcome, e.subject, e.detail["version"]) for e in events] == [
        ("nina", "refused", "contract ACME-2026-01", 1),
        ("nina", "refused", "contract ACME-2026-01", 2),
    ]
    assert events[0].detail["recorded_sha256"] == first.sha256


async def test_bad_documents_are_refused_and_nothing_is_stored(
    sessions: async_sessionmaker[AsyncSession], box: SecretBox
) -> None:
    await inventory.import_file(sessions, box, EXAMPLE_INVENTORY, "test")
    small = RecordsSettings(document_max_bytes=1024, document_kinds=("pdf",))
    cases = [
        ("ACME-2026-01", "big.pdf", PDF + b"0" * 1024, small, "content", "more than records.document_max_bytes"),
        ("ACME-2026-01", "note.txt", b"just some text", SETTINGS, "content", "not a PDF, PNG, JPEG or TIFF"),
        (
            "ACME-2026-01",
            "scan.png",
            b"\x89PNG\r\n\x1a\n....",
            small,
            "content",
            "png: a contract document is one of pdf",
        ),
        ("ACME-2026-01", "", PDF, SETTINGS, "filename", "printable characters"),
        ("ACME-2026-01", "../etc/passwd", PDF, SETTINGS, "filename", "no path"),
        ("ACME-2026-01", "empty.pdf", b"", SETTINGS, "content", "empty"),
        ("NO-SUCH", "signed.pdf", PDF, SETTINGS, "contract", "no contract named 'NO-SUCH'"),
    ]
    for contract, filename, content, settings, field, reason in cases:
        with pytest.raises(RecordsInputError, match=reason) as caught:
            await documents.attach(sessions, ADMIN, contract, filename, content, settings)
        assert caught.value.field == field
    with pytest.raises(NotFound, match="has no document version 3"):
        await documents.fetch(sessions, ADMIN, "ACME-2026-01", 3)
    async with sessions() as session:
        assert await session.scalar(select(func.count(ContractDocument.id))) == 0
        assert await session.scalar(select(func.count(m.AuditEvent.id))) == 0


def test_documents_from_the_command_line(tmp_path: Path, sqlite_url: str, secret_key: str) -> None:
    cli: Cli = _cli(tmp_path, sqlite_url, secret_key)
    assert cli("inventory", "import", str(EXAMPLE_INVENTORY)).returncode == 0
    (tmp_path / "signed.pdf").write_bytes(PDF)
    stored = cli("documents", "attach", "ACME-2026-01", str(tmp_path / "signed.pdf"), "--archive-ref", "ARCH-7")
    assert stored.returncode == 0, stored.stderr
    assert f"sha256 {hashlib.sha256(PDF).hexdigest()}" in stored.stdout
    (tmp_path / "notes.txt").write_text("not a contract")
    refused = cli("documents", "attach", "ACME-2026-01", str(tmp_path / "notes.txt"))
    assert refused.returncode == 2 and "content: not a PDF, PNG, JPEG or TIFF file" in refused.stderr
    assert "signed.pdf" in cli("documents", "list", "ACME-2026-01").stdout
    fetched = cli("documents", "fetch", "ACME-2026-01", "--output", str(tmp_path / "out.pdf"))
    assert fetched.returncode == 0 and (tmp_path / "out.pdf").read_bytes() == PDF

    with sqlite3.connect(tmp_path / "noc.db") as conn:
        conn.execute("UPDATE contract_documents SET content = ?", (PDF.replace(b"signed", b"SIGNED"),))
    conn.close()
    tampered = cli("documents", "fetch", "ACME-2026-01", "--output", str(tmp_path / "bad.pdf"))
    assert tampered.returncode == 1 and "refused, and flagged for the administrators" in tampered.stderr
    assert not (tmp_path / "bad.pdf").exists()
    assert "TAMPERED" in cli("documents", "list", "ACME-2026-01").stdout
