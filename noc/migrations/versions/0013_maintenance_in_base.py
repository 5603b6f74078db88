"""contracts: whether agreed maintenance leaves the availability base (exclude, the carriers' rule) or stays in it

Contracts already stored keep the rule their reports were computed with until now ("include"); the inventory's
default for a contract that does not say is "exclude", so the next import of a contract without the field changes
it to that, recorded in its history like any other change.

Revision ID: 0013_maintenance_in_base
Revises: 0012_monitoring_gaps
Create Date: 2026-11-30 17:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_maintenance_in_base"
down_revision: str | None = "0012_monitoring_gaps"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contracts") as batch:
        batch.add_column(sa.Column("maintenance_in_base", sa.String(16), nullable=False, server_default="include"))


def downgrade() -> None:
    with op.batch_alter_table("contracts") as batch:
        batch.drop_column("maintenance_in_base")
