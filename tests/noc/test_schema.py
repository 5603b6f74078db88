"""The migrations create exactly what the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from noc import dbadmin
from noc.db import Base
from noc.store.partitions import include_object


async def test_models_and_migrations_agree(engine: AsyncEngine) -> None:
    def diff(connection: Connection) -> list[object]:
        ctx = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": include_object})
        return list(compare_metadata(ctx, Base.metadata))

    async with engine.connect() as conn:
        assert await conn.run_sync(diff) == []
    assert await dbadmin.current_revision(engine) == dbadmin.head_revision()


async def test_upgrade_is_repeatable(engine: AsyncEngine) -> None:
    await dbadmin.upgrade(engine)
    assert await dbadmin.current_revision(engine) == dbadmin.head_revision()
