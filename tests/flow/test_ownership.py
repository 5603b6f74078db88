"""Ownership of devices in a poller fleet: a pure function of the membership view (rendezvous hashing)."""

from __future__ import annotations

import random
from collections import Counter

from noc.flow.ownership import Member, view

FAILOVER, GRACE = 30.0, 60.0
DEVICES = [f"pe-{i:04d}" for i in range(3000)]


def member(name: str, group: str = "north", capacity: float = 1.0, joined: float = 0.0, seen: float = 1000.0) -> Member:
    return Member(name, group, capacity, joined_at=joined, last_seen=seen)


def owners(members: list[Member], now: float = 1000.0, group: str = "north") -> dict[str, str | None]:
    v = view(members, now, FAILOVER, GRACE)
    return {d: v.owner(d, group) for d in DEVICES}


def test_every_poller_computes_the_same_owner_and_the_devices_are_shared_evenly() -> None:
    fleet = [member("a"), member("b"), member("c")]
    shuffled = fleet[:]
    random.Random(7).shuffle(shuffled)
    assert owners(fleet) == owners(shuffled)
    counts = Counter(owners(fleet).values())
    assert set(counts) == {"a", "b", "c"}
    assert all(900 <= n <= 1100 for n in counts.values()), counts


def test_a_dead_member_hands_over_only_its_own_devices() -> None:
    before = owners([member("a"), member("b"), member("c")])
    # b's last heartbeat is older than the failover time at t=1000
    after = owners([member("a"), member("b", seen=1000.0 - FAILOVER), member("c")])
    moved = {d for d in DEVICES if before[d] != after[d]}
    assert moved == {d for d in DEVICES if before[d] == "b"}
    assert "b" not in set(after.values())


def test_a_join_is_damped_by_the_grace_period_then_takes_its_share_once() -> None:
    settled = [member("a"), member("b")]
    during = owners([*settled, member("c", joined=1000.0 - GRACE + 1)])
    assert during == owners(settled)  # c heartbeats but takes nothing yet
    after = owners([*settled, member("c", joined=1000.0 - GRACE)])
    moved = {d for d in DEVICES if during[d] != after[d]}
    assert moved == {d for d in DEVICES if after[d] == "c"}
    assert 900 <= len(moved) <= 1100


def test_a_fleet_started_together_shares_at_once_and_shuffles_nothing_later() -> None:
    later = 1000.0 + GRACE + 1
    fresh = [member("a", joined=999.0), member("b", joined=999.5), member("c", joined=1000.0)]
    at_start = owners(fresh, now=1000.0)
    assert set(at_start.values()) == {"a", "b", "c"}
    running = [
        member("a", joined=999.0, seen=later),
        member("b", joined=999.5, seen=later),
        member("c", joined=1000.0, seen=later),
    ]
    assert owners(running, now=later) == at_start  # the grace period ending moves nothing


def test_a_device_is_only_ever_owned_inside_its_group() -> None:
    fleet = [member("n1"), member("n2"), member("s1", group="south", seen=1000.0 - FAILOVER)]
    v = view(fleet, 1000.0, FAILOVER, GRACE)
    assert {v.owner(d, "north") for d in DEVICES} == {"n1", "n2"}
    assert {v.owner(d, "south") for d in DEVICES} == {None}  # every south poller dead: a gap, not a north poll
    assert v.owner("pe-0001", "west") is None


def test_capacity_weights_the_share() -> None:
    counts = Counter(owners([member("big", capacity=2.0), member("small")]).values())
    assert 1.7 <= counts["big"] / counts["small"] <= 2.3, counts


def test_the_epoch_moves_when_the_owning_set_changes_and_only_then() -> None:
    fleet = [member("a", joined=10.0), member("b", joined=200.0)]  # b joined a running group: after its grace
    assert view(fleet, 1000.0, FAILOVER, GRACE).epoch("north") == 200.0 + GRACE
    assert view(list(reversed(fleet)), 1000.0, FAILOVER, GRACE).epoch("north") == 200.0 + GRACE
    assert view([member("a", joined=10.0), member("b", joined=20.0)], 1000.0, FAILOVER, GRACE).epoch("north") == 20.0
    # a joiner in its grace period changes nothing yet
    joining = [*fleet, member("c", joined=990.0)]
    assert view(joining, 1000.0, FAILOVER, GRACE).owners["north"] == tuple(fleet)
    assert view(joining, 1000.0, FAILOVER, GRACE).epoch("north") == 200.0 + GRACE
    # a death is a change, dated when the member counted as dead
    dead = [member("a", joined=10.0), member("b", joined=200.0, seen=900.0)]
    assert view(dead, 1000.0, FAILOVER, GRACE).epoch("north") == 900.0 + FAILOVER
    assert view([], 1000.0, FAILOVER, GRACE).epoch("north") == 0.0
