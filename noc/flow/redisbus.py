"""The bus on Redis Streams (``bus.url: redis://...``): one stream of poll messages, a consumer group per consumer
(store, sla, snapshot, tickets), shared by every process of an installation.

- **Publishing** never blocks polling: a message goes into a local bounded spool (memory, then files in
  ``bus.spill_dir/publish``) that a background task sends in order; while Redis cannot be reached (or hangs) the
  messages wait there and are sent once it answers again.
- **Consuming**: a consumer first re-reads what it was handed before and never acknowledged (its own pending
  entries: a crash or kill), then takes over entries another consumer of its group left unacknowledged for
  ``bus.claim_idle_s`` (XAUTOCLAIM), then reads new ones. It acknowledges (XACK) only after its effect is committed;
  the consumers are idempotent, so a message handed out twice changes nothing the second time.
- **Bound**: the stream is trimmed to about ``bus.stream_max_messages`` entries (XADD MAXLEN ~); entries a group
  had not read when they were trimmed are counted as dropped (the group's lag shows them) and logged once.
- Dead letters go to the stream ``<prefix>:dead``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from noc.flow.bus import (
    DeadLetter,
    Delivery,
    DropCounter,
    dead_letter_from_json,
    dead_letter_json,
    dead_letter_record,
    undecodable_record,
)
from noc.flow.spool import Spool
from noc.flow.supervise import cancelled
from noc.messages import Message, MessageError, decode, encode, held_bytes
from noc.settings import BusSettings

log = logging.getLogger(__name__)
FIELD = b"m"
POLL_S = 0.1  # how often an idle consumer asks for new entries


T = TypeVar("T")


CLOSE_SEND_S = 1.0  # at close, how long the queue may take to reach Redis before it is kept in files instead


async def call(command: Awaitable[T]) -> T:
    """Await a Redis command, and stop if this task was cancelled meanwhile: redis-py can swallow a cancellation
    that arrives while it reads a reply (the task goes on "cancelling"), which would keep a stopping loop alive."""
    result = await command
    if cancelled():
        raise asyncio.CancelledError
    return result


class _RedisSubscription:
    def __init__(self, bus: RedisBus, group: str, accepts: Callable[[Message], bool] | None) -> None:
        self.group = group
        self._bus = bus
        self._accepts = accepts
        self._created = False
        self._own_pending_done = False
        self._backlog = 0

    async def _ensure_group(self) -> None:
        if self._created:
            return
        try:
            await call(self._bus.redis.xgroup_create(self._bus.stream, self.group, id="0", mkstream=True))
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._created = True

    async def take(self, limit: int, wait_s: float) -> list[Delivery]:
        redis = self._bus.redis
        await self._ensure_group()
        entries: Any = []
        if not self._own_pending_done:
            # What this consumer was handed before a crash and never acknowledged comes first.
            reply: Any = await call(
                redis.xreadgroup(self.group, self._bus.consumer, {self._bus.stream: "0"}, count=limit)
            )
            entries = reply[0][1] if reply else []
            if not entries:
                self._own_pending_done = True
        if not entries:
            claimed: Any = await call(
                redis.xautoclaim(
                    self._bus.stream,
                    self.group,
                    self._bus.consumer,
                    min_idle_time=int(self._bus.settings.claim_idle_s * 1000),
                    start_id="0-0",
                    count=limit,
                )
            )
            entries = claimed[1]
        if not entries:
            # New entries, polled rather than read with BLOCK: a blocked read is not reliably cancellable through
            # the client (a stop could hang on it), a sleep always is.
            clock = asyncio.get_running_loop()
            deadline = clock.time() + wait_s
            while True:
                reply = await call(
                    redis.xreadgroup(self.group, self._bus.consumer, {self._bus.stream: ">"}, count=limit)
                )
                entries = reply[0][1] if reply else []
                if entries or clock.time() >= deadline:
                    break
                await asyncio.sleep(min(POLL_S, max(0.0, deadline - clock.time())))
        out, skip = [], []
        for entry_id, fields in entries:
            ident = entry_id.decode()
            if not fields or FIELD not in fields:  # trimmed away while pending: nothing left to apply
                skip.append(ident)
                continue
            try:
                message = decode(fields[FIELD])
            except MessageError as exc:
                await self._bus.dead_letter_raw(self.group, ident, fields[FIELD], str(exc))
                skip.append(ident)
                continue
            if self._accepts is not None and not self._accepts(message):
                skip.append(ident)
                continue
            out.append(Delivery(ident, message))
        if skip:
            await call(redis.xack(self._bus.stream, self.group, *skip))
        await self._refresh_backlog()
        return out

    async def _refresh_backlog(self) -> None:
        with contextlib.suppress(RedisError):
            for info in await call(self._bus.redis.xinfo_groups(self._bus.stream)):
                if info.get("name") in (self.group, self.group.encode()):
                    lag = info.get("lag")
                    self._backlog = int(info.get("pending") or 0) + (int(lag) if lag is not None else 0)
                    if lag is None:  # entries trimmed before this group read them: Redis no longer knows the lag
                        self._bus.drops.for_group(self.group)(0)

    async def ack(self, deliveries: Sequence[Delivery]) -> None:
        if deliveries:
            await call(self._bus.redis.xack(self._bus.stream, self.group, *(d.id for d in deliveries)))

    def backlog(self) -> int:
        return self._backlog


class RedisBus:
    def __init__(self, settings: BusSettings, consumer: str) -> None:
        self.settings = settings
        self.consumer = consumer
        self.stream = f"{settings.prefix}:polls"
        self.dead_stream = f"{settings.prefix}:dead"
        self.redis: aioredis.Redis = aioredis.Redis.from_url(
            settings.url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=15
        )
        self.drops = DropCounter()
        self._outbox: Spool[Message] = Spool(
            settings.spill_dir / "publish",
            encode=encode,
            decode=decode,
            memory=settings.memory_messages,
            max_bytes=settings.spill_max_bytes,
            memory_bytes=settings.memory_max_bytes,
            size=held_bytes,
            on_drop=self.drops.for_group("publish"),
        )
        self._flusher: asyncio.Task[None] | None = None
        self._redis_down_logged = False

    async def start(self) -> None:
        if len(self._outbox):
            log.info("bus: %d messages kept from the last run are sent to Redis", len(self._outbox))
            self._start_flusher()

    async def publish(self, message: Message) -> None:
        """Queue the message; a background task sends the queue in order. Polling never waits on Redis: a Redis
        that hangs or restarts delays the messages, never the next poll."""
        self._outbox.push(message)
        self._start_flusher()

    async def _send(self, message: Message) -> bool:
        try:
            await call(
                self.redis.xadd(
                    self.stream, {FIELD: encode(message)}, maxlen=self.settings.stream_max_messages, approximate=True
                )
            )
        except (RedisError, OSError) as exc:
            if not self._redis_down_logged:
                log.warning("bus: Redis cannot be reached (%s); messages wait in the local spool", exc)
                self._redis_down_logged = True
            return False
        if self._redis_down_logged:
            log.info("bus: Redis answers again")
            self._redis_down_logged = False
        return True

    def _start_flusher(self) -> None:
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="noc-bus-outbox")

    async def _flush(self) -> None:
        delay = self.settings.retry_initial_s
        while len(self._outbox):
            batch = self._outbox.pop_many(100)
            for i, message in enumerate(batch):
                if not await self._send(message):
                    self._outbox.push_front(batch[i:])
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self.settings.retry_max_s)
                    break
            else:
                delay = self.settings.retry_initial_s

    def outbox(self) -> int:
        return len(self._outbox)

    def subscribe(
        self, group: str, *, durable: bool = True, accepts: Callable[[Message], bool] | None = None
    ) -> _RedisSubscription:
        return _RedisSubscription(self, group, accepts)

    async def dead_letter(self, group: str, delivery: Delivery, reason: str) -> None:
        await self._add_dead(dead_letter_json(dead_letter_record(group, delivery, reason)))

    async def dead_letter_raw(self, group: str, ident: str, data: bytes, reason: str) -> None:
        await self._add_dead(dead_letter_json(undecodable_record(group, ident, data, reason)))

    async def _add_dead(self, fields: dict[str, str]) -> None:
        await call(self.redis.xadd(self.dead_stream, dict(fields), maxlen=100_000, approximate=True))  # type: ignore[arg-type]

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        entries: Any = await call(self.redis.xrevrange(self.dead_stream, count=limit))
        out = []
        for _, fields in reversed(entries):
            data: dict[str, Any] = {k.decode(): v.decode() for k, v in fields.items()}
            out.append(dead_letter_from_json(data))
        return out

    async def close(self) -> None:
        """What is queued is sent if Redis answers within ``CLOSE_SEND_S``; the rest is kept for the next start."""
        if self._flusher is not None and not self._flusher.done():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CLOSE_SEND_S):
                    await asyncio.shield(self._flusher)
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        kept = self._outbox.persist()
        if kept:
            log.info("bus: %d messages not yet sent to Redis are kept for the next start", kept)
        await self.redis.aclose()

    def dropped(self) -> dict[str, int]:
        return dict(self.drops.counts)
