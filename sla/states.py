"""Δt availability states per circuit and the MEF 10.3-style sliding window.

Each Δt (default 60 s) is first classified on its own ("raw"):

* **unavailable** if the PE device was unreachable, the circuit's interface was operationally down, or the probe
  loss ratio was above the contract threshold (the loss ceiling; without one, only total loss);
* **available** if at least one of those signals was measured and none was bad;
* **unknown** if none of them was measured (no data).

The sliding window of ``n`` consecutive Δt then decides the state: the circuit becomes unavailable only when ``n``
consecutive measured Δt are raw-unavailable, and that unavailability starts at the first of them; it becomes
available again only after ``n`` consecutive raw-available Δt, from the first of those. Fewer than ``n`` keep the
previous state (n = 10: nine bad Δt stay available, ten are unavailable from the first).

Unknown Δt are transparent to the window: they neither extend nor break a run (a polling gap must not hide an
outage, nor invent one), and they stay ``unknown`` in the result so that the contract's unknown-time rule can be
applied to them when availability is counted.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sla.errors import SlaError
from sla.intervals import Interval, Labelled, as_utc

K = TypeVar("K")


class DeltaState(StrEnum):
    AVAILABLE = "available"
    UNAVAILABLE = "unavailable"
    UNKNOWN = "unknown"


class Cause(StrEnum):
    """Why a Δt was raw-unavailable; also the cause of an outage built from such Δt."""

    DEVICE_UNREACHABLE = "device_unreachable"
    INTERFACE_DOWN = "interface_down"
    LOSS_ABOVE_THRESHOLD = "loss_above_threshold"


@dataclass(frozen=True, slots=True)
class DeltaInput:
    """What was measured for one circuit during one Δt; ``None`` means not measured.

    ``at`` is any instant inside the Δt (its start, typically). Traffic and quality fields feed the monthly
    statistics; only reachability, oper status and loss decide availability.
    """

    at: datetime
    device_reachable: bool | None = None
    oper_up: bool | None = None
    loss_ratio: float | None = None
    rtt_ms: float | None = None
    jitter_ms: float | None = None
    in_bps: float | None = None
    out_bps: float | None = None
    speed_bps: float | None = None

    @property
    def utilisation_ratio(self) -> float | None:
        """The busier direction against the interface speed."""
        if self.speed_bps is None or self.speed_bps <= 0:
            return None
        rates = [r for r in (self.in_bps, self.out_bps) if r is not None]
        return max(rates) / self.speed_bps if rates else None


_NUMERIC = ("loss_ratio", "rtt_ms", "jitter_ms", "in_bps", "out_bps", "speed_bps")


def sanitise(sample: DeltaInput) -> tuple[DeltaInput, int]:
    """Drop impossible numbers (NaN, infinities, negatives, loss above 1) to ``None``; return how many."""
    changes: dict[str, Any] = {}
    for name in _NUMERIC:
        value = getattr(sample, name)
        if value is not None and (not math.isfinite(value) or value < 0 or (name == "loss_ratio" and value > 1)):
            changes[name] = None
    return (replace(sample, **changes) if changes else sample), len(changes)


def classify(sample: DeltaInput, unavailable_loss_ratio: float) -> tuple[DeltaState, frozenset[Cause]]:
    """The raw state of one Δt on its own, with the causes when unavailable."""
    causes: set[Cause] = set()
    if sample.device_reachable is False:
        causes.add(Cause.DEVICE_UNREACHABLE)
    if sample.oper_up is False:
        causes.add(Cause.INTERFACE_DOWN)
    loss = sample.loss_ratio
    # Total loss is unavailability whatever the ceiling says; otherwise strictly above the threshold.
    if loss is not None and (loss > unavailable_loss_ratio or loss >= 1.0):
        causes.add(Cause.LOSS_ABOVE_THRESHOLD)
    if causes:
        return DeltaState.UNAVAILABLE, frozenset(causes)
    if sample.device_reachable is None and sample.oper_up is None and loss is None:
        return DeltaState.UNKNOWN, frozenset()
    return DeltaState.AVAILABLE, frozenset()


def outage_labels(causes: Iterable[Cause]) -> list[str]:
    """How measured unavailability is labelled as an outage cause: ``measured:<cause>`` per cause."""
    return sorted(f"measured:{c.value}" for c in causes) or ["measured"]


class SlidingWindow(Generic[K]):
    """The n-consecutive-Δt state machine, fed one raw state at a time (batch and real time share it).

    ``feed`` returns the Δt whose state got decided by this input, possibly earlier ones (a run reaching ``n``
    decides all of its members at once, dated back to the first). Keys are whatever identifies a Δt for the
    caller: an index in batch, a timestamp in real time.
    """

    def __init__(self, n: int, *, available: bool = True) -> None:
        if n < 1:
            raise SlaError("sliding window n must be >= 1")
        self.n = n
        self.available = available
        self._run: list[K] = []  # measured Δt contradicting the current state, not yet decided

    @property
    def pending(self) -> tuple[K, ...]:
        return tuple(self._run)

    def _state(self) -> DeltaState:
        return DeltaState.AVAILABLE if self.available else DeltaState.UNAVAILABLE

    def feed(self, key: K, raw: DeltaState) -> list[tuple[K, DeltaState]]:
        if raw is DeltaState.UNKNOWN:
            return [(key, DeltaState.UNKNOWN)]
        if (raw is DeltaState.AVAILABLE) == self.available:
            # Agrees with the current state: the broken run is decided as the state it failed to change.
            decided = [(k, self._state()) for k in self._run]
            self._run.clear()
            decided.append((key, self._state()))
            return decided
        self._run.append(key)
        if len(self._run) < self.n:
            return []
        self.available = not self.available
        decided = [(k, self._state()) for k in self._run]
        self._run.clear()
        return decided

    def flush(self) -> list[tuple[K, DeltaState]]:
        """Decide a trailing incomplete run: it did not reach ``n``, so it keeps the current state."""
        decided = [(k, self._state()) for k in self._run]
        self._run.clear()
        return decided


@dataclass(frozen=True, slots=True)
class DeltaEvaluation:
    """States of consecutive Δt slots from ``start``; slot ``i`` is ``[start + i·Δt, start + (i+1)·Δt)``."""

    start: datetime
    end: datetime
    delta_s: int
    states: tuple[DeltaState, ...]
    causes: tuple[frozenset[Cause], ...]  # raw causes per slot (non-empty only for raw-unavailable slots)
    inputs: tuple[DeltaInput | None, ...]
    ignored: Mapping[str, int] = field(default_factory=dict)

    def slot(self, i: int) -> Interval:
        step = timedelta(seconds=self.delta_s)
        return Interval(self.start + i * step, min(self.start + (i + 1) * step, self.end))

    def runs(self, state: DeltaState) -> tuple[Labelled, ...]:
        """Maximal runs of ``state`` as intervals. Unavailable runs carry one label per raw cause seen inside
        them (``measured:<cause>``); unknown runs are labelled ``unknown``."""
        out: list[Labelled] = []
        i = 0
        while i < len(self.states):
            if self.states[i] is not state:
                i += 1
                continue
            j = i
            seen: set[Cause] = set()
            while j < len(self.states) and self.states[j] is state:
                seen |= self.causes[j]
                j += 1
            span = Interval(self.slot(i).start, self.slot(j - 1).end)
            if state is DeltaState.UNAVAILABLE:
                out.extend(Labelled(span, label) for label in outage_labels(seen))
            else:
                out.append(Labelled(span, state.value))
            i = j

        return tuple(out)


@dataclass(frozen=True, slots=True)
class StateRun:
    """Consecutive Δt of one decided state: the compact form to store as a rollup (unknown is simply absent)."""

    start: datetime
    end: datetime
    state: DeltaState
    causes: frozenset[Cause] = frozenset()


def merge_runs(runs: Iterable[StateRun]) -> list[StateRun]:
    """Sort and merge adjacent runs of the same state (causes unioned), e.g. per-Δt decisions into rollups."""
    merged: list[StateRun] = []
    for run in sorted(runs, key=lambda r: (r.start, r.end)):
        last = merged[-1] if merged else None
        if last is not None and last.state is run.state and last.end == run.start:
            merged[-1] = StateRun(last.start, run.end, last.state, last.causes | run.causes)
        else:
            merged.append(run)
    return merged


def merge_worst(a: DeltaInput, b: DeltaInput) -> DeltaInput:
    """Two inputs for one Δt (duplicate polls) become one, keeping the worse reading of each field."""
    merged: dict[str, object] = {}
    for f in fields(DeltaInput):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if f.name == "at":
            merged["at"] = min(x, y)
        elif x is None or y is None:
            merged[f.name] = y if x is None else x
        elif isinstance(x, bool):
            merged[f.name] = x and y
        elif f.name == "speed_bps":
            merged[f.name] = min(x, y)
        else:
            merged[f.name] = max(x, y)
    return DeltaInput(**merged)  # type: ignore[arg-type]


def evaluate_deltas(
    samples: Iterable[DeltaInput],
    span: Interval,
    *,
    delta_s: int,
    sliding_window_n: int,
    unavailable_loss_ratio: float,
    initially_available: bool = True,
) -> DeltaEvaluation:
    """Grid the samples into Δt slots over ``span`` and decide every slot's state.

    Slots without a sample are unknown. Samples outside ``span`` (a 1970 clock, a far-future one) are ignored and
    counted in ``ignored`` by reason, as are impossible values and duplicates (merged worst-case), so one bad
    clock neither stalls the evaluation nor moves its period.
    """
    if delta_s < 1:
        raise SlaError("delta_s must be >= 1")
    step = timedelta(seconds=delta_s)
    count = -(-(span.end - span.start) // step)  # ceiling division of timedeltas
    slots: list[DeltaInput | None] = [None] * count
    ignored: dict[str, int] = {}

    def note(reason: str, k: int = 1) -> None:
        ignored[reason] = ignored.get(reason, 0) + k

    for raw_sample in samples:
        try:
            at = as_utc(raw_sample.at, "sample time")
        except SlaError:
            note("naive_timestamp")
            continue
        if at < span.start:
            note("before_period")
            continue
        if at >= span.end:
            note("after_period")
            continue
        # Copy only when needed: this loop runs once per Δt of a month per circuit.
        sample, bad_values = sanitise(raw_sample if raw_sample.at is at else replace(raw_sample, at=at))
        if bad_values:
            note("invalid_value", bad_values)
        i = (at - span.start) // step
        existing = slots[i]
        if existing is not None:
            note("duplicate")
            sample = merge_worst(existing, sample)
        slots[i] = sample

    window: SlidingWindow[int] = SlidingWindow(sliding_window_n, available=initially_available)
    states: list[DeltaState] = [DeltaState.UNKNOWN] * count
    causes: list[frozenset[Cause]] = [frozenset()] * count
    for i, slot in enumerate(slots):
        raw, why = (DeltaState.UNKNOWN, frozenset[Cause]()) if slot is None else classify(slot, unavailable_loss_ratio)
        causes[i] = why
        for k, state in window.feed(i, raw):
            states[k] = state
    for k, state in window.flush():
        states[k] = state
    return DeltaEvaluation(span.start, span.end, delta_s, tuple(states), tuple(causes), tuple(slots), ignored)
