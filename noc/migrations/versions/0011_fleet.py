"""fleet: a device's poller group; who made a device's latest poll and under which ownership epoch

Revision ID: 0011_fleet
Revises: 0010_audit
Create Date: 2026-11-30 13:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_fleet"
down_revision: str | None = "0010_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("poller_group", sa.String(64), nullable=False, server_default="default"))
    with op.batch_alter_table("device_status") as batch:
        batch.add_column(sa.Column("poller", sa.String(64), nullable=True))
        batch.add_column(sa.Column("poller_epoch", sa.Double(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("device_status") as batch:
        batch.drop_column("poller_epoch")
        batch.drop_column("poller")
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("poller_group")
