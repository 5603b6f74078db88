"""Stored secrets as a whole: every ``*_enc`` column of every table, re-encrypted under the newest key."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from noc.crypto import SecretBox
from noc.db import Base


def encrypted_columns() -> dict[type[Base], list[str]]:
    """Every mapped class with its ``*_enc`` attributes: new tables join rotation by naming alone."""
    out: dict[type[Base], list[str]] = {}
    for mapper in Base.registry.mappers:
        names = [c.key for c in mapper.column_attrs if c.key.endswith("_enc")]
        if names:
            out[mapper.class_] = names
    return out


async def rotate(session: AsyncSession, box: SecretBox) -> int:
    """Re-encrypt every stored secret in the caller's transaction; returns how many values were rotated."""
    count = 0
    for model, names in encrypted_columns().items():
        for row in (await session.scalars(select(model))).all():
            for name in names:
                token = getattr(row, name)
                if token is not None:
                    setattr(row, name, box.rotate(token))
                    count += 1
    await session.flush()
    return count
