"""Small builders shared by the SLA tests (plain functions, no fixtures with state)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sla.intervals import Interval, Labelled
from sla.terms import CreditBand, CreditSchedule, SlaTerms


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def span(start: datetime, minutes: float) -> Interval:
    return Interval(start, start + timedelta(minutes=minutes))


def labelled(start: datetime, minutes: float, label: str) -> Labelled:
    return Labelled(span(start, minutes), label)


def terms(**overrides: Any) -> SlaTerms:
    values: dict[str, Any] = {
        "contract": "C-1",
        "timezone": "UTC",
        "availability_target_pct": Decimal("99.9"),
        "credits": CreditSchedule(
            bands=(CreditBand(Decimal("99.9"), Decimal(10)), CreditBand(Decimal("99"), Decimal(25))),
            cap_pct=Decimal(100),
            monthly_fee=Decimal("1000.00"),
        ),
    }
    values.update(overrides)
    return SlaTerms(**values)


def pct(numerator: int | Decimal, denominator: int | Decimal) -> Decimal:
    """100 x n / d in Decimal: the hand-computed availability the engine must reproduce exactly."""
    return Decimal(100) * Decimal(numerator) / Decimal(denominator)
