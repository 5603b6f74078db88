"""Retention of personal data: a key account's contacts were collected to serve its contracts, so they are kept
for ``records.contacts_retention_days`` after its last contract ended and destroyed after that.

Destroying means the rows are deleted and the space they held is overwritten, not flagged: on SQLite the delete runs
with ``secure_delete`` on (freed cells and pages are zeroed) and the WAL is checkpointed and truncated; on PostgreSQL
the table is rewritten (``VACUUM FULL``), so no dead row version keeps a value. Each destruction leaves a
``DestructionRecord`` (what kind, which account and contract, which rule, how many records, when, by whom; never a
value) and an audit row, in the same transaction as the delete.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from noc import audit
from noc import models as m
from noc.records.models import DestructionRecord
from noc.timeutil import utcnow

log = logging.getLogger(__name__)

CONTACTS = "contacts"
CONTACT_FIELDS = "name, phone, email"


@dataclass(frozen=True, slots=True)
class Due:
    """An account whose contacts' retention has ended: the contract whose end started the period, and how many."""

    account: str
    account_id: int
    contract: str
    ended_on: date
    contacts: int


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a run found (and, unless a dry run, destroyed); ``scrubbed`` is False when the database could not yet
    overwrite every freed page (a SQLite WAL another process still reads): the next checkpoint does."""

    rule: str
    due: tuple[Due, ...]
    dry_run: bool
    scrubbed: bool = True


def contacts_rule(days: int) -> str:
    return f"contacts: {days} days after the account's last contract ended"


async def find_due(session: AsyncSession, days: int, today: date) -> list[Due]:
    """Accounts with contacts whose every contract ended more than ``days`` days before ``today``."""
    last_end = (
        select(m.Contract.account_id, func.max(m.Contract.valid_to).label("ended_on"))
        .group_by(m.Contract.account_id)
        .subquery()
    )
    counts = select(m.Contact.account_id, func.count(m.Contact.id).label("n")).group_by(m.Contact.account_id).subquery()
    rows = await session.execute(
        select(m.KeyAccount.id, m.KeyAccount.name, last_end.c.ended_on, counts.c.n)
        .join(last_end, last_end.c.account_id == m.KeyAccount.id)
        .join(counts, counts.c.account_id == m.KeyAccount.id)
        .where(last_end.c.ended_on < today - timedelta(days=days))
        .order_by(m.KeyAccount.name)
    )
    out = []
    for account_id, name, ended_on, n in rows.all():
        contract = await session.scalar(
            select(m.Contract.name)
            .where(m.Contract.account_id == account_id, m.Contract.valid_to == ended_on)
            .order_by(m.Contract.name)
            .limit(1)
        )
        out.append(Due(name, account_id, contract or "", ended_on, int(n)))
    return out


async def run(
    sessions: async_sessionmaker[AsyncSession],
    origin: audit.Origin,
    days: int,
    *,
    today: date | None = None,
    dry_run: bool = False,
) -> Outcome:
    """Destroy the contacts whose retention has ended (nothing at all is written on a dry run)."""
    rule = contacts_rule(days)
    day = today or utcnow().date()
    async with sessions() as session:
        conn = await session.connection()
        engine = conn.engine
        if engine.dialect.name == "sqlite":
            # This connection zeroes what it frees (cells and whole pages), in the WAL and then in the file.
            await conn.exec_driver_sql("PRAGMA secure_delete=ON")
        due = await find_due(session, days, day)
        if dry_run or not due:
            return Outcome(rule, tuple(due), dry_run)
        now = utcnow()
        destroyed = []
        for item in due:
            gone = await conn.execute(delete(m.Contact).where(m.Contact.account_id == item.account_id))
            if not gone.rowcount:  # another process destroyed them meanwhile, and recorded it
                continue
            done = replace(item, contacts=gone.rowcount)
            destroyed.append(done)
            session.add(
                DestructionRecord(
                    at=now,
                    actor=origin.actor[:100],
                    kind=CONTACTS,
                    rule=rule,
                    account=done.account,
                    contract=done.contract,
                    ended_on=done.ended_on.isoformat(),
                    records=done.contacts,
                    fields=CONTACT_FIELDS,
                )
            )
            audit.record(
                session,
                origin,
                audit.Action.RETENTION_DESTROY,
                done.account,
                kind=CONTACTS,
                rule=rule,
                contract=done.contract,
                records=done.contacts,
            )
        await session.commit()
    return Outcome(rule, tuple(destroyed), dry_run, await _scrub(engine))


async def _scrub(engine: AsyncEngine) -> bool:
    """Overwrite what the delete left outside the live rows: the SQLite WAL, PostgreSQL's dead row versions."""
    if engine.dialect.name == "sqlite":
        async with engine.connect() as conn:
            busy = (await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")).one()[0]
        if busy:
            log.warning("retention: the WAL is in use by another connection; it is overwritten at its next checkpoint")
        return not busy
    async with engine.connect() as conn:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.exec_driver_sql(f"VACUUM FULL {m.Contact.__tablename__}")
    return True


async def destruction_records(session: AsyncSession, limit: int = 100) -> list[DestructionRecord]:
    """The newest destruction records first."""
    return list(await session.scalars(select(DestructionRecord).order_by(DestructionRecord.id.desc()).limit(limit)))
