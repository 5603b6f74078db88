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
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from noc import models as m
from noc.notify.accounts import (
    AccountFacts,
    ExpiringContract,
    UnverifiedContacts,
    expiry_notices,
    reverify_cutoff,
    reverify_notices,
)
from noc.notify.compose import Composed, account_path, compose, compose_account, ticket_path
from noc.notify.events import Notice, TicketFacts, from_event, from_transition
from noc.notify.models import PENDING, Notification, NotifyCursor
from noc.notify.routing import account_recipients_for, recipients_for
from noc.settings import NotifyRecipient, NotifySettings, TicketSettings
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
        event = notice.kind.value if notice.level is None else f"{notice.kind.value}:{notice.level}"
        for recipient in recipients_for(notice, self.settings):
            message = compose(notice, recipient.language, self.public_url)
            target = Target(notice.source, event, ticket_id=notice.ticket.ticket_id)
            queued += await self._store(session, target, recipient, message, ticket_path(notice.ticket.ticket_id), now)
        return queued

    async def collect_accounts(self, session: AsyncSession, now: datetime, rules: AccountRules) -> int:
        """Queue the key accounts' reminders due today (contracts ending, contacts to re-verify); how many were
        queued. A reminder already queued for a recipient is not queued again."""
        today = now.date()
        cutoff = reverify_cutoff(today, rules.reverify_days)
        notices = expiry_notices(
            await expiring_contracts(session, today, rules.expiry_notice_days), today, rules.expiry_notice_days
        )
        notices += reverify_notices(await unverified_contacts(session, cutoff), today)
        queued = 0
        for notice in notices:
            for recipient in account_recipients_for(notice, self.settings):
                message = compose_account(notice, recipient.language, self.public_url, cutoff)
                target = Target(notice.source, notice.kind.value, account_id=notice.account.account_id)
                queued += await self._store(
                    session, target, recipient, message, account_path(notice.account.account), now
                )
        try:
            await session.commit()
        except IntegrityError:  # another process queued the same reminders first: they are queued
            await session.rollback()
            return 0
        return queued

    async def _store(
        self,
        session: AsyncSession,
        target: Target,
        recipient: NotifyRecipient,
        message: Composed,
        link_path: str,
        now: datetime,
    ) -> int:
        """One pending notification, unless this source already has one for the recipient and channel."""
        n = Notification
        known = await session.scalar(
            select(n.id).where(n.source == target.source, n.recipient == recipient.name, n.channel == recipient.channel)
        )
        if known is not None:
            return 0
        session.add(
            Notification(
                ticket_id=target.ticket_id,
                account_id=target.account_id,
                link_path=link_path,
                source=target.source,
                event=target.event,
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
        return 1


@dataclass(frozen=True, slots=True)
class Target:
    """What a notification is about: its source row (or reminder), its event, and the ticket or account."""

    source: str
    event: str
    ticket_id: int | None = None
    account_id: int | None = None


@dataclass(frozen=True, slots=True)
class AccountRules:
    expiry_notice_days: int
    reverify_days: int

    @classmethod
    def of(cls, tickets: TicketSettings) -> AccountRules:
        return cls(tickets.contract_expiry_notice_days, tickets.contact_reverify_days)


def _facts(account: m.KeyAccount) -> AccountFacts:
    return AccountFacts(account.id, account.name, account.tier, account.region or None)


async def expiring_contracts(session: AsyncSession, today: date, notice_days: int) -> list[ExpiringContract]:
    rows = await session.execute(
        select(m.Contract.id, m.Contract.name, m.Contract.valid_to, m.KeyAccount)
        .join(m.KeyAccount, m.Contract.account_id == m.KeyAccount.id)
        .where(m.Contract.valid_to >= today, m.Contract.valid_to <= today + timedelta(days=notice_days))
    )
    return [ExpiringContract(cid, name, valid_to, _facts(account)) for cid, name, valid_to, account in rows]


async def unverified_contacts(session: AsyncSession, cutoff: date) -> list[UnverifiedContacts]:
    due = func.count(m.Contact.id)
    rows = await session.execute(
        select(m.KeyAccount, due)
        .join(m.Contact, m.Contact.account_id == m.KeyAccount.id)
        .where(or_(m.Contact.verified_on.is_(None), m.Contact.verified_on < cutoff))
        .group_by(m.KeyAccount.id)
    )
    return [UnverifiedContacts(_facts(account), count) for account, count in rows]
