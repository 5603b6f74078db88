"""field work: a site's street address and access notes on devices; "acknowledged until" and the on-site check
on tickets; photos and files attached to the worklog

Revision ID: 0019_fieldwork
Revises: 0018_records
Create Date: 2026-11-30 19:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import noc.db

revision: str = "0019_fieldwork"
down_revision: str | None = "0018_records"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("site_address", sa.String(300), nullable=False, server_default=""))
        batch.add_column(sa.Column("access_notes", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("ack_until", noc.db.UtcDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("onsite_check_at", noc.db.UtcDateTime(timezone=True), nullable=True))
    op.create_table(
        "ticket_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("worklog_id", sa.Integer(), nullable=False),
        sa.Column("at", noc.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(100), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("media_type", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["worklog_id"], ["ticket_worklog.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ticket_attachments_ticket_id", "ticket_attachments", ["ticket_id"])


def downgrade() -> None:
    op.drop_index("ix_ticket_attachments_ticket_id", table_name="ticket_attachments")
    op.drop_table("ticket_attachments")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("onsite_check_at")
        batch.drop_column("ack_until")
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("access_notes")
        batch.drop_column("site_address")
