"""Backup and restore of the whole database, contract documents included, in a portable file: a gzipped tar of one
JSON-lines file per table and a manifest (format version, the schema's migration revision, each table's row count
and SHA-256, each document's content hash), sealed under the secret key ring (``noc.records.sealed``). Portable: a
backup of SQLite restores into PostgreSQL and back.

A backup is one consistent snapshot (a single read transaction: repeatable read on PostgreSQL, one WAL snapshot on
SQLite), written to a temporary file and renamed when complete. A restore goes into an empty database only (a new
one; the schema is created if absent, and must be this code's), and verifies the whole file before it writes a
row: manifest, revision, every table's hash and row count, every document's content hash. The rows then go in one
transaction, so a restore that fails leaves the database as empty as it found it.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import tarfile
import tempfile
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Column, Date, DateTime, LargeBinary, Table, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

import noc.models
import noc.notify.models
import noc.records.models
import tickets.models
from noc import audit, dbadmin
from noc.crypto import SecretBox
from noc.db import Base, DecimalText
from noc.records import sealed
from noc.records.errors import RecordsInputError
from noc.store import partitions
from noc.timeutil import utcnow

FORMAT = "noc-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
BATCH = 1000
# Rows the migrations themselves put into a new database (how far notifications have read the ticket history):
# replaced by the backup's, and no sign that the database is in use.
SEEDED = frozenset({"notify_cursors"})
# Every module that maps tables, so the backup covers every table (a test checks against the database's own list).
MODEL_MODULES = (noc.models, noc.notify.models, noc.records.models, tickets.models)
DOCUMENTS = noc.records.models.ContractDocument.__tablename__


class BackupInvalid(RecordsInputError):
    """The backup file cannot be restored: ``field`` says which part is wrong (file, manifest, a table's name)."""


@dataclass(frozen=True, slots=True)
class TableEntry:
    name: str
    rows: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Manifest:
    revision: str
    created_at: str
    source: str
    tables: tuple[TableEntry, ...]
    documents: tuple[tuple[int, str], ...]  # (row id, SHA-256 of the content)

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "format": FORMAT,
                "version": FORMAT_VERSION,
                "schema_revision": self.revision,
                "created_at": self.created_at,
                "source": self.source,
                "tables": [{"name": t.name, "rows": t.rows, "sha256": t.sha256} for t in self.tables],
                "documents": [{"id": i, "sha256": h} for i, h in self.documents],
            },
            indent=1,
        ).encode()


def tables() -> list[Table]:
    """Every table this code maps, parents before children."""
    return list(Base.metadata.sorted_tables)


def member(table: str) -> str:
    return f"tables/{table}.jsonl"


# --- values in JSON ------------------------------------------------------------------------------------------

Codec = tuple[Callable[[Any], Any], Callable[[Any], Any]]
_PLAIN: Codec = (lambda v: v, lambda v: v)


def _codec(column: Column[Any]) -> Codec:
    kind = column.type
    if isinstance(kind, DecimalText):
        return (str, Decimal)
    if isinstance(kind, DateTime) or isinstance(getattr(kind, "impl", None), DateTime):
        return (datetime.isoformat, lambda v: datetime.fromisoformat(v).astimezone(UTC))
    if isinstance(kind, Date):
        return (date.isoformat, date.fromisoformat)
    if isinstance(kind, LargeBinary):
        return (lambda v: base64.b64encode(v).decode("ascii"), base64.b64decode)
    return _PLAIN


def _encode(table: Table, row: Any) -> bytes:
    out = {}
    for column, value in zip(table.columns, row, strict=True):
        out[column.name] = None if value is None else _codec(column)[0](value)
    return json.dumps(out, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def _decode(table: Table, line: bytes, where: str) -> dict[str, Any]:
    try:
        data = json.loads(line)
    except ValueError as exc:
        raise BackupInvalid(where, f"not a JSON row: {exc}") from exc
    names = [c.name for c in table.columns]
    if not isinstance(data, dict) or sorted(data) != sorted(names):
        raise BackupInvalid(where, f"a row without exactly the columns {', '.join(names)}")
    try:
        return {c.name: None if data[c.name] is None else _codec(c)[1](data[c.name]) for c in table.columns}
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise BackupInvalid(where, f"a value that is not its column's type: {exc}") from exc


# --- backup --------------------------------------------------------------------------------------------------


@asynccontextmanager
async def _snapshot(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection reading one consistent snapshot of the whole database (and writing nothing)."""
    async with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            # pysqlite opens no transaction for reads: an explicit one keeps every table as of the first read
            plain = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await plain.exec_driver_sql("BEGIN")
            try:
                yield plain
            finally:
                await plain.exec_driver_sql("ROLLBACK")
        else:
            snapshot = await conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            async with snapshot.begin():
                yield snapshot


async def create(engine: AsyncEngine, target: Path, origin: audit.Origin, box: SecretBox) -> Manifest:
    """Write a backup of the database to ``target`` (which must not exist), sealed under the secret key ring's
    first key; the act is audited afterwards."""
    _refuse_existing(target)
    revision = await dbadmin.current_revision(engine)
    if revision != dbadmin.head_revision():
        raise RecordsInputError("database", f"schema at {revision or 'nothing'}, not this code's: run 'noc db upgrade'")
    assert revision is not None
    entries: list[TableEntry] = []
    docs: list[tuple[int, str]] = []
    with tempfile.TemporaryDirectory(prefix="noc-backup-") as work:
        async with _snapshot(engine) as conn:
            for table in tables():
                entries.append(await _dump(conn, table, Path(work) / f"{table.name}.jsonl", docs))
        manifest = Manifest(revision, utcnow().isoformat(), engine.dialect.name, tuple(entries), tuple(docs))
        _write(target, manifest, Path(work), box)
    async with AsyncSession(engine) as session:
        audit.record(
            session,
            origin,
            audit.Action.BACKUP_CREATE,
            "database",
            file=target.name,
            rows=sum(e.rows for e in entries),
            revision=revision,
        )
        await session.commit()
    return manifest


def _write(target: Path, manifest: Manifest, work: Path, box: SecretBox) -> None:
    """The archive, sealed, readable by its owner only, under its final name once complete."""
    archive = work / "backup.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        head = manifest.to_json()
        _add(tar, MANIFEST, io.BytesIO(head), len(head))
        for entry in manifest.tables:
            path = work / f"{entry.name}.jsonl"
            with path.open("rb") as fh:
                _add(tar, member(entry.name), fh, path.stat().st_size)
    partial = target.with_name(target.name + ".partial")
    try:
        with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
            sealed.seal(archive, out, box)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _refuse_existing(target: Path) -> None:
    if target.exists():
        raise RecordsInputError("file", f"{target} exists; a backup never overwrites a file")


def _add(tar: tarfile.TarFile, name: str, data: IO[bytes], size: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, int(utcnow().timestamp()), 0o600
    tar.addfile(info, data)


async def _dump(conn: AsyncConnection, table: Table, path: Path, docs: list[tuple[int, str]]) -> TableEntry:
    digest, rows = hashlib.sha256(), 0
    order = list(table.primary_key.columns) or list(table.columns)
    result = await conn.stream(select(table).order_by(*order).execution_options(yield_per=BATCH))
    with path.open("wb") as fh:
        async for row in result:
            line = _encode(table, row)
            fh.write(line)
            digest.update(line)
            rows += 1
            if table.name == DOCUMENTS:
                docs.append((row.id, hashlib.sha256(row.content).hexdigest()))
    return TableEntry(table.name, rows, digest.hexdigest())


# --- verify and restore --------------------------------------------------------------------------------------


# What a damaged, truncated or foreign file raises while it is read.
_DAMAGED = (tarfile.TarError, EOFError, OSError, zlib.error)


def _open(plain: Path) -> tarfile.TarFile:
    try:
        return _indexed(tarfile.open(plain, "r:gz"))
    except _DAMAGED as exc:
        raise BackupInvalid("file", f"sealed, but not a noc backup (a gzipped tar) inside: {exc}") from exc


def _indexed(tar: tarfile.TarFile) -> tarfile.TarFile:
    """The archive with its members read to the end: a truncated file is found here, not halfway through."""
    try:
        tar.getmembers()
    except BaseException:
        tar.close()
        raise
    return tar


def _read(tar: tarfile.TarFile, name: str) -> Iterator[bytes]:
    """The member's lines; a missing or truncated member raises BackupInvalid naming it."""
    try:
        fh = tar.extractfile(name)
        if fh is None:
            raise KeyError(name)
        with fh:
            yield from fh
    except KeyError as exc:
        raise BackupInvalid(name, "missing from the backup") from exc
    except _DAMAGED as exc:
        raise BackupInvalid(name, f"cannot be read, the backup is damaged or truncated: {exc}") from exc


def _manifest(tar: tarfile.TarFile) -> Manifest:
    raw = b"".join(_read(tar, MANIFEST))
    try:
        data = json.loads(raw)
        if data.get("format") != FORMAT or data.get("version") != FORMAT_VERSION:
            raise BackupInvalid(MANIFEST, f"not a {FORMAT} version {FORMAT_VERSION} manifest")
        return Manifest(
            str(data["schema_revision"]),
            str(data["created_at"]),
            str(data["source"]),
            tuple(TableEntry(str(t["name"]), int(t["rows"]), str(t["sha256"])) for t in data["tables"]),
            tuple((int(d["id"]), str(d["sha256"])) for d in data["documents"]),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BackupInvalid(MANIFEST, f"unreadable: {exc!r}") from exc


@contextmanager
def _unsealed(source: Path, box: SecretBox) -> Iterator[Path]:
    """The backup's plain archive in a private temporary file, for as long as it is needed."""
    if not source.is_file():
        raise BackupInvalid("file", f"{source}: no such file")
    with tempfile.TemporaryDirectory(prefix="noc-restore-") as work:
        plain = Path(work) / "backup.tar.gz"
        with plain.open("wb") as out:
            sealed.unseal(source, out, box)
        yield plain


def verify(source: Path, box: SecretBox) -> Manifest:
    """The backup's manifest once every part of the file checks out: its seal, this code's schema revision and
    tables, each table's SHA-256 and row count, every row readable, every document's content hash."""
    with _unsealed(source, box) as plain:
        return _verify(plain)


def _verify(plain: Path) -> Manifest:
    with _open(plain) as tar:
        manifest = _manifest(tar)
        head = dbadmin.head_revision()
        if manifest.revision != head:
            raise BackupInvalid(
                MANIFEST,
                f"the backup is of schema {manifest.revision}, this code's is {head}: restore it with the "
                "version of noc that made it",
            )
        expected = {t.name: t for t in tables()}
        listed = [t.name for t in manifest.tables]
        if sorted(listed) != sorted(expected):
            missing, extra = set(expected) - set(listed), set(listed) - set(expected)
            raise BackupInvalid(MANIFEST, f"tables missing {sorted(missing)}, unknown {sorted(extra)}")
        documents = dict(manifest.documents)
        for entry in manifest.tables:
            digest, rows, name = hashlib.sha256(), 0, member(entry.name)
            for line in _read(tar, name):
                digest.update(line)
                rows += 1
                row = _decode(expected[entry.name], line, f"{name}:{rows}")
                if entry.name == DOCUMENTS:
                    found = hashlib.sha256(row["content"]).hexdigest()
                    if documents.pop(row["id"], None) != found:
                        raise BackupInvalid(
                            f"{name}:{rows}", f"document {row['id']}: content hash {found} is not the manifest's"
                        )
            if rows != entry.rows or digest.hexdigest() != entry.sha256:
                raise BackupInvalid(
                    name,
                    f"{rows} rows with SHA-256 {digest.hexdigest()}, the manifest says {entry.rows} rows with "
                    f"{entry.sha256}: damaged or truncated",
                )
        if documents:
            raise BackupInvalid(DOCUMENTS, f"documents {sorted(documents)} of the manifest are not in the backup")
    return manifest


async def _require_empty(conn: AsyncConnection) -> None:
    for table in tables():
        if table.name not in SEEDED and await conn.scalar(
            select(func.count()).select_from(select(table).limit(1).subquery())
        ):
            raise RecordsInputError(
                "database", f"not empty (table {table.name} has rows): a backup is restored into a new, empty database"
            )


async def restore(engine: AsyncEngine, source: Path, origin: audit.Origin, box: SecretBox) -> Manifest:
    """Restore the verified backup into the empty database behind ``engine`` (the schema is created if absent)."""
    with _unsealed(source, box) as plain:
        manifest = _verify(plain)
        await _restore(engine, plain, manifest, source.name, origin)
    return manifest


async def _restore(engine: AsyncEngine, plain: Path, manifest: Manifest, name: str, origin: audit.Origin) -> None:
    current = await dbadmin.current_revision(engine)
    if current is None:
        await dbadmin.upgrade(engine)
    elif current != manifest.revision:
        raise RecordsInputError(
            "database", f"schema at {current}, the backup's is {manifest.revision}: use a new database"
        )
    by_name = {t.name: t for t in tables()}
    async with engine.begin() as conn:
        await _require_empty(conn)
        with _open(plain) as tar:
            for entry in manifest.tables:
                table = by_name[entry.name]
                if table.name in SEEDED:
                    await conn.execute(table.delete())
                rows = (_decode(table, line, entry.name) for line in _read(tar, member(entry.name)))
                try:
                    await _load(conn, table, rows)
                except IntegrityError as exc:  # the whole restore is rolled back
                    reason = str(exc.orig).splitlines()[0]
                    raise BackupInvalid(member(entry.name), f"rows the database refuses: {reason}") from exc
        if engine.dialect.name == "postgresql":
            await _reset_sequences(conn)
        async with AsyncSession(conn) as session:  # in the restore's transaction: both or neither
            audit.record(
                session,
                origin,
                audit.Action.BACKUP_RESTORE,
                "database",
                file=name,
                created_at=manifest.created_at,
                source=manifest.source,
            )
            await session.flush()


async def _load(conn: AsyncConnection, table: Table, rows: Iterator[dict[str, Any]]) -> None:
    """Insert the rows in batches; a column referring to its own table is filled in afterwards (a parent ticket may
    come after its children)."""
    own = [c.name for c in table.columns if any(fk.column.table is table for fk in c.foreign_keys)]
    later: list[dict[str, Any]] = []
    batch: list[dict[str, Any]] = []
    for row in rows:
        if own and any(row[name] is not None for name in own):
            later.append({"_pk": row["id"], **{name: row[name] for name in own}})
            row = {**row, **dict.fromkeys(own)}
        batch.append(row)
        if len(batch) >= BATCH:
            await _insert(conn, table, batch)
            batch = []
    if batch:
        await _insert(conn, table, batch)
    for name in own:
        values = [r for r in later if r[name] is not None]
        if values:
            await conn.execute(
                update(table).where(table.c.id == bindparam("_pk")).values({name: bindparam("_value")}),
                [{"_pk": r["_pk"], "_value": r[name]} for r in values],
            )


async def _insert(conn: AsyncConnection, table: Table, batch: list[dict[str, Any]]) -> None:
    if conn.dialect.name == "postgresql" and table.name in partitions.PARTITIONED:
        await partitions.ensure(conn, table.name, {row["ts"].astimezone(UTC).date() for row in batch})
    await conn.execute(insert(table), batch)


async def _reset_sequences(conn: AsyncConnection) -> None:
    """Ids given explicitly do not advance PostgreSQL's sequences: the next row would collide with a restored one."""
    for table in tables():
        column = table.autoincrement_column
        if column is not None:
            newest = func.max(column)
            sequence = func.pg_get_serial_sequence(table.name, column.name)
            await conn.execute(select(func.setval(sequence, func.coalesce(newest, 1), newest.is_not(None))))
