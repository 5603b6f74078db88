"""Availability arithmetic: the issue's hand-computed acceptance cases, the unknown-time rules, and properties."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sla.availability import aggregate_availability, compute_availability
from sla.intervals import Interval, Labelled
from sla.period import month_period
from sla.terms import UnknownRule
from tests.sla.factories import labelled, pct, span, utc

JANUARY = month_period(2026, 1, "UTC")  # 31 days: 44,640 calendar minutes
JANUARY_FIXED = month_period(2026, 1, "UTC", "fixed_43200")
OUTAGE_30 = labelled(utc(2026, 1, 15, 10), 30, "device")


def availability(
    *,
    outages: list[Labelled],
    exclusions: list[Labelled] | None = None,
    unknown: list[Interval] | None = None,
    rule: UnknownRule = "excluded",
    fixed: bool = False,
) -> Decimal | None:
    period = JANUARY_FIXED if fixed else JANUARY
    return compute_availability(
        period.span,
        period.basis_min,
        outages=outages,
        unknown=unknown or [],
        exclusions=exclusions or [],
        unknown_rule=rule,
    ).availability_pct


def test_thirty_minutes_in_a_31_day_calendar_month() -> None:
    got = availability(outages=[OUTAGE_30])
    assert got == pct(44_640 - 30, 44_640)  # = 100 x (1 - 30/44640) = 99.93279569892...
    assert float(got or 0) == pytest.approx(100 * (1 - 30 / 44_640), abs=1e-12)


def test_thirty_minutes_under_the_fixed_43200_rule() -> None:
    assert availability(outages=[OUTAGE_30], fixed=True) == pct(43_200 - 30, 43_200)  # 99.930555...


def test_outage_straddling_a_maintenance_window_is_clipped_exactly() -> None:
    # Outage 10:00-11:00, maintenance 10:40-12:00: only 10:00-10:40 counts, whatever the window's total length.
    outage = labelled(utc(2026, 1, 15, 10), 60, "device")
    window = labelled(utc(2026, 1, 15, 10, 40), 80, "maintenance:upgrade")
    result = compute_availability(
        JANUARY.span, JANUARY.basis_min, outages=[outage], unknown=[], exclusions=[window], unknown_rule="excluded"
    )
    assert result.downtime_min == 40
    assert result.availability_pct == pct(44_640 - 40, 44_640)
    (record,) = result.outages
    assert (record.duration_min, record.excluded_min, record.counted_min) == (Decimal(60), Decimal(20), Decimal(40))
    assert record.excluded == (
        Labelled(Interval(utc(2026, 1, 15, 10, 40), utc(2026, 1, 15, 11)), "maintenance:upgrade"),
    )


def test_an_unrelated_maintenance_window_changes_nothing() -> None:
    # Subtracting totals (NAV's mistake) would give 30 - 120 -> 0 downtime here; intersecting gives 30.
    unrelated = labelled(utc(2026, 1, 20, 2), 120, "maintenance:weekly")
    assert availability(outages=[OUTAGE_30], exclusions=[unrelated]) == availability(outages=[OUTAGE_30])
    assert availability(outages=[OUTAGE_30], exclusions=[unrelated]) == pct(44_640 - 30, 44_640)


def test_two_overlapping_outage_sources_count_once() -> None:
    # Device outage 10:00-10:30 and measured loss 10:20-10:45: 45 minutes, not 55.
    device = labelled(utc(2026, 1, 15, 10), 30, "device")
    measured = labelled(utc(2026, 1, 15, 10, 20), 25, "measured:loss_above_threshold")
    result = compute_availability(
        JANUARY.span, JANUARY.basis_min, outages=[device, measured], unknown=[], exclusions=[], unknown_rule="excluded"
    )
    assert result.downtime_min == 45
    assert result.availability_pct == pct(44_640 - 45, 44_640)
    (record,) = result.outages
    assert record.causes == ("device", "measured:loss_above_threshold")


UNKNOWN_60 = span(utc(2026, 1, 3), 60)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        # 30 min outage plus 60 min without data (none of it inside a window).
        pytest.param("available", pct(44_640 - 30, 44_640), id="unknown-counts-as-up"),
        pytest.param("unavailable", pct(44_640 - 90, 44_640), id="unknown-counts-as-down"),
        pytest.param("excluded", pct(44_580 - 30, 44_580), id="unknown-leaves-the-basis"),
    ],
)
def test_unknown_time_rules(rule: UnknownRule, expected: Decimal) -> None:
    assert availability(outages=[OUTAGE_30], unknown=[UNKNOWN_60], rule=rule) == expected


def test_unknown_inside_maintenance_or_an_outage_is_not_unknown() -> None:
    # 60 min unknown; 20 of them covered by a device outage record, 10 more inside maintenance: UR = 30.
    outage = labelled(utc(2026, 1, 3), 20, "device")
    window = labelled(utc(2026, 1, 3, 0, 50), 30, "maintenance:w")
    result = compute_availability(
        JANUARY.span,
        JANUARY.basis_min,
        outages=[outage],
        unknown=[UNKNOWN_60],
        exclusions=[window],
        unknown_rule="unavailable",
    )
    assert (result.unknown_min, result.unknown_in_exclusion_min, result.unknown_ruled_min) == (
        Decimal(40),
        Decimal(10),
        Decimal(30),
    )
    assert result.downtime_min == 20 + 30
    assert result.availability_pct == pct(44_640 - 50, 44_640)


def test_outages_beyond_the_period_are_clipped_and_flagged() -> None:
    # 2025-12-31 23:50 .. 2026-01-01 00:20: only 20 minutes belong to January.
    outage = labelled(utc(2025, 12, 31, 23, 50), 30, "device")
    result = compute_availability(
        JANUARY.span, JANUARY.basis_min, outages=[outage], unknown=[], exclusions=[], unknown_rule="excluded"
    )
    assert result.downtime_min == 20
    assert result.outages[0].continues_before and not result.outages[0].continues_after


def test_fixed_rule_clamps_at_zero_and_nothing_measurable_is_none() -> None:
    whole_month = Labelled(JANUARY.span, "device")
    result = compute_availability(
        JANUARY_FIXED.span,
        JANUARY_FIXED.basis_min,
        outages=[whole_month],
        unknown=[],
        exclusions=[],
        unknown_rule="excluded",
    )
    assert result.availability_pct == 0 and result.clamped  # 44,640 real minutes down against a 43,200 basis
    assert availability(outages=[], unknown=[JANUARY.span]) is None


def test_shown_steps_reproduce_the_figure() -> None:
    result = compute_availability(
        JANUARY.span, JANUARY.basis_min, outages=[OUTAGE_30], unknown=[], exclusions=[], unknown_rule="excluded"
    )
    assert result.steps[-1] == "availability = 100 x (M - D) / M = 100 x (44640 - 30) / 44640 = 99.932796 %"


def test_contract_figure_is_minute_weighted() -> None:
    period = JANUARY
    a = compute_availability(
        period.span, period.basis_min, outages=[OUTAGE_30], unknown=[], exclusions=[], unknown_rule="excluded"
    )
    b = compute_availability(
        period.span,
        period.basis_min,
        outages=[],
        unknown=[span(utc(2026, 1, 5), 1440)],
        exclusions=[],
        unknown_rule="excluded",
    )
    got, steps = aggregate_availability([a, b])
    # (44640 - 30) + (44640 - 1440) good minutes over 44640 + 43200 measurable minutes.
    assert got == pct((44_640 - 30) + (44_640 - 1440), 44_640 + 43_200)
    assert "Σ(M - D) / ΣM" in steps[0]
    assert aggregate_availability([]) == (
        None,
        ("no circuit has measurable time: contract availability not evaluated",),
    )


# --- properties ------------------------------------------------------------------------------------------------

MONTH_MIN = 44_640
pieces = st.tuples(st.integers(-120, MONTH_MIN + 60), st.integers(1, 3000))


def to_labelled(items: list[tuple[int, int]], label: str) -> list[Labelled]:
    return [labelled(JANUARY.start + timedelta(minutes=a), b, label) for a, b in items]


def figure(
    outages: list[tuple[int, int]],
    windows: list[tuple[int, int]],
    unknown: list[tuple[int, int]],
    rule: UnknownRule,
    fixed: bool,
) -> Decimal | None:
    return availability(
        outages=to_labelled(outages, "o"),
        exclusions=to_labelled(windows, "maintenance:m"),
        unknown=[x.interval for x in to_labelled(unknown, "u")],
        rule=rule,
        fixed=fixed,
    )


rules = st.sampled_from(["available", "unavailable", "excluded"])
lists = st.lists(pieces, max_size=6)


@settings(max_examples=150, deadline=None)
@given(lists, lists, lists, rules, st.booleans())
def test_availability_lies_in_0_100(
    outages: list[tuple[int, int]],
    windows: list[tuple[int, int]],
    unknown: list[tuple[int, int]],
    rule: UnknownRule,
    fixed: bool,
) -> None:
    got = figure(outages, windows, unknown, rule, fixed)
    assert got is None or 0 <= got <= 100


@settings(max_examples=150, deadline=None)
@given(lists, lists, st.lists(pieces, max_size=3), pieces, rules, st.booleans())
def test_adding_a_maintenance_window_never_lowers_availability(
    outages: list[tuple[int, int]],
    windows: list[tuple[int, int]],
    unknown: list[tuple[int, int]],
    extra: tuple[int, int],
    rule: UnknownRule,
    fixed: bool,
) -> None:
    before = figure(outages, windows, unknown, rule, fixed)
    after = figure(outages, [*windows, extra], unknown, rule, fixed)
    assume(before is not None)
    assert before is not None and after is not None
    assert after >= before


@settings(max_examples=150, deadline=None)
@given(lists, lists, st.lists(pieces, max_size=3), pieces, rules, st.booleans())
def test_adding_an_outage_never_raises_availability(
    outages: list[tuple[int, int]],
    windows: list[tuple[int, int]],
    unknown: list[tuple[int, int]],
    extra: tuple[int, int],
    rule: UnknownRule,
    fixed: bool,
) -> None:
    before = figure(outages, windows, unknown, rule, fixed)
    after = figure([*outages, extra], windows, unknown, rule, fixed)
    assume(before is not None and after is not None)
    assert before is not None and after is not None
    assert after <= before


def test_a_month_without_any_measurement_is_not_evaluated_even_with_maintenance() -> None:
    """Maintenance minutes are service time, but nobody measured them: no data must never read as 100 %."""
    window = labelled(utc(2026, 1, 4, 2), 120, "maintenance:weekly")
    assert availability(outages=[], exclusions=[window], unknown=[JANUARY.span]) is None
    # one measured minute is enough to evaluate (under the excluded rule, over what was measured)
    measured = Interval(utc(2026, 1, 10), utc(2026, 1, 10, 0, 1))
    rest = [Interval(JANUARY.span.start, measured.start), Interval(measured.end, JANUARY.span.end)]
    assert availability(outages=[], exclusions=[window], unknown=rest) == Decimal(100)
