"""The bus between the poll stage and its consumers, behind one small protocol with two implementations.

- :class:`MemoryBus` (``bus.url: memory``, the embedded default): one process; each consumer group has its own
  bounded queue (:class:`~noc.flow.spool.Spool`: memory up to ``bus.memory_messages`` and
  ``bus.memory_max_bytes``, then files in ``bus.spill_dir/<group>``), so a slow or
  failing consumer never blocks polling or the other consumers. What a durable group had not consumed at a stop is
  written to its files and replayed at the next start.
- :class:`~noc.flow.redisbus.RedisBus` (``bus.url: redis://...``): Redis Streams with consumer groups, shared by
  several processes; acknowledged after commit, re-claimed from a consumer that went away.

A consumer takes a batch (:meth:`Subscription.take`), applies it, and acknowledges it (:meth:`Subscription.ack`)
only after its effect is committed; a batch it could not apply stays in hand and is offered again. A message that
fails on its own, again and again, is set aside as a dead letter (:meth:`Bus.dead_letter`), counted and listed by
``noc bus dead-letters``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from noc.flow.spool import Spool
from noc.messages import Message, decode, encode, held_bytes, message_key
from noc.settings import BusSettings
from noc.timeutil import utcnow

log = logging.getLogger(__name__)
DEAD_LETTER_FILE = "dead-letters.jsonl"


@dataclass(frozen=True, slots=True)
class Delivery:
    id: str  # the position on the bus (a Redis stream id, or a counter in memory)
    message: Message
    deliveries: int = 1  # how often it has been handed out, this time included


@dataclass(frozen=True, slots=True)
class DeadLetter:
    at: datetime
    group: str
    id: str
    key: str  # what the message was about (device and time), for people
    reason: str
    message: str  # the message as JSON, to replay or inspect


class Subscription(Protocol):
    group: str

    async def take(self, limit: int, wait_s: float) -> list[Delivery]:
        """Up to ``limit`` messages, waiting at most ``wait_s`` for the first one."""
        ...

    async def ack(self, deliveries: Sequence[Delivery]) -> None: ...

    def backlog(self) -> int:
        """Messages waiting for this group (known locally; the Redis bus tells what it last saw)."""
        ...


class Bus(Protocol):
    async def start(self) -> None:
        """Resume what the last run left (messages kept for sending)."""
        ...

    async def publish(self, message: Message) -> None: ...

    def subscribe(
        self, group: str, *, durable: bool = True, accepts: Callable[[Message], bool] | None = None
    ) -> Subscription:
        """A consumer group; ``durable`` groups keep what they did not consume over a stop, ``accepts`` filters."""
        ...

    async def dead_letter(self, group: str, delivery: Delivery, reason: str) -> None: ...

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]: ...

    async def close(self) -> None:
        """Stop: durable groups keep what they did not consume (files, or the Redis stream)."""
        ...

    def dropped(self) -> dict[str, int]:
        """Messages dropped per group because a bound was exceeded (never silently: also logged once)."""
        ...


def dead_letter_record(group: str, delivery: Delivery, reason: str) -> DeadLetter:
    return DeadLetter(
        utcnow(), group, delivery.id, message_key(delivery.message), reason[:2000], encode(delivery.message).decode()
    )


def undecodable_record(group: str, ident: str, data: bytes, reason: str) -> DeadLetter:
    """Bytes on the bus that are no message this code reads (another version, or garbage)."""
    return DeadLetter(utcnow(), group, ident, "undecodable message", reason[:2000], data.decode("utf-8", "replace"))


def dead_letter_json(letter: DeadLetter) -> dict[str, str]:
    return {
        "at": letter.at.isoformat(),
        "group": letter.group,
        "id": letter.id,
        "key": letter.key,
        "reason": letter.reason,
        "message": letter.message,
    }


def dead_letter_from_json(data: dict[str, str]) -> DeadLetter:
    return DeadLetter(
        datetime.fromisoformat(data["at"]), data["group"], data["id"], data["key"], data["reason"], data["message"]
    )


class DropCounter:
    """Counts messages dropped at a bound, per group, and logs the first drop of each group once."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def for_group(self, group: str) -> Callable[[int], None]:
        def dropped(count: int) -> None:
            if group not in self.counts:
                log.error("bus group %s: its bound is exceeded, the oldest messages are being dropped", group)
            self.counts[group] = self.counts.get(group, 0) + count

        return dropped


class _MemorySubscription:
    def __init__(self, group: str, spool: Spool[Message], accepts: Callable[[Message], bool] | None) -> None:
        self.group = group
        self.spool = spool
        self.accepts = accepts
        self._ready = asyncio.Event()
        self._in_hand: dict[str, Delivery] = {}
        self._counter = 0

    def offer(self, message: Message) -> None:
        if self.accepts is None or self.accepts(message):
            self.spool.push(message)
            self._ready.set()

    async def take(self, limit: int, wait_s: float) -> list[Delivery]:
        if not len(self.spool):
            self._ready.clear()
            try:
                async with asyncio.timeout(wait_s):
                    await self._ready.wait()
            except TimeoutError:
                return []
        out = []
        for message in self.spool.pop_many(limit):
            self._counter += 1
            delivery = Delivery(str(self._counter), message)
            self._in_hand[delivery.id] = delivery
            out.append(delivery)
        return out

    async def ack(self, deliveries: Sequence[Delivery]) -> None:
        for delivery in deliveries:
            self._in_hand.pop(delivery.id, None)

    def backlog(self) -> int:
        return len(self.spool) + len(self._in_hand)

    def close(self) -> int:
        """Whatever was taken and not acknowledged goes back in front, then memory goes to the files."""
        self.spool.push_front(d.message for d in sorted(self._in_hand.values(), key=lambda d: int(d.id)))
        self._in_hand.clear()
        return self.spool.persist()


class MemoryBus:
    """One process: a bounded queue per consumer group; see the module text."""

    def __init__(self, settings: BusSettings) -> None:
        self._settings = settings
        self._groups: dict[str, _MemorySubscription] = {}
        self._drops = DropCounter()

    async def start(self) -> None:
        return None

    async def publish(self, message: Message) -> None:
        for group in self._groups.values():
            group.offer(message)

    def subscribe(
        self, group: str, *, durable: bool = True, accepts: Callable[[Message], bool] | None = None
    ) -> _MemorySubscription:
        if group in self._groups:
            raise ValueError(f"bus group {group!r} is already subscribed")
        spool: Spool[Message] = Spool(
            self._settings.spill_dir / group if durable else None,
            encode=encode,
            decode=decode,
            memory=self._settings.memory_messages,
            max_bytes=self._settings.spill_max_bytes,
            memory_bytes=self._settings.memory_max_bytes,
            size=held_bytes,
            on_drop=self._drops.for_group(group),
        )
        if len(spool):
            log.info("bus group %s: %d messages kept from the last run are replayed", group, len(spool))
        self._groups[group] = _MemorySubscription(group, spool, accepts)
        return self._groups[group]

    def _dead_path(self) -> Path:
        return self._settings.spill_dir / DEAD_LETTER_FILE

    async def dead_letter(self, group: str, delivery: Delivery, reason: str) -> None:
        record = dead_letter_json(dead_letter_record(group, delivery, reason))
        path = self._dead_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        return read_dead_letter_file(self._dead_path(), limit)

    async def close(self) -> None:
        for group in self._groups.values():
            kept = group.close()
            if kept:
                log.info("bus group %s: %d messages not yet consumed are kept for the next start", group.group, kept)

    def dropped(self) -> dict[str, int]:
        return dict(self._drops.counts)


def read_dead_letter_file(path: Path, limit: int) -> list[DeadLetter]:
    if not path.exists():
        return []
    letters = []
    for line in path.read_text(encoding="utf-8").splitlines()[-limit:]:
        try:
            letters.append(dead_letter_from_json(json.loads(line)))
        except (ValueError, KeyError, TypeError):
            continue  # a torn line after a crash
    return letters
