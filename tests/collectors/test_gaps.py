"""The monitoring-gap watch: when a gap opens (over two intervals unpolled, dated from the missed poll), what closes
it (the next poll, not an older one), and what a restart or an inventory change does to it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from collectors.gaps import GapChange, GapWatch, overdue

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_device_unpolled_for_over_two_intervals_is_in_a_gap_from_its_missed_poll_until_the_next_one() -> None:
    watch = GapWatch()
    watch.watch({"pe-1": 60.0, "pe-2": 60.0}, since=T0)
    assert watch.polled("pe-1", at(10)) is None
    assert watch.polled("pe-2", at(20)) is None
    assert watch.due(at(130)) == []  # exactly two intervals after pe-1's poll: not yet
    assert watch.due(at(130.5)) == [GapChange("pe-1", at(70))]  # its next poll was due at 70 s
    assert watch.due(at(200)) == [GapChange("pe-2", at(80))]
    assert watch.due(at(300)) == []  # an open gap opens once
    assert watch.polled("pe-1", at(65)) is None  # an older poll (a late message) does not close it
    assert watch.polled("pe-1", at(310)) == GapChange("pe-1", at(70), at(310))
    assert watch.open_gaps() == {"pe-2": at(80)}
    assert watch.due(at(400)) == []  # pe-1 polled at 310: fine until 430
    assert watch.due(at(431)) == [GapChange("pe-1", at(370))]


def test_a_device_never_polled_is_counted_from_when_it_was_first_watched() -> None:
    watch = GapWatch()
    watch.watch({"pe-1": 10.0}, since=T0)
    assert watch.due(at(21)) == [GapChange("pe-1", at(10))]
    assert watch.polled("unknown", at(22)) is None  # not watched: nothing to say


def test_a_restart_continues_the_recorded_gaps_and_last_polls() -> None:
    watch = GapWatch()
    watch.watch({"pe-1": 10.0, "pe-2": 10.0}, since=at(1000))
    watch.resume({"pe-1": at(30), "gone": at(5)}, {"pe-1": at(20), "pe-2": at(990)})
    assert watch.open_gaps() == {"pe-1": at(30)}  # a device no longer watched is not continued
    assert watch.due(at(1005)) == []  # pe-1's gap is already open; pe-2 was polled at 990
    assert watch.due(at(1011)) == [GapChange("pe-2", at(1000))]
    assert watch.polled("pe-1", at(1001)) == GapChange("pe-1", at(30), at(1001))


def test_a_device_removed_from_the_inventory_ends_its_gap_and_is_forgotten() -> None:
    watch = GapWatch()
    watch.watch({"pe-1": 10.0, "pe-2": 10.0}, since=T0)
    watch.polled("pe-2", at(25))
    assert [c.device for c in watch.due(at(25))] == ["pe-1"]
    assert watch.watch({"pe-2": 10.0, "pe-3": 10.0}, since=at(40)) == [GapChange("pe-1", at(10), at(40))]
    assert watch.due(at(50)) == [GapChange("pe-2", at(35))]  # pe-3 is counted from 40, pe-1 is gone
    assert watch.due(at(61)) == [GapChange("pe-3", at(50))]


def test_overdue_is_strictly_more_than_two_intervals() -> None:
    assert not overdue(T0, at(120), 60.0)
    assert overdue(T0, at(120.001), 60.0)


def test_a_gap_disproved_by_a_poll_made_in_time_is_retracted() -> None:
    """No news is not a gap: a poll that reaches us late (spooled while the bus was away) but was made within two
    intervals of the previous one retracts the gap opened meanwhile."""
    watch = GapWatch()
    watch.watch({"pe-1": 10.0}, since=T0)
    watch.polled("pe-1", at(5))
    assert watch.due(at(30)) == [GapChange("pe-1", at(15))]
    assert watch.polled("pe-1", at(15)) == GapChange("pe-1", at(15), at(15), retracted=True)
    assert watch.due(at(35)) == []  # polled at 15: fine until 35
    assert watch.due(at(36)) == [GapChange("pe-1", at(25))]
    assert watch.polled("pe-1", at(46)) == GapChange("pe-1", at(25), at(46))  # 31 s unpolled: a real gap
