"""Sending the pending notifications that are due: each channel within its rate, a bounded number at once; a
failure is retried with exponential backoff until ``max_attempts``, then recorded as failed with its error. What
is recorded never carries a channel's secret (``channels.secrets_of``)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from noc.notify.channels import secrets_of
from noc.notify.compose import MASK
from noc.notify.errors import DeliveryFailed
from noc.notify.models import DELIVERED, FAILED, PENDING, Notification
from noc.notify.outgoing import Outgoing, Sender
from noc.notify.ratelimit import TokenBucket
from noc.settings import NotifySettings

log = logging.getLogger(__name__)


def retry_delay_s(attempts: int, initial_s: float, max_s: float) -> float:
    """The wait after the ``attempts``-th failed attempt: initial, doubled each time, capped."""
    return min(initial_s * 2.0 ** max(attempts - 1, 0), max_s)


def scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text[:1000]


async def _claim(session: AsyncSession, row: Notification, until: datetime) -> bool:
    n = Notification
    claimed = await session.execute(
        update(n)
        .where(n.id == row.id, n.status == PENDING, n.next_attempt_at == row.next_attempt_at)
        .values(next_attempt_at=until)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(claimed, "rowcount", 0) == 1)


@dataclass(frozen=True, slots=True)
class _Attempt:
    id: int
    error: str | None  # None: delivered
    final: bool = False  # no retry can help


class Deliverer:
    def __init__(self, settings: NotifySettings, senders: Mapping[str, Sender], public_url: str) -> None:
        self.settings, self.senders, self.public_url = settings, senders, public_url
        self.buckets = {name: TokenBucket(c.rate_per_minute) for name, c in settings.channels.items()}
        self.secrets = {name: secrets_of(c) for name, c in settings.channels.items()}
        self.recipients = {r.name: r for r in settings.recipients}

    async def deliver(self, sessions: async_sessionmaker[AsyncSession], now: datetime) -> int:
        """Attempt what is due now; how many attempts were made. Each channel is read on its own, so a channel
        held back by its rate never holds up the others. A message is claimed before it is sent (its next attempt
        moved past the send's time-out, on the condition that nobody moved it first): two processes running this
        loop never send one message twice, and one that dies mid-send leaves it due again after the claim."""
        n, clock = Notification, time.monotonic()
        due = (n.status == PENDING) & (n.next_attempt_at <= now)
        chosen: list[Notification] = []
        async with sessions() as session:
            for channel in self.senders:
                query = select(n).where(due, n.channel == channel, n.recipient.in_(list(self.recipients)))
                rows = await session.scalars(query.order_by(n.next_attempt_at, n.id).limit(self.settings.concurrency))
                claim_until = now + timedelta(seconds=2 * self.settings.channels[channel].timeout_s + 60)
                for row in rows:
                    if self.buckets[channel].take(clock) and await _claim(session, row, claim_until):
                        chosen.append(row)
            orphans = await session.scalars(
                select(n).where(
                    due, or_(n.channel.not_in(list(self.senders)), n.recipient.not_in(list(self.recipients)))
                )
            )
            attempts = [
                _Attempt(
                    row.id, f"recipient {row.recipient!r} or channel {row.channel!r} is no longer configured", True
                )
                for row in orphans
            ]
            await session.commit()
        limit = asyncio.Semaphore(self.settings.concurrency)

        async def attempt(row: Notification) -> _Attempt:
            async with limit:
                return _Attempt(row.id, await self._send(row))

        attempts += await asyncio.gather(*(attempt(row) for row in chosen))
        if attempts:
            await self._record(sessions, attempts, now)
        return len(attempts)

    async def _send(self, row: Notification) -> str | None:
        recipient = self.recipients[row.recipient]
        message = Outgoing(
            address=recipient.address,
            subject=row.subject,
            text=row.text,
            event=row.event,
            ticket_id=row.ticket_id,
            link=self.public_url.rstrip("/") + row.link_path,
            language=row.language,
        )
        try:
            await self.senders[row.channel].send(message)
        except DeliveryFailed as exc:
            return scrub(str(exc), self.secrets[row.channel])
        except Exception as exc:  # a channel's bug must not stop the others: recorded on the notification
            error = scrub(f"{type(exc).__name__}: {exc}", self.secrets[row.channel])
            log.error("channel %s failed unexpectedly: %s", row.channel, error)  # no traceback: it may hold a secret
            return error
        return None

    async def _record(
        self, sessions: async_sessionmaker[AsyncSession], attempts: list[_Attempt], now: datetime
    ) -> None:
        s = self.settings
        async with sessions() as session:
            for a in attempts:
                row = await session.get(Notification, a.id)
                if row is None:
                    continue
                row.attempts += 1
                row.last_attempt_at = now
                if a.error is None:
                    row.status, row.delivered_at, row.error = DELIVERED, now, None
                    continue
                row.error = a.error
                if a.final or row.attempts >= s.max_attempts:
                    row.status = FAILED
                    log.warning("notification %d (%s to %s) failed: %s", row.id, row.event, row.recipient, a.error)
                else:
                    wait = retry_delay_s(row.attempts, s.retry_initial_s, s.retry_max_s)
                    row.next_attempt_at = now + timedelta(seconds=wait)
            await session.commit()
