"""Alembic environment: runs on a connection handed in by ``noc.dbadmin`` (async engines, SQLite and PostgreSQL)."""

from __future__ import annotations

from alembic import context

import noc.models  # registers the tables on Base.metadata, as do the three below
import noc.notify.models
import noc.records.models  # noqa: F401
import tickets.models  # noqa: F401
from noc.db import Base
from noc.store.partitions import include_object

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copy
    compare_type=True,
    include_object=include_object,
)
with context.begin_transaction():
    context.run_migrations()
