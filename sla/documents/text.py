"""Formatting shared by the report's documents (CSV, PDF, pages): percentages, numbers, rates, objective texts."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal

from noc.i18n import N_
from sla.availability import OutageRecord, fmt, truncate
from sla.intervals import minutes
from sla.report import CircuitReport, ContractReport, ObjectiveResult
from sla.terms import SlaTerms

NO_DATA = "no data"


def pct_text(value: Decimal | None, places: int = 4) -> str:
    """Availability for reading: truncated, never rounded up, so 99.94996 % never reads as a met 99.95 %."""
    if value is None:
        return NO_DATA
    return fmt(truncate(value, places), places)


def num_text(value: float | Decimal | None, places: int) -> str:
    """A measured number with at most ``places`` decimals; empty when not measured."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return fmt(Decimal(str(value)), places)


def ratio_pct_text(value: float | None, places: int = 3) -> str:
    return "" if value is None else num_text(value * 100, places)


def bps_text(value: float | None) -> str:
    """Bit rates for reading (decimal prefixes, as line rates are sold)."""
    if value is None or not math.isfinite(value):
        return ""
    for factor, unit in ((1e9, "Gbit/s"), (1e6, "Mbit/s"), (1e3, "kbit/s")):
        if abs(value) >= factor:
            return f"{num_text(value / factor, 2)} {unit}"
    return f"{num_text(value, 0)} bit/s"


def status_text(objective: ObjectiveResult | None) -> str:
    if objective is None:
        return ""  # the contract has no such objective
    return NO_DATA if objective.met is None else ("met" if objective.met else "missed")


def measured_text(objective: ObjectiveResult) -> str:
    value = objective.measured
    if value is None:
        return NO_DATA
    if objective.unit == "bit/s":
        return bps_text(float(value))
    if objective.objective == "availability" and isinstance(value, Decimal):
        return f"{pct_text(value)} %"
    return f"{num_text(value, 3)} {objective.unit}"


def limit_text(objective: ObjectiveResult) -> str:
    if objective.unit == "bit/s":
        return bps_text(float(objective.limit))
    return f"{num_text(objective.limit, 4)} {objective.unit}"


OBJECTIVES = ("availability", "latency", "loss", "jitter", "utilisation", "committed_rate")


def objective_names(report: ContractReport) -> list[str]:
    present = {o.objective for o in report.objectives} | {o.objective for c in report.circuits for o in c.objectives}
    return [n for n in OBJECTIVES if n in present] + sorted(present - set(OBJECTIVES))


def objectives_by_name(objectives: Iterable[ObjectiveResult]) -> dict[str, ObjectiveResult]:
    return {o.objective: o for o in objectives}


def peak_bps(c: CircuitReport) -> float | None:
    peaks = [v for v in (c.stats.in_bps.max, c.stats.out_bps.max) if v is not None]
    return max(peaks) if peaks else None


MONTHS = (  # marked for translation: the customer's copy names the month in its language
    N_("January"), N_("February"), N_("March"), N_("April"), N_("May"), N_("June"),
    N_("July"), N_("August"), N_("September"), N_("October"), N_("November"), N_("December"),
)  # fmt: skip


def month_name(report: ContractReport) -> str:
    # A fixed English table rather than strftime("%B"), which follows the process locale.
    return f"{MONTHS[report.period.month - 1]} {report.period.year}"


def localclock_text(instant: datetime, report: ContractReport) -> str:
    return clock_text(instant.astimezone(report.terms.zone))


def clock_text(instant: datetime) -> str:
    # Seconds only when an outage did not start on the minute (Δt outages always do).
    seconds = instant.second or instant.microsecond
    return instant.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def local_and_utc(instant: datetime, report: ContractReport) -> str:
    """Two lines for one cell: local wall clock, then UTC (date repeated only when it differs)."""
    local, utc = localclock_text(instant, report), clock_text(instant.astimezone(UTC))
    return f"{local}\n{utc[11:] if utc[:10] == local[:10] else utc} UTC"


def excluded_note(o: OutageRecord, report: ContractReport) -> str:
    notes = [
        f"{e.label} {localclock_text(e.interval.start, report)[11:]}-{localclock_text(e.interval.end, report)[11:]} "
        f"({fmt(minutes(e.interval.duration), 2)} min)"
        for e in o.excluded
    ]
    if o.continues_before:
        notes.append("began before the month")
    if o.continues_after:
        notes.append("still down at the end of the period")
    return "; ".join(notes) or "-"


def maintenance_rule(terms: SlaTerms) -> str:
    """How the contract treats agreed maintenance in the availability base, in words."""
    if terms.maintenance_in_base == "include":
        return "kept in the base as service time: 100 x (B - D) / B"
    return "out of the base: 100 x (B - W - D) / (B - W)"
