"""Monitoring gaps recorded: a consumer of the bus tells :class:`collectors.gaps.GapWatch` every poll (a poll closes
its device's gap), a periodic tick opens the gaps that are due, and both write what changed
(:mod:`noc.store.gaps`). A change that could not be written (the database away) is kept and written first next
time. While the consumer has messages waiting (a replay after a restart) or cannot reach the bus, no gap is
opened: the polls that would disprove it are on their way. One opened all the same (polls spooled by a poller
while Redis was away arrive later than two intervals) is retracted by the first of them."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from collectors.gaps import GapChange, GapWatch
from noc.messages import DevicePolled, Message
from noc.store.gaps import last_polls, open_gaps, write_gaps
from noc.timeutil import utcnow


class GapRecorder:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self.watch = GapWatch()
        self._pending: list[GapChange] = []
        self._lock = asyncio.Lock()

    async def start(self, intervals: Mapping[str, float], now: datetime) -> None:
        """Watch these devices; continue the gaps the records hold open, from each device's last stored poll."""
        async with self._sessions() as session:
            gaps, polls = await open_gaps(session), await last_polls(session)
        self._pending += self.watch.watch(intervals, now)
        self.watch.resume({g.device: g.since for g in gaps}, polls)

    async def set_inventory(self, intervals: Mapping[str, float]) -> None:
        self._pending += self.watch.watch(intervals, utcnow())
        await self._flush()

    async def apply(self, messages: Sequence[Message]) -> None:
        for message in messages:
            if isinstance(message, DevicePolled) and (change := self.watch.polled(message.device, message.ts)):
                self._pending.append(change)
        await self._flush()

    async def tick(self, now: datetime) -> None:
        self._pending += self.watch.due(now)
        await self._flush()

    async def _flush(self) -> None:
        async with self._lock:
            if not self._pending:
                return
            changes = list(self._pending)
            async with self._sessions() as session:
                await write_gaps(session, changes)
                await session.commit()
            del self._pending[: len(changes)]
