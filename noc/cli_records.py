"""``noc retention``, ``noc documents`` and ``noc backup``: the records that must hold up in an audit.

Who acts is decided as for ``noc users`` (``--as`` an active admin, else the OS user); every audit row names the OS
user who ran the command.
"""

from __future__ import annotations

import argparse
from typing import Any

from noc import auth
from noc.audit import Action, Origin
from noc.cli_users import acting, run_as
from noc.records import retention
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


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``retention``, ``documents`` and ``backup`` to the ``noc`` command's subcommands."""
    ret = sub.add_parser("retention", help="destroy personal data whose retention has ended").add_subparsers(
        dest="retention_command", required=True
    )
    p = ret.add_parser("run", help="destroy what is due, with a destruction record and an audit row each")
    p.add_argument("--dry-run", action="store_true", help="list what would be destroyed, change nothing")
    p.set_defaults(func=cmd_retention_run)
    acting(p)
