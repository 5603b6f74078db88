"""The audit: every audited act leaves exactly one row (refused attempts too), the table refuses UPDATE and DELETE
on both databases, the CLI's rows name the real OS user beside the claimed one, and the readers (API, page, CLI)
list, filter and export, each read itself audited."""

from __future__ import annotations

import asyncio
import csv
import getpass
import io
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from noc import audit, auth
from noc import models as m
from noc.cli import main
from noc.crypto import SecretBox
from noc.db import create_engine, session_factory
from noc.inventory import service as inventory
from noc.settings import Settings
from tests.api.conftest import Api
from tests.conftest import EXAMPLE_INVENTORY
from tickets.errors import Refused
from tickets.service import TicketService

RULES = auth.Throttle(per_minute=100, free_failures=1, base_s=60.0, max_s=60.0)


async def _rows(sessions: async_sessionmaker[AsyncSession]) -> list[m.AuditEvent]:
    async with sessions() as session:
        return list(await session.scalars(select(m.AuditEvent).order_by(m.AuditEvent.id)))


async def _new_rows(sessions: async_sessionmaker[AsyncSession], since: int) -> list[tuple[str, str, str]]:
    return [(r.action, r.outcome, r.subject) for r in await _rows(sessions) if r.id > since]


async def _last_id(sessions: async_sessionmaker[AsyncSession]) -> int:
    rows = await _rows(sessions)
    return rows[-1].id if rows else 0


async def test_every_audited_act_leaves_exactly_one_row(
    engine: object, sessions: async_sessionmaker[AsyncSession], box: SecretBox
) -> None:
    await inventory.import_file(sessions, box, EXAMPLE_INVENTORY, "test")
    service = TicketService(sessions, Settings().tickets, box=box)
    origin = audit.Origin("admin", "admin", "api", client="192.0.2.9")
    acts: list[tuple[Any, tuple[str, str, str]]] = [
        (auth.issue_token(sessions, "nina", "laptop", origin=origin), ("token.issue", "allowed", "nina")),
        (auth.revoke_tokens(sessions, "nina", "laptop", origin=origin), ("token.revoke", "allowed", "nina")),
        (auth.set_password(sessions, "nina", "a-long-password", origin=origin), ("password.set", "allowed", "nina")),
        (auth.set_active(sessions, "tom", False, origin=origin), ("user.deactivate", "allowed", "tom")),
        (auth.set_active(sessions, "tom", True, origin=origin), ("user.activate", "allowed", "tom")),
        (auth.unlock(sessions, "nina", origin=origin), ("signin.unlock", "allowed", "nina")),
        (service.account_contacts("mei", "city-gov", "renewal call"), ("personal_data.read", "allowed", "city-gov")),
    ]
    for act, expected in acts:
        before = await _last_id(sessions)
        await act
        assert await _new_rows(sessions, before) == [expected]

    # refused attempts: another manager's contacts, by any way in
    for attempt in (
        service.account_contacts("karl", "city-gov", "curiosity"),
        service.account_health("karl", "city-gov", with_contacts=True),
    ):
        before = await _last_id(sessions)
        with pytest.raises(Refused):
            await attempt
        assert await _new_rows(sessions, before) == [("personal_data.read", "refused", "city-gov")]

    # a sign-in lock: one row when the delay first applies, not one per refused try
    before = await _last_id(sessions)
    verdicts = [(await auth.attempt_sign_in(sessions, "nina", "192.0.2.1", RULES)).allowed for _ in range(4)]
    assert verdicts == [True, False, False, False]
    assert await _new_rows(sessions, before) == [("signin.lock", "allowed", "nina")]


async def test_a_role_change_through_the_inventory_is_audited_once(
    engine: object, sessions: async_sessionmaker[AsyncSession], box: SecretBox, tmp_path: Any
) -> None:
    await inventory.import_file(sessions, box, EXAMPLE_INVENTORY, "test")
    before = await _last_id(sessions)
    changed = tmp_path / "inventory.yaml"
    original = "{username: nina, display_name: Nina Operator, role: noc}"
    assert original in EXAMPLE_INVENTORY.read_text()
    changed.write_text(EXAMPLE_INVENTORY.read_text().replace(original, original.replace("noc}", "admin}")))
    await inventory.import_file(sessions, box, changed, "cli:ops")
    rows = [r for r in await _rows(sessions) if r.id > before]
    assert [(r.action, r.actor, r.subject, r.detail) for r in rows] == [
        ("user.role", "cli:ops", "nina", {"before": "noc", "after": "admin"})
    ]


async def test_the_table_refuses_update_and_delete(engine: object, sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        audit.record(session, audit.Origin("admin", "admin", "api"), audit.Action.AUDIT_READ, "audit")
        await session.commit()
    for statement in (update(m.AuditEvent).values(actor="someone else"), delete(m.AuditEvent)):
        async with sessions() as session:
            with pytest.raises(DBAPIError, match="append-only"):
                await session.execute(statement)
    async with sessions() as session:
        assert [r.actor for r in await session.scalars(select(m.AuditEvent))] == ["admin"]
        if session.bind.dialect.name == "postgresql":
            with pytest.raises(DBAPIError, match="append-only"):
                await session.execute(text("TRUNCATE audit_events"))


async def test_the_api_reader_lists_filters_exports_and_audits_itself(api: Api) -> None:
    await auth.issue_token(api.sessions, "nina", "phone")
    response, page = await api.call("GET", "/api/audit?action=token.issue&subject=nina")
    assert response.status == 200
    assert [(i["action"], i["subject"], i["detail"]["token"]) for i in page["items"]] == [
        ("token.issue", "nina", "phone"),
        ("token.issue", "nina", "tests"),
    ]
    response, _ = await api.call("GET", "/api/audit?format=csv&actor=admin")
    assert response.status == 200 and response.headers["Content-Disposition"].startswith("attachment")
    response, body = await api.call("GET", "/api/audit?since=yesterday")
    assert response.status == 400 and body["field"] == "since"
    response, _ = await api.call("GET", "/api/audit", "noc")
    assert response.status == 403
    reads = [(r.action, r.outcome, r.actor, r.via) for r in await _rows(api.sessions) if r.action.startswith("audit")]
    assert reads == [
        ("audit.read", "allowed", "admin", "api"),
        ("audit.export", "allowed", "admin", "api"),
        ("audit.read", "refused", "nina", "api"),
    ]
    assert all(r.client == "127.0.0.1" for r in await _rows(api.sessions) if r.action.startswith("audit"))


async def _audit_rows(url: str) -> list[m.AuditEvent]:
    engine = create_engine(url)
    try:
        return await _rows(session_factory(engine))
    finally:
        await engine.dispose()


def test_the_cli_records_the_os_user_beside_the_claimed_one_and_reads_the_audit(
    sqlite_url: str, secret_key: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NOC_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("NOC_SECRET_KEY", secret_key)
    monkeypatch.delenv("NOC_USER", raising=False)
    assert main(["db", "upgrade"]) == 0
    assert main(["inventory", "import", str(EXAMPLE_INVENTORY)]) == 0
    assert main(["users", "token", "nina", "--name", "cli", "--as", "admin"]) == 0
    assert main(["users", "token", "nina", "--name", "cli2", "--as", "karl"]) == 2  # not an admin: refused
    assert main(["users", "unlock", "nina"]) == 0  # nobody claimed: the OS user acts
    assert main(["tickets", "list", "--as", "karl"]) == 0
    capsys.readouterr()
    me = getpass.getuser()
    rows = asyncio.run(_audit_rows(sqlite_url))
    assert [(r.action, r.outcome, r.actor, r.os_user, r.via) for r in rows] == [
        ("token.issue", "allowed", "admin", me, "cli"),
        ("token.issue", "refused", "karl", me, "cli"),
        ("signin.unlock", "allowed", me, me, "cli"),
    ]
    assert main(["audit", "--csv", "--as", "admin", "--action", "token.issue"]) == 0
    exported = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["actor"], r["os_user"], r["outcome"]) for r in exported] == [
        ("karl", me, "refused"),
        ("admin", me, "allowed"),
    ]
    assert main(["audit", "--as", "admin", "--since", "not-a-time"]) == 2
    assert main(["audit", "--as", "nina"]) == 2  # nina is noc, not admin: refused and recorded
    assert Counter(r.action for r in asyncio.run(_audit_rows(sqlite_url)) if r.action.startswith("audit")) == {
        "audit.export": 1,
        "audit.read": 1,
    }
