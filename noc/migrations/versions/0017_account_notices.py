"""notifications: a key account's reminders (contract expiry, contacts to re-verify) beside ticket notices, and the
page each message links to

Revision ID: 0017_account_notices
Revises: 0016_report_measured_share
Create Date: 2026-11-30 20:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_account_notices"
down_revision: str | None = "0016_report_measured_share"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.alter_column("ticket_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("link_path", sa.String(300), nullable=True))
        batch.create_foreign_key(
            "fk_notifications_account_id_key_accounts", "key_accounts", ["account_id"], ["id"], ondelete="CASCADE"
        )
        batch.create_index("ix_notifications_account_id", ["account_id"])
    op.execute("UPDATE notifications SET link_path = '/tickets/' || CAST(ticket_id AS VARCHAR(20))")
    with op.batch_alter_table("notifications") as batch:
        batch.alter_column("link_path", existing_type=sa.String(300), nullable=False)


def downgrade() -> None:
    op.execute("DELETE FROM notifications WHERE ticket_id IS NULL")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_index("ix_notifications_account_id")
        batch.drop_constraint("fk_notifications_account_id_key_accounts", type_="foreignkey")
        batch.drop_column("link_path")
        batch.drop_column("account_id")
        batch.alter_column("ticket_id", existing_type=sa.Integer(), nullable=False)
