"""device text: what agents send fits on PostgreSQL too (interface descr/alias/mac, sysName as TEXT)

An agent with 3,000 interfaces whose ifAlias is 2,000 characters long lost every interface row on PostgreSQL
(VARCHAR(255)). Interface names stay VARCHAR(200): they are keys, and the collectors cut longer ones with a marker.

Revision ID: 0009_device_text
Revises: 0008
Create Date: 2026-11-30 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009_device_text'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WIDENED = (
    ('interfaces', 'descr', sa.String(length=255)),
    ('interfaces', 'alias', sa.String(length=255)),
    ('interfaces', 'mac', sa.String(length=32)),
    ('device_status', 'sys_name', sa.String(length=255)),
)


def upgrade() -> None:
    for table, column, before in _WIDENED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=before, type_=sa.Text())


def downgrade() -> None:
    # Narrowing fails on PostgreSQL if a longer value is stored: cut them first, as the old schema could not hold more.
    for table, column, before in _WIDENED:
        op.execute(
            sa.text(f'UPDATE {table} SET {column} = substr({column}, 1, {before.length}) '  # noqa: S608 - constants
                    f'WHERE length({column}) > {before.length}')
        )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=sa.Text(), type_=before)
