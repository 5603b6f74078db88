"""audit: one append-only table for every security-relevant act; sign-in attempts per client address

The personal-data reads of 0004 are folded into ``audit_events`` (action ``personal_data.read``) and their table
dropped. UPDATE and DELETE on ``audit_events`` are refused by triggers on both databases.

Revision ID: 0010_audit
Revises: 0009_device_text
Create Date: 2026-11-30 09:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import noc.db

revision: str = '0010_audit'
down_revision: str | None = '0009_device_text'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_POSTGRES_GUARD = (
    """CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
END
$$""",
    "CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
    "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()",
)
_SQLITE_GUARD = (
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused'); END",
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused'); END",
)


def upgrade() -> None:
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', noc.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('via', sa.String(length=16), nullable=False),
    sa.Column('os_user', sa.String(length=100), nullable=False),
    sa.Column('client', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_actor'), ['actor'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_subject'), ['subject'], unique=False)

    # The contact reads recorded so far, kept: same who, when, what and why, in the one table.
    reads = sa.table(
        'personal_data_reads',
        sa.column('at', noc.db.UtcDateTime(timezone=True)), sa.column('actor', sa.String()),
        sa.column('role', sa.String()), sa.column('account', sa.String()), sa.column('subject', sa.String()),
        sa.column('fields', sa.JSON()), sa.column('purpose', sa.String()), sa.column('outcome', sa.String()),
        sa.column('id', sa.Integer()),
    )
    events = sa.table(
        'audit_events',
        sa.column('at', noc.db.UtcDateTime(timezone=True)), sa.column('action', sa.String()),
        sa.column('outcome', sa.String()), sa.column('actor', sa.String()), sa.column('role', sa.String()),
        sa.column('via', sa.String()), sa.column('os_user', sa.String()), sa.column('client', sa.String()),
        sa.column('subject', sa.String()), sa.column('detail', sa.JSON()),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(reads).order_by(reads.c.id)).mappings().all()
    if rows:
        op.bulk_insert(events, [
            {
                'at': r['at'], 'action': 'personal_data.read', 'outcome': r['outcome'], 'actor': r['actor'],
                'role': r['role'], 'via': '', 'os_user': '', 'client': '', 'subject': r['account'],
                'detail': {'data': r['subject'], 'fields': r['fields'], 'purpose': r['purpose']},
            }
            for r in rows
        ])
    with op.batch_alter_table('personal_data_reads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_personal_data_reads_at'))
        batch_op.drop_index(batch_op.f('ix_personal_data_reads_account'))
    op.drop_table('personal_data_reads')

    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client', sa.String(length=64), nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_login_attempts_client'), ['client'], unique=False)

    for statement in _POSTGRES_GUARD if bind.dialect.name == 'postgresql' else _SQLITE_GUARD:
        op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        op.execute('DROP TRIGGER audit_events_no_truncate ON audit_events')
        op.execute('DROP TRIGGER audit_events_no_update_delete ON audit_events')
        op.execute('DROP FUNCTION audit_events_append_only()')
    else:
        op.execute('DROP TRIGGER audit_events_no_update')
        op.execute('DROP TRIGGER audit_events_no_delete')
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_attempts_client'))
        batch_op.drop_column('client')
    op.create_table('personal_data_reads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', noc.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('account', sa.String(length=100), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('purpose', sa.String(length=200), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_personal_data_reads'))
    )
    with op.batch_alter_table('personal_data_reads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_personal_data_reads_account'), ['account'], unique=False)
        batch_op.create_index(batch_op.f('ix_personal_data_reads_at'), ['at'], unique=False)
    # The audit table goes whole (the triggers are gone): a downgrade is an administrator's deliberate act.
    op.drop_table('audit_events')
