"""``noc retention``, ``noc documents`` and ``noc backup``: the records that must hold up in an audit.

Who acts is decided as for ``noc users`` (``--as`` an active admin, else the OS user); every audit row names the OS
user who ran the command.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from noc import audit, auth, dbadmin
from noc.audit import Action, Origin
from noc.cli_users import acting, run_as
from noc.crypto import secret_box_for
from noc.db import create_engine
from noc.errors import InputError
from noc.records import backup, documents, retention
from noc.settings import Settings


def cmd_retention_run(settings: Settings, args: argparse.Namespace) -> int:
    days = settings.records.contacts_retention_days

    async def body(sessions: auth.Sessions, origin: Origin) -> int:
        outcome = await retention.run(sessions, origin, days, dry_run=args.dry_run)
        verb = "would destroy" if outcome.dry_run else "destroyed"
        print(f"rule {outcome.rule}")
        for item in outcome.due:
            print(
                f"{verb} {item.contacts} contact(s) of {item.account} "
                f"(contract {item.contract} ended {item.ended_on.isoformat()})"
            )
        total = sum(item.contacts for item in outcome.due)
        prefix = "dry run, nothing changed: " if outcome.dry_run else ""
        print(f"{prefix}{total} record(s) of {len(outcome.due)} account(s)")
        if not outcome.scrubbed:
            print("note: the database's WAL is in use; the freed pages are overwritten at its next checkpoint")
        return 0

    return run_as(settings, args, Action.RETENTION_DESTROY, "retention", body)


def cmd_retention_records(settings: Settings, args: argparse.Namespace) -> int:
    async def body(sessions: auth.Sessions, origin: Origin) -> int:
        async with sessions() as session:
            rows = await retention.destruction_records(session, args.limit)
        for r in rows:
            if args.json:
                print(
                    json.dumps(
                        {
                            "at": r.at.isoformat(),
                            "actor": r.actor,
                            "kind": r.kind,
                            "rule": r.rule,
                            "account": r.account,
                            "contract": r.contract,
                            "ended_on": r.ended_on,
                            "records": r.records,
                            "fields": r.fields,
                        }
                    )
                )
                continue
            print(
                f"{r.at:%Y-%m-%d %H:%M:%S}Z {r.actor:10} destroyed {r.records} {r.kind} ({r.fields}) of {r.account}, "
                f"contract {r.contract} ended {r.ended_on}; rule: {r.rule}"
            )
        if not rows and not args.json:
            print("nothing destroyed yet")
        return 0

    return run_as(settings, args, None, "retention", body)


def cmd_documents_attach(settings: Settings, args: argparse.Namespace) -> int:
    try:
        content = args.file.read_bytes()
    except OSError as exc:
        raise InputError(f"{args.file}: cannot read: {exc.strerror}") from exc

    async def body(sessions: auth.Sessions, origin: Origin) -> int:
        info = await documents.attach(
            sessions, origin, args.contract, args.file.name, content, settings.records, args.archive_ref
        )
        print(f"stored {info.contract} version {info.version}: {info.filename} ({info.size_bytes} bytes)")
        print(f"sha256 {info.sha256}")
        return 0

    return run_as(settings, args, Action.DOCUMENT_ATTACH, documents.subject(args.contract), body)


def _document_json(info: documents.DocumentInfo) -> str:
    return json.dumps(
        {
            "contract": info.contract,
            "version": info.version,
            "filename": info.filename,
            "media_type": info.media_type,
            "size_bytes": info.size_bytes,
            "sha256": info.sha256,
            "archive_ref": info.archive_ref,
            "stored_at": info.stored_at.isoformat(),
            "stored_by": info.stored_by,
            "tampered_at": info.tampered_at.isoformat() if info.tampered_at else None,
        }
    )


def cmd_documents_list(settings: Settings, args: argparse.Namespace) -> int:
    async def body(sessions: auth.Sessions, origin: Origin) -> int:
        async with sessions() as session:
            found = await documents.list_documents(session, args.contract)
        for info in found:
            if args.json:
                print(_document_json(info))
                continue
            flag = f"  TAMPERED (found {info.tampered_at:%Y-%m-%d %H:%M}Z)" if info.tampered_at else ""
            print(
                f"v{info.version:<3} {info.stored_at:%Y-%m-%d %H:%M}Z {info.stored_by:12} {info.filename} "
                f"{info.size_bytes} bytes sha256 {info.sha256}{flag}"
            )
        if not found and not args.json:
            print(f"contract {args.contract} has no documents")
        return 0

    return run_as(settings, args, None, documents.subject(args.contract), body)


def cmd_documents_fetch(settings: Settings, args: argparse.Namespace) -> int:
    async def body(sessions: auth.Sessions, origin: Origin) -> int:
        info, content = await documents.fetch(sessions, origin, args.contract, args.version)
        args.output.write_bytes(content)
        print(f"wrote {args.output}: {info.contract} version {info.version} ({info.size_bytes} bytes, sha256 verified)")
        return 0

    return run_as(settings, args, None, documents.subject(args.contract), body)


def _os_origin() -> Origin:
    """Backups are made and restored by whoever runs the command on the machine (a new database has no users)."""
    me = audit.os_user()
    return Origin(me, "", "cli", me)


def cmd_backup_create(settings: Settings, args: argparse.Namespace) -> int:
    async def main() -> int:
        engine = create_engine(settings.database_url)
        try:
            await dbadmin.require_current(engine)
            manifest = await backup.create(engine, args.file, _os_origin(), secret_box_for(settings))
        finally:
            await engine.dispose()
        rows = sum(t.rows for t in manifest.tables)
        print(
            f"wrote {args.file}: {len(manifest.tables)} tables, {rows} rows, {len(manifest.documents)} documents, "
            f"schema {manifest.revision}"
        )
        return 0

    return asyncio.run(main())


def _summary(manifest: backup.Manifest) -> str:
    rows = sum(t.rows for t in manifest.tables)
    return (
        f"{len(manifest.tables)} tables, {rows} rows, {len(manifest.documents)} documents (hashes verified), "
        f"schema {manifest.revision}, made {manifest.created_at} on {manifest.source}"
    )


def cmd_backup_verify(settings: Settings, args: argparse.Namespace) -> int:
    print(f"{args.file}: intact: {_summary(backup.verify(args.file, secret_box_for(settings)))}")
    return 0


def cmd_backup_restore(settings: Settings, args: argparse.Namespace) -> int:
    async def main() -> int:
        engine = create_engine(settings.database_url)
        try:
            manifest = await backup.restore(engine, args.file, _os_origin(), secret_box_for(settings))
        finally:
            await engine.dispose()
        print(f"restored {args.file}: {_summary(manifest)}")
        return 0

    return asyncio.run(main())


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``retention``, ``documents`` and ``backup`` to the ``noc`` command's subcommands."""
    ret = sub.add_parser("retention", help="destroy personal data whose retention has ended").add_subparsers(
        dest="retention_command", required=True
    )
    p = ret.add_parser("run", help="destroy what is due, with a destruction record and an audit row each")
    p.add_argument("--dry-run", action="store_true", help="list what would be destroyed, change nothing")
    p.set_defaults(func=cmd_retention_run)
    acting(p)
    p = ret.add_parser("records", help="the destruction records, newest first (what went, never a value)")
    p.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    p.add_argument("--json", action="store_true", help="one JSON object per record")
    p.set_defaults(func=cmd_retention_records)
    acting(p)

    docs = sub.add_parser("documents", help="contract documents, stored with their SHA-256").add_subparsers(
        dest="documents_command", required=True
    )
    p = docs.add_parser("attach", help="store a contract's document (the signed PDF, a scan) as its next version")
    p.add_argument("contract")
    p.add_argument("file", type=Path)
    p.add_argument("--archive-ref", default="", help="where the paper original is registered")
    p.set_defaults(func=cmd_documents_attach)
    acting(p)
    p = docs.add_parser("list", help="a contract's documents, newest first, with their hashes")
    p.add_argument("contract")
    p.add_argument("--json", action="store_true", help="one JSON object per document")
    p.set_defaults(func=cmd_documents_list)
    acting(p)
    p = docs.add_parser("fetch", help="write a document to a file after verifying its hash (a tampered one is refused)")
    p.add_argument("contract")
    p.add_argument("--version", type=int, help="this version (default: the newest)")
    p.add_argument("--output", type=Path, required=True, help="the file to write")
    p.set_defaults(func=cmd_documents_fetch)
    acting(p)

    bak = sub.add_parser("backup", help="the whole database in a portable file, and back").add_subparsers(
        dest="backup_command", required=True
    )
    p = bak.add_parser("create", help="write a consistent backup (tables, documents, manifest with hashes) to FILE")
    p.add_argument("file", type=Path)
    p.set_defaults(func=cmd_backup_create)
    p = bak.add_parser("verify", help="check FILE completely (hashes, row counts, schema revision); writes nothing")
    p.add_argument("file", type=Path)
    p.set_defaults(func=cmd_backup_verify)
    p = bak.add_parser("restore", help="restore FILE into the configured database, which must be new and empty")
    p.add_argument("file", type=Path)
    p.set_defaults(func=cmd_backup_restore)
