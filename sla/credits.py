"""The credit owed for a month from the contract's schedule, with its arithmetic as data.

A band ``{below_pct, credit_pct}`` applies when availability is strictly below ``below_pct`` (exactly at the
boundary owes nothing from that band). Of the bands that apply, the one with the lowest ``below_pct`` is chosen
(bands are listed highest first, and a lower band never owes less). The amount is ``fee x credit_pct / 100``,
capped at ``fee x cap_pct / 100``, both rounded half-up to the currency quantum (0.01 by default).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sla.availability import fmt, truncate
from sla.terms import CreditBand, CreditSchedule

HUNDRED = Decimal(100)
CENT = Decimal("0.01")
SHOWN_PLACES = 6


@dataclass(frozen=True, slots=True)
class CreditResult:
    availability_pct: Decimal | None
    band: CreditBand | None
    credit_pct: Decimal
    monthly_fee: Decimal
    currency: str
    uncapped_amount: Decimal
    cap_pct: Decimal
    cap_amount: Decimal
    amount: Decimal
    capped: bool
    steps: tuple[str, ...]


def _money(value: Decimal, quantum: Decimal) -> Decimal:
    return value.quantize(quantum, rounding=ROUND_HALF_UP)


def _pct(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def compute_credit(
    availability_pct: Decimal | None, schedule: CreditSchedule, *, quantum: Decimal = CENT
) -> CreditResult:
    fee, cur = schedule.monthly_fee, schedule.currency
    zero = _money(Decimal(0), quantum)
    cap_amount = _money(fee * schedule.cap_pct / HUNDRED, quantum)

    def result(band: CreditBand | None, uncapped: Decimal, amount: Decimal, steps: list[str]) -> CreditResult:
        return CreditResult(
            availability_pct=availability_pct,
            band=band,
            credit_pct=band.credit_pct if band else Decimal(0),
            monthly_fee=fee,
            currency=cur,
            uncapped_amount=uncapped,
            cap_pct=schedule.cap_pct,
            cap_amount=cap_amount,
            amount=amount,
            capped=amount < uncapped,
            steps=tuple(steps),
        )

    if availability_pct is None:
        return result(None, zero, zero, ["availability not evaluated (nothing measurable): no credit computed"])
    steps: list[str] = []
    band: CreditBand | None = None
    # Shown cut to six decimals, never the quotient's 28 digits; cutting keeps each comparison as computed.
    shown = fmt(truncate(availability_pct, SHOWN_PLACES), SHOWN_PLACES)
    for candidate in schedule.bands:
        if availability_pct < candidate.below_pct:
            band = candidate
            steps.append(f"{shown} % < {_pct(candidate.below_pct)} %: band applies")
        else:
            steps.append(f"{shown} % >= {_pct(candidate.below_pct)} %: band does not apply")
            break  # bands are highest first: no lower band can apply either
    if band is None:
        steps.append(f"no band applies: credit {zero} {cur}")
        return result(None, zero, zero, steps)
    uncapped = _money(fee * band.credit_pct / HUNDRED, quantum)
    steps.append(f"band below {_pct(band.below_pct)} % -> credit {_pct(band.credit_pct)} % of the monthly fee")
    steps.append(f"{fee} {cur} x {_pct(band.credit_pct)} / 100 = {uncapped} {cur}")
    steps.append(
        f"cap {_pct(schedule.cap_pct)} % of the fee: {fee} x {_pct(schedule.cap_pct)} / 100 = {cap_amount} {cur}"
    )
    amount = min(uncapped, cap_amount)
    steps.append(
        f"credit = min({uncapped}, {cap_amount}) = {amount} {cur}" + (" (capped)" if amount < uncapped else "")
    )
    return result(band, uncapped, amount, steps)
