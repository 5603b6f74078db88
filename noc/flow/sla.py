"""The SLA engine in the running system: measurements -> per-circuit Δt inputs -> breach detection -> events, with
the records (state runs, hourly statistics, breach records) stored so a monthly report never scans raw samples.

A bus consumer (``observe``) and a timer (``tick``); the arithmetic lives in ``sla``, the records' writers in
``noc.store.sla``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from noc.db import is_transient
from noc.messages import DevicePolled, Message, ProbeRound
from noc.store.sla import CircuitRef, merge_hours, restore_inputs, store_event, store_runs
from noc.timeutil import utcnow
from sla.breach import ActiveBreach, BreachDetector, DetectorSettings, Event
from sla.hours import HourBucket, hour_of
from sla.states import DeltaInput, DeltaState, StateRun, classify
from sla.terms import SlaTerms

log = logging.getLogger(__name__)
_LIVE_FIELDS = ("device_reachable", "oper_up", "loss_ratio", "rtt_ms", "jitter_ms", "in_bps", "out_bps", "speed_bps")


EventListener = Callable[[Event], Awaitable[None] | None]


class SlaEngine:
    """Feeds the breach detector from pipeline observations and stores what reports need, once per ``tick``."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        circuits: Sequence[tuple[CircuitRef, SlaTerms]],
        settings: DetectorSettings | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self.detector = BreachDetector(settings)
        self.circuits = {ref.name: ref for ref, _ in circuits}
        self._by_device: dict[str, list[CircuitRef]] = {}
        self._by_interface: dict[tuple[str, str], list[CircuitRef]] = {}
        for ref, terms in circuits:
            self.detector.add_circuit(ref.name, terms, committed_rate_bps=ref.committed_rate_bps)
            self._by_device.setdefault(ref.device, []).append(ref)
            self._by_interface.setdefault((ref.device, ref.interface), []).append(ref)
        self._hours: dict[tuple[int, datetime], HourBucket] = {}
        self._terms = {ref.name: terms for ref, terms in circuits}
        self._latest: dict[str, DeltaInput] = {}
        self.listeners: list[EventListener] = []
        self._pending_runs: dict[str, list[StateRun]] = {}
        self._pending_hours: dict[tuple[int, datetime], HourBucket] = {}
        self._pending_events: list[Event] = []
        self._undelivered: list[Event] = []

    def _feed(self, ref: CircuitRef, sample: DeltaInput) -> None:
        if self.detector.observe(ref.name, sample, now=self._clock()):
            self._hours.setdefault((ref.circuit_id, hour_of(sample.at)), HourBucket()).add(sample)
            previous = self._latest.get(ref.name)
            if previous is None:
                self._latest[ref.name] = sample
            else:
                fresh = {f: v for f in _LIVE_FIELDS if (v := getattr(sample, f)) is not None}
                self._latest[ref.name] = replace(previous, at=max(previous.at, sample.at), **fresh)

    def available_now(self, circuit: str) -> bool | None:
        """The circuit's state from its latest readings, by the same rule that decides each Δt (None: no data)."""
        latest = self._latest.get(circuit)
        if latest is None:
            return None
        state, _ = classify(latest, self._terms[circuit].unavailable_loss_ratio)
        return None if state is DeltaState.UNKNOWN else state is DeltaState.AVAILABLE

    def observe(self, message: Message) -> None:
        """A bus consumer's step: device reachability, interface status and traffic, probe results."""
        if isinstance(message, DevicePolled):
            # A failed poll short of the down threshold says nothing either way: unknown, not available.
            reachable = None if message.error is not None and message.available else message.available
            for ref in self._by_device.get(message.device, ()):
                self._feed(ref, DeltaInput(at=message.ts, device_reachable=reachable))
            for r in message.interfaces:
                for ref in self._by_interface.get((r.device, r.if_name), ()):
                    self._feed(
                        ref,
                        DeltaInput(
                            at=r.ts,
                            oper_up=r.oper_status == "up",
                            in_bps=r.in_bits_per_second,
                            out_bps=r.out_bits_per_second,
                            speed_bps=None if r.speed_bps is None else float(r.speed_bps),
                        ),
                    )
        elif isinstance(message, ProbeRound):
            for result in message.results:
                s = result.sample
                probed = self.circuits.get(s.circuit)
                if probed is not None and s.error is None:
                    self._feed(
                        probed,
                        DeltaInput(at=s.ts, loss_ratio=s.loss_ratio, rtt_ms=s.rtt_avg_ms, jitter_ms=s.jitter_ms),
                    )

    async def restore(self, now: datetime | None = None) -> int:
        """Continue what the last run left: open breaches keep their start, and the month's decided unavailable
        time counts for the burn rate. Returns how many breaches were continued."""
        now = now or self._clock()
        by_id = {ref.circuit_id: ref.name for ref in self.circuits.values()}
        async with self._sessions() as session:
            down, rows = await restore_inputs(session, now)
        for cid, intervals in down.items():
            if cid in by_id:
                self.detector.restore_down(by_id[cid], intervals)
        for row in rows:
            if row.circuit_id in by_id:
                self.detector.restore(
                    ActiveBreach(by_id[row.circuit_id], row.objective, row.measured, row.limit, row.since)  # type: ignore[arg-type]
                )
        return len(rows)

    async def tick(self, now: datetime | None = None) -> list[Event]:
        """Evaluate, store the decided Δt runs, the hourly statistics and the breach records, then tell listeners.

        Nothing decided is lost when storage fails: the runs, hours and events wait for the next tick (the
        exception is raised for the supervisor to report); events whose listener failed are offered again."""
        now = now or self._clock()
        events = self.detector.evaluate(now)
        for name, circuit_runs in self.detector.drain_runs().items():
            self._pending_runs.setdefault(name, []).extend(circuit_runs)
        for key, bucket in self._hours.items():
            kept = self._pending_hours.get(key)
            if kept is None:
                self._pending_hours[key] = bucket
            else:
                kept.absorb(bucket)
        self._hours = {}
        self._pending_events.extend(events)
        await self._store_pending()
        await self._deliver()
        return events

    async def _store_pending(self) -> None:
        runs, hours, events = self._pending_runs, self._pending_hours, self._pending_events
        if not (runs or hours or events):
            return
        async with self._sessions() as session:
            for name, circuit_runs in runs.items():
                await store_runs(session, self.circuits[name].circuit_id, circuit_runs)
            await merge_hours(session, hours)
            for event in events:
                await store_event(session, self.circuits[event.circuit].circuit_id, event)
            await session.commit()
        self._pending_runs, self._pending_hours = {}, {}
        self._undelivered.extend(events)
        self._pending_events = []

    async def _deliver(self) -> None:
        while self._undelivered:
            event = self._undelivered[0]
            for listener in self.listeners:
                try:
                    outcome = listener(event)
                    if outcome is not None:
                        await outcome
                except Exception as exc:
                    if is_transient(exc):
                        raise  # the database is away: offered again at the next tick
                    log.exception("SLA event for %s could not be handled; set aside", event.circuit)
            self._undelivered.pop(0)
