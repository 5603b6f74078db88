"""Reviews: which faults keep coming back (by device, key account or region, per cause and month, with the
trend), and each technician's record (tickets handled, response and restoration against their limits, the
customers' satisfaction). Pure: the stored rows' fields go in, the tables the NOC lead reads come out.

A fault is one ticket on a circuit or device (an incident's parent is not a fault of its own: its children are)
and each time it came back after resolution (a recurrence) counts again, in the month it was detected. A fault
not yet closed with a cause counts as "unclassified". Months are calendar months in UTC.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from statistics import median

UNCLASSIFIED = "unclassified"


class ReviewBy(StrEnum):
    DEVICE = "device"
    ACCOUNT = "account"
    REGION = "region"


@dataclass(frozen=True, slots=True)
class FaultOccurrence:
    """One detection of a fault: the ticket's first, or a recurrence."""

    ticket_ref: str
    detected_at: datetime
    device: str | None
    account: str | None
    region: str | None
    cause: str | None  # the cause category it was closed with


@dataclass(frozen=True, slots=True)
class RecurringFault:
    """A (device, account or region) and a cause: how many faults each month of the window, and the trend."""

    key: str
    cause: str
    per_month: tuple[int, ...]  # aligned with the review's months
    total: int
    trend_per_month: float  # least-squares slope of the monthly counts: faults per month, per month
    tickets: tuple[str, ...]  # the tickets behind the counts, each once


@dataclass(frozen=True, slots=True)
class FaultReview:
    by: ReviewBy
    months: tuple[str, ...]  # "2026-09", ... oldest first
    rows: tuple[RecurringFault, ...]  # most faults first


def month_label(at: datetime | date) -> str:
    return f"{at.year:04d}-{at.month:02d}"


def months_ending(last: date, count: int) -> tuple[str, ...]:
    """The ``count`` calendar months ending with ``last``'s, oldest first."""
    if count < 1:
        raise ValueError("months: at least 1")
    index = last.year * 12 + last.month - 1
    return tuple(f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index - count + 1, index + 1))


def slope(values: Sequence[float]) -> float:
    """Least-squares slope of equally spaced values (0 for fewer than two)."""
    n = len(values)
    if n < 2:
        return 0.0
    mean_x, mean_y = (n - 1) / 2, sum(values) / n
    spread = sum((x - mean_x) ** 2 for x in range(n))
    return sum((x - mean_x) * (y - mean_y) for x, y in enumerate(values)) / spread


def _key(occurrence: FaultOccurrence, by: ReviewBy) -> str | None:
    return {
        ReviewBy.DEVICE: occurrence.device,
        ReviewBy.ACCOUNT: occurrence.account,
        ReviewBy.REGION: occurrence.region,
    }[by]


def recurring_faults(
    occurrences: Iterable[FaultOccurrence], by: ReviewBy, months: tuple[str, ...], *, at_least: int = 1
) -> FaultReview:
    """Faults per (``by``, cause) and month within ``months``; groups with fewer than ``at_least`` faults in the
    window are left out (2: only what recurred). Occurrences without the ``by`` (a fault on no device) are not
    counted by it."""
    column = {label: i for i, label in enumerate(months)}
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * len(months))
    refs: dict[tuple[str, str], dict[str, None]] = defaultdict(dict)
    for o in occurrences:
        key, at = _key(o, by), column.get(month_label(o.detected_at))
        if key is None or at is None:
            continue
        group = (key, o.cause or UNCLASSIFIED)
        counts[group][at] += 1
        refs[group][o.ticket_ref] = None
    rows = [
        RecurringFault(key, cause, tuple(per), sum(per), slope(per), tuple(refs[(key, cause)]))
        for (key, cause), per in counts.items()
        if sum(per) >= at_least
    ]
    rows.sort(key=lambda r: (-r.total, -r.trend_per_month, r.key, r.cause))
    return FaultReview(by, months, tuple(rows))


@dataclass(frozen=True, slots=True)
class HandledTicket:
    """A ticket a technician held, as stored: the response and restoration limits and what happened."""

    technician: str
    detected_at: datetime
    acknowledged_at: datetime | None
    response_time_s: int | None
    resolved_at: datetime | None
    restore_net_s: float | None  # restoration time net of stop-clock, taken at resolution
    restore_time_s: int | None
    satisfaction: int | None  # the customer's rating, 1-5


@dataclass(frozen=True, slots=True)
class TechnicianRecord:
    technician: str
    handled: int
    resolved: int
    response_met: int
    response_missed: int
    restore_met: int
    restore_missed: int
    median_response_min: float | None
    median_restore_min: float | None
    satisfaction_avg: float | None
    satisfaction_count: int


def _verdict(took_s: float | None, limit_s: int | None) -> bool | None:
    return None if took_s is None or limit_s is None else took_s <= limit_s


def _response_s(t: HandledTicket) -> float | None:
    return None if t.acknowledged_at is None else (t.acknowledged_at - t.detected_at).total_seconds()


def technician_records(tickets: Iterable[HandledTicket]) -> list[TechnicianRecord]:
    """One record per technician, by name. A limit is met when the time taken is at most the limit; a ticket not
    yet answered (or resolved) counts in neither column of that timer."""
    by_tech: dict[str, list[HandledTicket]] = defaultdict(list)
    for t in tickets:
        by_tech[t.technician].append(t)
    out = []
    for name in sorted(by_tech):
        held = by_tech[name]
        responses = [took for t in held if (took := _response_s(t)) is not None]
        restores = [t.restore_net_s for t in held if t.restore_net_s is not None]
        response = Counter(_verdict(_response_s(t), t.response_time_s) for t in held)
        restore = Counter(_verdict(t.restore_net_s, t.restore_time_s) for t in held)
        ratings = [t.satisfaction for t in held if t.satisfaction is not None]
        out.append(
            TechnicianRecord(
                technician=name,
                handled=len(held),
                resolved=sum(1 for t in held if t.resolved_at is not None),
                response_met=response[True],
                response_missed=response[False],
                restore_met=restore[True],
                restore_missed=restore[False],
                median_response_min=round(median(responses) / 60, 1) if responses else None,
                median_restore_min=round(median(restores) / 60, 1) if restores else None,
                satisfaction_avg=round(sum(ratings) / len(ratings), 2) if ratings else None,
                satisfaction_count=len(ratings),
            )
        )
    return out


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return out.getvalue()


def fault_review_csv(review: FaultReview) -> str:
    return _csv(
        [review.by.value, "cause", *review.months, "total", "trend_per_month", "tickets"],
        ([r.key, r.cause, *r.per_month, r.total, f"{r.trend_per_month:.2f}", " ".join(r.tickets)] for r in review.rows),
    )


def technician_csv(records: Sequence[TechnicianRecord]) -> str:
    fields = list(TechnicianRecord.__dataclass_fields__)
    return _csv(fields, ([getattr(r, f) for f in fields] for r in records))
