"""Contract documents: the signed contract (a PDF) and scans of the paper original, stored per contract in
versions, each with the SHA-256 and size of its bytes, checked by size and by kind (recognised from the content,
not from the file's name) before it is stored.

Every read verifies the bytes against the hash recorded in the row and against the one the append-only audit
recorded when the document was stored (``document.attach``), so changing the bytes and the row's hash together is
caught as well. A document that fails is refused (``TamperedDocument``) and flagged: ``tampered_at`` is set on its
row and a ``document.tampered`` audit row names who tried to read it and both hashes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import defer

from noc import audit
from noc import models as m
from noc.records.errors import NotFound, RecordsInputError, TamperedDocument
from noc.records.models import ContractDocument
from noc.settings import RecordsSettings
from noc.timeutil import utcnow

MEDIA_TYPES = {"pdf": "application/pdf", "png": "image/png", "jpeg": "image/jpeg", "tiff": "image/tiff"}
_MAGIC = (
    (b"%PDF-", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
)
MAX_FILENAME = 200


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    """A stored document without its bytes."""

    contract: str
    version: int
    filename: str
    kind: str
    media_type: str
    size_bytes: int
    sha256: str
    archive_ref: str
    stored_at: datetime
    stored_by: str
    tampered_at: datetime | None


def kind_of(content: bytes) -> str | None:
    """The document's kind from its first bytes, or None if it is none we keep."""
    return next((kind for magic, kind in _MAGIC if content.startswith(magic)), None)


def checked_kind(content: bytes, filename: str, settings: RecordsSettings) -> str:
    """The kind of an acceptable document; else RecordsInputError naming what is wrong."""
    name = filename.strip()
    if not name or len(name) > MAX_FILENAME or any(c in name for c in "/\\") or not name.isprintable():
        raise RecordsInputError("filename", f"1 to {MAX_FILENAME} printable characters, no path (not {filename!r})")
    if not content:
        raise RecordsInputError("content", "the document is empty")
    if len(content) > settings.document_max_bytes:
        raise RecordsInputError(
            "content", f"{len(content)} bytes is more than records.document_max_bytes ({settings.document_max_bytes})"
        )
    kind = kind_of(content)
    if kind is None or kind not in settings.document_kinds:
        found = kind or "not a PDF, PNG, JPEG or TIFF file"
        raise RecordsInputError(
            "content", f"{found}: a contract document is one of {', '.join(settings.document_kinds)}"
        )
    return kind


def _info(contract: str, row: ContractDocument) -> DocumentInfo:
    return DocumentInfo(
        contract=contract,
        version=row.version,
        filename=row.filename,
        kind=row.kind,
        media_type=MEDIA_TYPES[row.kind],
        size_bytes=row.size_bytes,
        sha256=row.sha256,
        archive_ref=row.archive_ref,
        stored_at=row.stored_at,
        stored_by=row.stored_by,
        tampered_at=row.tampered_at,
    )


def subject(contract: str) -> str:
    return f"contract {contract}"


async def contract_named(session: AsyncSession, name: str) -> m.Contract:
    found = await session.scalar(select(m.Contract).where(m.Contract.name == name))
    if found is None:
        raise NotFound("contract", f"no contract named {name!r}")
    return found


async def attach(
    sessions: async_sessionmaker[AsyncSession],
    origin: audit.Origin,
    contract: str,
    filename: str,
    content: bytes,
    settings: RecordsSettings,
    archive_ref: str = "",
) -> DocumentInfo:
    """Store the next version of the contract's document, with its hash, and audit it (one transaction)."""
    kind = checked_kind(content, filename, settings)
    if len(archive_ref) > 200 or not archive_ref.isprintable():
        raise RecordsInputError("archive_ref", "at most 200 printable characters")
    digest = hashlib.sha256(content).hexdigest()
    async with sessions() as session:
        row = await contract_named(session, contract)
        latest = await session.scalar(
            select(func.max(ContractDocument.version)).where(ContractDocument.contract_id == row.id)
        )
        doc = ContractDocument(
            contract_id=row.id,
            version=(latest or 0) + 1,
            filename=filename.strip(),
            kind=kind,
            size_bytes=len(content),
            sha256=digest,
            archive_ref=archive_ref.strip(),
            stored_at=utcnow(),
            stored_by=origin.actor[:100],
            content=content,
        )
        session.add(doc)
        audit.record(
            session,
            origin,
            audit.Action.DOCUMENT_ATTACH,
            subject(contract),
            version=doc.version,
            filename=doc.filename,
            size_bytes=doc.size_bytes,
            sha256=digest,
        )
        try:
            await session.commit()
        except IntegrityError as exc:  # another version was stored at the same moment
            raise RecordsInputError(
                "contract", f"{contract}: another document was stored meanwhile; try again"
            ) from exc
        return _info(contract, doc)


async def list_documents(session: AsyncSession, contract: str) -> list[DocumentInfo]:
    """The contract's documents, newest version first (without their bytes)."""
    row = await contract_named(session, contract)
    docs = await session.scalars(
        select(ContractDocument)
        .options(defer(ContractDocument.content))
        .where(ContractDocument.contract_id == row.id)
        .order_by(ContractDocument.version.desc())
    )
    return [_info(contract, d) for d in docs]


async def _attached_hash(session: AsyncSession, contract: str, version: int) -> str | None:
    """The SHA-256 the audit recorded when this version was stored (the audit's rows cannot be changed)."""
    for event in await session.scalars(
        select(m.AuditEvent).where(
            m.AuditEvent.action == audit.Action.DOCUMENT_ATTACH.value, m.AuditEvent.subject == subject(contract)
        )
    ):
        if event.detail.get("version") == version:
            return str(event.detail.get("sha256"))
    return None


async def fetch(
    sessions: async_sessionmaker[AsyncSession], origin: audit.Origin, contract: str, version: int | None = None
) -> tuple[DocumentInfo, bytes]:
    """A document (the newest version unless one is named) and its bytes, verified; a tampered one is refused and
    flagged."""
    async with sessions() as session:
        row = await contract_named(session, contract)
        query = select(ContractDocument).where(ContractDocument.contract_id == row.id)
        if version is None:
            query = query.order_by(ContractDocument.version.desc()).limit(1)
        else:
            query = query.where(ContractDocument.version == version)
        doc = await session.scalar(query)
        if doc is None:
            which = "no document" if version is None else f"no document version {version}"
            raise NotFound("version", f"contract {contract} has {which}")
        found = hashlib.sha256(doc.content).hexdigest()
        attached = await _attached_hash(session, contract, doc.version)
        info = _info(contract, doc)
    if found == doc.sha256 == attached and len(doc.content) == doc.size_bytes:
        return info, doc.content
    await _flag(sessions, origin, info, doc.id, found, attached)
    raise TamperedDocument(
        f"contract {contract} document version {doc.version} ({doc.filename}): its content's SHA-256 is "
        f"{found}, not the {attached or 'unrecorded'} recorded when it was stored: refused, and flagged for the "
        "administrators"
    )


async def _flag(
    sessions: async_sessionmaker[AsyncSession],
    origin: audit.Origin,
    info: DocumentInfo,
    doc_id: int,
    found: str,
    attached: str | None,
) -> None:
    async with sessions() as session:
        await session.execute(
            update(ContractDocument)
            .where(ContractDocument.id == doc_id, ContractDocument.tampered_at.is_(None))
            .values(tampered_at=utcnow())
        )
        audit.record(
            session,
            origin,
            audit.Action.DOCUMENT_TAMPERED,
            subject(info.contract),
            audit.REFUSED,
            version=info.version,
            filename=info.filename,
            recorded_sha256=attached or "",
            row_sha256=info.sha256,
            found_sha256=found,
        )
        await session.commit()
