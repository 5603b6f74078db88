"""Daily partitions of the raw measurement tables on PostgreSQL: created ahead of the rows that need them,
dropped whole by retention (no DELETE of millions of rows). SQLite keeps plain tables."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

PARTITIONED = ("interface_measurements", "probe_measurements")
_NAME = re.compile(r"^(interface_measurements|probe_measurements)_p(\d{8})$")


def partition_name(table: str, day: date) -> str:
    return f"{table}_p{day:%Y%m%d}"


def is_partition(name: str) -> bool:
    return _NAME.match(name) is not None


def _bound(day: date) -> str:
    return datetime.combine(day, time(), tzinfo=UTC).isoformat()


def create_sql(table: str, day: date) -> str:
    return (
        f'CREATE TABLE IF NOT EXISTS "{partition_name(table, day)}" PARTITION OF "{table}" '
        f"FOR VALUES FROM ('{_bound(day)}') TO ('{_bound(day + timedelta(days=1))}')"
    )


async def ensure(conn: AsyncConnection, table: str, days: set[date]) -> None:
    """Create the day partitions ``days`` need (idempotent; another process may have made them meanwhile)."""
    for day in sorted(days):
        await conn.execute(text(create_sql(table, day)))


async def existing(conn: AsyncConnection, table: str) -> dict[date, str]:
    rows = await conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = :table"
        ),
        {"table": table},
    )
    out = {}
    for (name,) in rows:
        found = _NAME.match(name)
        if found is not None:
            out[datetime.strptime(found.group(2), "%Y%m%d").date()] = name
    return out


async def drop_before(conn: AsyncConnection, table: str, cutoff: datetime) -> int:
    """Drop the partitions wholly older than ``cutoff``; returns how many rows went with them."""
    gone = 0
    for day, name in sorted((await existing(conn, table)).items()):
        if datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC) > cutoff:
            continue
        # names come from pg_inherits and matched _NAME: no outside text reaches these statements
        gone += int((await conn.execute(text(f'SELECT count(*) FROM "{name}"'))).scalar_one())  # noqa: S608
        await conn.execute(text(f'DROP TABLE "{name}"'))
    return gone


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """For Alembic's comparisons: day partitions are made at run time, not by migrations."""
    return not (type_ == "table" and name is not None and is_partition(name))


async def ensure_for(session: AsyncSession, table: str, stamps: Iterable[datetime]) -> set[date]:
    """Make sure the partitions for ``stamps`` exist (PostgreSQL; nothing to do on SQLite), in a transaction of
    their own so the DDL never waits on a batch; returns the days covered."""
    days = {ts.astimezone(UTC).date() for ts in stamps}
    if days and session.get_bind().dialect.name == "postgresql":
        async with session.bind.connect() as conn:  # type: ignore[union-attr]
            await ensure(conn, table, days)
            await conn.commit()
    return days
