"""Capacity outlook: weekly 95th percentiles, the trend's fit, and when it reaches each limit (or why not)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sla.capacity import MIN_WEEKS, WEEK, WeekPoint, outlook, p95, weekly_p95

NOW = datetime(2026, 11, 30, tzinfo=UTC)
MBIT = 1e6


def weeks(*p95_mbit: float) -> list[WeekPoint]:
    first = NOW - len(p95_mbit) * WEEK
    return [WeekPoint(first + k * WEEK, v * MBIT, 2016) for k, v in enumerate(p95_mbit)]


def test_p95_is_the_nearest_rank() -> None:
    assert p95([float(v) for v in range(1, 101)]) == 95.0
    assert p95([float(v) for v in range(1, 21)]) == 19.0  # ceil(0.95 x 20) = 19th
    assert p95([7.0]) == 7.0


def test_weekly_p95_takes_whole_weeks_ending_now_and_leaves_empty_weeks_out() -> None:
    five_min = timedelta(minutes=5)
    first = NOW - 3 * WEEK
    samples = [(first + i * five_min, float(i % 100)) for i in range(2016)]  # week 0: 0..99 repeating
    samples += [(first + 2 * WEEK + i * five_min, 500.0) for i in range(10)]  # week 2: ten samples
    samples.append((NOW, 9999.0))  # now itself is outside [first, now)
    points = weekly_p95(samples, NOW, 3)
    assert [(p.start, p.p95_bps, p.samples) for p in points] == [(first, 94.0, 2016), (first + 2 * WEEK, 500.0, 10)]


def test_a_steady_rise_reaches_the_committed_rate_on_the_fitted_date() -> None:
    # 40, 45, 50, 55, 60 Mbit/s: +5 Mbit/s a week, a perfect fit; 80 Mbit/s is reached 4 weeks after the last week
    result = outlook(weeks(40, 45, 50, 55, 60), [("committed rate", 80 * MBIT), ("speed", 100 * MBIT)])
    assert result.slope_bps_per_week == pytest.approx(5 * MBIT) and result.r2 == pytest.approx(1.0)
    committed, speed = result.crossings
    last_week = NOW - WEEK
    assert committed.at == last_week + 4 * WEEK and not committed.already
    assert speed.at == last_week + 8 * WEEK


def test_no_date_without_enough_weeks_a_good_fit_or_growth() -> None:
    (few,) = outlook(weeks(*[10.0] * (MIN_WEEKS - 1)), [("speed", 100 * MBIT)]).crossings
    assert few.at is None and few.why == f"not foreseeable: {MIN_WEEKS - 1} weeks of data, {MIN_WEEKS} needed"
    (noisy,) = outlook(weeks(10, 60, 12, 58, 15, 61), [("speed", 100 * MBIT)]).crossings
    assert noisy.at is None and noisy.why.startswith("not foreseeable: the trend fits poorly (R²")
    (falling,) = outlook(weeks(60, 55, 50, 45), [("speed", 100 * MBIT)]).crossings
    assert falling.at is None and falling.why == "not foreseeable: traffic is not growing"
    (slow,) = outlook(weeks(10, 10.1, 10.2, 10.3), [("speed", 100 * MBIT)]).crossings
    assert slow.at is None and slow.why == "not within 52 weeks at this trend"


def test_a_limit_already_reached_says_so() -> None:
    (reached,) = outlook(weeks(70, 80, 90, 101), [("speed", 100 * MBIT)]).crossings
    assert reached.already and reached.at == NOW - WEEK
