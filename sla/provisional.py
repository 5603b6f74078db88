"""Whether a monthly report is final or provisional, and how much of the month was measured.

A report is **provisional** while its month is in progress, or when less of the month was measured than the
contract's minimum (``SlaTerms.min_measured_pct``, 90 % unless the contract says otherwise); a provisional report
states no credit as owed, whatever the figures so far would give. A finished month measured at or above the
minimum is **final**; if some of it was not measured, the report says how much (the contract's unknown-time rule
decided what that time counted as).

The measured share is in circuit-minutes of real time over the whole month, not over the month-length basis (a
fixed 43,200-minute rule does not change how much was measured)::

    P = n x the month's real minutes         n circuits of the contract
    E = Σ the evaluated span's real minutes  the elapsed part, for a month in progress
    U = Σ unknown minutes                    no data and no known outage (``AvailabilityResult.unknown_min``)
    measured share = 100 x (E - U) / P       a known outage is measured time

A contract without circuits measured nothing: its share is None and counts as 0 against the minimum.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

from sla.availability import AvailabilityResult
from sla.credits import CreditResult
from sla.intervals import minutes
from sla.period import MonthPeriod

HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class Coverage:
    circuits: int
    month_min: Decimal  # P
    elapsed_min: Decimal  # E
    unknown_min: Decimal  # U

    @property
    def measured_min(self) -> Decimal:
        return self.elapsed_min - self.unknown_min

    @property
    def share_pct(self) -> Decimal | None:
        """100 x (E - U) / P; None when the month has no circuit-minutes at all."""
        return None if self.month_min <= 0 else HUNDRED * self.measured_min / self.month_min

    @property
    def share_shown(self) -> Decimal:
        """The share for reading: one decimal, cut down (89.99 % against a 90 % minimum never reads as 90.0 %);
        0 when nothing could be measured."""
        share = self.share_pct
        return Decimal("0.0") if share is None else share.quantize(Decimal("0.1"), rounding=ROUND_DOWN)


def coverage(period: MonthPeriod, results: Iterable[AvailabilityResult]) -> Coverage:
    """The measured share of ``period`` from each circuit's availability result over the evaluated span."""
    items = list(results)
    return Coverage(
        circuits=len(items),
        month_min=len(items) * minutes(period.end - period.start),
        elapsed_min=sum((minutes(r.span.duration) for r in items), Decimal(0)),
        unknown_min=sum((r.unknown_min for r in items), Decimal(0)),
    )


class Standing(StrEnum):
    FINAL = "final"
    PROVISIONAL = "provisional"


@dataclass(frozen=True, slots=True)
class ReportStatus:
    standing: Standing
    in_progress: bool  # the month has not ended: the report covers its elapsed part
    below_minimum: bool  # measured share under the contract's minimum
    coverage: Coverage
    min_measured_pct: Decimal

    @property
    def provisional(self) -> bool:
        return self.standing is Standing.PROVISIONAL

    @property
    def data_missing(self) -> bool:
        """Part of the elapsed time was not measured (shown as such on a final report too)."""
        return self.coverage.unknown_min > 0


def report_status(complete: bool, cover: Coverage, min_measured_pct: Decimal) -> ReportStatus:
    share = cover.share_pct if cover.share_pct is not None else Decimal(0)
    below = share < min_measured_pct
    provisional = not complete or below
    return ReportStatus(
        standing=Standing.PROVISIONAL if provisional else Standing.FINAL,
        in_progress=not complete,
        below_minimum=below,
        coverage=cover,
        min_measured_pct=min_measured_pct,
    )


def credit_owed(status: ReportStatus, credit: CreditResult) -> Decimal | None:
    """The credit a report states as owed: the computed amount on a final report, none on a provisional one."""
    return None if status.provisional else credit.amount
