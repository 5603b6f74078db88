"""Monthly periods cut at the contract timezone's local midnight of the 1st, and the month-length rule.

``start``/``end`` are UTC instants; ``calendar_min`` is the real elapsed length of the local month (44,640 for a
31-day month without a clock change, 44,580 for Europe/Berlin March, 44,700 for Berlin October). ``basis_min``
is what the contract's month-length rule says a month is: the calendar minutes, or a fixed 43,200.

A local midnight that does not exist (a zone that springs forward at 00:00) is read with the offset before the
gap, which is the first instant of that local day; an ambiguous one takes its first occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sla.errors import SlaError
from sla.intervals import Interval, as_utc, minutes
from sla.terms import FIXED_MONTH_MIN, MonthLengthRule, zone


@dataclass(frozen=True, slots=True)
class MonthPeriod:
    year: int
    month: int
    timezone: str
    month_length: MonthLengthRule
    start: datetime  # UTC instant of local 00:00 on the 1st
    end: datetime  # UTC instant of local 00:00 on the 1st of the next month (exclusive)
    calendar_min: Decimal
    basis_min: Decimal

    @property
    def span(self) -> Interval:
        return Interval(self.start, self.end)

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def next(self) -> MonthPeriod:
        year, month = (self.year + 1, 1) if self.month == 12 else (self.year, self.month + 1)
        return month_period(year, month, self.timezone, self.month_length)


def _local_midnight_utc(year: int, month: int, timezone: str) -> datetime:
    return datetime(year, month, 1, tzinfo=zone(timezone)).astimezone(UTC)


def month_period(year: int, month: int, timezone: str, month_length: MonthLengthRule = "calendar") -> MonthPeriod:
    if not 1 <= month <= 12:
        raise SlaError(f"no such month {year:04d}-{month:02d}")
    if not 1970 <= year <= 9998:  # before 1970 nothing was measured; the arithmetic must stay inside datetime
        raise SlaError(f"month {year:04d}-{month:02d} is outside 1970-01 .. 9998-12")
    start = _local_midnight_utc(year, month, timezone)
    end = _local_midnight_utc(year + 1, 1, timezone) if month == 12 else _local_midnight_utc(year, month + 1, timezone)
    calendar_min = minutes(end - start)
    if month_length == "calendar":
        basis_min = calendar_min
    elif month_length == "fixed_43200":
        basis_min = Decimal(FIXED_MONTH_MIN)
    else:
        raise SlaError(f"month_length must be 'calendar' or 'fixed_43200', not {month_length!r}")
    return MonthPeriod(year, month, timezone, month_length, start, end, calendar_min, basis_min)


def month_containing(instant: datetime, timezone: str, month_length: MonthLengthRule = "calendar") -> MonthPeriod:
    """The contract month (in its timezone) that ``instant`` falls in."""
    local = as_utc(instant, "instant").astimezone(zone(timezone))
    return month_period(local.year, local.month, timezone, month_length)


def parse_month(text: str) -> tuple[int, int]:
    """``YYYY-MM`` as (year, month), for the CLI's ``--month``."""
    try:
        year_s, month_s = text.split("-")
        year, month = int(year_s), int(month_s)
    except ValueError:
        raise SlaError(f"month {text!r} is not YYYY-MM") from None
    if not 1 <= month <= 12 or len(year_s) != 4:
        raise SlaError(f"month {text!r} is not YYYY-MM")
    return year, month
