"""The monthly report per circuit and per contract: a typed model that rendering (JSON, CSV, PDF) consumes.

Inputs per circuit (``CircuitMonthInput``) come in either of two shapes, so the report can be built from raw
per-Δt inputs or from compact rollups:

* ``samples`` given (a sequence, possibly empty): Δt states are decided here from them (sliding window included)
  and slots without a sample are unknown; statistics come from the samples.
* ``states`` given: decided Δt states as stored rollups (``StateRun``, e.g. from ``BreachDetector.drain_runs``);
  unavailable runs are outages, time covered by no run is unknown. Statistics come from ``stats``.
* neither: the circuit's states are given as intervals (``outages`` and ``unknown``); the rest of the period is
  available. Statistics come from ``stats`` when given.

Explicit outage sources (device outage records, tickets) go in ``outages`` in both shapes and are unioned with
the measured ones, so overlaps count once.

Objectives, per circuit (measured value, limit, met or missed; None when there was nothing to measure):

* availability: the circuit's % >= the target;
* latency / jitter: the month's mean of per-Δt values <= the ceiling (ms);
* loss: the month's mean per-Δt loss (in %) <= the ceiling;
* utilisation: the 95th percentile of per-Δt utilisation of the interface (busier direction, in %) <= the
  ceiling;
* committed_rate: the lowest interface speed seen >= the circuit's committed rate (a port that negotiated below
  the committed rate cannot deliver it).

Per contract: availability is the minute-weighted figure of ``sla.availability.aggregate_availability``; every
other objective is met when every circuit that measured it met it, and its measured value is the worst circuit's.
The credit is computed from the contract availability; it is owed only when the report is final, not while the
month is in progress or less of it was measured than the contract's minimum (``sla.provisional``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum

from sla.availability import AvailabilityResult, aggregate_availability, compute_availability, fmt
from sla.credits import CreditResult, compute_credit
from sla.errors import SlaError
from sla.intervals import Interval, Labelled, as_utc, clip, difference, make, seconds, union
from sla.period import MonthPeriod, month_period
from sla.provisional import ReportStatus, coverage, report_status
from sla.states import DeltaEvaluation, DeltaInput, DeltaState, StateRun, evaluate_deltas, outage_labels
from sla.stats import MetricSummary, summarise
from sla.terms import SlaTerms, maintenance_intervals, out_of_base

EMPTY = MetricSummary()


@dataclass(frozen=True, slots=True)
class OutageSource:
    """An outage known from elsewhere (a ``device_outages`` row: ``end`` None while it lasts)."""

    start: datetime
    end: datetime | None
    cause: str


@dataclass(frozen=True, slots=True)
class CircuitStats:
    # MetricSummary is frozen, so one shared empty default is safe.
    latency_ms: MetricSummary = EMPTY
    loss_ratio: MetricSummary = EMPTY
    jitter_ms: MetricSummary = EMPTY
    in_bps: MetricSummary = EMPTY
    out_bps: MetricSummary = EMPTY
    utilisation_ratio: MetricSummary = EMPTY  # busier direction against the interface speed
    speed_bps: MetricSummary = EMPTY
    committed_rate_bps: float | None = None

    @property
    def p95_of_committed_ratio(self) -> float | None:
        """The busier direction's 95th percentile traffic against the committed rate."""
        p95s = [s.p95 for s in (self.in_bps, self.out_bps) if s.p95 is not None]
        if not p95s or not self.committed_rate_bps:
            return None
        return max(p95s) / self.committed_rate_bps

    @property
    def peak_of_committed_ratio(self) -> float | None:
        peaks = [s.max for s in (self.in_bps, self.out_bps) if s.max is not None]
        if not peaks or not self.committed_rate_bps:
            return None
        return max(peaks) / self.committed_rate_bps


def stats_from_samples(samples: Iterable[DeltaInput], committed_rate_bps: float | None = None) -> CircuitStats:
    data = list(samples)

    def col(name: str) -> list[float]:
        return [v for s in data if (v := getattr(s, name)) is not None]

    return CircuitStats(
        latency_ms=summarise(col("rtt_ms")),
        loss_ratio=summarise(col("loss_ratio")),
        jitter_ms=summarise(col("jitter_ms")),
        in_bps=summarise(col("in_bps")),
        out_bps=summarise(col("out_bps")),
        utilisation_ratio=summarise(u for s in data if (u := s.utilisation_ratio) is not None),
        speed_bps=summarise(col("speed_bps")),
        committed_rate_bps=committed_rate_bps,
    )


@dataclass(frozen=True, slots=True)
class CircuitMonthInput:
    circuit: str
    samples: Sequence[DeltaInput] | None = None
    states: Sequence[StateRun] | None = None
    outages: Sequence[OutageSource] = ()
    unknown: Sequence[Interval] = ()
    # Monitoring gaps: time nobody polled the circuit's device. Unknown, whatever an outage record spanning it says
    # (a device down before a gap and after it may have been up in between): the contract's unknown-time rule.
    unmonitored: Sequence[Interval] = ()
    stop_clock: Sequence[Labelled] = ()  # labelled e.g. "stop_clock:waiting for customer"
    committed_rate_bps: float | None = None
    stats: CircuitStats | None = None
    initially_available: bool = True  # the state carried over from the previous month


@dataclass(frozen=True, slots=True)
class ObjectiveResult:
    objective: str  # availability | latency | loss | jitter | utilisation | committed_rate
    measured: Decimal | float | None
    limit: Decimal | float
    unit: str
    met: bool | None  # None: nothing measured
    rule: str


@dataclass(frozen=True, slots=True)
class CircuitReport:
    circuit: str
    availability: AvailabilityResult
    stats: CircuitStats
    objectives: tuple[ObjectiveResult, ...]
    ignored: dict[str, int] = field(default_factory=dict)  # samples left out, by reason

    @property
    def availability_pct(self) -> Decimal | None:
        return self.availability.availability_pct


@dataclass(frozen=True, slots=True)
class ContractReport:
    contract: str
    terms: SlaTerms
    period: MonthPeriod
    span: Interval  # the period, or its elapsed part for a month in progress
    complete: bool
    circuits: tuple[CircuitReport, ...]
    availability_pct: Decimal | None
    availability_steps: tuple[str, ...]
    objectives: tuple[ObjectiveResult, ...]
    credit: CreditResult  # as the figures so far give it; owed only when ``status`` is final
    status: ReportStatus  # final or provisional, and the measured share (``sla.provisional``)


def _objectives(terms: SlaTerms, availability_pct: Decimal | None, stats: CircuitStats) -> list[ObjectiveResult]:
    target = terms.availability_target_pct
    out = [
        ObjectiveResult(
            "availability",
            availability_pct,
            target,
            "%",
            None if availability_pct is None else availability_pct >= target,
            "availability % >= target",
        )
    ]

    def ceiling(name: str, measured: float | None, limit: float | None, unit: str, rule: str) -> None:
        if limit is not None:
            out.append(
                ObjectiveResult(name, measured, limit, unit, None if measured is None else measured <= limit, rule)
            )

    loss_avg = stats.loss_ratio.avg
    util_p95 = stats.utilisation_ratio.p95
    ceiling("latency", stats.latency_ms.avg, terms.latency_ceiling_ms, "ms", "monthly mean RTT <= ceiling")
    ceiling(
        "loss",
        None if loss_avg is None else loss_avg * 100,
        terms.loss_ceiling_pct,
        "%",
        "monthly mean loss <= ceiling",
    )
    ceiling("jitter", stats.jitter_ms.avg, terms.jitter_ceiling_ms, "ms", "monthly mean jitter <= ceiling")
    ceiling(
        "utilisation",
        None if util_p95 is None else util_p95 * 100,
        terms.utilisation_ceiling_pct,
        "%",
        "95th percentile utilisation of the interface <= ceiling",
    )
    if stats.committed_rate_bps is not None:
        low = stats.speed_bps.min
        out.append(
            ObjectiveResult(
                "committed_rate",
                low,
                stats.committed_rate_bps,
                "bit/s",
                None if low is None else low >= stats.committed_rate_bps,
                "lowest interface speed >= committed rate",
            )
        )
    return out


def _contract_objectives(
    terms: SlaTerms, pct: Decimal | None, circuits: Sequence[CircuitReport]
) -> list[ObjectiveResult]:
    target = terms.availability_target_pct
    out = [
        ObjectiveResult(
            "availability",
            pct,
            target,
            "%",
            None if pct is None else pct >= target,
            "contract availability % >= target",
        )
    ]
    names = [o.objective for c in circuits for o in c.objectives if o.objective != "availability"]
    for name in dict.fromkeys(names):
        rows = [o for c in circuits for o in c.objectives if o.objective == name]
        measured = [o for o in rows if o.met is not None and o.measured is not None]
        if not measured:
            out.append(ObjectiveResult(name, None, rows[0].limit, rows[0].unit, None, "every circuit: " + rows[0].rule))
            continue
        # The worst circuit relative to its own limit (committed rates differ per circuit): the highest share of
        # a ceiling, the lowest share of the committed rate.
        pick = min if name == "committed_rate" else max
        worst = pick(measured, key=lambda o: float(o.measured or 0) / float(o.limit or 1))
        out.append(
            ObjectiveResult(
                name,
                worst.measured,
                worst.limit,
                worst.unit,
                all(bool(o.met) for o in measured),
                "every circuit: " + worst.rule,
            )
        )
    return out


def circuit_report(
    terms: SlaTerms, span: Interval, basis_min: Decimal, exclusions: Sequence[Labelled], item: CircuitMonthInput
) -> CircuitReport:
    outages: list[Labelled] = []
    unknown: list[Interval] = list(item.unknown)
    ignored: dict[str, int] = {}
    for source in item.outages:
        try:
            start = as_utc(source.start, "outage start")
            end = span.end if source.end is None else as_utc(source.end, "outage end")
        except SlaError:
            ignored["outage_naive_timestamp"] = ignored.get("outage_naive_timestamp", 0) + 1
            continue
        if source.end is None and start >= span.end:
            continue  # still open, but began after this period: nothing to count here
        iv = make(start, end)
        if iv is None:
            ignored["outage_empty"] = ignored.get("outage_empty", 0) + 1
            continue
        outages.append(Labelled(iv, source.cause))

    stats = item.stats
    if item.samples is not None and item.states is not None:
        raise SlaError(f"circuit {item.circuit}: give samples or states, not both")
    if item.states is not None:
        covered: list[Interval] = []
        for run in item.states:
            iv = make(as_utc(run.start, "state run start"), as_utc(run.end, "state run end"))
            if iv is None:
                ignored["state_run_empty"] = ignored.get("state_run_empty", 0) + 1
                continue
            covered.append(iv)
            if run.state is DeltaState.UNAVAILABLE:
                outages.extend(Labelled(iv, label) for label in outage_labels(run.causes))
        unknown.extend(difference((span,), covered))
    if item.samples is not None:
        # Grid n-1 slots beyond each end so the window decides boundary Δt with neighbouring data when given.
        margin = timedelta(seconds=terms.delta_s * (terms.sliding_window_n - 1))
        evaluation: DeltaEvaluation = evaluate_deltas(
            item.samples,
            Interval(span.start - margin, span.end + margin),
            delta_s=terms.delta_s,
            sliding_window_n=terms.sliding_window_n,
            unavailable_loss_ratio=terms.unavailable_loss_ratio,
            initially_available=item.initially_available,
        )
        outages.extend(evaluation.runs(DeltaState.UNAVAILABLE))
        unknown.extend(r.interval for r in evaluation.runs(DeltaState.UNKNOWN))
        for reason, count in evaluation.ignored.items():
            ignored[reason] = ignored.get(reason, 0) + count
        if stats is None:
            in_span = [s for s in evaluation.inputs if s is not None and span.contains(s.at)]
            stats = stats_from_samples(in_span, item.committed_rate_bps)
    if stats is None:
        stats = CircuitStats(committed_rate_bps=item.committed_rate_bps)

    if item.unmonitored:
        gaps = union(clip(item.unmonitored, span))
        outages = [Labelled(iv, o.label) for o in outages for iv in difference((o.interval,), gaps)]
        unknown.extend(gaps)
    circuit_exclusions = [*exclusions, *item.stop_clock]
    result = compute_availability(
        span,
        basis_min,
        outages=outages,
        unknown=unknown,
        exclusions=circuit_exclusions,
        unknown_rule=terms.unknown_time,
        out_of_base=out_of_base(terms, span),
    )
    return CircuitReport(
        item.circuit, result, stats, tuple(_objectives(terms, result.availability_pct, stats)), ignored
    )


def monthly_report(
    terms: SlaTerms,
    year: int,
    month: int,
    circuits: Iterable[CircuitMonthInput],
    *,
    stop_clock: Sequence[Labelled] = (),
    as_of: datetime | None = None,
) -> ContractReport:
    """The contract's report for one local month.

    ``as_of`` (an aware instant, never read from a clock here) cuts a month in progress: only the elapsed part
    ``[start, as_of)`` is evaluated and the basis is pro-rated, ``B x elapsed / calendar`` (calendar rule: the
    elapsed minutes; fixed rule: the same share of 43,200). Open outages end at ``as_of`` or at the month's end.
    """
    period = month_period(year, month, terms.timezone, terms.month_length)
    span = period.span
    basis_min = period.basis_min
    complete = True
    if as_of is not None:
        cut = as_utc(as_of, "as_of")
        if cut <= period.start:
            raise SlaError(f"as_of {cut.isoformat()} is before the month {period.label} begins")
        if cut < period.end:
            span = Interval(period.start, cut)
            basis_min = period.basis_min * seconds(span.duration) / seconds(period.end - period.start)
            complete = False
    exclusions = [*maintenance_intervals(terms.maintenance, terms.timezone, span), *stop_clock]
    reports = tuple(circuit_report(terms, span, basis_min, exclusions, c) for c in circuits)
    pct, steps = aggregate_availability(r.availability for r in reports)
    credit = compute_credit(pct, terms.credits)
    head = (
        f"month {period.label} in {terms.timezone}: {period.start.isoformat()} .. {period.end.isoformat()} "
        f"= {fmt(period.calendar_min)} calendar minutes; rule {terms.month_length} -> basis {fmt(period.basis_min)} min"
    )
    if not complete:
        head += f"; month in progress, evaluated to {span.end.isoformat()} with basis {fmt(basis_min)} min"
    return ContractReport(
        contract=terms.contract,
        terms=terms,
        period=period,
        span=span,
        complete=complete,
        circuits=reports,
        availability_pct=pct,
        availability_steps=(head, *steps),
        objectives=tuple(_contract_objectives(terms, pct, reports)),
        credit=credit,
        status=report_status(complete, coverage(period, (r.availability for r in reports)), terms.min_measured_pct),
    )


def to_plain(value: object) -> object:
    """A report (or any part of it) as JSON-ready data: Decimals as strings (exact), instants as ISO 8601 UTC,
    sets sorted, enums by value, non-finite floats as strings. Rendering (JSON, CSV, PDF) starts from this."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | time):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, frozenset | set):
        return sorted((to_plain(v) for v in value), key=str)
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    raise SlaError(f"cannot express {type(value).__name__} as plain data")
