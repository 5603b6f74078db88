"""Real-time breach detection: a pure, stateful object fed timestamped measurements and an explicit ``now``.

Usage::

    detector = BreachDetector(DetectorSettings())
    detector.add_circuit("acme-1", terms, committed_rate_bps=100e6)
    detector.observe("acme-1", DeltaInput(at=ts, device_reachable=True, loss_ratio=0.0, rtt_ms=12.5), now=now)
    events = detector.evaluate(now)          # [Breach | Recovery, ...] for what changed since the last call
    detector.active()                        # the breaches open now, with their latest measured value

Objectives and how each is measured at ``evaluate(now)``:

* **latency / jitter / loss / utilisation**: the mean of the samples with ``now - window_s < at <= now`` against
  the contract ceiling (loss and utilisation as ratios: ceiling_pct / 100; utilisation is the busier direction
  against the interface speed).
* **committed_rate**: the lowest interface speed in the window below the circuit's committed rate (a port that
  negotiated below the committed rate cannot deliver it); a floor, not a ceiling.
* **availability**: the circuit's Δt state by the contract's sliding window (``sla.states.SlidingWindow``, the
  same machine as the monthly report). Measurements are binned into Δt slots aligned to UTC; a slot is decided
  once ``now >= slot end + settle_s``. The breach is dated from the first Δt of the run of n that took it down,
  the recovery from the first Δt of the run of n that brought it back. The window itself is the hysteresis.
* **burn_rate**: the share of the month's downtime budget used so far divided by the share of the month elapsed
  (``(D / ((1 - target/100) x B)) / (elapsed / calendar)``); above ``burn_rate_limit`` (1.0: exactly on pace to
  use the whole budget) the budget burns faster than the target allows. D counts decided unavailable Δt of the
  contract month so far outside maintenance windows; unknown time is not counted here.

Hysteresis (ceilings, burn rate): a breach opens when the value is strictly above the limit and closes only when
the value is at or below ``limit x (1 - margin_ratio)`` on ``clear_after`` consecutive evaluations. A value
hovering around the limit therefore opens one breach and never flaps. Floors (committed rate) mirror it. A
window without samples changes nothing (an open breach stays open; missing data is not a recovery).

Bad input never stalls evaluation; it is dropped and counted in ``ignored`` by reason: ``naive_timestamp``,
``future`` (beyond ``now + future_tolerance_s``), ``too_old`` (before ``now - max_age_s``, e.g. a 1970 clock),
``late`` (for a Δt already decided; its quality values still count), ``invalid_value``, ``unknown_circuit``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Literal

from sla.errors import SlaError
from sla.intervals import Interval, as_utc, difference, intersection, minutes, total, union
from sla.period import MonthPeriod, month_containing
from sla.states import Cause, DeltaInput, DeltaState, SlidingWindow, StateRun, classify, merge_worst, sanitise
from sla.terms import SlaTerms, maintenance_intervals, out_of_base

Objective = Literal["availability", "burn_rate", "latency", "loss", "jitter", "utilisation", "committed_rate"]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Breach:
    """An objective crossed its limit. ``measured`` and ``limit`` are in the objective's unit: ms (latency,
    jitter), ratio (loss, utilisation), bit/s (committed_rate), budget burn multiple (burn_rate); availability
    reports 0.0 against 1.0 (down against up). ``since``: the evaluation that saw it, or for availability the
    first Δt of the outage."""

    circuit: str
    objective: Objective
    measured: float
    limit: float
    since: datetime


@dataclass(frozen=True, slots=True)
class Recovery:
    """A breach cleared: open from ``since`` until ``until`` (for availability, the first good Δt)."""

    circuit: str
    objective: Objective
    since: datetime
    until: datetime


Event = Breach | Recovery


@dataclass(frozen=True, slots=True)
class DetectorSettings:
    window_s: float = 300.0
    margin_ratio: float = 0.1
    clear_after: int = 1  # consecutive evaluations at or below the clear level
    settle_s: float = 0.0  # wait after a Δt ends before deciding it (late polls)
    future_tolerance_s: float = 300.0
    max_age_s: float = 3600.0
    burn_rate_limit: float = 1.0

    def __post_init__(self) -> None:
        if self.window_s <= 0 or self.max_age_s < self.window_s:
            raise SlaError("window_s must be > 0 and max_age_s >= window_s")
        if not 0 <= self.margin_ratio < 1:
            raise SlaError("margin_ratio must lie in [0, 1)")
        if self.clear_after < 1:
            raise SlaError("clear_after must be >= 1")
        if self.settle_s < 0 or self.future_tolerance_s < 0:
            raise SlaError("settle_s and future_tolerance_s must be >= 0")


@dataclass(frozen=True, slots=True)
class ActiveBreach:
    circuit: str
    objective: Objective
    measured: float  # the latest evaluated value
    limit: float
    since: datetime


@dataclass(slots=True)
class _Gate:
    """Hysteresis of one objective on one circuit."""

    active: bool = False
    since: datetime | None = None
    measured: float = 0.0
    limit: float = 0.0
    good_streak: int = 0


@dataclass(slots=True)
class _Track:
    terms: SlaTerms
    committed_rate_bps: float | None
    window: SlidingWindow[int]
    open_slots: dict[int, DeltaInput] = field(default_factory=dict)
    decided_through: int | None = None
    down_since: datetime | None = None
    down: list[Interval] = field(default_factory=list)  # decided unavailable time, merged as it grows
    month: MonthPeriod | None = None
    month_exclusions: tuple[Interval, ...] = ()
    samples: list[DeltaInput] = field(default_factory=list)  # for the rolling windows
    pending_causes: dict[int, frozenset[Cause]] = field(default_factory=dict)
    decided_runs: list[StateRun] = field(default_factory=list)  # for storage, until drained
    gates: dict[Objective, _Gate] = field(default_factory=dict)


class BreachDetector:
    def __init__(self, settings: DetectorSettings | None = None) -> None:
        self.settings = settings or DetectorSettings()
        self._tracks: dict[str, _Track] = {}
        self.ignored: dict[str, int] = {}

    # --- set-up ----------------------------------------------------------------------------------------------

    def add_circuit(self, circuit: str, terms: SlaTerms, *, committed_rate_bps: float | None = None) -> None:
        """Watch a circuit; adding it again replaces its terms and keeps its state."""
        track = self._tracks.get(circuit)
        if track is None:
            self._tracks[circuit] = _Track(terms, committed_rate_bps, SlidingWindow(terms.sliding_window_n))
        else:
            track.terms, track.committed_rate_bps, track.month = terms, committed_rate_bps, None
            track.window.n = terms.sliding_window_n

    def restore(self, breach: ActiveBreach, down: Sequence[Interval] = ()) -> None:
        """Continue a breach that was open before a restart: the gate stays open from the same ``since`` (no second
        Breach event while it lasts; a Recovery closes it). For availability the window starts unavailable; ``down``
        is the month's decided unavailable time so far (what the burn rate counts)."""
        track = self._tracks.get(breach.circuit)
        if track is None:
            return
        gate = track.gates.setdefault(breach.objective, _Gate())
        gate.active, gate.since, gate.measured, gate.limit = True, breach.since, breach.measured, breach.limit
        if breach.objective == "availability":
            track.window.available = False
            track.down_since = breach.since
        self.restore_down(breach.circuit, down)

    def restore_down(self, circuit: str, down: Sequence[Interval]) -> None:
        """The month's decided unavailable time from storage (a restart), for the burn rate."""
        track = self._tracks.get(circuit)
        if track is not None and down:
            track.down = list(union([*track.down, *down]))

    def remove_circuit(self, circuit: str) -> None:
        self._tracks.pop(circuit, None)

    def _ignore(self, reason: str, count: int = 1) -> None:
        self.ignored[reason] = self.ignored.get(reason, 0) + count

    # --- input -----------------------------------------------------------------------------------------------

    def observe(self, circuit: str, sample: DeltaInput, *, now: datetime) -> bool:
        """Take one measurement; False when it was dropped (and counted in ``ignored``)."""
        now = as_utc(now, "now")
        track = self._tracks.get(circuit)
        if track is None:
            self._ignore("unknown_circuit")
            return False
        try:
            at = as_utc(sample.at, "sample time")
        except SlaError:
            self._ignore("naive_timestamp")
            return False
        if at > now + timedelta(seconds=self.settings.future_tolerance_s):
            self._ignore("future")
            return False
        if at < now - timedelta(seconds=self.settings.max_age_s):
            self._ignore("too_old")
            return False
        clean, bad = sanitise(replace(sample, at=at))
        if bad:
            self._ignore("invalid_value", bad)
        track.samples.append(clean)
        slot = (at - EPOCH) // timedelta(seconds=track.terms.delta_s)
        if track.decided_through is not None and slot <= track.decided_through:
            self._ignore("late")
            return True  # its quality values still count in the rolling windows
        existing = track.open_slots.get(slot)
        track.open_slots[slot] = clean if existing is None else merge_worst(existing, clean)
        return True

    # --- evaluation ------------------------------------------------------------------------------------------

    def evaluate(self, now: datetime) -> list[Event]:
        now = as_utc(now, "now")
        events: list[Event] = []
        for circuit in sorted(self._tracks):
            track = self._tracks[circuit]
            events.extend(self._availability(circuit, track, now))
            events.extend(self._burn_rate(circuit, track, now))
            events.extend(self._quality(circuit, track, now))
        return events

    def drain_runs(self) -> dict[str, list[StateRun]]:
        """Δt states decided since the last drain, per circuit, merged into runs: what to store as rollups.

        Only measured Δt are decided; time without data is absent (unknown), as the monthly report expects of
        ``CircuitMonthInput.states``. A run may continue in the next drain (merge on storage, or with
        ``sla.states.merge_runs``).
        """
        out: dict[str, list[StateRun]] = {}
        for circuit, track in sorted(self._tracks.items()):
            if track.decided_runs:
                out[circuit], track.decided_runs = track.decided_runs, []
        return out

    def active(self) -> list[ActiveBreach]:
        return [
            ActiveBreach(circuit, objective, gate.measured, gate.limit, gate.since)
            for circuit, track in sorted(self._tracks.items())
            for objective, gate in sorted(track.gates.items())
            if gate.active and gate.since is not None
        ]

    def _slot(self, track: _Track, index: int) -> Interval:
        step = timedelta(seconds=track.terms.delta_s)
        return Interval(EPOCH + index * step, EPOCH + (index + 1) * step)

    def _availability(self, circuit: str, track: _Track, now: datetime) -> list[Event]:
        events: list[Event] = []
        gate = track.gates.setdefault("availability", _Gate(limit=1.0))
        settle = timedelta(seconds=self.settings.settle_s)
        for index in sorted(track.open_slots):
            slot = self._slot(track, index)
            if slot.end + settle > now:
                break
            sample = track.open_slots.pop(index)
            track.decided_through = index
            was_available = track.window.available
            raw, causes = classify(sample, track.terms.unavailable_loss_ratio)
            track.pending_causes[index] = causes
            decided = track.window.feed(index, raw)
            for key, state in decided:
                slot_iv = self._slot(track, key)
                why = track.pending_causes.pop(key, frozenset())
                if state is DeltaState.UNAVAILABLE:
                    self._add_down(track, slot_iv)
                if state is not DeltaState.UNKNOWN:
                    self._add_run(track, StateRun(slot_iv.start, slot_iv.end, state, why))
            if was_available and not track.window.available:
                first = self._slot(track, min(k for k, _ in decided)).start
                track.down_since = first
                gate.active, gate.since, gate.measured = True, first, 0.0
                events.append(Breach(circuit, "availability", 0.0, 1.0, first))
            elif not was_available and track.window.available:
                back = self._slot(track, min(k for k, _ in decided)).start
                since = track.down_since or back
                gate.active, gate.since, gate.measured = False, None, 1.0
                track.down_since = None
                events.append(Recovery(circuit, "availability", since, back))
        return events

    @staticmethod
    def _add_run(track: _Track, run: StateRun) -> None:
        last = track.decided_runs[-1] if track.decided_runs else None
        if last is not None and last.state is run.state and last.end == run.start:
            track.decided_runs[-1] = StateRun(last.start, run.end, run.state, last.causes | run.causes)
        else:
            track.decided_runs.append(run)

    @staticmethod
    def _add_down(track: _Track, slot: Interval) -> None:
        if track.down and track.down[-1].end == slot.start:
            track.down[-1] = Interval(track.down[-1].start, slot.end)
        elif not track.down or slot.start > track.down[-1].end:
            track.down.append(slot)
        else:  # out of order (cannot happen with ordered feeding, but stay correct)
            track.down = list(union([*track.down, slot]))

    def _burn_rate(self, circuit: str, track: _Track, now: datetime) -> list[Event]:
        terms = track.terms
        month = month_containing(now, terms.timezone, terms.month_length)
        if track.month != month:
            track.month = month
            track.month_exclusions = union(
                w.interval for w in maintenance_intervals(terms.maintenance, terms.timezone, month.span)
            )
            track.down = [iv for iv in track.down if iv.end > month.start]
        if now <= month.start:
            return []
        elapsed = Interval(month.start, now)
        counted = difference(intersection(track.down, (elapsed,)), track.month_exclusions)
        base_min = float(month.basis_min - minutes(total(out_of_base(terms, month.span))))
        budget_min = (1 - float(terms.availability_target_pct) / 100) * base_min
        elapsed_ratio = float(minutes(elapsed.duration) / month.calendar_min)
        down_min = float(minutes(total(counted)))
        burn = (down_min / budget_min) / elapsed_ratio if budget_min > 0 else 0.0
        if budget_min <= 0 and down_min > 0:
            burn = math.inf  # a 100 % target has no budget: any downtime burns infinitely fast
        return self._gate(circuit, track, "burn_rate", burn, self.settings.burn_rate_limit, now, ceiling=True)

    def _quality(self, circuit: str, track: _Track, now: datetime) -> list[Event]:
        terms = track.terms
        start = now - timedelta(seconds=self.settings.window_s)
        track.samples = [s for s in track.samples if s.at > start]
        in_window = [s for s in track.samples if s.at <= now]

        def mean(values: Iterable[float | None]) -> float | None:
            data = [v for v in values if v is not None]
            return math.fsum(data) / len(data) if data else None

        def pct(limit: float | None) -> float | None:
            return None if limit is None else limit / 100

        events: list[Event] = []
        checks: list[tuple[Objective, float | None, float | None, bool]] = [
            ("latency", mean(s.rtt_ms for s in in_window), terms.latency_ceiling_ms, True),
            ("loss", mean(s.loss_ratio for s in in_window), pct(terms.loss_ceiling_pct), True),
            ("jitter", mean(s.jitter_ms for s in in_window), terms.jitter_ceiling_ms, True),
            ("utilisation", mean(s.utilisation_ratio for s in in_window), pct(terms.utilisation_ceiling_pct), True),
        ]
        speeds = [s.speed_bps for s in in_window if s.speed_bps is not None]
        checks.append(("committed_rate", min(speeds) if speeds else None, track.committed_rate_bps, False))
        for objective, value, limit, ceiling in checks:
            if limit is not None and value is not None:
                events.extend(self._gate(circuit, track, objective, value, limit, now, ceiling=ceiling))
        return events

    def _gate(
        self,
        circuit: str,
        track: _Track,
        objective: Objective,
        value: float,
        limit: float,
        now: datetime,
        *,
        ceiling: bool,
    ) -> list[Event]:
        gate = track.gates.setdefault(objective, _Gate())
        gate.measured, gate.limit = value, limit
        if ceiling:
            bad, clear = value > limit, value <= limit * (1 - self.settings.margin_ratio)
        else:  # a floor: below the limit is bad; speeds are discrete, so no margin is needed to stop flapping
            bad, clear = value < limit, value >= limit
        if not gate.active:
            if bad:
                gate.active, gate.since, gate.good_streak = True, now, 0
                return [Breach(circuit, objective, value, limit, now)]
            return []
        if not clear:
            gate.good_streak = 0
            return []
        gate.good_streak += 1
        if gate.good_streak < self.settings.clear_after:
            return []
        since = gate.since or now
        gate.active, gate.since, gate.good_streak = False, None, 0
        return [Recovery(circuit, objective, since, now)]
