"""Availability of one circuit over one period, by exact interval arithmetic. Hand-checkable by design.

Inputs are sets of UTC intervals: outages (from Δt states and from explicit sources such as device outage
records; overlapping sources are unioned, so counted once), unknown time (Δt without data), and exclusions
(maintenance windows and stop-clock intervals). Everything is clipped to the period first.

The arithmetic, in minutes (``B`` = the month-length rule's basis, see ``sla.period``)::

    O  = |union(outages)|                       outage time in the period
    OX = |union(outages) ∩ union(exclusions)|   outage time forgiven by maintenance / stop-clock
    U  = |unknown - union(outages)|             no data and no known outage
    UX = |that unknown ∩ union(exclusions)|     unknown time inside a window: neither down nor ruled
    UR = U - UX                                  unknown time the contract's unknown-time rule applies to
    W  = |union(maintenance out of the base)|   agreed maintenance, when the contract takes it out of the base

    rule "available":    D = O - OX             M = B - W
    rule "unavailable":  D = O - OX + UR        M = B - W
    rule "excluded":     D = O - OX             M = B - W - UR
    availability % = 100 x (M - D) / M, clamped to [0, 100]; None when M <= 0 (nothing measurable)

Maintenance and stop-clock forgive the outage (and unknown) time that falls inside them. Agreed maintenance also
leaves the base when the contract says ``maintenance_in_base: exclude`` (the carriers' rule and the default:
100 x (B - W - D) / (B - W)); with ``include`` W = 0 and the windows stay service time, so a window with no outage
in it changes nothing. Stop-clock never leaves the base. Unknown time inside a window (UX) is neither down nor
ruled: it is inside W already, or service time under ``include``.

Under ``fixed_43200`` the basis is 43,200 minutes while outages are measured in real minutes, so a long outage
in a 31-day month can push the figure below zero; it is clamped to 0 and ``clamped`` says so. The percentage
is computed from exact seconds in Decimal, so e.g. a 30-minute outage in a 31-day calendar month gives exactly
``100 x 44610 / 44640``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from sla.errors import SlaError
from sla.intervals import (
    Interval,
    Labelled,
    clip,
    difference,
    intersection,
    make,
    seconds,
    total,
    union,
    union_labelled,
)
from sla.terms import UnknownRule

SIXTY = Decimal(60)
HUNDRED = Decimal(100)


def fmt(value: Decimal, places: int = 4) -> str:
    """A Decimal for the shown arithmetic: at most ``places`` decimals, no trailing zeros, no exponent."""
    q = value.quantize(Decimal(1).scaleb(-places))
    text = format(q, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def truncate(value: Decimal, places: int) -> Decimal:
    """A percentage cut (never rounded up) to ``places`` decimals, so a missed target never reads as met: with
    ``places`` at least a limit's own decimals, ``truncate(x) < limit`` exactly when ``x < limit``."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)


@dataclass(frozen=True, slots=True)
class OutageRecord:
    """One merged outage within the period, with the parts forgiven by maintenance or stop-clock."""

    start: datetime
    end: datetime
    causes: tuple[str, ...]
    excluded: tuple[Labelled, ...]  # per window / stop-clock reason; may overlap each other
    duration_min: Decimal
    excluded_min: Decimal  # the union of the excluded parts
    counted_min: Decimal
    continues_before: bool  # began before the period (clipped)
    continues_after: bool  # still going at the period's end (clipped)


@dataclass(frozen=True, slots=True)
class AvailabilityResult:
    unknown_rule: UnknownRule
    span: Interval
    basis_min: Decimal  # B
    outage_min: Decimal  # O
    excluded_outage_min: Decimal  # OX
    unknown_min: Decimal  # U
    unknown_in_exclusion_min: Decimal  # UX
    unknown_ruled_min: Decimal  # UR
    maintenance_out_of_base_min: Decimal  # W
    downtime_min: Decimal  # D
    measurable_min: Decimal  # M
    availability_pct: Decimal | None
    clamped: bool
    outages: tuple[OutageRecord, ...]
    unknown: tuple[Interval, ...]
    steps: tuple[str, ...]

    @property
    def downtime_s(self) -> Decimal:
        return self.downtime_min * SIXTY

    @property
    def measurable_s(self) -> Decimal:
        return self.measurable_min * SIXTY


def outage_records(
    outages: Iterable[Labelled], exclusions: Iterable[Labelled], span: Interval
) -> tuple[OutageRecord, ...]:
    excl = tuple(exclusions)
    records: list[OutageRecord] = []
    for whole, labels in union_labelled(outages):
        part = make(max(whole.start, span.start), min(whole.end, span.end))
        if part is None:
            continue
        parts = tuple(Labelled(piece, e.label) for e in excl for piece in intersection((part,), (e.interval,)))
        excluded_s = seconds(total(p.interval for p in parts))
        duration_s = seconds(part.duration)
        records.append(
            OutageRecord(
                start=part.start,
                end=part.end,
                causes=tuple(sorted(labels)),
                excluded=tuple(sorted(parts, key=lambda p: (p.interval.start, p.label))),
                duration_min=duration_s / SIXTY,
                excluded_min=excluded_s / SIXTY,
                counted_min=(duration_s - excluded_s) / SIXTY,
                continues_before=whole.start < span.start,
                continues_after=whole.end > span.end,
            )
        )
    return tuple(records)


def compute_availability(
    span: Interval,
    basis_min: Decimal,
    *,
    outages: Iterable[Labelled],
    unknown: Iterable[Interval],
    exclusions: Iterable[Labelled],
    unknown_rule: UnknownRule,
    out_of_base: Iterable[Interval] = (),
) -> AvailabilityResult:
    """Availability over ``span`` against ``basis_min`` (see the module docstring for every term); ``out_of_base``
    is the agreed maintenance W taken out of the base (``sla.terms.out_of_base``)."""
    if basis_min < 0:
        raise SlaError("basis_min must be >= 0")
    outage_items = tuple(outages)
    exclusion_items = tuple(exclusions)
    down = clip((o.interval for o in outage_items), span)
    windows = clip((e.interval for e in exclusion_items), span)
    no_data = difference(clip(unknown, span), down)

    o_s = seconds(total(down))
    ox_s = seconds(total(intersection(down, windows)))
    u_s = seconds(total(no_data))
    ux_s = seconds(total(intersection(no_data, windows)))
    ur_s = u_s - ux_s
    w_s = seconds(total(union(clip(out_of_base, span))))
    basis_s = basis_min * SIXTY

    downtime_s = o_s - ox_s + (ur_s if unknown_rule == "unavailable" else 0)
    measurable_s = basis_s - w_s - (ur_s if unknown_rule == "excluded" else 0)

    steps = [
        f"period {span.start.isoformat()} .. {span.end.isoformat()}: "
        f"{fmt(seconds(span.duration) / SIXTY)} real minutes; basis B = {fmt(basis_min)} min",
        f"outages (sources unioned) O = {fmt(o_s / SIXTY)} min; inside maintenance / stop-clock OX = "
        f"{fmt(ox_s / SIXTY)} min",
        f"unknown (no data, no outage) U = {fmt(u_s / SIXTY)} min; inside maintenance / stop-clock UX = "
        f"{fmt(ux_s / SIXTY)} min; rule '{unknown_rule}' applies to UR = {fmt(ur_s / SIXTY)} min",
    ]
    if unknown_rule == "unavailable":
        steps.append(
            f"downtime D = O - OX + UR = {fmt(o_s / SIXTY)} - {fmt(ox_s / SIXTY)} + {fmt(ur_s / SIXTY)} "
            f"= {fmt(downtime_s / SIXTY)} min"
        )
    else:
        steps.append(f"downtime D = O - OX = {fmt(o_s / SIXTY)} - {fmt(ox_s / SIXTY)} = {fmt(downtime_s / SIXTY)} min")
    base, terms_shown = "B", [fmt(basis_min)]
    if w_s:
        base += " - W"
        terms_shown.append(fmt(w_s / SIXTY))
        steps.append(f"agreed maintenance out of the base W = {fmt(w_s / SIXTY)} min")
    if unknown_rule == "excluded":
        base += " - UR"
        terms_shown.append(fmt(ur_s / SIXTY))
    shown = " - ".join(terms_shown)
    steps.append(f"measurable M = {base} = {shown} = {fmt(measurable_s / SIXTY)} min")

    pct: Decimal | None
    clamped = False
    if measurable_s <= 0:
        pct = None
        steps.append("availability: nothing measurable in the period (M <= 0), not evaluated")
    elif unknown_rule == "excluded" and u_s >= seconds(span.duration):
        # Without this, maintenance minutes alone (service time that nobody measured) would read as 100 %.
        pct = None
        steps.append("availability: no measurement at all in the period, not evaluated")
    else:
        pct = HUNDRED * (measurable_s - downtime_s) / measurable_s
        steps.append(
            f"availability = 100 x (M - D) / M = 100 x ({fmt(measurable_s / SIXTY)} - {fmt(downtime_s / SIXTY)}) / "
            f"{fmt(measurable_s / SIXTY)} = {fmt(pct, 6)} %"
        )
        if pct < 0:
            pct, clamped = Decimal(0), True
            steps.append("downtime exceeds the basis (fixed month shorter than the real one): clamped to 0 %")

    return AvailabilityResult(
        unknown_rule=unknown_rule,
        span=span,
        basis_min=basis_min,
        outage_min=o_s / SIXTY,
        excluded_outage_min=ox_s / SIXTY,
        unknown_min=u_s / SIXTY,
        unknown_in_exclusion_min=ux_s / SIXTY,
        unknown_ruled_min=ur_s / SIXTY,
        maintenance_out_of_base_min=w_s / SIXTY,
        downtime_min=downtime_s / SIXTY,
        measurable_min=measurable_s / SIXTY,
        availability_pct=pct,
        clamped=clamped,
        outages=outage_records(outage_items, exclusion_items, span),
        unknown=no_data,
        steps=tuple(steps),
    )


def aggregate_availability(results: Iterable[AvailabilityResult]) -> tuple[Decimal | None, tuple[str, ...]]:
    """A contract's availability from its circuits', weighted by measurable minutes:
    ``100 x Σ(M_i - D_i) / ΣM_i`` (clamped per circuit first). With equal M for every circuit this is the plain mean;
    a circuit with less measurable time (unknown excluded) weighs less. Circuits with nothing measurable are left
    out; None when no circuit is measurable."""
    num = Decimal(0)
    den = Decimal(0)
    terms: list[str] = []
    for r in results:
        if r.availability_pct is None:
            continue
        good_s = max(r.measurable_s - r.downtime_s, Decimal(0))  # (M - D), clamped like the circuit figure
        num += good_s
        den += r.measurable_s
        terms.append(f"({fmt(good_s / SIXTY)} / {fmt(r.measurable_min)})")
    if den <= 0:
        return None, ("no circuit has measurable time: contract availability not evaluated",)
    pct = HUNDRED * num / den
    return pct, (
        f"contract availability = 100 x Σ(M - D) / ΣM over circuits {' + '.join(terms)} = "
        f"100 x {fmt(num / SIXTY)} / {fmt(den / SIXTY)} = {fmt(pct, 6)} %",
    )
