"""``noc users``: a password set from standard input, a token printed once and usable, revoked by name."""

from __future__ import annotations

import asyncio
import io

import pytest
from sqlalchemy import select

from noc import auth
from noc import models as m
from noc.cli import main
from noc.db import create_engine, session_factory
from tests.conftest import EXAMPLE_INVENTORY


async def _read(url: str, token: str) -> tuple[auth.Principal | None, str | None]:
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        async with sessions() as session:
            stored = await session.scalar(select(m.User.password_hash).where(m.User.username == "nina"))
        return await auth.principal_for_token(sessions, token), stored
    finally:
        await engine.dispose()


def test_users_commands(
    sqlite_url: str, secret_key: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NOC_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("NOC_SECRET_KEY", secret_key)
    assert main(["db", "upgrade"]) == 0
    assert main(["inventory", "import", str(EXAMPLE_INVENTORY)]) == 0
    capsys.readouterr()

    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery\n"))
    assert main(["users", "set-password", "nina"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["users", "set-password", "nina"]) == 2
    assert "at least" in capsys.readouterr().err

    assert main(["users", "token", "nina", "--name", "laptop"]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith(auth.TOKEN_PREFIX)
    assert main(["users", "token", "nina", "--name", "laptop"]) == 2  # one token per name
    assert "already has a token" in capsys.readouterr().err

    principal, stored = asyncio.run(_read(sqlite_url, token))
    assert principal == auth.Principal("nina", "noc")
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert auth.verify_password(stored, "correct horse battery")
    assert not auth.verify_password(stored, "wrong horse battery")

    assert main(["users", "tokens", "nina"]) == 0
    listing = capsys.readouterr().out
    assert "laptop" in listing
    assert token not in listing
    assert main(["users", "revoke", "nina"]) == 2  # neither a name nor --all
    assert main(["users", "revoke", "nina", "--name", "laptop"]) == 0
    assert asyncio.run(_read(sqlite_url, token))[0] is None
    assert main(["users", "revoke", "nina", "--all"]) == 1  # nothing left to revoke
    assert main(["users", "token", "nobody"]) == 2
