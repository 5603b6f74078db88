"""monitoring gaps: periods nobody polled a device (unknown time, never downtime), one row per device and start

Revision ID: 0012_monitoring_gaps
Revises: 0011_fleet
Create Date: 2026-11-30 16:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import noc.db

revision: str = "0012_monitoring_gaps"
down_revision: str | None = "0011_fleet"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "monitoring_gaps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("started_at", noc.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", noc.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_monitoring_gaps_device_id_devices"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_gaps")),
    )
    op.create_index("ix_monitoring_gaps_device_start", "monitoring_gaps", ["device_id", "started_at"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_monitoring_gaps_device_start", table_name="monitoring_gaps")
    op.drop_table("monitoring_gaps")
