"""Credit bands at their exact boundaries, the cap, and the arithmetic shown as steps."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from sla.availability import compute_availability
from sla.credits import compute_credit
from sla.intervals import Interval, Labelled
from sla.period import month_period
from sla.terms import CreditBand, CreditSchedule

# examples/inventory.yaml, ACME-2026-01: 48,000.00 CNY a month, bands 99.95 / 99.5 / 99.0, cap 30 %.
ACME = CreditSchedule(
    bands=(
        CreditBand(Decimal("99.95"), Decimal(5)),
        CreditBand(Decimal("99.5"), Decimal(15)),
        CreditBand(Decimal("99.0"), Decimal(30)),
    ),
    cap_pct=Decimal(20),
    monthly_fee=Decimal("48000.00"),
    currency="CNY",
)


@pytest.mark.parametrize(
    ("availability", "band", "amount", "capped"),
    [
        pytest.param("100", None, "0.00", False, id="perfect"),
        pytest.param("99.95", None, "0.00", False, id="exactly-at-the-top-boundary-owes-nothing"),
        pytest.param("99.9499999", "99.95", "2400.00", False, id="just-below-the-top-boundary"),
        pytest.param("99.5", "99.95", "2400.00", False, id="exactly-at-the-second-boundary-stays-in-the-first"),
        pytest.param("99.4999999", "99.5", "7200.00", False, id="just-below-the-second-boundary"),
        pytest.param("99.0", "99.5", "7200.00", False, id="exactly-at-the-lowest-boundary"),
        # 30 % of 48,000 = 14,400, above the 20 % cap of 9,600.
        pytest.param("98.9999999", "99.0", "9600.00", True, id="lowest-band-capped"),
        pytest.param("0", "99.0", "9600.00", True, id="zero-capped"),
    ],
)
def test_bands_and_cap(availability: str, band: str | None, amount: str, capped: bool) -> None:
    result = compute_credit(Decimal(availability), ACME)
    assert (result.band.below_pct if result.band else None) == (Decimal(band) if band else None)
    assert result.amount == Decimal(amount)
    assert result.capped is capped
    assert result.cap_amount == Decimal("9600.00")


def test_the_cap_equal_to_the_credit_is_not_capped() -> None:
    schedule = CreditSchedule((CreditBand(Decimal("99.9"), Decimal(20)),), Decimal(20), Decimal("1000.00"))
    result = compute_credit(Decimal("99"), schedule)
    assert (result.uncapped_amount, result.amount, result.capped) == (Decimal("200.00"), Decimal("200.00"), False)


def test_steps_show_the_arithmetic() -> None:
    result = compute_credit(Decimal("98.5"), ACME)
    assert result.steps == (
        "98.5 % < 99.95 %: band applies",
        "98.5 % < 99.5 %: band applies",
        "98.5 % < 99 %: band applies",
        "band below 99 % -> credit 30 % of the monthly fee",
        "48000.00 CNY x 30 / 100 = 14400.00 CNY",
        "cap 20 % of the fee: 48000.00 x 20 / 100 = 9600.00 CNY",
        "credit = min(14400.00, 9600.00) = 9600.00 CNY (capped)",
    )


def test_money_is_rounded_half_up_to_the_cent() -> None:
    schedule = CreditSchedule((CreditBand(Decimal("99.9"), Decimal("2.5")),), Decimal(100), Decimal("0.30"))
    assert compute_credit(Decimal(99), schedule).amount == Decimal("0.01")  # 0.0075 -> 0.01


def test_not_evaluated_owes_nothing() -> None:
    result = compute_credit(None, ACME)
    assert result.amount == 0 and result.band is None


@pytest.mark.parametrize(("outage_s", "credit"), [(2678.4, "0.00"), (2678.5, "100.00")])
def test_boundary_reached_by_real_downtime(outage_s: float, credit: str) -> None:
    # 31-day month: 0.1 % of 44,640 minutes is 44.64 minutes = 2,678.4 s. Exactly that leaves 99.9 % (no credit
    # from the "below 99.9" band); a tenth of a second more crosses it.
    january = month_period(2026, 1, "UTC")
    outage = Labelled(Interval(january.start, january.start + timedelta(seconds=outage_s)), "device")
    result = compute_availability(
        january.span, january.basis_min, outages=[outage], unknown=[], exclusions=[], unknown_rule="excluded"
    )
    schedule = CreditSchedule((CreditBand(Decimal("99.9"), Decimal(10)),), Decimal(100), Decimal("1000.00"))
    assert compute_credit(result.availability_pct, schedule).amount == Decimal(credit)
