"""Terms from a stored contract row, maintenance expansion across DST, month boundaries and lengths."""

from __future__ import annotations

from datetime import time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla.errors import SlaError, TermsError
from sla.intervals import Interval
from sla.period import month_containing, month_period, parse_month
from sla.terms import (
    CreditBand,
    OneOffWindow,
    RecurringWindow,
    maintenance_intervals,
    terms_from_contract,
)
from tests.sla.factories import utc

# Shaped like noc.models.Contract after `noc inventory` stored examples/inventory.yaml (JSON columns as dumped
# by pydantic: Decimals as strings, one-off instants as ISO strings with offsets).
ROW: dict[str, Any] = {
    "name": "ACME-2026-01",
    "timezone": "Asia/Shanghai",
    "month_length": "calendar",
    "monthly_fee": Decimal("48000.00"),
    "currency": "CNY",
    "availability_target_pct": Decimal("99.95"),
    "latency_ceiling_ms": 20.0,
    "loss_ceiling_pct": 0.1,
    "jitter_ceiling_ms": 5.0,
    "utilisation_ceiling_pct": 85.0,
    "sliding_window_n": 5,
    "unknown_time": "excluded",
    "maintenance_windows": [
        {"kind": "recurring", "name": "weekly core", "weekdays": ["sun"], "start": "02:00", "duration_min": 120},
        {
            "kind": "one_off",
            "name": "PE upgrade",
            "start_at": "2026-12-05T01:00:00+08:00",
            "end_at": "2026-12-05T03:00:00+08:00",
        },
    ],
    "credit_bands": [
        {"below_pct": "99.95", "credit_pct": "5"},
        {"below_pct": "99.5", "credit_pct": 15},
        {"below_pct": 99.0, "credit_pct": "30"},
    ],
    "credit_cap_pct": Decimal(30),
}


class RowObject:
    """An ORM-like object: the constructor reads attributes as well as mapping keys."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


@pytest.mark.parametrize("row", [ROW, RowObject(ROW)], ids=["mapping", "attributes"])
def test_terms_from_a_contract_row(row: object) -> None:
    t = terms_from_contract(row)
    assert t.contract == "ACME-2026-01"
    assert t.availability_target_pct == Decimal("99.95")
    assert t.unavailable_loss_ratio == pytest.approx(0.001)
    assert t.sliding_window_n == 5
    assert t.maintenance == (
        RecurringWindow("weekly core", frozenset({"sun"}), time(2, 0), 120),
        OneOffWindow("PE upgrade", utc(2026, 12, 4, 17), utc(2026, 12, 4, 19)),
    )
    # 99.0 arrived as a float and must still be exactly 99.0, not its binary neighbour.
    assert t.credits.bands[2] == CreditBand(Decimal("99.0"), Decimal(30))
    assert t.credits.cap_pct == 30
    assert t.credits.monthly_fee == Decimal("48000.00")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"timezone": "Mars/Olympus"}, "timezone", id="timezone"),
        pytest.param({"unknown_time": "maybe"}, "unknown_time", id="unknown-rule"),
        pytest.param({"month_length": "lunar"}, "month_length", id="month-rule"),
        pytest.param({"availability_target_pct": "abc"}, "availability_target_pct", id="target"),
        pytest.param({"maintenance_windows": [{"kind": "weekly"}]}, r"maintenance_windows\[0\].kind", id="kind"),
        pytest.param(
            {
                "maintenance_windows": [
                    {"kind": "recurring", "name": "x", "weekdays": ["sunday"], "start": "02:00", "duration_min": 5}
                ]
            },
            r"maintenance_windows\[0\].weekdays",
            id="weekday",
        ),
        pytest.param(
            {
                "maintenance_windows": [
                    {"kind": "one_off", "name": "x", "start_at": "2026-01-01T00:00:00", "end_at": "2026-01-01T01:00:00"}
                ]
            },
            "needs a UTC offset",
            id="naive-one-off",
        ),
        pytest.param(
            {"credit_bands": [{"below_pct": 99, "credit_pct": 10}, {"below_pct": 99.5, "credit_pct": 20}]},
            "highest first",
            id="band-order",
        ),
    ],
)
def test_bad_rows_name_the_field(change: dict[str, Any], message: str) -> None:
    with pytest.raises(TermsError, match=message) as err:
        terms_from_contract({**ROW, **change})
    assert "ACME-2026-01" in str(err.value)


BERLIN_SUNDAYS = RecurringWindow("sunday night", frozenset({"sun"}), time(2, 0), 120)


def test_recurring_window_follows_berlin_dst() -> None:
    # March 2026 in Berlin: Sundays 1, 8, 15, 22 at 02:00 CET (= 01:00Z); on the 29th clocks jump 02:00 -> 03:00,
    # so 02:00 does not exist and is read with the offset before the gap (RFC 5545): 01:00Z again, which is
    # 03:00 CEST. Had the window been on April 5 it would start 02:00 CEST = 00:00Z.
    march = month_period(2026, 3, "Europe/Berlin").span
    got = [w.interval for w in maintenance_intervals([BERLIN_SUNDAYS], "Europe/Berlin", march)]
    assert got == [Interval(utc(2026, 3, d, 1), utc(2026, 3, d, 3)) for d in (1, 8, 15, 22, 29)]
    april = month_period(2026, 4, "Europe/Berlin").span
    first = maintenance_intervals([BERLIN_SUNDAYS], "Europe/Berlin", april)[0].interval
    assert first == Interval(utc(2026, 4, 5, 0), utc(2026, 4, 5, 2))


def test_recurring_window_on_the_autumn_night_takes_the_first_0230_and_lasts_real_minutes() -> None:
    window = RecurringWindow("late", frozenset({"sun"}), time(2, 30), 60)
    oct25 = Interval(utc(2026, 10, 24, 12), utc(2026, 10, 25, 12))
    # 02:30 happens twice on 2026-10-25 (CEST 00:30Z, then CET 01:30Z): the first one, for 60 elapsed minutes.
    assert [w.interval for w in maintenance_intervals([window], "Europe/Berlin", oct25)] == [
        Interval(utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30))
    ]


def test_windows_are_clipped_to_the_span_and_long_ones_reach_back() -> None:
    # Saturday 2026-02-28 22:00 for 28 hours reaches into Monday 2026-03-02 until 02:00 (UTC contract).
    window = RecurringWindow("weekend", frozenset({"sat"}), time(22, 0), 28 * 60)
    monday = Interval(utc(2026, 3, 2), utc(2026, 3, 3))
    got = maintenance_intervals([window], "UTC", monday)
    assert [w.interval for w in got] == [Interval(utc(2026, 3, 2), utc(2026, 3, 2, 2))]
    one_off = OneOffWindow("x", utc(2026, 2, 28, 23), utc(2026, 3, 2, 1))
    got = maintenance_intervals([one_off], "UTC", monday)
    assert [(w.interval, w.label) for w in got] == [(Interval(utc(2026, 3, 2), utc(2026, 3, 2, 1)), "maintenance:x")]


@pytest.mark.parametrize(
    ("tz", "year", "month", "start", "end", "calendar_min"),
    [
        # No DST in Shanghai: local midnight is 16:00Z the day before; 31 days = 44,640 minutes.
        pytest.param("Asia/Shanghai", 2026, 3, utc(2026, 2, 28, 16), utc(2026, 3, 31, 16), 44_640, id="shanghai-march"),
        pytest.param(
            "Asia/Shanghai", 2026, 2, utc(2026, 1, 31, 16), utc(2026, 2, 28, 16), 40_320, id="shanghai-february"
        ),
        # Berlin March: starts in CET (23:00Z), ends in CEST (22:00Z): one hour short, 44,580 minutes.
        pytest.param("Europe/Berlin", 2026, 3, utc(2026, 2, 28, 23), utc(2026, 3, 31, 22), 44_580, id="berlin-march"),
        # Berlin October: starts in CEST (22:00Z), ends in CET (23:00Z): one hour long, 44,700 minutes.
        pytest.param(
            "Europe/Berlin", 2026, 10, utc(2026, 9, 30, 22), utc(2026, 10, 31, 23), 44_700, id="berlin-october"
        ),
        pytest.param(
            "Europe/Berlin", 2026, 12, utc(2026, 11, 30, 23), utc(2026, 12, 31, 23), 44_640, id="berlin-december"
        ),
        pytest.param("UTC", 2024, 2, utc(2024, 2, 1), utc(2024, 3, 1), 41_760, id="utc-leap-february"),
    ],
)
def test_month_boundaries_and_lengths(
    tz: str, year: int, month: int, start: object, end: object, calendar_min: int
) -> None:
    calendar = month_period(year, month, tz, "calendar")
    assert (calendar.start, calendar.end) == (start, end)
    assert calendar.calendar_min == calendar.basis_min == calendar_min
    fixed = month_period(year, month, tz, "fixed_43200")
    assert fixed.calendar_min == calendar_min
    assert fixed.basis_min == 43_200


def test_month_containing_uses_local_time() -> None:
    # 2026-03-31T16:30Z is already April 1st, 00:30 in Shanghai, still March 31st in Berlin.
    instant = utc(2026, 3, 31, 16, 30)
    assert month_containing(instant, "Asia/Shanghai").label == "2026-04"
    assert month_containing(instant, "Europe/Berlin").label == "2026-03"
    assert month_period(2026, 12, "UTC").next().label == "2027-01"


def test_parse_month() -> None:
    assert parse_month("2026-03") == (2026, 3)
    for bad in ("2026-13", "26-03", "march"):
        with pytest.raises(SlaError):
            parse_month(bad)


def test_no_such_month() -> None:
    with pytest.raises(SlaError):
        month_period(2026, 0, "UTC")


def test_durations_are_elapsed_time_not_wall_clock() -> None:
    # Sanity for the fixture itself: the expanded window is exactly duration_min long even over a DST change.
    window = RecurringWindow("w", frozenset({"sun"}), time(1, 0), 180)
    march = month_period(2026, 3, "Europe/Berlin").span
    assert all(
        w.interval.duration == timedelta(minutes=180) for w in maintenance_intervals([window], "Europe/Berlin", march)
    )


ZONES = [
    "Europe/Berlin",
    "Asia/Shanghai",
    "America/New_York",
    "America/Santiago",  # clocks change at midnight
    "America/Havana",  # clocks change at midnight
    "Australia/Lord_Howe",  # a 30-minute DST shift
    "Asia/Kathmandu",  # a +05:45 offset
    "Pacific/Apia",  # skipped a whole day in 2011
]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ZONES), st.integers(1971, 2037), st.integers(1, 12))
def test_months_start_at_the_first_local_instant_and_tile(tz: str, year: int, month: int) -> None:
    period = month_period(year, month, tz)
    zone = ZoneInfo(tz)
    first = period.start.astimezone(zone)
    before = (period.start - timedelta(microseconds=1)).astimezone(zone)
    assert (first.year, first.month, first.day) == (year, month, 1)
    assert (before.year, before.month) != (year, month)
    assert period.next().start == period.end
    assert period.calendar_min * 60 == int((period.end - period.start).total_seconds())
