"""notifications: each message to one recipient through one channel, and how far the ticket history was read

Revision ID: 0014_notifications
Revises: 0013_maintenance_in_base
Create Date: 2026-11-30 16:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import noc.db

revision: str = "0014_notifications"
down_revision: str | None = "0013_maintenance_in_base"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("recipient", sa.String(100), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("channel_kind", sa.String(16), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", noc.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", noc.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_attempt_at", noc.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", noc.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "recipient", "channel", name="uq_notifications_source_recipient_channel"),
    )
    op.create_index("ix_notifications_ticket_id", "notifications", ["ticket_id"])
    op.create_index("ix_notifications_status_next", "notifications", ["status", "next_attempt_at"])
    op.create_table(
        "notify_cursors",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    # An installation that upgrades has a ticket history already: notifications start with what happens next.
    op.execute(
        "INSERT INTO notify_cursors (name, last_id) SELECT 'transitions', COALESCE(MAX(id), 0) FROM ticket_transitions"
    )
    op.execute("INSERT INTO notify_cursors (name, last_id) SELECT 'events', COALESCE(MAX(id), 0) FROM ticket_events")


def downgrade() -> None:
    op.drop_table("notify_cursors")
    op.drop_index("ix_notifications_status_next", table_name="notifications")
    op.drop_index("ix_notifications_ticket_id", table_name="notifications")
    op.drop_table("notifications")
