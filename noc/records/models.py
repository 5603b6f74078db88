"""Records' storage: destruction records (what kind of personal data went, how much, under which rule, for whom,
when and by whom; never the data itself) and contract documents with their content hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from noc.db import Base, UtcDateTime


class DestructionRecord(Base):
    """One destruction of personal data by the retention job. Names, not keys: it outlives what it speaks of."""

    __tablename__ = "destruction_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))  # what kind of record went: contacts
    rule: Mapped[str] = mapped_column(String(200))  # the retention rule, with its period
    account: Mapped[str] = mapped_column(String(100), index=True)
    contract: Mapped[str] = mapped_column(String(100), default="")  # the contract whose end started the period
    ended_on: Mapped[str] = mapped_column(String(10), default="")  # that contract's last day (ISO date)
    records: Mapped[int] = mapped_column(Integer)  # how many records were destroyed
    fields: Mapped[str] = mapped_column(String(200))  # which personal fields they held, comma-separated


class ContractDocument(Base):
    """One stored version of a contract's document (the signed PDF, a scan of the paper original). ``sha256`` and
    ``size_bytes`` are taken when it is stored and checked on every read; ``tampered_at`` is set the first time a
    read finds the bytes changed."""

    __tablename__ = "contract_documents"
    __table_args__ = (UniqueConstraint("contract_id", "version", name="uq_contract_documents_contract_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(8))  # pdf | png | jpeg | tiff, from the content
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    archive_ref: Mapped[str] = mapped_column(String(200), default="")  # where the paper original is registered
    stored_at: Mapped[datetime] = mapped_column(UtcDateTime)
    stored_by: Mapped[str] = mapped_column(String(100))
    tampered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    content: Mapped[bytes] = mapped_column(LargeBinary)
