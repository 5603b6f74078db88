"""The customer's copy and the provisional decision, as pure functions: how much of a month was measured, when a
report is provisional (and owes no credit), what the customer may see, and how figures are rounded.

The month: C-1 in UTC, April 2026 (30 days, 43,200 minutes), two circuits.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sla.customer import (
    OutageKind,
    availability_places,
    customer_report,
    outage_kinds,
    shown,
    whole_minutes,
)
from sla.documents.wording import credit_lines, duration_text, outage_text, share_text, status_lines
from sla.errors import TermsError
from sla.intervals import Interval
from sla.provisional import Coverage, credit_owed, report_status
from sla.report import CircuitMonthInput, OutageSource, monthly_report
from sla.terms import CreditBand, CreditSchedule, OneOffWindow, terms_from_contract
from tests.sla.factories import pct, terms, utc

APRIL = 30 * 24 * 60


def month(**overrides: object) -> CircuitMonthInput:
    """Circuit a: down 6 hours on the 10th (the device unreachable, as the poller recorded it with its address)."""
    item = CircuitMonthInput(
        "a",
        outages=[OutageSource(utc(2026, 4, 10, 4), utc(2026, 4, 10, 10), "device down: timeout from 10.9.8.7:161")],
    )
    return replace(item, **overrides)  # type: ignore[arg-type]


# --- measured share and the provisional decision --------------------------------------------------------------


def test_a_fully_measured_finished_month_is_final_and_owes_its_credit() -> None:
    report = monthly_report(terms(), 2026, 4, [month(), CircuitMonthInput("b")])
    status = report.status
    assert status.coverage == Coverage(2, Decimal(2 * APRIL), Decimal(2 * APRIL), Decimal(0))
    assert status.coverage.share_pct == 100 and not status.provisional and not status.data_missing
    # 100 x (86,400 - 360) / 86,400 = 99.583 % < 99.9: 10 % of 1,000.00
    assert report.availability_pct == pct(2 * APRIL - 360, 2 * APRIL)
    assert credit_owed(status, report.credit) == Decimal("100.00")
    assert status_lines(status, "excluded") == ["The whole month was measured."]


def test_ten_minutes_into_a_month_is_provisional_and_owes_nothing() -> None:
    # The case: a handful of minutes measured, the target "missed", a credit computed, none owed.
    down = CircuitMonthInput("a", outages=[OutageSource(utc(2026, 4, 1, 0, 0), utc(2026, 4, 1, 0, 5), "flap")])
    report = monthly_report(terms(), 2026, 4, [down], as_of=utc(2026, 4, 1, 0, 10))
    status = report.status
    assert status.in_progress and status.provisional
    assert status.coverage.share_pct == pct(10, APRIL)
    assert report.credit.amount == Decimal("250.00")  # 50 % availability so far: what the figures would give
    assert credit_owed(status, report.credit) is None
    assert status_lines(status, "excluded") == [
        "The month is in progress: less than 0.1 % of it has been measured so far.",
        "No credit is owed on a provisional report; the credit is stated when the report is final.",
    ]


def test_a_month_in_progress_states_its_measured_share() -> None:
    # 10 days and 9 hours of 30 days: 34.58 %, cut to 34.5.
    report = monthly_report(terms(), 2026, 4, [CircuitMonthInput("a")], as_of=utc(2026, 4, 11, 9))
    assert report.status.coverage.share_shown == Decimal("34.5")
    assert "34.5 % of it has been measured so far" in status_lines(report.status, "excluded")[0]


def test_a_finished_month_below_the_minimum_stays_provisional() -> None:
    # Circuit b measured nothing: half the circuit-minutes, below the default 90 %.
    report = monthly_report(terms(), 2026, 4, [month(), CircuitMonthInput("b", samples=[])])
    status = report.status
    assert not status.in_progress and status.below_minimum and status.provisional
    assert status.coverage.share_pct == 50
    assert credit_owed(status, report.credit) is None
    assert status_lines(status, "excluded")[0] == (
        "Only 50.0 % of the month was measured; the contract requires 90 % for a final report."
    )


def test_a_finished_month_with_missing_data_above_the_minimum_is_final_and_says_so() -> None:
    gap = Interval(utc(2026, 4, 20), utc(2026, 4, 21, 1, 30))  # 25.5 hours nobody measured
    report = monthly_report(terms(), 2026, 4, [month(unknown=[gap])])
    status = report.status
    assert not status.provisional and status.data_missing
    assert status.coverage.unknown_min == 1530
    assert credit_owed(status, report.credit) == report.credit.amount
    assert status_lines(status, "excluded") == [
        "96.4 % of the month was measured; 25 h 30 min of service time had no measurement, left out of the "
        "availability figure as the contract provides."
    ]


@pytest.mark.parametrize(("minimum", "provisional"), [(Decimal(50), False), (Decimal("50.01"), True)])
def test_the_contract_s_minimum_decides_exactly(minimum: Decimal, provisional: bool) -> None:
    report = monthly_report(terms(min_measured_pct=minimum), 2026, 4, [month(), CircuitMonthInput("b", samples=[])])
    assert report.status.provisional is provisional


def test_a_contract_without_circuits_measured_nothing() -> None:
    report = monthly_report(terms(), 2026, 4, [])
    assert report.status.coverage.share_pct is None and report.status.provisional
    assert share_text(report.status.coverage.share_shown, None) == "0.0"


@given(st.integers(0, APRIL), st.integers(0, 100))
def test_provisional_exactly_when_in_progress_or_below_the_minimum(measured: int, minimum: int) -> None:
    cover = Coverage(1, Decimal(APRIL), Decimal(APRIL), Decimal(APRIL - measured))
    for complete in (True, False):
        status = report_status(complete, cover, Decimal(minimum))
        assert status.provisional == (not complete or Decimal(100) * measured / APRIL < minimum)
        assert cover.share_shown <= (cover.share_pct or 0)  # never shown above what was measured


# --- contract terms --------------------------------------------------------------------------------------------


def test_the_terms_default_and_validate_the_new_fields() -> None:
    row = {"name": "C-9", "timezone": "UTC", "availability_target_pct": "99.9"}
    read = terms_from_contract(row)
    assert (read.min_measured_pct, read.availability_places) == (Decimal(90), 2)
    zero = terms_from_contract(row | {"min_measured_pct": "0", "availability_places": 0})
    assert (zero.min_measured_pct, zero.availability_places) == (Decimal(0), 0)
    with pytest.raises(TermsError, match="min_measured_pct must lie in"):
        terms_from_contract(row | {"min_measured_pct": "100.5"})
    with pytest.raises(TermsError, match="availability_places must lie in"):
        terms(availability_places=7)
    with pytest.raises(TermsError, match="availability_places: expected a whole number"):
        terms_from_contract(row | {"availability_places": "2"})


# --- what the customer sees ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("causes", "kinds"),
    [
        (["measured:device_unreachable"], (OutageKind.UNREACHABLE,)),
        (["device down: timeout from 10.9.8.7:161"], (OutageKind.UNREACHABLE,)),
        (["measured:interface_down", "measured:loss_above_threshold"], (OutageKind.LINK_DOWN, OutageKind.LOSS)),
        (["measured"], (OutageKind.INTERRUPTION,)),
        (["ticket T-17: fibre cut by roadworks"], (OutageKind.INTERRUPTION,)),
        ([], (OutageKind.INTERRUPTION,)),
    ],
)
def test_causes_become_kinds_and_the_raw_text_goes_nowhere(causes: list[str], kinds: tuple[OutageKind, ...]) -> None:
    assert outage_kinds(causes) == kinds


def test_the_customer_report_carries_nothing_internal() -> None:
    window = OneOffWindow("PE-7 upgrade on 10.9.8.7", utc(2026, 4, 10, 9), utc(2026, 4, 10, 11))
    report = monthly_report(terms(maintenance=(window,)), 2026, 4, [month(), CircuitMonthInput("b")])
    copy = customer_report(report, "Example Bank Co., Ltd.")
    assert (copy.legal_name, copy.contract, copy.timezone) == ("Example Bank Co., Ltd.", "C-1", "UTC")
    (outage,) = copy.outages
    assert outage.kinds == (OutageKind.UNREACHABLE,)
    assert (outage.duration_min, outage.maintenance_min, outage.counted_min) == (360, 60, 300)
    text = outage_text(outage)
    assert text == "The service could not be reached (1 h within agreed maintenance, not counted)"
    # Nothing of the raw cause, the poller's address, the window's internal name or the sample detail anywhere.
    plain = repr(copy)
    for secret in ("10.9.8.7", "timeout", "PE-7", "device down", "steps", "ignored"):
        assert secret not in plain, secret


def test_the_customer_report_rounds_as_the_contract_states() -> None:
    report = monthly_report(terms(), 2026, 4, [month(), CircuitMonthInput("b")])
    copy = customer_report(report, "Example Bank")
    # 99.58333... cut to the contract's two decimals: never the quotient's 28 digits, never rounded up.
    assert copy.availability_pct == Decimal("99.58") and str(copy.availability_pct) == "99.58"
    assert [c.availability_pct for c in copy.circuits] == [Decimal("99.16"), Decimal("100.00")]
    assert copy.credit.owed == Decimal("100.00")
    assert credit_lines(copy) == [
        "Availability 99.58 % is below 99.9 %: the credit is 10 % of the monthly fee.",
        "1000.00 EUR x 10 % = 100.00 EUR",
        "The credit is capped at 100 % of the monthly fee: 1000.00 EUR.",
        "Credit owed: 100.00 EUR.",
    ]


def test_a_provisional_customer_report_states_no_credit() -> None:
    report = monthly_report(terms(), 2026, 4, [month()], as_of=utc(2026, 4, 12))
    copy = customer_report(report, "Example Bank")
    assert copy.credit.owed is None and report.credit.amount > 0
    assert credit_lines(copy) == [
        "No credit is owed on a provisional report; the credit is stated when the report is final."
    ]
    assert copy.evaluated_to == utc(2026, 4, 12)


def test_availability_shows_more_decimals_when_a_limit_has_them() -> None:
    schedule = CreditSchedule(bands=(CreditBand(Decimal("99.955"), Decimal(5)),), monthly_fee=Decimal(100))
    assert availability_places(terms(credits=schedule)) == 3
    assert availability_places(terms(availability_target_pct=Decimal("99.9"), availability_places=0)) == 1
    assert availability_places(terms()) == 2


@pytest.mark.parametrize(
    ("value", "places", "floor", "expected"),
    [
        (Decimal("99.94999"), 2, True, "99.94"),  # a floor is cut: 99.95 would read as met
        (Decimal("100"), 2, True, "100.00"),
        (20.01, 1, False, "20.1"),  # a ceiling rounds up: 20.0 would read as met under a 20 ms ceiling
        (0.4 * 1.5 * 100, 1, False, "60.0"),  # binary noise (60.00000000000001) does not step up
        (12.0, 1, False, "12.0"),
    ],
)
def test_rounding_never_contradicts_the_verdict(
    value: Decimal | float, places: int, floor: bool, expected: str
) -> None:
    assert str(shown(value, places, floor=floor)) == expected


@given(st.decimals(min_value=0, max_value=100, places=8), st.sampled_from(["99", "99.9", "99.95", "99.99"]))
def test_a_cut_availability_compares_with_the_target_as_the_exact_one(value: Decimal, target: str) -> None:
    limit = Decimal(target)
    assert (shown(value, 2, floor=True) >= limit) == (value >= limit)


def test_minutes_for_reading_round_up() -> None:
    assert [whole_minutes(Decimal(v)) for v in ("0.01", "0.5", "1", "59.01")] == [1, 1, 1, 60]


@pytest.mark.parametrize(
    ("minutes", "text"),
    [("0.2", "1 min"), ("59", "59 min"), ("60", "1 h"), ("125", "2 h 5 min"), ("1530", "25 h 30 min")],
)
def test_durations_read_in_hours_and_minutes(minutes: str, text: str) -> None:
    assert duration_text(Decimal(minutes)) == text
