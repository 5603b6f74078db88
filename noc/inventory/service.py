"""Inventory use cases over files and the database: validate, import, export."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from noc import models as m
from noc.crypto import SecretBox
from noc.errors import InputError
from noc.inventory import loader, sync
from noc.inventory.schema import InventoryDoc

EXPORT_HEADER = (
    "# Inventory export. Secrets and personal data are never written in clear: a value given as ${VAR} is\n"
    "# written back as that reference; any other is written as ***, which on import means 'keep what is stored'.\n"
)


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from exc


def validate_file(path: Path, environ: Mapping[str, str] | None = None) -> InventoryDoc:
    doc, _ = loader.parse(read_text(path), str(path), os.environ if environ is None else environ)
    return doc


async def import_file(
    sessions: async_sessionmaker[AsyncSession],
    box: SecretBox,
    path: Path,
    actor: str,
    dry_run: bool = False,
    environ: Mapping[str, str] | None = None,
) -> sync.ImportReport:
    """All or nothing: any problem raises before commit and the database is left as it was."""
    env = os.environ if environ is None else environ
    return await import_text(sessions, box, read_text(path), str(path), actor, dry_run, env)


async def import_text(
    sessions: async_sessionmaker[AsyncSession],
    box: SecretBox,
    text: str,
    source: str,
    actor: str,
    dry_run: bool,
    environ: Mapping[str, str],
) -> sync.ImportReport:
    """``text`` named ``source`` in every problem; ``${VAR}`` references resolve from ``environ`` only."""
    # Parsing a large file is pure CPU (seconds for a megabyte of YAML): off the event loop, so a running service
    # keeps polling and answering meanwhile.
    doc, located = await asyncio.to_thread(loader.parse, text, source, environ)
    async with sessions() as session:
        report = await sync.import_doc(session, box, doc, actor, located)
        if dry_run:
            await session.rollback()
        else:
            await session.commit()
        return report


async def export_yaml(sessions: async_sessionmaker[AsyncSession], box: SecretBox) -> str:
    async with sessions() as session:
        doc = await sync.export_doc(session, box)
    data = doc.model_dump(mode="json", exclude_defaults=True)

    def dump() -> str:
        return str(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120))

    return EXPORT_HEADER + await asyncio.to_thread(dump)  # pure CPU: off the event loop


async def accounts_with_managers(session: AsyncSession) -> list[tuple[m.KeyAccount, str | None]]:
    """Every key account, by name, with its account manager's user name (None when it has none)."""
    rows = await session.execute(
        select(m.KeyAccount, m.User.username)
        .outerjoin(m.User, m.User.id == m.KeyAccount.account_manager_id)
        .order_by(m.KeyAccount.name)
    )
    return [(account, manager) for account, manager in rows.all()]
