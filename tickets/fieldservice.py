"""A technician's day, persisted: taking an unassigned ticket of one's region, resolving as "confirmed restored on
site" while the system still sees the fault, photos and files attached to the worklog, and the checks the timer
pass runs - acknowledgements given "until"
an instant that has come (the ticket is new again, a ``ack_lapsed`` event for the notifier), on-site resolutions
looked at again after ``onsite_recheck_s`` (the fault still seen reopens the ticket).

The rules are ``tickets.fieldwork`` and ``tickets.access``; this module reads what the system sees of a fault
(``fault_seen``: the device's live status, the circuit's open SLA breaches) and records what happened through the
ticket service's own steps, one transaction per ticket.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from noc import models as m
from tickets import access, attachments, fieldwork, rules
from tickets.access import Action, Actor
from tickets.errors import Conflict, NotFound, TicketError
from tickets.lifecycle import Status, check_transition
from tickets.models import Attachment, Ticket, WorklogEntry

if TYPE_CHECKING:  # the service hands itself in; this module never builds one
    from tickets.service import TicketService, TicketSummary

log = logging.getLogger(__name__)

TAKEN = "taken"
RESTORED_ON_SITE = "restored_on_site"
ONSITE_CHECK = "onsite_check"
ACK_LAPSED = "ack_lapsed"
SYSTEM_CHECK = "system:fieldwork"


async def fault_seen(session: AsyncSession, ticket: Ticket, causes: tuple[str, ...]) -> fieldwork.FaultSeen:
    """The ticket's device if the poller sees it down, and the SLA objectives among its causes with a breach open."""
    device_down = None
    if ticket.device_id is not None:
        row = (
            await session.execute(
                select(m.Device.name)
                .join(m.DeviceStatus, m.DeviceStatus.device_id == m.Device.id)
                .where(m.Device.id == ticket.device_id, m.Device.enabled.is_(True), m.DeviceStatus.available.is_(False))
            )
        ).first()
        device_down = row[0] if row else None
    objectives = [c.removeprefix(rules.sla_cause("")) for c in causes if c.startswith(rules.sla_cause(""))]
    breached: tuple[str, ...] = ()
    if ticket.circuit_id is not None and objectives:
        b = m.SlaBreachRecord
        breached = tuple(
            sorted(
                set(
                    await session.scalars(
                        select(b.objective).where(
                            b.circuit_id == ticket.circuit_id, b.until.is_(None), b.objective.in_(objectives)
                        )
                    )
                )
            )
        )
    return fieldwork.FaultSeen(device_down, breached)


@dataclass(frozen=True, slots=True)
class AttachmentView:
    """An attachment as listed: everything but its content."""

    id: int
    ticket_id: int
    worklog_id: int
    at: datetime
    author: str
    filename: str
    media_type: str
    size_bytes: int
    sha256: str

    @classmethod
    def of(cls, row: Attachment) -> AttachmentView:
        return cls(
            row.id,
            row.ticket_id,
            row.worklog_id,
            row.at,
            row.author,
            row.filename,
            row.media_type,
            row.size_bytes,
            row.sha256,
        )


class FieldWork:
    def __init__(self, tickets: TicketService) -> None:
        self.tickets = tickets

    async def _seen(self, session: AsyncSession, ticket: Ticket) -> fieldwork.FaultSeen:
        causes = rules.listed_causes(ticket.cause_key, await self.tickets._cause_events(session, ticket.id))
        return await fault_seen(session, ticket, causes)

    async def seen_now(self, ticket_id: int) -> fieldwork.FaultSeen:
        """What the system sees of the ticket's fault now (for a page already allowed to show the ticket)."""
        async with self.tickets.sessions() as session:
            return await self._seen(session, await self.tickets._ticket(session, ticket_id))

    async def take(self, username: str, ticket_id: int) -> TicketSummary:
        """Self-dispatch: an unassigned ticket of one of the technician's regions becomes theirs (recorded as a
        ``taken`` event beside the transition to dispatched)."""
        svc = self.tickets

        async def body(session: AsyncSession, actor: Actor, ticket: Ticket, now: datetime) -> None:
            assert actor.technician_id is not None  # the role rule lets only a technician take
            tech = await session.get(m.Technician, actor.technician_id)
            assert tech is not None
            await svc._to(session, ticket, Status.DISPATCHED, actor.username, now)
            ticket.technician_id = tech.id
            svc._event(session, ticket, TAKEN, actor.username, now, {"technician": tech.name})

        return await svc._operate(username, ticket_id, Action.TAKE, body)

    async def resolve(
        self, username: str, ticket_id: int, *, confirmed_on_site: bool = False, note: str | None = None
    ) -> TicketSummary:
        """Resolve; while the system still sees the fault only as confirmed restored on site, with a note, which is
        recorded (event and worklog) and looked at again after ``onsite_recheck_s``."""
        svc = self.tickets

        async def body(session: AsyncSession, actor: Actor, ticket: Ticket, now: datetime) -> None:
            check_transition(ticket.ref, Status(ticket.status), Status.RESOLVED)
            seen = await self._seen(session, ticket)
            onsite = fieldwork.check_resolve(ticket.ref, seen, confirmed_on_site, note)
            await svc._to(session, ticket, Status.RESOLVED, actor.username, now)
            if onsite is None:
                return
            detail = {"note": onsite, "seen": seen.words}
            if seen.down:
                ticket.onsite_check_at = now + timedelta(seconds=svc.settings.onsite_recheck_s)
                detail["check_at"] = ticket.onsite_check_at.isoformat()
            svc._event(session, ticket, RESTORED_ON_SITE, actor.username, now, detail)
            text = f"confirmed restored on site: {onsite}"
            session.add(WorklogEntry(ticket_id=ticket.id, at=now, author=actor.username, text=text))

        return await svc._operate(username, ticket_id, Action.WORK, body)

    async def attach(
        self, username: str, ticket_id: int, filename: str, content: bytes, note: str | None = None
    ) -> AttachmentView:
        """A photo or file on the worklog (a note says what it shows; without one the entry names the file), for
        whoever may write notes on the ticket; the same content twice on one ticket is refused."""
        svc = self.tickets
        checked = attachments.check_file(filename, content, svc.settings.attachment_max_bytes)
        text = fieldwork.reason_text("note", note, fieldwork.MAX_NOTE) if (note or "").strip() else ""
        stored: list[Attachment] = []

        async def body(session: AsyncSession, actor: Actor, ticket: Ticket, now: datetime) -> None:
            twin = await session.scalar(
                select(Attachment).where(Attachment.ticket_id == ticket.id, Attachment.sha256 == checked.sha256)
            )
            if twin is not None:
                raise Conflict(f"{ticket.ref}: this file is attached already, as {twin.filename} by {twin.author}")
            entry = WorklogEntry(
                ticket_id=ticket.id, at=now, author=actor.username, text=text or f"attached {checked.filename}"
            )
            session.add(entry)
            await session.flush()
            row = Attachment(
                ticket_id=ticket.id,
                worklog_id=entry.id,
                at=now,
                author=actor.username,
                filename=checked.filename,
                media_type=checked.media_type,
                size_bytes=checked.size_bytes,
                sha256=checked.sha256,
                content=content,
            )
            session.add(row)
            await session.flush()
            stored.append(row)

        await svc._operate(username, ticket_id, Action.NOTE, body)
        return AttachmentView.of(stored[0])

    async def _readable(self, session: AsyncSession, username: str, ticket_id: int) -> Ticket:
        svc = self.tickets
        actor = await svc.actor(session, username)
        ticket = await svc._ticket(session, ticket_id)
        access.require_ticket(actor, None, svc._scope(ticket, await svc._names_for(session, ticket)))
        return ticket

    async def attachments_of(self, username: str, ticket_id: int) -> list[AttachmentView]:
        async with self.tickets.sessions() as session:
            ticket = await self._readable(session, username, ticket_id)
            rows = await session.scalars(
                select(Attachment).where(Attachment.ticket_id == ticket.id).order_by(Attachment.id)
            )
            return [AttachmentView.of(r) for r in rows]

    async def attachment(self, username: str, ticket_id: int, attachment_id: int) -> tuple[AttachmentView, bytes]:
        """One attachment and its content, for whoever may see the ticket; content that no longer matches the
        hash it was stored with is not served."""
        async with self.tickets.sessions() as session:
            ticket = await self._readable(session, username, ticket_id)
            row = await session.scalar(
                select(Attachment)
                .options(undefer(Attachment.content))
                .where(Attachment.id == attachment_id, Attachment.ticket_id == ticket.id)
            )
            if row is None:
                raise NotFound(f"{ticket.ref} has no attachment {attachment_id}")
            if hashlib.sha256(row.content).hexdigest() != row.sha256:
                raise TicketError(f"{ticket.ref}: attachment {row.filename} no longer matches its stored hash")
            return AttachmentView.of(row), row.content

    async def run_checks(self, now: datetime) -> list[str]:
        """Lapsed acknowledgements and due on-site checks; the refs changed."""
        svc = self.tickets
        async with svc.sessions() as session:
            ids = list(
                await session.scalars(
                    select(Ticket.id)
                    .where(
                        or_(
                            and_(Ticket.status == Status.ACKNOWLEDGED.value, Ticket.ack_until <= now),
                            Ticket.onsite_check_at <= now,
                        )
                    )
                    .order_by(Ticket.id)
                )
            )
        changed = []
        for ticket_id in ids:
            try:
                ref = await self._check(ticket_id, now)
            except Conflict:
                log.info("ticket %s changed while it was checked; next run", ticket_id)
                continue
            if ref is not None:
                changed.append(ref)
        return changed

    async def _check(self, ticket_id: int, now: datetime) -> str | None:
        svc = self.tickets
        async with svc.sessions() as session:
            ticket = await svc._ticket(session, ticket_id)
            changed = False
            if fieldwork.ack_lapsed(Status(ticket.status), ticket.ack_until, now):
                assert ticket.ack_until is not None
                detail = {"until": ticket.ack_until.isoformat()}
                ticket.ack_until = None
                # The system's step back to new, which no person takes (so not in the lifecycle's table).
                ticket.status = Status.NEW.value
                svc._record_transition(session, ticket, Status.ACKNOWLEDGED, Status.NEW, SYSTEM_CHECK, now)
                svc._event(session, ticket, ACK_LAPSED, SYSTEM_CHECK, now, detail)
                changed = True
            if ticket.onsite_check_at is not None and Status(ticket.status) not in (Status.RESOLVED, Status.CLOSED):
                ticket.onsite_check_at = None  # reopened meanwhile: the resolution it checked is gone
                changed = True
            seen = await self._seen(session, ticket) if ticket.onsite_check_at is not None else fieldwork.FaultSeen()
            verdict = fieldwork.recheck(ticket.onsite_check_at, now, seen)
            if verdict in (fieldwork.Recheck.REOPEN, fieldwork.Recheck.CONFIRMED):
                ticket.onsite_check_at = None
                svc._event(
                    session, ticket, ONSITE_CHECK, SYSTEM_CHECK, now, {"outcome": verdict.value, "seen": seen.words}
                )
                if verdict is fieldwork.Recheck.REOPEN:
                    await svc._to(session, ticket, Status.REOPENED, SYSTEM_CHECK, now)
                changed = True
            if not changed:
                return None
            await svc._commit(session, ticket.ref)
            return ticket.ref
