"""The audit of personal-data reads: every time a customer's contacts are decrypted for someone (or refused to
them), one row says who, what, when and why. Kept apart from tickets so the kernel can adopt it unchanged."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from noc.db import Base, UtcDateTime

ALLOWED = "allowed"
REFUSED = "refused"


class PersonalDataRead(Base):
    __tablename__ = "personal_data_reads"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(32))
    # The account by name, not by key: the audit outlives the record it speaks of.
    account: Mapped[str] = mapped_column(String(100), index=True)
    subject: Mapped[str] = mapped_column(String(64))  # what was read: "contacts"
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    purpose: Mapped[str] = mapped_column(String(200))  # why: "ticket T-12", "account record"
    outcome: Mapped[str] = mapped_column(String(16))


def read_row(
    at: datetime, actor: str, role: str, account: str, fields: list[str], purpose: str, outcome: str
) -> PersonalDataRead:
    return PersonalDataRead(
        at=at,
        actor=actor,
        role=role,
        account=account,
        subject="contacts",
        fields=fields,
        purpose=purpose,
        outcome=outcome,
    )
