"""Schema management: Alembic migrations run on the application's own async engine."""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import insert, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from noc.errors import OperationalError
from noc.models import Heartbeat
from noc.timeutil import utcnow


def _config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(files("noc") / "migrations"))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    def run(connection: Connection) -> None:
        command.upgrade(_config(connection), revision)

    try:
        async with engine.begin() as conn:
            await conn.run_sync(run)
    except (SQLAlchemyError, OSError) as exc:
        raise OperationalError(f"database upgrade failed: {exc}") from exc


async def current_revision(engine: AsyncEngine) -> str | None:
    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    try:
        async with engine.connect() as conn:
            return await conn.run_sync(read)
    except (SQLAlchemyError, OSError) as exc:
        raise OperationalError(f"database unreachable: {exc}") from exc


async def require_current(engine: AsyncEngine) -> None:
    """Refuse to run against a schema older (or newer) than this code: say what to run instead."""
    current, head = await current_revision(engine), head_revision()
    if current != head:
        raise OperationalError(
            f"database schema is at {current or 'nothing'}, this code needs {head}: run 'noc db upgrade'"
        )


async def heartbeat(engine: AsyncEngine, process: str) -> None:
    """Write this process's heartbeat row: proves the database takes writes (a read-only or full file, a replica, a
    lost connection all fail here where ``SELECT 1`` would pass)."""
    async with engine.begin() as conn:
        updated = await conn.execute(update(Heartbeat).where(Heartbeat.process == process).values(at=utcnow()))
        if not updated.rowcount:
            await conn.execute(insert(Heartbeat).values(process=process, at=utcnow()))
