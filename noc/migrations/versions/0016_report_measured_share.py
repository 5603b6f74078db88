"""contracts: the measured share of a month below which its SLA report is provisional, and the decimals the
contract states availability with

Contracts already stored get the defaults (90 %, two decimals), as the inventory gives a contract that does not say.

Revision ID: 0016_report_measured_share
Revises: 0015_restore_verdict
Create Date: 2026-11-30 19:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_report_measured_share"
down_revision: str | None = "0015_restore_verdict"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contracts") as batch:
        batch.add_column(sa.Column("min_measured_pct", sa.String(40), nullable=False, server_default="90"))
        batch.add_column(sa.Column("availability_places", sa.Integer(), nullable=False, server_default="2"))


def downgrade() -> None:
    with op.batch_alter_table("contracts") as batch:
        batch.drop_column("availability_places")
        batch.drop_column("min_measured_pct")
