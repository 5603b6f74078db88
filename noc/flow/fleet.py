"""Fleet membership in Redis: each ``noc poller`` heartbeats into one hash (``<prefix>:fleet:members``, a field per
poller: group, capacity, when this incarnation joined, its latest heartbeat), on the Redis server's clock, and reads
the others' back; who owns which device is then :mod:`noc.flow.ownership`'s pure function of that view. No
election, no lock, no protocol of our own: every poller computes the same answer from the same hash.

A poller that restarts within ``fleet.failover_s`` finds its own entry still live and keeps its join time (nothing
moves); one that was gone longer joins anew and takes its share after ``fleet.grace_s``. Entries silent for a day
are removed by whoever sees them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import redis.asyncio as aioredis

from noc.flow.ownership import Member, View, view
from noc.flow.redisbus import call
from noc.settings import FleetSettings

FORGET_S = 86_400.0  # an entry silent this long is removed


@dataclass(frozen=True, slots=True)
class Identity:
    name: str
    group: str
    capacity: float


class Membership:
    def __init__(self, redis: aioredis.Redis, prefix: str, me: Identity, settings: FleetSettings) -> None:
        self._redis = redis
        self._key = f"{prefix}:fleet:members"
        self.me = me
        self._settings = settings

    async def now(self) -> float:
        seconds, micros = await call(self._redis.time())
        return float(seconds) + micros / 1e6

    async def beat(self) -> tuple[View, list[Member]]:
        """Heartbeat, then the view of every member (this one included) at the server's time."""
        now = await self.now()
        mine = await call(self._redis.hget(self._key, self.me.name))
        joined = now
        if mine is not None:
            previous = json.loads(mine)
            if now - float(previous["last_seen"]) < self._settings.failover_s:
                joined = float(previous["joined_at"])  # a restart within failover_s: the same membership
        entry = {"group": self.me.group, "capacity": self.me.capacity, "joined_at": joined, "last_seen": now}
        await call(self._redis.hset(self._key, self.me.name, json.dumps(entry)))
        members, forgotten = [], []
        for raw_name, raw in (await call(self._redis.hgetall(self._key))).items():
            name = raw_name.decode() if isinstance(raw_name, bytes) else str(raw_name)
            try:
                fields = json.loads(raw)
                member = Member(
                    name, str(fields["group"]), float(fields["capacity"]), float(fields["joined_at"]),
                    float(fields["last_seen"]),
                )  # fmt: skip
            except (ValueError, KeyError, TypeError):
                forgotten.append(name)  # not an entry a poller wrote: it cannot be a member
                continue
            if now - member.last_seen > FORGET_S:
                forgotten.append(name)
                continue
            members.append(member)
        if forgotten:
            await call(self._redis.hdel(self._key, *forgotten))
        return view(members, now, self._settings.failover_s, self._settings.grace_s), members
