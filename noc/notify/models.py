"""Notification storage: one row per message to one recipient through one channel (who was told what, when,
delivered or failed and why, after how many attempts), and how far the ticket history has been read."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from noc.db import Base, UtcDateTime

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        # One message per ticket-history row, recipient and channel: a row read twice sends nothing twice.
        UniqueConstraint("source", "recipient", "channel", name="uq_notifications_source_recipient_channel"),
        Index("ix_notifications_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # A ticket's notice, or a key account's reminder (contract expiry, contacts to re-verify).
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("key_accounts.id", ondelete="CASCADE"), index=True, default=None
    )
    link_path: Mapped[str] = mapped_column(String(300))  # the page it links to, under the public address
    source: Mapped[str] = mapped_column(String(40))
    event: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(100))  # the recipient's label, never their address
    channel: Mapped[str] = mapped_column(String(64))
    channel_kind: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)


class NotifyCursor(Base):
    """The last id of a ticket-history table (``ticket_transitions``, ``ticket_events``) turned into notices."""

    __tablename__ = "notify_cursors"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer)
