"""What the pages and the API show of a ticket's notifications and a key account's reminders: who was told what,
when, and how it went."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from noc import models as m
from noc.notify.models import Notification


@dataclass(frozen=True, slots=True)
class NotificationView:
    event: str
    recipient: str
    channel: str
    channel_kind: str
    subject: str
    status: str  # pending (retrying when attempts > 0), delivered, failed
    attempts: int
    created_at: datetime
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    next_attempt_at: datetime | None  # while pending
    error: str | None

    def to_json(self) -> dict[str, Any]:
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(self).items()}


async def notifications_of(session: AsyncSession, ticket_id: int) -> list[NotificationView]:
    return await _views(session, select(Notification).where(Notification.ticket_id == ticket_id))


async def reminders_of(session: AsyncSession, account: str) -> list[NotificationView]:
    """A key account's reminders (contract expiry, contacts to re-verify)."""
    found = select(Notification).join(m.KeyAccount, Notification.account_id == m.KeyAccount.id)
    return await _views(session, found.where(m.KeyAccount.name == account))


async def _views(session: AsyncSession, query: Select[Any]) -> list[NotificationView]:
    rows = await session.scalars(query.order_by(Notification.id))
    return [
        NotificationView(
            event=n.event,
            recipient=n.recipient,
            channel=n.channel,
            channel_kind=n.channel_kind,
            subject=n.subject,
            status=n.status,
            attempts=n.attempts,
            created_at=n.created_at,
            last_attempt_at=n.last_attempt_at,
            delivered_at=n.delivered_at,
            next_attempt_at=n.next_attempt_at if n.status == "pending" else None,
            error=n.error,
        )
        for n in rows
    ]
