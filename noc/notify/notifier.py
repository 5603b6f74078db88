"""The notification loop's one step, run by ``noc serve``'s supervisor every ``notify.interval_s``: queue what the
ticket history says since last time (``outbox``), then send what is due (``delivery``)."""

from __future__ import annotations

import logging
import time

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from noc.notify.channels import build_sender
from noc.notify.delivery import Deliverer
from noc.notify.outbox import AccountRules, Outbox
from noc.settings import NotifySettings, TicketSettings
from noc.timeutil import Clock, SystemClock

log = logging.getLogger(__name__)
ACCOUNTS_EVERY_S = 600.0  # reminders are by the day: looked for every ten minutes


class Notifier:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: NotifySettings,
        public_url: str,
        account_rules: AccountRules | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.sessions, self.settings, self.public_url = sessions, settings, public_url
        self.account_rules = account_rules or AccountRules.of(TicketSettings())
        self._accounts_at: float | None = None
        self.clock: Clock = clock or SystemClock()
        self.outbox = Outbox(settings, public_url)
        self._http: aiohttp.ClientSession | None = None
        self._deliverer: Deliverer | None = None

    @property
    def configured(self) -> bool:
        return bool(self.settings.routes)

    async def start(self) -> None:
        http = self._http = aiohttp.ClientSession()
        senders = {name: build_sender(channel, http) for name, channel in self.settings.channels.items()}
        self._deliverer = Deliverer(self.settings, senders, self.public_url)
        kinds = ", ".join(f"{name} ({channel.kind})" for name, channel in self.settings.channels.items())
        log.info(
            "notifications: channels %s; %d recipients, %d routes; links to %s",
            kinds,
            len(self.settings.recipients),
            len(self.settings.routes),
            self.public_url,
        )

    async def tick(self) -> None:
        assert self._deliverer is not None, "started first"
        async with self.sessions() as session:
            await self.outbox.collect(session, self.clock.now())
        if self._accounts_due():
            async with self.sessions() as session:
                await self.outbox.collect_accounts(session, self.clock.now(), self.account_rules)
        await self._deliverer.deliver(self.sessions, self.clock.now())

    def _accounts_due(self) -> bool:
        """The key accounts' reminders are looked for at the first step and every ``ACCOUNTS_EVERY_S`` after."""
        now = time.monotonic()
        if self._accounts_at is not None and now - self._accounts_at < ACCOUNTS_EVERY_S:
            return False
        self._accounts_at = now
        return True

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None
