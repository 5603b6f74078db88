"""``noc users ...``: passwords, API tokens, sign-in delays and activation; ``noc audit``: the audit, for admins.

A token is printed once, when issued; only its SHA-256 is stored, so a lost token is revoked and a new one issued.
A password is read from standard input when it is not a terminal (scripts: ``echo "$PW" | noc users set-password
ada``), else prompted for twice without echo; it never appears in the process list or the shell history.

Who acts: the user named by ``--as`` (or ``$NOC_USER``), who must be an active admin (else the attempt is refused
and audited), or, when none is named, the OS account running the command. Every audit row written from here names
the OS user beside the claimed one (``noc.audit.cli_sessions``).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select

from noc import audit, auth, dbadmin
from noc import models as m
from noc.audit import Action, Origin
from noc.db import create_engine
from noc.errors import InputError
from noc.settings import Settings

Body = Callable[[auth.Sessions, Origin], Awaitable[int]]


class Refused(InputError):
    """The claimed user may not do this (recorded in the audit)."""


async def _origin(sessions: auth.Sessions, claimed: str | None, action: Action | None, subject: str) -> Origin:
    """Who acts: the OS user, or the claimed user if they are an active admin; a refusal is audited."""
    me = audit.os_user()
    if not claimed:
        return Origin(me, "", "cli", me)
    async with sessions() as session:
        found = (await session.execute(select(m.User.role, m.User.active).where(m.User.username == claimed))).first()
    role = found[0] if found else ""
    origin = Origin(claimed, role, "cli", me)
    if found is None or not found[1] or role != "admin":
        why = f"{claimed} is not an active admin"
        if action is not None:  # an attempt at an audited act
            await auth.refuse(sessions, origin, action, subject, why)
        raise Refused(f"--as: {why}: refused (recorded in the audit)")
    return origin


def run_as(settings: Settings, args: argparse.Namespace, action: Action | None, subject: str, body: Body) -> int:
    claimed: str | None = args.as_user or os.environ.get("NOC_USER")

    async def main() -> int:
        engine = create_engine(settings.database_url)
        try:
            await dbadmin.require_current(engine)
            sessions = audit.cli_sessions(engine)
            return await body(sessions, await _origin(sessions, claimed, action, subject))
        finally:
            await engine.dispose()

    return asyncio.run(main())


def _read_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("new password: ")
    if getpass.getpass("again: ") != first:
        raise InputError("the two passwords differ; nothing changed")
    return first


def cmd_set_password(settings: Settings, args: argparse.Namespace) -> int:
    password = _read_password()

    async def body(sessions: auth.Sessions, origin: Origin) -> int:
        await auth.set_password(sessions, args.user, password, origin=origin)
        print(f"password set for {args.user} (sign-in delays on the name cleared)")
        return 0

    return run_as(settings, args, Action.PASSWORD_SET, args.user, body)


def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    async def body(sessions: auth.Sessions, origin: Origin) -> int:
        token = await auth.issue_token(sessions, args.user, args.name, origin=origin)
        print(f"# API token {args.name!r} for {args.user}; shown this once, store it now", file=sys.stderr)
        print(token)
        return 0

    return run_as(settings, args, Action.TOKEN_ISSUE, args.user, body)


def cmd_tokens(settings: Settings, args: argparse.Namespace) -> int:
    async def body(sessions: auth.Sessions, origin: Origin) -> int:
        for t in await auth.list_tokens(sessions, args.user):
            used = f"{t.last_used_at:%Y-%m-%d %H:%M}Z" if t.last_used_at else "never"
            print(f"{t.name:<24} {t.prefix}…  created {t.created_at:%Y-%m-%d %H:%M}Z  last used {used}")
        return 0

    return run_as(settings, args, None, args.user, body)


def cmd_revoke(settings: Settings, args: argparse.Namespace) -> int:
    if (args.name is None) == (not args.all):
        raise InputError("revoke: name one token (--name) or all of them (--all)")

    async def body(sessions: auth.Sessions, origin: Origin) -> int:
        count = await auth.revoke_tokens(sessions, args.user, args.name, origin=origin)
        print(f"revoked {count} token(s) of {args.user}")
        return 0 if count else 1

    return run_as(settings, args, Action.TOKEN_REVOKE, args.user, body)


def cmd_unlock(settings: Settings, args: argparse.Namespace) -> int:
    async def body(sessions: auth.Sessions, origin: Origin) -> int:
        count = await auth.unlock(sessions, args.user, origin=origin)
        print(f"{args.user}: {count} failed sign-in attempt(s) forgotten, no delay left")
        return 0

    return run_as(settings, args, Action.SIGNIN_UNLOCK, args.user, body)


def _cmd_set_active(active: bool) -> Callable[[Settings, argparse.Namespace], int]:
    action = Action.USER_ACTIVATE if active else Action.USER_DEACTIVATE

    def command(settings: Settings, args: argparse.Namespace) -> int:
        async def body(sessions: auth.Sessions, origin: Origin) -> int:
            changed = await auth.set_active(sessions, args.user, active, origin=origin)
            state = "active" if active else "inactive"
            print(f"{args.user} is {state}" + ("" if changed else " (already)"))
            return 0

        return run_as(settings, args, action, args.user, body)

    return command


def cmd_audit(settings: Settings, args: argparse.Namespace) -> int:
    options = {name: str(value) for name in audit.FILTER_NAMES if (value := getattr(args, name, None)) is not None}
    try:
        filters = audit.filters_from(options)
    except audit.FilterError as exc:
        raise InputError(f"--{exc}") from exc
    action = Action.AUDIT_EXPORT if args.csv else Action.AUDIT_READ

    async def body(sessions: auth.Sessions, origin: Origin) -> int:
        async with sessions() as session:
            rows = await audit.read(session, origin, filters, export=args.csv)
        if args.csv:
            sys.stdout.write(audit.to_csv(rows))
            return 0
        for r in rows:
            who = r.actor + (f" (os: {r.os_user})" if r.os_user and r.os_user != r.actor else "")
            where = f" from {r.client}" if r.client else ""
            print(
                f"{r.at:%Y-%m-%d %H:%M:%S}Z {r.action:<20} {r.outcome:<8} {who}{where} via {r.via or '-'}: {r.subject}"
            )
        return 0

    return run_as(settings, args, action, "audit", body)


def acting(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as", dest="as_user", metavar="USERNAME", help="act as this admin (default: $NOC_USER, else the OS user)"
    )


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``users`` and ``audit`` to the ``noc`` command's subcommands."""
    users = sub.add_parser("users", help="passwords, API tokens, sign-in delays, activation").add_subparsers(
        dest="users_command", required=True
    )
    p = users.add_parser("set-password", help="set a user's password (stdin, or a prompt on a terminal)")
    p.add_argument("user")
    p.set_defaults(func=cmd_set_password)
    acting(p)
    p = users.add_parser("token", help="issue an API token and print it, once")
    p.add_argument("user")
    p.add_argument("--name", default="default", help="tells a user's tokens apart (default: default)")
    p.set_defaults(func=cmd_token)
    acting(p)
    p = users.add_parser("tokens", help="list a user's tokens (names and prefixes, never the tokens)")
    p.add_argument("user")
    p.set_defaults(func=cmd_tokens)
    acting(p)
    p = users.add_parser("revoke", help="revoke a user's token by name, or all of them")
    p.add_argument("user")
    p.add_argument("--name")
    p.add_argument("--all", action="store_true")
    p.set_defaults(func=cmd_revoke)
    acting(p)
    p = users.add_parser("unlock", help="forget a user's failed sign-ins from every address (no delay left)")
    p.add_argument("user")
    p.set_defaults(func=cmd_unlock)
    acting(p)
    for name, active in (("activate", True), ("deactivate", False)):
        p = users.add_parser(name, help=f"{name} a user (deactivating ends their sessions and tokens' use)")
        p.add_argument("user")
        p.set_defaults(func=_cmd_set_active(active))
        acting(p)

    p = sub.add_parser("audit", help="the audit (admins): who did what, refused attempts too; reading is audited")
    p.add_argument("--action", choices=audit.ACTIONS)
    p.add_argument("--actor")
    p.add_argument("--subject", help="the user, account ... acted on")
    p.add_argument("--outcome", choices=audit.OUTCOMES)
    p.add_argument("--since", help="ISO 8601 instant with zone, e.g. 2026-11-30T00:00Z")
    p.add_argument("--until", help="ISO 8601 instant with zone (exclusive)")
    p.add_argument("--limit", default="100", help=f"at most this many rows, newest first (<= {audit.MAX_ROWS})")
    p.add_argument("--csv", action="store_true", help="CSV to stdout (an export: audited as such)")
    p.set_defaults(func=cmd_audit)
    acting(p)
