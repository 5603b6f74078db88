"""Consumers of the bus and the loop that runs each one.

:class:`ConsumerRunner` takes a batch from its subscription, applies it, and acknowledges it only after the
consumer returned (its effect committed). While the database or the bus is away it keeps the batch in hand and
retries with backoff (the stage shows as failing, once); the messages behind it wait on the bus. A batch that fails
for another reason is applied message by message, and a message that fails on its own is set aside as a dead
letter (counted, listed by ``noc bus dead-letters``): a poison message never stops the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from redis.exceptions import RedisError

from exporters.collector import FlowMetrics
from exporters.snapshot import Snapshot
from noc.db import is_transient
from noc.flow.bus import Bus, Delivery, Subscription
from noc.flow.supervise import StageHealth, cancelled
from noc.messages import DevicePolled, Message, ProbeRound, message_key
from noc.settings import BusSettings
from tickets import rules as ticket_rules
from tickets.service import TicketService

log = logging.getLogger(__name__)
Apply = Callable[[Sequence[Message]], Awaitable[None]]


def unavailable(exc: BaseException) -> bool:
    """The database or the bus is away: retry later, never set the message aside for it."""
    return is_transient(exc) or isinstance(exc, RedisError)


@dataclass
class ConsumerRunner:
    name: str
    apply: Apply
    subscription: Subscription
    bus: Bus
    settings: BusSettings
    health: StageHealth
    metrics: FlowMetrics | None = None
    batch_messages: int | None = None  # default: bus.batch_messages
    stopping: asyncio.Event = field(default_factory=asyncio.Event)  # the supervisor's: finish the step, return
    _hand: list[Delivery] = field(default_factory=list)
    idle: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        delay = self.settings.retry_initial_s
        while not self.stopping.is_set():
            try:
                if not self._hand:
                    self._hand = await self._fill()
                    if not self._hand:
                        if self.health.failing:
                            self.health.succeeded()  # the bus answers and nothing waits: nothing is failing
                        self.idle.set()
                        continue
                self.idle.clear()
                await self._apply_hand()
                delay = self.settings.retry_initial_s
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if cancelled():
                    raise asyncio.CancelledError from exc  # a client that turned our cancellation into an error
                if not unavailable(exc):
                    raise  # a bug in the runner itself: the supervisor logs it and restarts the loop
                self.health.failed(exc)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self.stopping.wait()
                delay = min(delay * 2, self.settings.retry_max_s)
            finally:
                if self.metrics is not None:
                    self.metrics.backlog.labels(stage=self.name).set(self.subscription.backlog())
                    for group, count in self.bus.dropped().items():
                        self.metrics.dropped.labels(stage=group).set(count)

    async def _fill(self) -> list[Delivery]:
        limit = self.batch_messages or self.settings.batch_messages
        batch = await self.subscription.take(limit, 1.0)
        if not batch or self.settings.batch_wait_s <= 0:
            return batch
        clock = asyncio.get_running_loop()
        deadline = clock.time() + self.settings.batch_wait_s
        while len(batch) < limit and (left := deadline - clock.time()) > 0:
            more = await self.subscription.take(limit - len(batch), left)
            if not more:
                break
            batch.extend(more)
        return batch

    async def _apply_hand(self) -> None:
        try:
            await self.apply([d.message for d in self._hand])
        except Exception as exc:
            if unavailable(exc):
                raise
            log.warning("stage %s: a batch of %d failed (%s); applying one by one", self.name, len(self._hand), exc)
            await self._one_by_one()
            return
        await self.subscription.ack(self._hand)
        self._done(len(self._hand))
        self._hand = []

    async def _one_by_one(self) -> None:
        while self._hand:
            delivery = self._hand[0]
            try:
                await self.apply([delivery.message])
            except Exception as exc:
                if unavailable(exc):
                    raise
                reason = f"{type(exc).__name__}: {exc}"
                log.error(
                    "stage %s: %s set aside as a dead letter: %s", self.name, message_key(delivery.message), reason
                )
                await self.bus.dead_letter(self.name, delivery, reason)
                if self.metrics is not None:
                    self.metrics.dead_letters.labels(stage=self.name).inc()
                    self.metrics.errors.labels(stage=self.name, kind="message").inc()
            else:
                self._done(1)
            await self.subscription.ack([delivery])
            self._hand.pop(0)

    def _done(self, count: int) -> None:
        self.health.succeeded()
        if self.metrics is not None:
            self.metrics.applied.labels(stage=self.name).inc(count)

    @property
    def busy(self) -> bool:
        """Messages in hand or waiting for this consumer."""
        return bool(self._hand) or self.subscription.backlog() > 0

    async def drain(self, timeout_s: float) -> bool:
        """Wait until this consumer found nothing more to take (a clean stop, or the end of ``noc poll``'s cycle),
        at most ``timeout_s``; True when drained."""
        try:
            async with asyncio.timeout(timeout_s):
                while True:
                    self.idle.clear()
                    await self.idle.wait()  # set by the loop when a take came back empty
                    if not self.busy:
                        return True
        except TimeoutError:
            return False


# --- the consumers -------------------------------------------------------------------------------------------


def snapshot_consumer(snapshot: Snapshot) -> Apply:
    """The exporter snapshot: in memory, never does I/O, so it keeps showing the network while the database is
    away."""

    async def apply(messages: Sequence[Message]) -> None:
        for message in messages:
            if isinstance(message, DevicePolled):
                snapshot.device_polled(message.device, message.available, message.uptime_s, message.ts)
                snapshot.interfaces_measured(message.device, message.interfaces)
            elif isinstance(message, ProbeRound):
                for result in message.results:
                    if result.sample.error is None:
                        snapshot.probe_measured(result.sample)

    return apply


def has_transition(message: Message) -> bool:
    return isinstance(message, DevicePolled) and message.transition is not None


def ticket_consumer(tickets: TicketService) -> Apply:
    """Device transitions become incidents (down, dated from the first failed poll) and clear them (recovered)."""

    async def apply(messages: Sequence[Message]) -> None:
        for message in messages:
            if not isinstance(message, DevicePolled) or message.transition is None:
                continue
            if message.transition == "down":
                summary = f"device {message.device} stopped answering: {message.error or 'no answer'}"
                await tickets.handle_device_down(
                    ticket_rules.DeviceDown(message.device, message.down_since or message.ts, summary=summary)
                )
            else:
                await tickets.handle_device_up(ticket_rules.DeviceUp(message.device, message.ts))

    return apply
