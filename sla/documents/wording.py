"""Every sentence and label of the customer's copy, and the final / provisional statement both copies print: one
place, so that the zh-CN translation (a later issue) wraps these strings and nothing else.

Templates take named fields (``{share}``), as gettext catalogues want them; numbers arrive already rounded
(``sla.customer``, ``sla.provisional``) and are only formatted here.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from noc.i18n import N_
from noc.i18n import gettext as _
from sla.availability import fmt
from sla.customer import (
    FLOOR_OBJECTIVES,
    CustomerCredit,
    CustomerObjective,
    CustomerOutage,
    CustomerReport,
    OutageKind,
    whole_minutes,
)
from sla.documents.text import MONTHS, bps_text, clock_text
from sla.provisional import ReportStatus
from sla.terms import UnknownRule

# --- the statement both copies print -------------------------------------------------------------------------

PROVISIONAL = N_("Provisional")
FINAL = N_("Final")
IN_PROGRESS = N_("The month is in progress: {share} % of it has been measured so far.")
BELOW_MINIMUM = N_("Only {share} % of the month was measured; the contract requires {minimum} % for a final report.")
NO_CREDIT_PROVISIONAL = N_("No credit is owed on a provisional report; the credit is stated when the report is final.")
MEASURED_ALL = N_("The whole month was measured.")
MEASURED_PART = N_("{share} % of the month was measured; {missing} of service time had no measurement, {rule}.")
UNKNOWN_RULE = {
    "excluded": N_("left out of the availability figure as the contract provides"),
    "available": N_("counted as available as the contract provides"),
    "unavailable": N_("counted as unavailable as the contract provides"),
}
LESS_THAN = N_("less than 0.1")


def share_text(share: Decimal, exact: Decimal | None) -> str:
    """The measured share shown (cut to one decimal); a share too small for that reads "less than 0.1"."""
    if share == 0 and exact is not None and exact > 0:
        return _(LESS_THAN)
    return format(share, "f")


def status_lines(status: ReportStatus, unknown_rule: UnknownRule) -> list[str]:
    """What the report's standing is and how much of the month it rests on, in sentences."""
    cover = status.coverage
    share = share_text(cover.share_shown, cover.share_pct)
    lines: list[str] = []
    if status.in_progress:
        lines.append(_(IN_PROGRESS).format(share=share))
    elif status.below_minimum:
        lines.append(_(BELOW_MINIMUM).format(share=share, minimum=fmt(status.min_measured_pct, 2)))
    elif status.data_missing:
        lines.append(
            _(MEASURED_PART).format(
                share=share, missing=duration_text(cover.unknown_min), rule=_(UNKNOWN_RULE[unknown_rule])
            )
        )
    else:
        lines.append(_(MEASURED_ALL))
    if status.provisional:
        lines.append(_(NO_CREDIT_PROVISIONAL))
    return lines


def standing_text(status: ReportStatus) -> str:
    return _(PROVISIONAL) if status.provisional else _(FINAL)


# --- numbers, times, words -----------------------------------------------------------------------------------

HOURS_MINUTES = N_("{hours} h {minutes} min")
HOURS = N_("{hours} h")
MINUTES = N_("{minutes} min")


def duration_text(value_min: Decimal) -> str:
    total = whole_minutes(value_min)
    if total < 60:
        return _(MINUTES).format(minutes=total)
    if total % 60 == 0:
        return _(HOURS).format(hours=total // 60)
    return _(HOURS_MINUTES).format(hours=total // 60, minutes=total % 60)


def local_text(instant: datetime) -> str:
    """An instant already in the contract's zone, as its wall clock."""
    return clock_text(instant)


MONTH_YEAR = N_("{name} {year}")


def month_text(year: int, month: int) -> str:
    return _(MONTH_YEAR).format(name=_(MONTHS[month - 1]), year=year)


def pct(value: Decimal | None) -> str:
    """A percentage already cut to the decimals it is shown with (trailing zeros kept: "99.90 %")."""
    return _(NOT_MEASURED) if value is None else f"{format(value, 'f')} %"


def money(value: Decimal, currency: str) -> str:
    return f"{value} {currency}"


NOT_MEASURED = N_("not measured")
MET, MISSED = N_("met"), N_("missed")


def result_text(met: bool | None) -> str:
    return _(NOT_MEASURED) if met is None else (_(MET) if met else _(MISSED))


OBJECTIVE_NAMES = {
    "availability": N_("Availability"),
    "latency": N_("Latency (round trip, monthly mean)"),
    "loss": N_("Packet loss (monthly mean)"),
    "jitter": N_("Jitter (monthly mean)"),
    "utilisation": N_("Utilisation (95th percentile)"),
    "committed_rate": N_("Port speed for the committed rate"),
}
AT_MOST, AT_LEAST = N_("at most {limit}"), N_("at least {limit}")


def objective_name(objective: CustomerObjective) -> str:
    return _(OBJECTIVE_NAMES.get(objective.objective, objective.objective.replace("_", " ")))


def _value(objective: CustomerObjective, value: Decimal) -> str:
    if objective.unit == "bit/s":
        return bps_text(float(value))
    return f"{format(value, 'f')} {objective.unit}"


def measured_text(objective: CustomerObjective) -> str:
    return _(NOT_MEASURED) if objective.measured is None else _value(objective, objective.measured)


def limit_text(objective: CustomerObjective) -> str:
    floor = objective.objective in FLOOR_OBJECTIVES
    return (_(AT_LEAST) if floor else _(AT_MOST)).format(limit=_value(objective, objective.limit))


OUTAGE_WORDS = {
    OutageKind.UNREACHABLE: N_("the service could not be reached"),
    OutageKind.LINK_DOWN: N_("the connection was down"),
    OutageKind.LOSS: N_("packet loss above the agreed ceiling"),
    OutageKind.INTERRUPTION: N_("the service was interrupted"),
}
IN_MAINTENANCE = N_("{duration} within agreed maintenance, not counted")
CLOCK_STOPPED = N_("{duration} while the clock was stopped, not counted")
BEGAN_BEFORE = N_("began before the month")
STILL_DOWN = N_("still ongoing at the end of the period")


def outage_text(outage: CustomerOutage) -> str:
    """What happened, in plain words, with what did not count and why."""
    what = "; ".join(_(OUTAGE_WORDS[k]) for k in outage.kinds)
    notes = []
    if outage.maintenance_min:
        notes.append(_(IN_MAINTENANCE).format(duration=duration_text(outage.maintenance_min)))
    if outage.clock_stopped_min:
        notes.append(_(CLOCK_STOPPED).format(duration=duration_text(outage.clock_stopped_min)))
    if outage.began_before:
        notes.append(_(BEGAN_BEFORE))
    if outage.still_down:
        notes.append(_(STILL_DOWN))
    return what[:1].upper() + what[1:] + ("" if not notes else " (" + "; ".join(notes) + ")")


# --- the credit ----------------------------------------------------------------------------------------------

BAND_APPLIES = N_("Availability {availability} is below {below} %: the credit is {credit} % of the monthly fee.")
NO_BAND = N_("Availability {availability} is not below any band of the schedule: no credit is due.")
NOT_EVALUATED = N_("Nothing was measured: availability and credit are not evaluated.")
BY_BAND = N_("{fee} x {credit} % = {amount}")
CAP = N_("The credit is capped at {cap} % of the monthly fee: {amount}.")
CAPPED = N_("Capped: {amount}.")
OWED = N_("Credit owed: {amount}.")
NO_SCHEDULE = N_("The contract has no credit schedule.")


def credit_lines(report: CustomerReport) -> list[str]:
    """The credit's arithmetic in sentences; on a provisional report only the statement that none is owed."""
    credit: CustomerCredit = report.credit
    if credit.owed is None:
        return [_(NO_CREDIT_PROVISIONAL)]
    if not credit.bands:
        return [_(NO_SCHEDULE)]
    if report.availability_pct is None:
        return [_(NOT_EVALUATED)]
    availability = pct(report.availability_pct)
    cur = credit.currency
    if credit.band is None:
        return [_(NO_BAND).format(availability=availability), _(OWED).format(amount=money(credit.owed, cur))]
    lines = [
        _(BAND_APPLIES).format(
            availability=availability, below=fmt(credit.band.below_pct), credit=fmt(credit.credit_pct)
        ),
        _(BY_BAND).format(
            fee=money(credit.monthly_fee, cur), credit=fmt(credit.credit_pct), amount=money(credit.by_band, cur)
        ),
        _(CAP).format(cap=fmt(credit.cap_pct), amount=money(credit.cap_amount, cur)),
    ]
    if credit.capped:
        lines.append(_(CAPPED).format(amount=money(credit.owed, cur)))
    lines.append(_(OWED).format(amount=money(credit.owed, cur)))
    return lines


# --- the document's labels -----------------------------------------------------------------------------------

TITLE = N_("Monthly service level report")
CUSTOMER = N_("Customer")
CONTRACT = N_("Contract")
PERIOD = N_("Period")
PERIOD_VALUE = N_("{start} to {end} ({zone})")
EVALUATED_TO = N_("Figures up to")
MEASURED = N_("Measured")
MEASURED_VALUE = N_("{share} % of the month")
STANDING = N_("Status")
GENERATED = N_("Issued")
ZONED = N_("{time} ({zone})")
AVAILABILITY = N_("Contract availability")
TARGET = N_("target {target} % - {result}")
CREDIT_OWED = N_("Credit owed")
NONE_YET = N_("none while provisional")
OF_FEE = N_("{credit} % of the monthly fee")
OBJECTIVES = N_("Service levels")
OBJECTIVE, MEASURED_COL, AGREED, RESULT = N_("Objective"), N_("Measured"), N_("Agreed"), N_("Result")
CIRCUITS = N_("Circuits")
CIRCUIT, OUTAGE_COUNT, COUNTED = N_("Circuit"), N_("Outages"), N_("Counted downtime")
OUTAGES = N_("Outages")
NO_OUTAGES = N_("No outages in the period.")
OUTAGE_TIMES = N_(
    "Times are in {zone}. Counted downtime is the outage less the time agreed maintenance or a stopped clock took."
)
FROM, TO, DURATION, WHAT = N_("From"), N_("To"), N_("Duration"), N_("What happened")
CREDIT = N_("Service credit")
BELOW, CREDIT_COL, APPLIES = N_("Availability below"), N_("Credit of the monthly fee"), N_("Applies")
APPLIED = N_("applies")
FOOTER = N_("{legal_name} - {contract} - {month} - times in {zone}")
PAGE = N_("page {number} of {total}")
