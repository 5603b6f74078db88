"""``noc users ...``: passwords for the login page and API tokens for the REST API.

A token is printed once, when issued; only its SHA-256 is stored, so a lost token is revoked and a new one issued.
A password is read from standard input when it is not a terminal (scripts: ``echo "$PW" | noc users set-password
ada``), else prompted for twice without echo; it never appears in the process list or the shell history.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from noc import auth, dbadmin
from noc.db import create_engine, session_factory
from noc.errors import InputError
from noc.settings import Settings

Body = Callable[[auth.Sessions], Awaitable[int]]


def _run(settings: Settings, body: Body) -> int:
    async def main() -> int:
        engine = create_engine(settings.database_url)
        try:
            await dbadmin.require_current(engine)
            return await body(session_factory(engine))
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

    async def body(sessions: auth.Sessions) -> int:
        await auth.set_password(sessions, args.user, password)
        print(f"password set for {args.user}")
        return 0

    return _run(settings, body)


def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    async def body(sessions: auth.Sessions) -> int:
        token = await auth.issue_token(sessions, args.user, args.name)
        print(f"# API token {args.name!r} for {args.user}; shown this once, store it now", file=sys.stderr)
        print(token)
        return 0

    return _run(settings, body)


def cmd_tokens(settings: Settings, args: argparse.Namespace) -> int:
    async def body(sessions: auth.Sessions) -> int:
        for t in await auth.list_tokens(sessions, args.user):
            used = f"{t.last_used_at:%Y-%m-%d %H:%M}Z" if t.last_used_at else "never"
            print(f"{t.name:<24} {t.prefix}…  created {t.created_at:%Y-%m-%d %H:%M}Z  last used {used}")
        return 0

    return _run(settings, body)


def cmd_revoke(settings: Settings, args: argparse.Namespace) -> int:
    if (args.name is None) == (not args.all):
        raise InputError("revoke: name one token (--name) or all of them (--all)")

    async def body(sessions: auth.Sessions) -> int:
        count = await auth.revoke_tokens(sessions, args.user, args.name)
        print(f"revoked {count} token(s) of {args.user}")
        return 0 if count else 1

    return _run(settings, body)


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``users`` to the ``noc`` command's subcommands."""
    users = sub.add_parser("users", help="passwords and API tokens").add_subparsers(dest="users_command", required=True)
    p = users.add_parser("set-password", help="set a user's password (stdin, or a prompt on a terminal)")
    p.add_argument("user")
    p.set_defaults(func=cmd_set_password)
    p = users.add_parser("token", help="issue an API token and print it, once")
    p.add_argument("user")
    p.add_argument("--name", default="default", help="tells a user's tokens apart (default: default)")
    p.set_defaults(func=cmd_token)
    p = users.add_parser("tokens", help="list a user's tokens (names and prefixes, never the tokens)")
    p.add_argument("user")
    p.set_defaults(func=cmd_tokens)
    p = users.add_parser("revoke", help="revoke a user's token by name, or all of them")
    p.add_argument("user")
    p.add_argument("--name")
    p.add_argument("--all", action="store_true")
    p.set_defaults(func=cmd_revoke)
