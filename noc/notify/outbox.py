"""Ticket history in, pending notifications out.

The ticket service records every status change (``ticket_transitions``) and every other event (``ticket_events``:
warnings, escalations, cleared faults) in the transaction that makes it. This reads both tables past a stored
cursor, turns each row into a notice (``events``), routes it (``routing``), composes one message per recipient
(``compose``) and stores it as a pending notification, then moves the cursor, all in one transaction: a crash
between reading and storing reads the rows again, and the unique (source, recipient, channel) key sends nothing
twice. Nothing in the ticket service knows about notifications.

On PostgreSQL ids are handed out before commit, so a lower id can become visible after a higher one: the cursor
stops before a gap in the ids and waits up to ``GAP_GRACE_S`` for it to fill (a rolled-back id never will).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from noc import models as m
from noc.notify.compose import compose
from noc.notify.events import Notice, TicketFacts, from_event, from_transition
from noc.notify.models import PENDING, Notification, NotifyCursor
from noc.notify.routing import recipients_for
from noc.settings import NotifySettings
from tickets.models import INCIDENT, Ticket, TicketEvent, TicketTransition

GAP_GRACE_S = 30.0
BATCH = 500


def advance(
    cursor: int, ids: Sequence[int], gap_since: float | None, now: float, grace_s: float = GAP_GRACE_S
) -> tuple[int, float | None]:
    """The new cursor over the ``ids`` read past ``cursor`` (ascending), and since when it waits at a gap
    (None: at none). A gap older than ``grace_s`` is passed over."""
    expected = cursor + 1
    for ident in ids:
        if ident != expected:
            if gap_since is None:
                return expected - 1, now
            if now - gap_since < grace_s:
                return expected - 1, gap_since
            gap_since = None
        expected = ident + 1
    return expected - 1, None


async def ticket_facts(session: AsyncSession, ticket_id: int) -> TicketFacts:
    ticket = await session.get(Ticket, ticket_id)
    assert ticket is not None, "history rows reference their ticket"
    account = await session.get(m.KeyAccount, ticket.account_id) if ticket.account_id else None
    device = await session.get(m.Device, ticket.device_id) if ticket.device_id else None
    circuit = await session.get(m.Circuit, ticket.circuit_id) if ticket.circuit_id else None
    accounts = [(account.name, account.tier)] if account else []
    if ticket.kind == INCIDENT:
        children = await session.execute(
            select(m.KeyAccount.name, m.KeyAccount.tier)
            .join(Ticket, Ticket.account_id == m.KeyAccount.id)
            .where(Ticket.parent_id == ticket.id)
            .distinct()
        )
        accounts = sorted((name, tier) for name, tier in children)
    return TicketFacts(
        ticket_id=ticket.id,
        ref=ticket.ref,
        incident=ticket.kind == INCIDENT,
        child=ticket.parent_id is not None,
        title=ticket.title,
        priority=ticket.priority,
        source=ticket.source,
        tier=min((tier for _, tier in accounts), default=None),  # "A" is the most important tier
        region=device.region if device else None,
        accounts=tuple(name for name, _ in accounts),
        device=device.name if device else None,
        circuit=circuit.name if circuit else None,
        detected_at=ticket.detected_at,
    )


@dataclass
class Outbox:
    settings: NotifySettings
    public_url: str
    _gaps: dict[str, float | None] = field(default_factory=dict)

    async def collect(self, session: AsyncSession, now: datetime) -> int:
        """Queue the notifications of the history rows past the cursors; how many were queued."""
        facts: dict[int, TicketFacts] = {}

        async def of(ticket_id: int) -> TicketFacts:
            if ticket_id not in facts:
                facts[ticket_id] = await ticket_facts(session, ticket_id)
            return facts[ticket_id]

        queued = 0
        cursor = await self._cursor(session, "transitions")
        transitions = (
            await session.scalars(
                select(TicketTransition)
                .where(TicketTransition.id > cursor.last_id)
                .order_by(TicketTransition.id)
                .limit(BATCH)
            )
        ).all()
        for t in transitions:
            queued += await self._queue(session, from_transition(t.id, t.to_status, t.at, await of(t.ticket_id)), now)
        self._advance(cursor, [t.id for t in transitions])
        cursor = await self._cursor(session, "events")
        events = (
            await session.scalars(
                select(TicketEvent).where(TicketEvent.id > cursor.last_id).order_by(TicketEvent.id).limit(BATCH)
            )
        ).all()
        for e in events:
            queued += await self._queue(session, from_event(e.id, e.kind, e.detail, e.at, await of(e.ticket_id)), now)
        self._advance(cursor, [e.id for e in events])
        try:
            await session.commit()
        except IntegrityError:  # another process queued the same rows first: they are queued
            await session.rollback()
            return 0
        return queued

    async def _cursor(self, session: AsyncSession, name: str) -> NotifyCursor:
        cursor = await session.get(NotifyCursor, name)
        if cursor is None:
            cursor = NotifyCursor(name=name, last_id=0)
            session.add(cursor)
        return cursor

    def _advance(self, cursor: NotifyCursor, ids: list[int]) -> None:
        cursor.last_id, self._gaps[cursor.name] = advance(
            cursor.last_id, ids, self._gaps.get(cursor.name), time.monotonic()
        )

    async def _queue(self, session: AsyncSession, notice: Notice | None, now: datetime) -> int:
        if notice is None:
            return 0
        queued = 0
        for recipient in recipients_for(notice, self.settings):
            n = Notification
            known = await session.scalar(
                select(n.id).where(
                    n.source == notice.source, n.recipient == recipient.name, n.channel == recipient.channel
                )
            )
            if known is not None:
                continue
            message = compose(notice, recipient.language, self.public_url)
            session.add(
                Notification(
                    ticket_id=notice.ticket.ticket_id,
                    source=notice.source,
                    event=notice.kind.value if notice.level is None else f"{notice.kind.value}:{notice.level}",
                    recipient=recipient.name,
                    channel=recipient.channel,
                    channel_kind=self.settings.channels[recipient.channel].kind,
                    language=recipient.language,
                    subject=message.subject[:300],
                    text=message.text,
                    status=PENDING,
                    attempts=0,
                    created_at=now,
                    next_attempt_at=now,
                )
            )
            queued += 1
        return queued
