"""The weekly report's pure parts: ISO weeks, their span in a contract's zone, and one circuit's week from rollups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from noc.errors import InputError
from noc.models import CircuitHourStats
from noc.store.sla import empty_hour
from noc.store.weekly import parse_week
from sla.hours import HourBucket
from sla.report import OutageSource
from sla.states import Cause, DeltaInput, DeltaState, StateRun
from sla.terms import SlaTerms
from sla.weekly import IsoWeek, circuit_week, last_full_week

TERMS = SlaTerms(
    contract="c1",
    timezone="Europe/Berlin",
    availability_target_pct=Decimal("99.9"),
    latency_ceiling_ms=20.0,
    loss_ceiling_pct=1.0,
)
W42 = IsoWeek(2026, 42)  # Monday 2026-10-12 .. Sunday 2026-10-18
W42_START = datetime(2026, 10, 11, 22, 0, tzinfo=UTC)  # Monday 00:00 in Berlin (CEST, UTC+2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-W42", IsoWeek(2026, 42)),
        (" 2026-W01 ", IsoWeek(2026, 1)),
        ("2026-W53", IsoWeek(2026, 53)),  # 2026 has 53 ISO weeks
    ],
)
def test_parse_week(text: str, expected: IsoWeek) -> None:
    assert parse_week(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-42", "is not YYYY-Www"),
        ("2026-W4", "is not YYYY-Www"),
        ("junk", "is not YYYY-Www"),
        ("2025-W53", "2025 has no ISO week 53"),
        ("2026-W00", "2026 has no ISO week 0"),
        ("0001-W01", "year must be"),
    ],
)
def test_bad_weeks_name_the_field(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        parse_week(text)
    assert str(caught.value).startswith("week: ")


@pytest.mark.parametrize(
    ("now", "timezone", "expected"),
    [
        (datetime(2026, 10, 21, 12, 0, tzinfo=UTC), "UTC", IsoWeek(2026, 42)),  # a Wednesday
        (datetime(2026, 10, 19, 0, 0, tzinfo=UTC), "UTC", IsoWeek(2026, 42)),  # Monday midnight: W42 just ended
        (datetime(2026, 10, 18, 23, 0, tzinfo=UTC), "UTC", IsoWeek(2026, 41)),  # Sunday night: W42 still running
        (datetime(2026, 10, 18, 23, 0, tzinfo=UTC), "Asia/Shanghai", IsoWeek(2026, 42)),  # already Monday there
        (datetime(2027, 1, 6, tzinfo=UTC), "UTC", IsoWeek(2026, 53)),  # across the year
    ],
)
def test_last_full_week(now: datetime, timezone: str, expected: IsoWeek) -> None:
    assert last_full_week(now, timezone) == expected


def test_week_span_is_local_and_follows_the_clock_change() -> None:
    assert W42.span("Europe/Berlin").start == W42_START
    assert W42.span("Europe/Berlin").end - W42_START == timedelta(days=7)
    # The clocks go back on Sunday 2026-10-25: that week lasts an hour longer.
    w43 = IsoWeek(2026, 43).span("Europe/Berlin")
    assert w43.end - w43.start == timedelta(days=7, hours=1)
    assert IsoWeek(2026, 53).shifted(1) == IsoWeek(2027, 1)
    assert IsoWeek(2026, 1).shifted(-1) == IsoWeek(2025, 52)


def hour_row(hour: datetime, rtt_ms: float, loss_ratio: float, in_bps: float) -> CircuitHourStats:
    row = empty_hour(1, hour)
    bucket = HourBucket()
    for minute in range(3):
        bucket.add(
            DeltaInput(
                at=hour + timedelta(minutes=minute),
                rtt_ms=rtt_ms,
                loss_ratio=loss_ratio,
                jitter_ms=1.0,
                in_bps=in_bps,
                out_bps=in_bps / 2,
                speed_bps=1e9,
            )
        )
    bucket.merge_into(row)
    return row


def test_a_week_without_data_is_not_evaluated() -> None:
    week = circuit_week(TERMS, W42, "ckt-1", committed_rate_bps=None, runs=[], outages=[], hours=[])
    assert not week.measured
    assert week.report.availability.availability_pct is None
    assert week.worst_latency_hour is None and week.hours_measured == 0
    assert {o.objective: o.met for o in week.report.objectives} == {"availability": None, "latency": None, "loss": None}


def test_a_measured_week_has_its_figures_worst_hour_and_objectives() -> None:
    end = W42_START + timedelta(days=7)
    down = W42_START + timedelta(days=2)
    runs = [
        StateRun(W42_START - timedelta(hours=1), down, DeltaState.AVAILABLE, frozenset()),
        StateRun(down, down + timedelta(minutes=30), DeltaState.UNAVAILABLE, frozenset({Cause.INTERFACE_DOWN})),
        StateRun(down + timedelta(minutes=30), end + timedelta(hours=1), DeltaState.AVAILABLE, frozenset()),
    ]
    worst = W42_START + timedelta(days=3, hours=5)
    hours = [
        hour_row(W42_START + timedelta(hours=1), 10.0, 0.0, 1e6),
        hour_row(worst, 40.0, 0.02, 4e6),
        hour_row(W42_START + timedelta(days=6), 12.0, 0.0, 2e6),
        hour_row(W42_START - timedelta(hours=2), 500.0, 0.5, 9e9),  # the week before: left out
    ]
    # a device outage overlapping the measured one by 10 minutes adds 5 minutes
    outages = [OutageSource(down + timedelta(minutes=25), down + timedelta(minutes=35), "device down: timeout")]
    week = circuit_week(TERMS, W42, "ckt-1", committed_rate_bps=5e6, runs=runs, outages=outages, hours=hours)
    assert week.measured and week.hours_measured == 3
    stats = week.report.stats
    assert stats.latency_ms.avg == pytest.approx(62.0 / 3)
    assert stats.in_bps.max == 4e6 and stats.out_bps.max == 2e6
    assert week.worst_latency_hour is not None and week.worst_latency_hour.hour_start == worst
    assert week.worst_latency_hour.value == 40.0
    assert week.worst_loss_hour is not None and week.worst_loss_hour.hour_start == worst
    minutes = Decimal(7 * 24 * 60)
    assert week.report.availability.availability_pct == 100 * (minutes - 35) / minutes
    met = {o.objective: o.met for o in week.report.objectives}
    assert met == {"availability": False, "latency": False, "loss": True, "committed_rate": True}
