"""tickets: the restoration time net of stop-clock, taken when the ticket is resolved (the restore verdict)

Tickets resolved before this revision carry none (their verdict was never taken at the event); they get one when
they are next resolved.

Revision ID: 0015_restore_verdict
Revises: 0014_notifications
Create Date: 2026-11-30 17:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_restore_verdict"
down_revision: str | None = "0014_notifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("restore_net_s", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("restore_net_s")
