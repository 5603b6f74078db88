"""Who polls which device: a pure function of the members of the device's poller group, so every poller computes
the same answer from the same membership view without talking to the others.

- A member is **live** while its last heartbeat is younger than ``failover_s``.
- A live member **owns devices** once it has been live for ``grace_s`` (a join is damped: a poller that restarts
  within ``failover_s`` never left, and one that joins a running group takes its share once, after the grace
  period). Members that joined within ``grace_s`` of the group's earliest live member own at once: a fleet started
  together shares its devices from the first heartbeat and shuffles nothing when the grace period ends.
- A device goes to the owning member of its group with the highest weighted rendezvous score (capacity / -ln u,
  u uniform from a hash of member and device): members share devices in proportion to their capacity, and a member
  joining or leaving moves only the devices it gains or held.
- The **epoch** of a group is the time of the latest change of its owning set (a join taking effect, a death), the
  same number for every poller with the same view; messages carry it so a hand-over can be told apart.

Times are seconds on one clock for the whole fleet (the Redis server's).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass

_SCALE = float(2**64)


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    group: str
    capacity: float
    joined_at: float  # when this incarnation first heartbeated
    last_seen: float  # its latest heartbeat


@dataclass(frozen=True, slots=True)
class View:
    """The owning members of each group at one instant, and each group's epoch."""

    owners: dict[str, tuple[Member, ...]]
    epochs: dict[str, float]

    def owner(self, device: str, group: str) -> str | None:
        """The member that polls ``device`` of ``group`` (None: nobody may, a monitoring gap)."""
        members = self.owners.get(group, ())
        if not members:
            return None
        return max(members, key=lambda m: (score(m.name, device, m.capacity), m.name)).name

    def epoch(self, group: str) -> float:
        return self.epochs.get(group, 0.0)


def score(member: str, device: str, capacity: float) -> float:
    digest = hashlib.blake2b(f"{member}\0{device}".encode(), digest_size=8).digest()
    u = (int.from_bytes(digest, "big") + 0.5) / _SCALE  # in (0, 1), never 0 or 1
    return capacity / -math.log(u)


def view(members: Iterable[Member], now: float, failover_s: float, grace_s: float) -> View:
    by_group: dict[str, list[Member]] = {}
    for member in members:
        by_group.setdefault(member.group, []).append(member)
    owners: dict[str, tuple[Member, ...]] = {}
    epochs: dict[str, float] = {}
    for group, candidates in by_group.items():
        live = [m for m in candidates if now - m.last_seen < failover_s]
        first = min((m.joined_at for m in live), default=now)
        # founders started with the earliest live member (a cold start): no grace for them
        founders = {m.name for m in live if m.joined_at - first < grace_s}
        owning = [m for m in live if m.name in founders or now - m.joined_at >= grace_s]
        owners[group] = tuple(sorted(owning, key=lambda m: m.name))
        # the owning set changed when a join took effect or a member was declared dead
        took_effect = [m.joined_at + (0.0 if m.name in founders else grace_s) for m in owning]
        deaths = [m.last_seen + failover_s for m in candidates if m not in live]
        epochs[group] = max(took_effect + deaths, default=0.0)
    return View(owners, epochs)
