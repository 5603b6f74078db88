"""The rows the reviews are made of: each detection of a fault in a window (a ticket's first and its recurrences),
with its device, key account, region and cause; and the tickets each technician held, with their timers and the
customer's rating. The arithmetic is ``tickets.reviews``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from noc import models as m
from noc.errors import InputError
from tickets.lifecycle import Status
from tickets.models import TICKET, Rating, Ticket, TicketTransition, ticket_ref
from tickets.reviews import (
    FaultOccurrence,
    FaultReview,
    HandledTicket,
    ReviewBy,
    TechnicianRecord,
    months_ending,
    recurring_faults,
    technician_records,
)

MAX_MONTHS = 24


async def fault_occurrences(session: AsyncSession, since: datetime, until: datetime) -> list[FaultOccurrence]:
    """Faults detected in [since, until): tickets (not incidents' parents), and each reopening of one (the fault
    came back after resolution; a symptom added while it is open is the same fault). A ticket on a circuit is on
    the circuit's device; its region is the device's."""
    circuit = aliased(m.Circuit)
    device = aliased(m.Device)
    facts = (
        select(Ticket.id, device.name, m.KeyAccount.name, device.region, Ticket.cause_category)
        .outerjoin(circuit, Ticket.circuit_id == circuit.id)
        .outerjoin(device, device.id == func.coalesce(Ticket.device_id, circuit.device_id))
        .outerjoin(m.KeyAccount, Ticket.account_id == m.KeyAccount.id)
        .where(Ticket.kind == TICKET)
    )
    firsts = await session.execute(
        facts.add_columns(Ticket.detected_at).where(Ticket.detected_at >= since, Ticket.detected_at < until)
    )
    again = await session.execute(
        facts.add_columns(TicketTransition.at)
        .join(TicketTransition, TicketTransition.ticket_id == Ticket.id)
        .where(TicketTransition.to_status == Status.REOPENED, TicketTransition.at >= since, TicketTransition.at < until)
    )
    return [
        FaultOccurrence(ticket_ref(TICKET, ident), at, device_name, account, region or None, cause)
        for ident, device_name, account, region, cause, at in [*firsts, *again]
    ]


async def handled_tickets(session: AsyncSession, since: datetime, until: datetime) -> list[HandledTicket]:
    """Tickets detected in [since, until) that a technician holds, with the customer's rating if given."""
    rows = await session.execute(
        select(
            m.Technician.name,
            Ticket.detected_at,
            Ticket.acknowledged_at,
            Ticket.response_time_s,
            Ticket.resolved_at,
            Ticket.restore_net_s,
            Ticket.restore_time_s,
            Rating.score,
        )
        .join(m.Technician, Ticket.technician_id == m.Technician.id)
        .outerjoin(Rating, Rating.ticket_id == Ticket.id)
        .where(Ticket.detected_at >= since, Ticket.detected_at < until)
    )
    return [HandledTicket(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class ReviewChoice:
    """What the NOC lead asked to see: how many months, ending with which, by what, and whether only what
    recurred (two faults or more in the window)."""

    months: int
    by: ReviewBy
    recurring_only: bool
    last: date  # a day of the window's last month

    @property
    def window(self) -> tuple[str, ...]:
        return months_ending(self.last, self.months)


def review_choice(q: Mapping[str, str], today: date) -> ReviewChoice:
    """The choices as a page's query or the CLI's options give them (text); a bad one is an ``InputError`` naming
    it. Defaults: six months ending with ``today``'s, by device, only what recurred."""
    text = q.get("months", "6").strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_MONTHS:
        raise InputError(f"months: a whole number from 1 to {MAX_MONTHS}, not {text!r}")
    by = q.get("by", ReviewBy.DEVICE.value).strip()
    if by not in {b.value for b in ReviewBy}:
        raise InputError(f"by: one of {', '.join(b.value for b in ReviewBy)}, not {by!r}")
    recurring = q.get("recurring", "yes").strip()
    if recurring not in ("yes", "no"):
        raise InputError(f"recurring: yes or no, not {recurring!r}")
    to = q.get("to", "").strip()
    last = today
    if to:
        try:
            last = datetime.strptime(to, "%Y-%m").date()
        except ValueError:
            raise InputError(f"to: a month as YYYY-MM, not {to!r}") from None
    return ReviewChoice(int(text), ReviewBy(by), recurring == "yes", last)


def window_bounds(months: tuple[str, ...]) -> tuple[datetime, datetime]:
    """[start of the first month, start of the month after the last), UTC."""
    first_year, first_month = map(int, months[0].split("-"))
    last_year, last_month = map(int, months[-1].split("-"))
    after = date(last_year + last_month // 12, last_month % 12 + 1, 1)
    return datetime(first_year, first_month, 1, tzinfo=UTC), datetime(after.year, after.month, 1, tzinfo=UTC)


async def load_reviews(session: AsyncSession, choice: ReviewChoice) -> tuple[FaultReview, list[TechnicianRecord]]:
    months = choice.window
    since, until = window_bounds(months)
    occurrences = await fault_occurrences(session, since, until)
    review = recurring_faults(occurrences, choice.by, months, at_least=2 if choice.recurring_only else 1)
    return review, technician_records(await handled_tickets(session, since, until))
