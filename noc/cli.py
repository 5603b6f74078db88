"""The ``noc`` command. Exit codes: 0 ok, 1 operational failure, 2 bad input (nothing changed)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from noc import audit, cli_reviews, cli_tickets, cli_users, dbadmin, i18n, secretstore
from noc.crypto import generate_key, secret_box_for
from noc.db import create_engine, is_transient, session_factory
from noc.errors import InputError, NocError, OperationalError
from noc.flow.bus import dead_letter_json
from noc.flow.connect import open_bus
from noc.inventory import service as inventory
from noc.logsafe import configure_logging
from noc.models import ChangeRecord, KeyAccount
from noc.settings import Settings, load_settings
from noc.timeutil import utcnow

log = logging.getLogger("noc.cli")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(f"{self.prog}: {message}")


async def _with_engine(settings: Settings, body: Callable[[AsyncEngine], Awaitable[int]]) -> int:
    engine = create_engine(settings.database_url)
    try:
        return await body(engine)
    finally:
        await engine.dispose()


# --- commands ------------------------------------------------------------------------------------------------


def cmd_db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    async def body(engine: AsyncEngine) -> int:
        await dbadmin.upgrade(engine)
        print(f"database at revision {await dbadmin.current_revision(engine)}")
        return 0

    return asyncio.run(_with_engine(settings, body))


def cmd_db_current(settings: Settings, args: argparse.Namespace) -> int:
    async def body(engine: AsyncEngine) -> int:
        current, head = await dbadmin.current_revision(engine), dbadmin.head_revision()
        print(f"current {current or '-'}  head {head}")
        return 0 if current == head else 1

    return asyncio.run(_with_engine(settings, body))


def cmd_inventory_validate(settings: Settings, args: argparse.Namespace) -> int:
    doc = inventory.validate_file(args.file)
    counts = ", ".join(f"{len(getattr(doc, k))} {k}" for k in type(doc).model_fields if k != "version")
    print(f"{args.file}: valid ({counts})")
    return 0


def cmd_inventory_import(settings: Settings, args: argparse.Namespace) -> int:
    box = secret_box_for(settings)

    async def body(engine: AsyncEngine) -> int:
        await dbadmin.require_current(engine)
        report = await inventory.import_file(audit.cli_sessions(engine), box, args.file, args.actor, args.dry_run)
        if args.json:
            print(json.dumps([c.__dict__ | {"changed_fields": list(c.changed_fields)} for c in report.changes]))
            return 0
        for kind, counts in report.by_kind().items():
            if sum(counts.values()):
                print(
                    f"{kind:14} {counts['created']:4} created {counts['updated']:4} updated "
                    f"{counts['unchanged']:4} unchanged"
                )
        for change in report.changes:
            if change.action == "updated":
                print(f"  updated {change.kind[:-1]} {change.name}: {', '.join(change.changed_fields)}")
        prefix = "dry run, nothing written: " if args.dry_run else ""
        print(
            f"{prefix}{report.count('created')} created, {report.count('updated')} updated, "
            f"{report.count('unchanged')} unchanged"
        )
        return 0

    return asyncio.run(_with_engine(settings, body))


def cmd_inventory_export(settings: Settings, args: argparse.Namespace) -> int:
    box = secret_box_for(settings)

    async def body(engine: AsyncEngine) -> int:
        await dbadmin.require_current(engine)
        sys.stdout.write(await inventory.export_yaml(session_factory(engine), box))
        return 0

    return asyncio.run(_with_engine(settings, body))


def cmd_history(settings: Settings, args: argparse.Namespace) -> int:
    async def body(engine: AsyncEngine) -> int:
        await dbadmin.require_current(engine)
        query = select(ChangeRecord).order_by(ChangeRecord.id.desc()).limit(args.limit)
        if args.entity:
            query = query.where(ChangeRecord.entity == args.entity)
        if args.name:
            query = query.where(ChangeRecord.entity_name == args.name)
        async with session_factory(engine)() as session:
            rows = (await session.scalars(query)).all()
        for row in rows:
            if args.json:
                print(
                    json.dumps(
                        {
                            "at": row.at.isoformat(),
                            "actor": row.actor,
                            "entity": row.entity,
                            "name": row.entity_name,
                            "action": row.action,
                            "changed_fields": row.changed_fields,
                            "before": row.before,
                            "after": row.after,
                        },
                        default=str,
                    )
                )
                continue
            print(f"{row.at:%Y-%m-%d %H:%M:%S}Z {row.actor:12} {row.action:8} {row.entity[:-1]} {row.entity_name}")
            for name in row.changed_fields if row.action == "updated" else ():
                before, after = _dig(row.before, name), _dig(row.after, name)
                print(f"    {name}: {json.dumps(before, default=str)} -> {json.dumps(after, default=str)}")
        return 0

    return asyncio.run(_with_engine(settings, body))


def _dig(doc: dict[str, Any] | None, dotted: str) -> Any:
    node: Any = doc or {}
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def cmd_secrets_generate_key(settings: Settings, args: argparse.Namespace) -> int:
    print(generate_key())
    return 0


def cmd_secrets_rotate(settings: Settings, args: argparse.Namespace) -> int:
    box = secret_box_for(settings)
    if box.key_count < 2:
        log.warning("only one key is configured: rotation re-encrypts under the same key")

    async def body(engine: AsyncEngine) -> int:
        await dbadmin.require_current(engine)
        async with session_factory(engine)() as session:
            count = await secretstore.rotate(session, box)
            await session.commit()
        print(f"re-encrypted {count} stored secrets under the first key; older keys can now be removed")
        return 0

    return asyncio.run(_with_engine(settings, body))


def cmd_poll(settings: Settings, args: argparse.Namespace) -> int:
    from noc.polling import run_poll  # collectors (pysnmp, netmiko) are only loaded for polling

    box = secret_box_for(settings)

    async def body(engine: AsyncEngine) -> int:
        await dbadmin.require_current(engine)
        interval = args.interval if args.interval is not None else settings.poller.interval_s
        return await run_poll(
            session_factory(engine), box, settings, args.cycles, interval, args.device or None, args.json
        )

    return asyncio.run(_with_engine(settings, body))


def cmd_bus_dead_letters(settings: Settings, args: argparse.Namespace) -> int:
    """Messages a consumer set aside after failing on them (the configured bus: the spill directory or Redis)."""

    async def body() -> int:
        bus = open_bus(settings.bus, "noc-cli")
        try:
            letters = await bus.dead_letters(args.limit)
        finally:
            await bus.close()
        for letter in letters:
            if args.json:
                print(json.dumps(dead_letter_json(letter)))
            else:
                print(f"{letter.at:%Y-%m-%d %H:%M:%S}Z {letter.group:10} {letter.key}: {letter.reason}")
        if not letters and not args.json:
            print("no dead letters")
        return 0

    return asyncio.run(body())


def cmd_discover(settings: Settings, args: argparse.Namespace) -> int:
    from noc.polling import run_discover

    box = secret_box_for(settings)

    async def body(engine: AsyncEngine) -> int:
        await dbadmin.require_current(engine)
        return await run_discover(session_factory(engine), box, settings.poller, args.device or None, args.json)

    return asyncio.run(_with_engine(settings, body))


def cmd_sla_report(settings: Settings, args: argparse.Namespace) -> int:
    from noc.store.reports import build_report, daily_series
    from sla.documents.customer_pdf import audience_pdf
    from sla.documents.tables import render_csv, render_json
    from sla.errors import SlaError
    from sla.period import parse_month

    try:
        year, month = parse_month(args.month)
    except SlaError as exc:
        raise InputError(f"--month: {exc}") from exc
    if args.audience == "customer" and args.format != "pdf":
        raise InputError("--format: the customer's copy is a PDF (--format pdf --output FILE)")
    if args.format == "pdf" and args.output is None:
        raise InputError("--output: a PDF needs a file to go to")

    async def body(engine: AsyncEngine) -> int:
        await dbadmin.require_current(engine)
        now = utcnow()
        async with session_factory(engine)() as session:
            report, contract = await build_report(session, args.contract, year, month, as_of=now)
            series = await daily_series(session, contract.id, report)
            account = await session.get(KeyAccount, contract.account_id)
        assert account is not None  # a contract's account is a foreign key
        if args.format == "json":
            data: bytes = render_json(report, series).encode()
        elif args.format == "csv":
            data = render_csv(report).encode()
        else:
            with i18n.speaking(args.language if args.audience == "customer" else i18n.SOURCE):
                data = audience_pdf(
                    args.audience,
                    report,
                    series,
                    legal_name=account.legal_name,
                    account_tier=account.tier,
                    generated_at=now,
                )
        if args.output:
            args.output.write_bytes(data)
            print(f"wrote {args.output} ({len(data)} bytes)")
        else:
            sys.stdout.write(data.decode())
        return 0

    return asyncio.run(_with_engine(settings, body))


def cmd_sla_status(settings: Settings, args: argparse.Namespace) -> int:
    from noc.store.sla import open_breaches

    async def body(engine: AsyncEngine) -> int:
        await dbadmin.require_current(engine)
        async with session_factory(engine)() as session:
            breaches = await open_breaches(session)
        if args.json:
            for row, circuit in breaches:
                print(
                    json.dumps(
                        {
                            "circuit": circuit,
                            "objective": row.objective,
                            "measured": row.measured,
                            "limit": row.limit,
                            "since": row.since.isoformat(),
                        }
                    )
                )
            return 0
        if not breaches:
            print("no active breaches")
        for row, circuit in breaches:
            print(
                f"{row.since:%Y-%m-%d %H:%M}Z  {circuit:20} {row.objective:14} measured {row.measured:g} "
                f"limit {row.limit:g}"
            )
        return 0

    return asyncio.run(_with_engine(settings, body))


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from noc.app import serve  # the web stack is only loaded for serving

    port = settings.web.port if args.port is None else args.port
    if args.no_poller:
        settings = settings.model_copy(update={"poller": settings.poller.model_copy(update={"enabled": False})})
    return serve(settings, args.host or settings.web.host, port, args.workers)


def cmd_poller(settings: Settings, args: argparse.Namespace) -> int:
    from noc.poller import run_poller  # the poller and its web stack are only loaded for polling

    if args.name is not None:
        settings = settings.model_copy(update={"poller": settings.poller.model_copy(update={"name": args.name})})
    return run_poller(settings, args.host, args.port)


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from noc import demo  # the simulators and the web stack are only loaded for the demo

    port = settings.web.port if args.port is None else args.port
    return demo.run(settings, demo.DemoOptions(args.dir, port, args.fault_after))


# --- parser --------------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="noc", description="Network operations and fault ticketing.")
    parser.add_argument("--config", type=Path, help="YAML settings file (default: $NOC_CONFIG)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="create or migrate the schema to this version").set_defaults(func=cmd_db_upgrade)
    db.add_parser("current", help="show the schema revision (exit 1 if behind)").set_defaults(func=cmd_db_current)

    inv = sub.add_parser("inventory", help="inventory as code").add_subparsers(dest="inv_command", required=True)
    p = inv.add_parser("validate", help="check a file without touching the database")
    p.add_argument("file", type=Path)
    p.set_defaults(func=cmd_inventory_validate)
    p = inv.add_parser("import", help="apply a file (one transaction; idempotent)")
    p.add_argument("file", type=Path)
    p.add_argument("--actor", default=f"cli:{getpass.getuser()}", help="who is recorded in the history")
    p.add_argument("--dry-run", action="store_true", help="report what would change, write nothing")
    p.add_argument("--json", action="store_true", help="one JSON list of changes")
    p.set_defaults(func=cmd_inventory_import)
    inv.add_parser("export", help="write the inventory as YAML to stdout (secrets masked)").set_defaults(
        func=cmd_inventory_export
    )

    p = sub.add_parser("history", help="who changed what, when, before and after")
    p.add_argument(
        "--entity",
        choices=[
            "users",
            "snmp_profiles",
            "ssh_profiles",
            "technicians",
            "devices",
            "accounts",
            "contracts",
            "circuits",
        ],
    )
    p.add_argument("--name", help="one entity's name")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_history)

    sec = sub.add_parser("secrets", help="secret keys").add_subparsers(dest="secrets_command", required=True)
    sec.add_parser("generate-key", help="print a new key").set_defaults(func=cmd_secrets_generate_key)
    sec.add_parser("rotate", help="re-encrypt every stored secret under the first key").set_defaults(
        func=cmd_secrets_rotate
    )

    p = sub.add_parser("poll", help="poll devices and probe circuits now; store and print what was measured")
    p.add_argument("--cycles", type=int, default=1, help="how many cycles (default 1)")
    p.add_argument("--interval", type=float, help="seconds between cycle starts (default: poller.interval_s)")
    p.add_argument("--device", action="append", help="only this device (repeatable)")
    p.add_argument("--json", action="store_true", help="one JSON object per line: device, interface, probe")
    p.set_defaults(func=cmd_poll)

    bus = sub.add_parser("bus", help="the measurement path's bus").add_subparsers(dest="bus_command", required=True)
    p = bus.add_parser("dead-letters", help="messages a consumer set aside after failing on them, newest last")
    p.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    p.add_argument("--json", action="store_true", help="one JSON object per line, with the message itself")
    p.set_defaults(func=cmd_bus_dead_letters)

    p = sub.add_parser("discover", help="walk system group and IF-MIB now; store and list the interfaces")
    p.add_argument("--device", action="append", help="only this device (repeatable)")
    p.add_argument("--json", action="store_true", help="one JSON object per interface")
    p.set_defaults(func=cmd_discover)

    sla = sub.add_parser("sla", help="SLA reports and live breaches").add_subparsers(dest="sla_command", required=True)
    p = sla.add_parser("report", help="a contract's monthly report (month in progress: up to now)")
    p.add_argument("--contract", required=True)
    p.add_argument("--month", required=True, help="YYYY-MM, cut at the contract's local month boundaries")
    p.add_argument("--format", choices=["json", "csv", "pdf"], default="json")
    p.add_argument("--output", type=Path, help="file to write (required for pdf)")
    p.add_argument(
        "--audience",
        choices=["internal", "customer"],  # sla.customer.AUDIENCES (sla loads with the command, not here)
        default="internal",
        help="internal: every detail (the NOC's); customer: the customer's copy to send (a PDF)",
    )
    p.add_argument(
        "--language",
        choices=list(i18n.LANGUAGES),
        default=i18n.DEFAULT,
        help="the customer's copy's language (default zh-CN; the internal copy is in English)",
    )
    p.set_defaults(func=cmd_sla_report)
    p = sla.add_parser("status", help="breaches open now")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sla_status)

    p = sub.add_parser("serve", help="run the web app (API, pages, /metrics)")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        choices=range(1, 65),
        metavar="N",
        help="web processes on the same port (the first also polls); default 1",
    )
    p.add_argument(
        "--no-poller",
        action="store_true",
        help="poll nothing here (noc poller processes do): web app, store, SLA engine and ticket rules only",
    )
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("poller", help="one member of a poller fleet (needs bus.url: redis://...)")
    p.add_argument("--host", default="127.0.0.1", help="address of its /metrics and /healthz (127.0.0.1)")
    p.add_argument("--port", type=int, default=9465, help="port of its /metrics and /healthz (9465)")
    p.add_argument("--name", help="its name in the fleet (default: poller.name, else the host name)")
    p.set_defaults(func=cmd_poller)
    p = sub.add_parser("demo", help="the example operator on simulated routers on loopback, a fault after a minute")
    p.add_argument("--dir", type=Path, default=Path("demo"), help="working directory: database, key, logs (./demo)")
    p.add_argument("--port", type=int, help="web port (default: web.port; 0 picks a free one)")
    p.add_argument("--fault-after", type=float, default=60.0, help="seconds before the fault (default 60)")
    p.set_defaults(func=cmd_demo)
    cli_tickets.register(sub)
    cli_users.register(sub)
    cli_reviews.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        settings = load_settings(args.config)
        configure_logging("DEBUG" if args.verbose else settings.log_level)
        code: int = args.func(settings, args)
        return code
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (OperationalError, NocError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        if not is_transient(exc):
            raise
        # a database that is away, read-only or full: one line, not a traceback
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        print(f"error: the database cannot be written or reached: {reason}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def entry(argv: Sequence[str] | None = None) -> Any:
    sys.exit(main(argv))
