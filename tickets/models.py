"""Ticket storage: tickets (and their parent incidents), status transitions, events, worklog, recurrences,
stop-clock intervals, the fault case library and satisfaction ratings. Every instant is aware UTC.

``Ticket.version`` is SQLAlchemy's version counter: every UPDATE says ``WHERE version = <what was read>``, so of two
engineers changing the same ticket at once one wins and the other gets a conflict, never a lost update.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from noc.db import Base, UtcDateTime
from noc.timeutil import utcnow

TICKET = "ticket"
INCIDENT = "incident"  # the parent grouping the tickets of one root cause


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_circuit_cause", "circuit_id", "cause_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default=TICKET)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), default=None, index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("key_accounts.id"), default=None, index=True)
    circuit_id: Mapped[int | None] = mapped_column(ForeignKey("circuits.id"), default=None)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"), default=None)
    source: Mapped[str] = mapped_column(String(16))
    cause_key: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    symptoms: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(24), index=True)
    impact: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(4))
    detected_at: Mapped[datetime] = mapped_column(UtcDateTime)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    # An acknowledgement given "until" an instant: past it, still only acknowledged, the ticket is new again.
    ack_until: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    # Resolved as restored on site while the system still saw the fault: when to look again (``tickets.fieldwork``).
    onsite_check_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    fault_cleared_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    # timers (None on a parent incident: the clocks are contractual, per circuit)
    response_time_s: Mapped[int | None] = mapped_column(Integer, default=None)
    restore_time_s: Mapped[int | None] = mapped_column(Integer, default=None)
    response_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    restore_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    timer_marks: Mapped[list[str]] = mapped_column(JSON, default=list)
    # restoration time net of stop-clock, taken when the ticket was resolved (None while it is not)
    restore_net_s: Mapped[float | None] = mapped_column(Float, default=None)
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("technicians.id"), default=None, index=True)
    recurrence_count: Mapped[int] = mapped_column(Integer, default=0)
    cause_category: Mapped[str | None] = mapped_column(String(64), default=None)
    resolution: Mapped[str | None] = mapped_column(Text, default=None)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012  (SQLAlchemy's declarative convention)

    @property
    def ref(self) -> str:
        return ticket_ref(self.kind, self.id)


def ticket_ref(kind: str, ticket_id: int) -> str:
    """How people name a ticket: T-12, or I-7 for an incident."""
    return f"{'I' if kind == INCIDENT else 'T'}-{ticket_id}"


class TicketTransition(Base):
    """Every status change, with who and when."""

    __tablename__ = "ticket_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(100))
    from_status: Mapped[str | None] = mapped_column(String(24), default=None)
    to_status: Mapped[str] = mapped_column(String(24))


class TicketEvent(Base):
    """What happened to a ticket besides its status: impact changes, assignment, fault cleared, timers."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class WorklogEntry(Base):
    __tablename__ = "ticket_worklog"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    author: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)


class Attachment(Base):
    """A photo or file attached to a worklog entry (``tickets.attachments`` checked it): its content with the
    SHA-256 it was stored with."""

    __tablename__ = "ticket_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    worklog_id: Mapped[int] = mapped_column(ForeignKey("ticket_worklog.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    author: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # loaded only to be served


class Recurrence(Base):
    """Each occurrence of a ticket's fault, the first included: a flapping circuit is one ticket, many rows."""

    __tablename__ = "ticket_recurrences"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    detected_at: Mapped[datetime] = mapped_column(UtcDateTime)
    source: Mapped[str] = mapped_column(String(16))
    impact: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text, default="")


class StopClock(Base):
    """An interval in which the restoration clock does not run (waiting on the customer; resolved until reopened)."""

    __tablename__ = "ticket_stop_clocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    start_at: Mapped[datetime] = mapped_column(UtcDateTime)
    end_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    reason: Mapped[str] = mapped_column(String(32))


class FaultCase(Base):
    """A closed ticket's lesson: symptoms, cause category, platform, resolution. ``search_text`` is what the
    full-text search reads (one place decides what is searchable)."""

    __tablename__ = "fault_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    cause_category: Mapped[str] = mapped_column(String(64))
    platform: Mapped[str] = mapped_column(String(32), default="")
    symptoms: Mapped[str] = mapped_column(Text)
    resolution: Mapped[str] = mapped_column(Text)
    search_text: Mapped[str] = mapped_column(Text)


class Rating(Base):
    """The customer's satisfaction after closure, 1-5, recorded by whoever asked them."""

    __tablename__ = "ticket_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("key_accounts.id"), index=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
