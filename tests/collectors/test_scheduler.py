"""Availability state machine (pure) and the scheduler against fake pollers (events, never sleeps to synchronise)."""

from __future__ import annotations

import asyncio
import itertools
import logging
from datetime import UTC, datetime, timedelta

import pytest

from collectors.availability import AvailabilityState, interface_available, observe
from collectors.errors import BadAnswer, DeviceUnreachable
from collectors.model import DeviceTarget
from collectors.scheduler import PollRecord, Scheduler, SchedulerSettings

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("outcomes", "up", "failures", "down_since", "transitions"),
    [
        pytest.param([True], True, 0, None, [], id="first-success-is-up-without-transition"),
        pytest.param([False, False], None, 2, None, [], id="two-failures-not-yet-down"),
        pytest.param([True, False, False, False], False, 3, 1, ["down@3"], id="down-after-3-dated-from-first"),
        pytest.param([True, False, False, True], True, 0, None, [], id="success-resets-the-count"),
        pytest.param([False, False, False, False, False], False, 5, 0, ["down@2"], id="down-once-not-every-failure"),
        pytest.param([False, False, False, True], True, 0, None, ["down@2", "recovered@3"], id="one-success-recovers"),
        pytest.param(
            [False, False, False, True, False, False, False],
            False,
            3,
            4,
            ["down@2", "recovered@3", "down@6"],
            id="second-outage-dated-from-its-own-first-failure",
        ),
    ],
)
def test_availability(
    outcomes: list[bool], up: bool | None, failures: int, down_since: int | None, transitions: list[str]
) -> None:
    state = AvailabilityState()
    seen = []
    for i, ok in enumerate(outcomes):
        state, transition = observe(state, ok=ok, at=at(i), threshold=3)
        if transition:
            seen.append(f"{transition.kind}@{i}")
            assert transition.at == at(i)
    assert state.up is up
    assert state.consecutive_failures == failures
    assert state.down_since == (None if down_since is None else at(down_since))
    assert seen == transitions


def test_recovered_transition_carries_the_outage_start() -> None:
    state = AvailabilityState()
    for i in range(3):
        state, _ = observe(state, ok=False, at=at(10 + i), threshold=3)
    state, transition = observe(state, ok=True, at=at(20), threshold=3)
    assert transition is not None
    assert (transition.kind, transition.down_since) == ("recovered", at(10))


@pytest.mark.parametrize(
    ("status", "available"),
    [("up", True), ("down", False), ("lowerLayerDown", False), ("dormant", False), ("testing", False), (None, False)],
)
def test_interface_available_only_when_oper_up(status: str | None, available: bool) -> None:
    assert interface_available(status) is available


def target(name: str, interval_s: float = 0.02) -> DeviceTarget:
    return DeviceTarget(name=name, address="127.0.0.1", platform="test", poll_interval_s=interval_s)


async def test_a_hanging_device_never_delays_the_others() -> None:
    released = asyncio.Event()
    good_done = asyncio.Event()
    counts: dict[str, int] = {"a": 0, "b": 0}

    async def poll(t: DeviceTarget) -> str:
        if t.name == "dead":
            await released.wait()  # never set: only the scheduler's timeout ends this
            return "unreachable"
        counts[t.name] += 1
        if min(counts.values()) >= 5:
            good_done.set()
        return "ok"

    records: list[PollRecord[str]] = []
    settings = SchedulerSettings(jitter_ratio=0.0, timeout_s=30.0, retries=0, max_concurrency=3)
    scheduler: Scheduler[str] = Scheduler(poll, settings, on_record=records.append)
    run = asyncio.create_task(scheduler.run([target("dead"), target("a"), target("b")]))
    await asyncio.wait_for(good_done.wait(), timeout=20)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert [r.device for r in records if r.device == "dead"] == []  # still inside its first attempt
    assert min(counts.values()) >= 5
    assert all(r.ok for r in records)


async def test_cancellation_reaches_the_poll_and_is_not_swallowed() -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def poll(t: DeviceTarget) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    scheduler: Scheduler[None] = Scheduler(poll, SchedulerSettings(jitter_ratio=0.0, retries=3))
    run = asyncio.create_task(scheduler.run([target("x")]))
    await asyncio.wait_for(started.wait(), timeout=10)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert cancelled.is_set()
    assert list(scheduler.records) == []


async def test_retries_are_bounded_and_errors_recorded() -> None:
    calls = 0

    async def poll(t: DeviceTarget) -> None:
        nonlocal calls
        calls += 1
        raise DeviceUnreachable(f"{t.name}: no answer")

    scheduler: Scheduler[None] = Scheduler(poll, SchedulerSettings(retries=2))
    report = await scheduler.run_cycle([target("x")])
    assert calls == 3
    record = report.records[0]
    assert (record.ok, record.attempts, record.error) == (False, 3, "x: no answer")


async def test_timeout_per_attempt_is_a_failed_poll() -> None:
    async def poll(t: DeviceTarget) -> None:
        await asyncio.Event().wait()

    scheduler: Scheduler[None] = Scheduler(poll, SchedulerSettings(timeout_s=0.05, retries=1))
    record = (await scheduler.run_cycle([target("x")])).records[0]
    assert not record.ok
    assert record.attempts == 2
    assert record.error is not None and "within 0.05 s" in record.error


async def test_unexpected_exception_does_not_stop_the_loop() -> None:
    calls = 0

    async def poll(t: DeviceTarget) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise KeyError("bug")
        return calls

    scheduler: Scheduler[int] = Scheduler(poll, SchedulerSettings(jitter_ratio=0.0, retries=0))
    await scheduler.run([target("x", 0.001)], rounds=3)
    assert [r.ok for r in scheduler.records] == [False, True, True]


async def test_consumer_errors_do_not_stop_polling() -> None:
    async def poll(t: DeviceTarget) -> int:
        return 1

    def on_record(record: PollRecord[int]) -> None:
        raise RuntimeError("storage is down")

    scheduler: Scheduler[int] = Scheduler(poll, SchedulerSettings(jitter_ratio=0.0), on_record=on_record)
    await scheduler.run([target("x", 0.001)], rounds=3)
    assert len(scheduler.records) == 3


async def test_concurrency_cap_is_respected() -> None:
    in_flight = peak = 0
    gate = asyncio.Event()
    arrived = 0

    async def poll(t: DeviceTarget) -> None:
        nonlocal in_flight, peak, arrived
        in_flight += 1
        arrived += 1
        peak = max(peak, in_flight)
        if arrived >= 2:
            gate.set()
        await gate.wait()
        in_flight -= 1

    scheduler: Scheduler[None] = Scheduler(poll, SchedulerSettings(max_concurrency=2))
    report = await scheduler.run_cycle([target(f"d{i}") for i in range(7)])
    assert peak == 2
    assert all(r.ok for r in report.records)


async def test_down_devices_back_off_and_transitions_are_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    async def poll(t: DeviceTarget) -> None:
        raise BadAnswer(f"{t.name}: garbage")

    settings = SchedulerSettings(jitter_ratio=0.0, retries=0, failure_threshold=2, backoff_factor=2.0)
    scheduler: Scheduler[None] = Scheduler(poll, settings)
    caplog.set_level(logging.INFO, logger="collectors.scheduler")
    await scheduler.run([target("x", 0.001)], rounds=5)
    intervals = [r.interval_s for r in scheduler.records]
    assert intervals == [0.001, 0.001, 0.002, 0.004, 0.008]
    downs = [m for m in caplog.messages if "down since" in m]
    assert len(downs) == 1
    assert scheduler.availability("x").up is False


async def test_overrun_is_recorded_and_missed_slots_are_skipped() -> None:
    async def poll(t: DeviceTarget) -> None:
        await asyncio.sleep(0.03)  # the work itself (a slow device), not synchronisation

    scheduler: Scheduler[None] = Scheduler(poll, SchedulerSettings(jitter_ratio=0.0))
    await scheduler.run([target("slow", 0.01)], rounds=3)
    records = list(scheduler.records)
    assert all(r.overrun for r in records)
    # No burst of catch-up polls: each one starts after the previous one finished.
    assert all(b.started_at >= a.finished_at for a, b in itertools.pairwise(records))


async def test_duplicate_device_names_are_rejected() -> None:
    async def poll(t: DeviceTarget) -> None:
        return None

    with pytest.raises(ValueError, match="unique"):
        await Scheduler(poll).run([target("x"), target("x")], rounds=1)


async def test_assign_starts_new_devices_and_stops_the_ones_taken_away() -> None:
    polled: dict[str, int] = {}
    seen: dict[str, asyncio.Event] = {name: asyncio.Event() for name in "abc"}

    async def poll(t: DeviceTarget) -> None:
        polled[t.name] = polled.get(t.name, 0) + 1
        seen[t.name].set()

    scheduler: Scheduler[None] = Scheduler(poll, SchedulerSettings(jitter_ratio=0.0))
    started, stopped = scheduler.assign([target("a", 0.001), target("b", 0.001)])
    assert (started, stopped) == (["a", "b"], [])
    await asyncio.gather(seen["a"].wait(), seen["b"].wait())
    assert scheduler.availability("a").up is True

    started, stopped = scheduler.assign([target("b", 0.001), target("c", 0.001)])
    assert (started, stopped, scheduler.assigned()) == (["c"], ["a"], ["b", "c"])
    assert scheduler.availability("a").up is None  # a device handed over is forgotten: the new owner continues it
    stopped_at = polled["a"]
    seen["b"].clear()
    await seen["c"].wait()
    for _ in range(3):  # b keeps going several rounds while a stays still
        seen["b"].clear()
        await seen["b"].wait()
    assert polled["a"] == stopped_at
    await scheduler.unassign_all()
    assert scheduler.assigned() == []
    with pytest.raises(ValueError, match="unique"):
        scheduler.assign([target("x"), target("x")])
