"""records: destruction records of personal data, and contract documents with their SHA-256

Revision ID: 0018_records
Revises: 0017_account_notices
Create Date: 2026-11-30 19:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import noc.db

revision: str = "0018_records"
down_revision: str | None = "0017_account_notices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "destruction_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", noc.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("rule", sa.String(200), nullable=False),
        sa.Column("account", sa.String(100), nullable=False),
        sa.Column("contract", sa.String(100), nullable=False),
        sa.Column("ended_on", sa.String(10), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("fields", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_destruction_records"),
    )
    op.create_index("ix_destruction_records_at", "destruction_records", ["at"])
    op.create_index("ix_destruction_records_account", "destruction_records", ["account"])
    op.create_table(
        "contract_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("archive_ref", sa.String(200), nullable=False),
        sa.Column("stored_at", noc.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("stored_by", sa.String(100), nullable=False),
        sa.Column("tampered_at", noc.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name="fk_contract_documents_contract_id_contracts"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_contract_documents"),
        sa.UniqueConstraint("contract_id", "version", name="uq_contract_documents_contract_version"),
    )
    op.create_index("ix_contract_documents_contract_id", "contract_documents", ["contract_id"])


def downgrade() -> None:
    op.drop_index("ix_contract_documents_contract_id", table_name="contract_documents")
    op.drop_table("contract_documents")
    op.drop_index("ix_destruction_records_account", table_name="destruction_records")
    op.drop_index("ix_destruction_records_at", table_name="destruction_records")
    op.drop_table("destruction_records")
