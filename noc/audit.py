"""The audit: one append-only table (``audit_events``) of every security-relevant act and every refused attempt at
one. Writing is ``record`` (inside the caller's transaction, so the act and its row commit together); reading is
``search`` and ``to_csv``, shared by the API, the admin page and ``noc audit``, whose own reads are audited too.

Nothing here updates or deletes a row; on both databases triggers refuse it (migration 0010).
"""

from __future__ import annotations

import csv
import getpass
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, UOWTransaction

from noc import models as m
from noc.errors import InputError
from noc.timeutil import utcnow

ALLOWED = "allowed"
REFUSED = "refused"
MAX_ROWS = 10_000


class Action(StrEnum):
    TOKEN_ISSUE = "token.issue"  # noqa: S105 - names of acts, not secrets
    TOKEN_REVOKE = "token.revoke"  # noqa: S105
    PASSWORD_SET = "password.set"  # noqa: S105
    ROLE_CHANGE = "user.role"
    USER_ACTIVATE = "user.activate"
    USER_DEACTIVATE = "user.deactivate"
    SIGNIN_LOCK = "signin.lock"
    SIGNIN_UNLOCK = "signin.unlock"
    PERSONAL_DATA_READ = "personal_data.read"
    AUDIT_READ = "audit.read"
    AUDIT_EXPORT = "audit.export"
    RETENTION_DESTROY = "retention.destroy"
    DOCUMENT_ATTACH = "document.attach"
    DOCUMENT_TAMPERED = "document.tampered"
    BACKUP_CREATE = "backup.create"
    BACKUP_RESTORE = "backup.restore"


@dataclass(frozen=True, slots=True)
class Origin:
    """Who acts, and from where: ``via`` is cli | api | web | system; a CLI names the OS user beside the claimed
    actor, a web or API call its client address."""

    actor: str
    role: str
    via: str
    os_user: str = ""
    client: str = ""


def os_user() -> str:
    """The account running this process on the machine (not a claim the caller makes)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for the uid (a container's anonymous user)
        return "unknown"


def record(
    session: AsyncSession,
    origin: Origin,
    action: Action,
    subject: str,
    outcome: str = ALLOWED,
    **detail: Any,
) -> None:
    """Add one row to the caller's transaction."""
    session.add(
        m.AuditEvent(
            at=utcnow(),
            action=action.value,
            outcome=outcome,
            actor=origin.actor[:100],
            role=origin.role,
            via=origin.via,
            os_user=origin.os_user[:100],
            client=origin.client[:64],
            subject=subject[:200],
            detail=detail,
        )
    )


class _CliSession(Session):
    """A command line's session: every audit row it writes names the OS user who ran the command, whatever user
    the command claims to act as (``--as``, ``NOC_USER``), including rows other packages write."""


@event.listens_for(_CliSession, "before_flush")
def _stamp(session: Session, context: UOWTransaction, instances: object) -> None:
    for obj in session.new:
        if isinstance(obj, m.AuditEvent):
            obj.via = obj.via or "cli"
            obj.os_user = obj.os_user or os_user()


def cli_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=_CliSession)


@dataclass(frozen=True, slots=True)
class Filters:
    action: str | None = None
    actor: str | None = None
    subject: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100
    offset: int = 0

    def described(self) -> dict[str, str]:
        """The filters given, as text (for the audit row of the read itself)."""
        return {
            name: value.isoformat() if isinstance(value, datetime) else str(value)
            for name in ("action", "actor", "subject", "outcome", "since", "until")
            if (value := getattr(self, name)) is not None
        }


class FilterError(InputError):
    """A filter given as text that is not one; ``field`` names it."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field


def _instant(field: str, text: str) -> datetime:
    try:
        found = datetime.fromisoformat(text)
    except ValueError:
        raise FilterError(field, f"{text!r} is not an ISO 8601 instant (2026-11-30T09:00Z)") from None
    if found.tzinfo is None:
        raise FilterError(field, f"{text!r}: give the time zone (Z or +08:00)")
    return found


def _count(field: str, text: str, low: int, high: int) -> int:
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise FilterError(field, f"a whole number {low} to {high}, not {text!r}")
    return int(text)


FILTER_NAMES = ("action", "actor", "subject", "outcome", "since", "until", "limit", "offset")
ACTIONS = tuple(a.value for a in Action)
OUTCOMES = (ALLOWED, REFUSED)


def filters_from(given: Mapping[str, str]) -> Filters:
    """Filters from text (a query string, a form, command options); empty values are absent. A bad value raises
    FilterError naming the field."""
    text = {name: value for name in FILTER_NAMES if (value := given.get(name, "").strip())}
    if text.get("action", ACTIONS[0]) not in ACTIONS:
        raise FilterError("action", f"one of {', '.join(ACTIONS)}")
    if text.get("outcome", ALLOWED) not in OUTCOMES:
        raise FilterError("outcome", f"one of {', '.join(OUTCOMES)}")
    for name in ("actor", "subject"):
        if len(text.get(name, "")) > 200 or "\x00" in text.get(name, ""):
            raise FilterError(name, "at most 200 characters, no NUL")
    return Filters(
        action=text.get("action"),
        actor=text.get("actor"),
        subject=text.get("subject"),
        outcome=text.get("outcome"),
        since=_instant("since", text["since"]) if "since" in text else None,
        until=_instant("until", text["until"]) if "until" in text else None,
        limit=_count("limit", text["limit"], 1, MAX_ROWS) if "limit" in text else 100,
        offset=_count("offset", text["offset"], 0, 1_000_000) if "offset" in text else 0,
    )


async def search(session: AsyncSession, filters: Filters) -> list[m.AuditEvent]:
    """Rows matching every filter given, newest first."""
    query = select(m.AuditEvent)
    if filters.action is not None:
        query = query.where(m.AuditEvent.action == filters.action)
    if filters.actor is not None:
        query = query.where(m.AuditEvent.actor == filters.actor)
    if filters.subject is not None:
        query = query.where(m.AuditEvent.subject == filters.subject)
    if filters.outcome is not None:
        query = query.where(m.AuditEvent.outcome == filters.outcome)
    if filters.since is not None:
        query = query.where(m.AuditEvent.at >= filters.since)
    if filters.until is not None:
        query = query.where(m.AuditEvent.at < filters.until)
    query = query.order_by(m.AuditEvent.id.desc()).offset(filters.offset).limit(min(filters.limit, MAX_ROWS))
    return list(await session.scalars(query))


async def read(session: AsyncSession, origin: Origin, filters: Filters, *, export: bool = False) -> list[m.AuditEvent]:
    """The rows, with the read itself recorded (an export as such) and committed."""
    rows = await search(session, filters)
    action = Action.AUDIT_EXPORT if export else Action.AUDIT_READ
    record(session, origin, action, "audit", rows=len(rows), filters=filters.described())
    await session.commit()
    return rows


COLUMNS = ("id", "at", "action", "outcome", "actor", "role", "via", "os_user", "client", "subject", "detail")


def as_dict(row: m.AuditEvent) -> dict[str, Any]:
    return {name: getattr(row, name) for name in COLUMNS}


def to_csv(rows: Sequence[m.AuditEvent]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        values = as_dict(row)
        values["at"] = row.at.isoformat()
        values["detail"] = json.dumps(row.detail, sort_keys=True, ensure_ascii=False)
        writer.writerow(_cell(values[name]) for name in COLUMNS)
    return out.getvalue()


def _cell(value: Any) -> str:
    # A cell a spreadsheet would run as a formula (=, +, -, @) is quoted as text: actors and subjects are user input.
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
