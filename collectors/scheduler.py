"""Async poll scheduler: per-device interval, jitter, global concurrency cap, per-device timeout, bounded retries,
backoff for devices that stay down, availability state, and a record of every poll (duration, lateness, overrun).

Every device runs in its own task, so a dead or blackholed device only ever holds one concurrency slot for at most
``timeout_s * (retries + 1)`` and never delays the others' schedule. Cancellation is never swallowed: cancelling
:meth:`Scheduler.run` cancels every device task and re-raises. Only availability transitions are logged (down,
recovered), not every failed poll.

Public API::

    scheduler = Scheduler(poll=collector.poll, settings=SchedulerSettings(...), on_record=callback)
    await scheduler.run(targets, rounds=None)        # per-device loops until cancelled (or ``rounds`` polls each)
    report = await scheduler.run_cycle(targets)      # every device once, concurrently: CycleReport
    scheduler.assign(targets)                        # poll exactly these from now on (a fleet member's share)
    scheduler.availability(device_name)              # AvailabilityState

``poll`` is any ``async (DeviceTarget) -> R`` (e.g. ``SnmpCollector.poll``); it should raise
``collectors.errors.CollectorError`` for device problems. ``on_record`` receives a :class:`PollRecord` per device
poll (sync or async callable); an exception in it is logged and does not stop the device's loop.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

from collectors.availability import DEFAULT_FAILURE_THRESHOLD, AvailabilityState, Transition, observe
from collectors.errors import CollectorError
from collectors.model import DeviceTarget

log = logging.getLogger(__name__)

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class SchedulerSettings:
    jitter_ratio: float = 0.1  # first poll of each device lands uniformly in [0, ratio * interval) after start
    max_concurrency: int = 64  # polls in flight at once, all devices together
    timeout_s: float = 10.0  # per attempt, covering the whole device poll (all its PDUs)
    retries: int = 1  # further attempts within the same cycle after a failed one
    failure_threshold: int = DEFAULT_FAILURE_THRESHOLD  # consecutive failed cycles before a device is down
    backoff_factor: float = 2.0  # a down device's interval grows by this factor per further failure ...
    max_backoff_s: float = 600.0  # ... up to this interval
    history: int = 10_000  # PollRecords kept in memory (ring buffer)

    def __post_init__(self) -> None:
        if self.max_concurrency < 1 or self.timeout_s <= 0 or self.retries < 0 or self.failure_threshold < 1:
            raise ValueError("scheduler settings out of range")


@dataclass(frozen=True, slots=True)
class PollRecord(Generic[R]):
    device: str
    scheduled_at: datetime  # when the poll was due
    started_at: datetime  # when it got a concurrency slot
    finished_at: datetime
    duration_s: float  # monotonic, from slot acquired to last attempt's end
    lateness_s: float  # monotonic, start minus due time (concurrency cap contention shows here)
    interval_s: float  # the interval in force for this device when the poll was scheduled
    overrun: bool  # the poll took longer than the interval: the next one starts late (skipped, not queued)
    attempts: int
    ok: bool
    error: str | None = None
    result: R | None = None
    transition: Transition | None = None


@dataclass(frozen=True, slots=True)
class CycleReport(Generic[R]):
    started_at: datetime
    duration_s: float
    interval_s: float | None
    overrun: bool  # duration above interval_s
    records: tuple[PollRecord[R], ...]


@dataclass(slots=True)
class _DeviceState:
    availability: AvailabilityState = field(default_factory=AvailabilityState)


class Scheduler(Generic[R]):
    def __init__(
        self,
        poll: Callable[[DeviceTarget], Awaitable[R]],
        settings: SchedulerSettings | None = None,
        *,
        on_record: Callable[[PollRecord[R]], Awaitable[None] | None] | None = None,
        rng: random.Random | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._poll = poll
        self.settings = settings or SchedulerSettings()
        self._on_record = on_record
        self._rng = rng or random.Random()
        self._monotonic = monotonic
        self._wall = wall
        self._semaphore = asyncio.Semaphore(self.settings.max_concurrency)
        self._devices: dict[str, _DeviceState] = {}
        self.records: deque[PollRecord[R]] = deque(maxlen=self.settings.history)
        self._assigned: dict[str, tuple[DeviceTarget, asyncio.Task[None]]] = {}

    def availability(self, device: str) -> AvailabilityState:
        state = self._devices.get(device)
        return state.availability if state else AvailabilityState()

    def restore(self, device: str, state: AvailabilityState) -> None:
        """Start a device from a known state (a restart continues an outage instead of opening a new one)."""
        self._devices[device] = _DeviceState(availability=state)

    def _interval_for(self, target: DeviceTarget) -> float:
        """The device's interval, stretched while it stays down (backoff), capped."""
        interval = target.poll_interval_s
        state = self.availability(target.name)
        if state.up is False:
            extra = state.consecutive_failures - self.settings.failure_threshold + 1
            interval = min(
                max(interval, self.settings.max_backoff_s), interval * self.settings.backoff_factor ** max(0, extra)
            )
        return interval

    def _wall_at(self, mono: float, ref_mono: float, ref_wall: datetime) -> datetime:
        return ref_wall + timedelta(seconds=mono - ref_mono)

    async def poll_once(
        self, target: DeviceTarget, *, due: float | None = None, interval_s: float | None = None
    ) -> PollRecord[R]:
        """One cycle of one device: slot, attempts with timeout, availability update, record. Never raises
        (except cancellation)."""
        ref_mono, ref_wall = self._monotonic(), self._wall()
        due = ref_mono if due is None else due
        interval = target.poll_interval_s if interval_s is None else interval_s
        async with self._semaphore:
            start = self._monotonic()
            started_at = self._wall()
            attempts, error, result, ok = 0, None, None, False
            for _ in range(self.settings.retries + 1):
                attempts += 1
                try:
                    async with asyncio.timeout(self.settings.timeout_s):
                        result = await self._poll(target)
                    ok, error = True, None
                    break
                except TimeoutError:
                    error = f"{target.name}: no complete answer within {self.settings.timeout_s:g} s"
                except CollectorError as exc:
                    error = str(exc)
                except Exception as exc:  # a bug or an unwrapped library error must not kill the loop
                    log.exception("unexpected error polling %s", target.name)
                    error = f"{target.name}: unexpected {type(exc).__name__}: {exc}"
            end = self._monotonic()
        finished_at = self._wall()
        state = self._devices.setdefault(target.name, _DeviceState())
        state.availability, transition = observe(
            state.availability, ok=ok, at=started_at, threshold=self.settings.failure_threshold
        )
        if transition is not None:
            if transition.kind == "down":
                log.warning("device %s down since %s: %s", target.name, transition.down_since.isoformat(), error)
            else:
                log.info("device %s recovered (down since %s)", target.name, transition.down_since.isoformat())
        record: PollRecord[R] = PollRecord(
            device=target.name,
            scheduled_at=self._wall_at(due, ref_mono, ref_wall),
            started_at=started_at,
            finished_at=finished_at,
            duration_s=end - start,
            lateness_s=max(0.0, start - due),
            interval_s=interval,
            overrun=(end - start) > interval,
            attempts=attempts,
            ok=ok,
            error=error,
            result=result if ok else None,
            transition=transition,
        )
        self.records.append(record)
        await self._emit(record)
        return record

    async def _emit(self, record: PollRecord[R]) -> None:
        if self._on_record is None:
            return
        try:
            outcome = self._on_record(record)
            if inspect.isawaitable(outcome):
                await outcome
        except Exception:  # the consumer's bug must not stop polling; cancellation still propagates
            log.exception("on_record failed for %s", record.device)

    async def _device_loop(self, target: DeviceTarget, rounds: int | None, delay_s: float | None = None) -> None:
        interval = target.poll_interval_s
        if delay_s is None:
            delay_s = self._rng.uniform(0.0, self.settings.jitter_ratio * interval)
        due = self._monotonic() + max(0.0, delay_s)
        count = 0
        while rounds is None or count < rounds:
            delay = due - self._monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await self.poll_once(target, due=due, interval_s=interval)
            count += 1
            interval = self._interval_for(target)
            due += interval
            now = self._monotonic()
            if due < now:
                # Overrun: skip the missed slots instead of firing a burst of catch-up polls.
                due = now

    def assign(
        self, targets: Sequence[DeviceTarget], start_in: Mapping[str, float] | None = None
    ) -> tuple[list[str], list[str]]:
        """Poll exactly these devices from now on (a fleet member's share): a loop starts for each new device (its
        first poll ``start_in[name]`` seconds from now, e.g. one interval after the previous owner's last poll; else
        with the usual jitter), the loop of each device no longer assigned (or whose target changed) is cancelled and
        its state forgotten. Returns the names started and stopped. Call from a running event loop;
        :meth:`unassign_all` stops them all."""
        wanted = {t.name: t for t in targets}
        if len(wanted) != len(targets):
            raise ValueError("device names must be unique")
        stopped = [name for name, (t, _) in self._assigned.items() if wanted.get(name) != t]
        for name in stopped:
            _, task = self._assigned.pop(name)
            task.cancel()
            self._devices.pop(name, None)
        started = [name for name in wanted if name not in self._assigned]
        for name in started:
            delay = None if start_in is None else start_in.get(name)
            loop = self._device_loop(wanted[name], None, delay)
            task = asyncio.get_running_loop().create_task(loop, name=f"poll:{name}")
            self._assigned[name] = (wanted[name], task)
        return started, [name for name in stopped if name not in started]

    def assigned(self) -> list[str]:
        return sorted(self._assigned)

    async def unassign_all(self) -> None:
        """Stop every assigned device's loop and wait until they ended."""
        tasks = [task for _, task in self._assigned.values()]
        self._assigned.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def run(self, targets: Sequence[DeviceTarget], *, rounds: int | None = None) -> None:
        """Poll every target on its own interval until cancelled, or ``rounds`` polls each."""
        names = [t.name for t in targets]
        if len(set(names)) != len(names):
            raise ValueError("device names must be unique")
        async with asyncio.TaskGroup() as group:
            for target in targets:
                group.create_task(self._device_loop(target, rounds), name=f"poll:{target.name}")

    async def run_cycle(self, targets: Sequence[DeviceTarget], *, interval_s: float | None = None) -> CycleReport[R]:
        """Every target once, concurrently (bounded by the cap); the cycle's duration and overrun."""
        started_at, start = self._wall(), self._monotonic()
        records = await asyncio.gather(*(self.poll_once(t) for t in targets))
        duration = self._monotonic() - start
        return CycleReport(
            started_at=started_at,
            duration_s=duration,
            interval_s=interval_s,
            overrun=interval_s is not None and duration > interval_s,
            records=tuple(records),
        )
