"""the measurement path: idempotent keys, daily partitions on PostgreSQL, 5-minute interface rollups

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 09:40:00

Raw interface and probe rows are keyed by what they measured (device, interface, time; circuit, time, method) so a
replayed message stores nothing twice; on PostgreSQL both tables become partitioned by day (existing rows are
moved into their day's partition). Outages are unique per device and start, breaches per circuit, objective and
start (duplicates a crash left are merged first).
"""

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import noc.db
from noc.store.partitions import create_sql

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_IF_COLUMNS = (
    "device_id, if_name, ts, if_index, interval_s, oper_status, speed_bps, in_bps, out_bps, in_utilisation_ratio, "
    "out_utilisation_ratio, in_errors_per_s, out_errors_per_s, in_discards_per_s, out_discards_per_s, verdict"
)
_PROBE_COLUMNS = "circuit_id, ts, method, sent, received, loss_ratio, rtt_min_ms, rtt_avg_ms, rtt_max_ms, jitter_ms, error"


def _interface_table(name: str, **dialect_options: Any) -> None:
    op.create_table(name,
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('if_name', sa.String(length=200), nullable=False),
    sa.Column('ts', noc.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('if_index', sa.Integer(), nullable=False),
    sa.Column('interval_s', sa.Double(), nullable=True),
    sa.Column('oper_status', sa.String(length=16), nullable=False),
    sa.Column('speed_bps', sa.BigInteger(), nullable=True),
    sa.Column('in_bps', sa.Double(), nullable=True),
    sa.Column('out_bps', sa.Double(), nullable=True),
    sa.Column('in_utilisation_ratio', sa.Double(), nullable=True),
    sa.Column('out_utilisation_ratio', sa.Double(), nullable=True),
    sa.Column('in_errors_per_s', sa.Double(), nullable=True),
    sa.Column('out_errors_per_s', sa.Double(), nullable=True),
    sa.Column('in_discards_per_s', sa.Double(), nullable=True),
    sa.Column('out_discards_per_s', sa.Double(), nullable=True),
    sa.Column('verdict', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_interface_measurements_device_id_devices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('device_id', 'if_name', 'ts', name=op.f('pk_interface_measurements')),
    **dialect_options,
    )


def _probe_table(name: str, **dialect_options: Any) -> None:
    op.create_table(name,
    sa.Column('circuit_id', sa.Integer(), nullable=False),
    sa.Column('ts', noc.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('sent', sa.Integer(), nullable=False),
    sa.Column('received', sa.Integer(), nullable=False),
    sa.Column('loss_ratio', sa.Double(), nullable=True),
    sa.Column('rtt_min_ms', sa.Double(), nullable=True),
    sa.Column('rtt_avg_ms', sa.Double(), nullable=True),
    sa.Column('rtt_max_ms', sa.Double(), nullable=True),
    sa.Column('jitter_ms', sa.Double(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['circuit_id'], ['circuits.id'], name=op.f('fk_probe_measurements_circuit_id_circuits'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('circuit_id', 'ts', 'method', name=op.f('pk_probe_measurements')),
    **dialect_options,
    )


def _rekey(table: str, columns: str, make: Callable[..., None]) -> None:
    """Move ``table`` to its keyed (and on PostgreSQL partitioned) form, rows kept once."""
    bind = op.get_bind()
    op.drop_index(f"ix_{table}_ts", table_name=table)
    old_index = {"interface_measurements": "ix_interface_measurements_device_if_ts",
                 "probe_measurements": "ix_probe_measurements_circuit_ts"}[table]
    op.drop_index(old_index, table_name=table)
    op.rename_table(table, f"{table}_old")
    if bind.dialect.name == "postgresql":
        # constraint names are per schema on PostgreSQL: free the old table's before the new one takes them
        op.execute(f'ALTER TABLE "{table}_old" DROP CONSTRAINT IF EXISTS "pk_{table}"')
        fk = {"interface_measurements": "fk_interface_measurements_device_id_devices",
              "probe_measurements": "fk_probe_measurements_circuit_id_circuits"}[table]
        op.execute(f'ALTER TABLE "{table}_old" DROP CONSTRAINT IF EXISTS "{fk}"')
        make(table, postgresql_partition_by="RANGE (ts)")
        for (day,) in bind.execute(sa.text(f'SELECT DISTINCT (ts AT TIME ZONE \'UTC\')::date FROM "{table}_old"')):
            op.execute(create_sql(table, day))
        conflict = " ON CONFLICT DO NOTHING"
        insert = "INSERT INTO"
    else:
        make(table)
        conflict = ""
        insert = "INSERT OR IGNORE INTO"
    op.execute(f'{insert} "{table}" ({columns}) SELECT {columns} FROM "{table}_old" ORDER BY ts{conflict}')
    op.drop_table(f"{table}_old")
    op.create_index(op.f(f"ix_{table}_ts"), table, ["ts"], unique=False)


def upgrade() -> None:
    _rekey("interface_measurements", _IF_COLUMNS, _interface_table)
    _rekey("probe_measurements", _PROBE_COLUMNS, _probe_table)
    op.create_table('interface_rollups',
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('if_name', sa.String(length=200), nullable=False),
    sa.Column('bucket_start', noc.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('samples', sa.Integer(), nullable=False),
    sa.Column('oper_up_n', sa.Integer(), nullable=False),
    sa.Column('rated_n', sa.Integer(), nullable=False),
    sa.Column('in_sum_bps', sa.Double(), nullable=False),
    sa.Column('in_max_bps', sa.Double(), nullable=True),
    sa.Column('out_sum_bps', sa.Double(), nullable=False),
    sa.Column('out_max_bps', sa.Double(), nullable=True),
    sa.Column('errors_sum_per_s', sa.Double(), nullable=False),
    sa.Column('discards_sum_per_s', sa.Double(), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_interface_rollups_device_id_devices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('device_id', 'if_name', 'bucket_start', name=op.f('pk_interface_rollups'))
    )
    op.create_index(op.f('ix_interface_rollups_bucket_start'), 'interface_rollups', ['bucket_start'], unique=False)
    op.create_table('flow_heartbeats',
    sa.Column('process', sa.String(length=128), nullable=False),
    sa.Column('at', noc.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('process', name=op.f('pk_flow_heartbeats'))
    )
    # Duplicates a crash could leave: keep the first row of each outage and breach.
    op.execute("DELETE FROM device_outages WHERE id NOT IN (SELECT min(id) FROM device_outages GROUP BY device_id, start_at)")
    op.execute("DELETE FROM sla_breaches WHERE id NOT IN (SELECT min(id) FROM sla_breaches GROUP BY circuit_id, objective, since)")
    with op.batch_alter_table('device_outages', schema=None) as batch_op:
        batch_op.drop_index('ix_device_outages_device_start')
        batch_op.create_index('ix_device_outages_device_start', ['device_id', 'start_at'], unique=True)
    with op.batch_alter_table('sla_breaches', schema=None) as batch_op:
        batch_op.create_index('uq_sla_breaches_start', ['circuit_id', 'objective', 'since'], unique=True)


def downgrade() -> None:
    raise NotImplementedError("0008 moves raw rows to keyed, partitioned tables: restore a backup to go back")
