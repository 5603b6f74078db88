"""Every sentence and label of the customer's copy, and the final / provisional statement both copies print: one
place, so that the zh-CN translation (a later issue) wraps these strings and nothing else.

Templates take named fields (``{share}``), as gettext catalogues want them; numbers arrive already rounded
(``sla.customer``, ``sla.provisional``) and are only formatted here.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

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

PROVISIONAL = "Provisional"
FINAL = "Final"
IN_PROGRESS = "The month is in progress: {share} % of it has been measured so far."
BELOW_MINIMUM = "Only {share} % of the month was measured; the contract requires {minimum} % for a final report."
NO_CREDIT_PROVISIONAL = "No credit is owed on a provisional report; the credit is stated when the report is final."
MEASURED_ALL = "The whole month was measured."
MEASURED_PART = "{share} % of the month was measured; {missing} of service time had no measurement, {rule}."
UNKNOWN_RULE = {
    "excluded": "left out of the availability figure as the contract provides",
    "available": "counted as available as the contract provides",
    "unavailable": "counted as unavailable as the contract provides",
}
LESS_THAN = "less than 0.1"


def share_text(share: Decimal, exact: Decimal | None) -> str:
    """The measured share shown (cut to one decimal); a share too small for that reads "less than 0.1"."""
    if share == 0 and exact is not None and exact > 0:
        return LESS_THAN
    return format(share, "f")


def status_lines(status: ReportStatus, unknown_rule: UnknownRule) -> list[str]:
    """What the report's standing is and how much of the month it rests on, in sentences."""
    cover = status.coverage
    share = share_text(cover.share_shown, cover.share_pct)
    lines: list[str] = []
    if status.in_progress:
        lines.append(IN_PROGRESS.format(share=share))
    elif status.below_minimum:
        lines.append(BELOW_MINIMUM.format(share=share, minimum=fmt(status.min_measured_pct, 2)))
    elif status.data_missing:
        lines.append(
            MEASURED_PART.format(share=share, missing=duration_text(cover.unknown_min), rule=UNKNOWN_RULE[unknown_rule])
        )
    else:
        lines.append(MEASURED_ALL)
    if status.provisional:
        lines.append(NO_CREDIT_PROVISIONAL)
    return lines


def standing_text(status: ReportStatus) -> str:
    return PROVISIONAL if status.provisional else FINAL


# --- numbers, times, words -----------------------------------------------------------------------------------

HOURS_MINUTES = "{hours} h {minutes} min"
HOURS = "{hours} h"
MINUTES = "{minutes} min"


def duration_text(value_min: Decimal) -> str:
    total = whole_minutes(value_min)
    if total < 60:
        return MINUTES.format(minutes=total)
    if total % 60 == 0:
        return HOURS.format(hours=total // 60)
    return HOURS_MINUTES.format(hours=total // 60, minutes=total % 60)


def local_text(instant: datetime) -> str:
    """An instant already in the contract's zone, as its wall clock."""
    return clock_text(instant)


def month_text(year: int, month: int) -> str:
    return f"{MONTHS[month - 1]} {year}"


def pct(value: Decimal | None) -> str:
    """A percentage already cut to the decimals it is shown with (trailing zeros kept: "99.90 %")."""
    return NOT_MEASURED if value is None else f"{format(value, 'f')} %"


def money(value: Decimal, currency: str) -> str:
    return f"{value} {currency}"


NOT_MEASURED = "not measured"
MET, MISSED = "met", "missed"


def result_text(met: bool | None) -> str:
    return NOT_MEASURED if met is None else (MET if met else MISSED)


OBJECTIVE_NAMES = {
    "availability": "Availability",
    "latency": "Latency (round trip, monthly mean)",
    "loss": "Packet loss (monthly mean)",
    "jitter": "Jitter (monthly mean)",
    "utilisation": "Utilisation (95th percentile)",
    "committed_rate": "Port speed for the committed rate",
}
AT_MOST, AT_LEAST = "at most {limit}", "at least {limit}"


def objective_name(objective: CustomerObjective) -> str:
    return OBJECTIVE_NAMES.get(objective.objective, objective.objective.replace("_", " "))


def _value(objective: CustomerObjective, value: Decimal) -> str:
    if objective.unit == "bit/s":
        return bps_text(float(value))
    return f"{format(value, 'f')} {objective.unit}"


def measured_text(objective: CustomerObjective) -> str:
    return NOT_MEASURED if objective.measured is None else _value(objective, objective.measured)


def limit_text(objective: CustomerObjective) -> str:
    floor = objective.objective in FLOOR_OBJECTIVES
    return (AT_LEAST if floor else AT_MOST).format(limit=_value(objective, objective.limit))


OUTAGE_WORDS = {
    OutageKind.UNREACHABLE: "the service could not be reached",
    OutageKind.LINK_DOWN: "the connection was down",
    OutageKind.LOSS: "packet loss above the agreed ceiling",
    OutageKind.INTERRUPTION: "the service was interrupted",
}
IN_MAINTENANCE = "{duration} within agreed maintenance, not counted"
CLOCK_STOPPED = "{duration} while the clock was stopped, not counted"
BEGAN_BEFORE = "began before the month"
STILL_DOWN = "still ongoing at the end of the period"


def outage_text(outage: CustomerOutage) -> str:
    """What happened, in plain words, with what did not count and why."""
    what = "; ".join(OUTAGE_WORDS[k] for k in outage.kinds)
    notes = []
    if outage.maintenance_min:
        notes.append(IN_MAINTENANCE.format(duration=duration_text(outage.maintenance_min)))
    if outage.clock_stopped_min:
        notes.append(CLOCK_STOPPED.format(duration=duration_text(outage.clock_stopped_min)))
    if outage.began_before:
        notes.append(BEGAN_BEFORE)
    if outage.still_down:
        notes.append(STILL_DOWN)
    return what[:1].upper() + what[1:] + ("" if not notes else " (" + "; ".join(notes) + ")")


# --- the credit ----------------------------------------------------------------------------------------------

BAND_APPLIES = "Availability {availability} is below {below} %: the credit is {credit} % of the monthly fee."
NO_BAND = "Availability {availability} is not below any band of the schedule: no credit is due."
NOT_EVALUATED = "Nothing was measured: availability and credit are not evaluated."
BY_BAND = "{fee} x {credit} % = {amount}"
CAP = "The credit is capped at {cap} % of the monthly fee: {amount}."
CAPPED = "Capped: {amount}."
OWED = "Credit owed: {amount}."
NO_SCHEDULE = "The contract has no credit schedule."


def credit_lines(report: CustomerReport) -> list[str]:
    """The credit's arithmetic in sentences; on a provisional report only the statement that none is owed."""
    credit: CustomerCredit = report.credit
    if credit.owed is None:
        return [NO_CREDIT_PROVISIONAL]
    if not credit.bands:
        return [NO_SCHEDULE]
    if report.availability_pct is None:
        return [NOT_EVALUATED]
    availability = pct(report.availability_pct)
    cur = credit.currency
    if credit.band is None:
        return [NO_BAND.format(availability=availability), OWED.format(amount=money(credit.owed, cur))]
    lines = [
        BAND_APPLIES.format(availability=availability, below=fmt(credit.band.below_pct), credit=fmt(credit.credit_pct)),
        BY_BAND.format(
            fee=money(credit.monthly_fee, cur), credit=fmt(credit.credit_pct), amount=money(credit.by_band, cur)
        ),
        CAP.format(cap=fmt(credit.cap_pct), amount=money(credit.cap_amount, cur)),
    ]
    if credit.capped:
        lines.append(CAPPED.format(amount=money(credit.owed, cur)))
    lines.append(OWED.format(amount=money(credit.owed, cur)))
    return lines


# --- the document's labels -----------------------------------------------------------------------------------

TITLE = "Monthly service level report"
CUSTOMER = "Customer"
CONTRACT = "Contract"
PERIOD = "Period"
PERIOD_VALUE = "{start} to {end} ({zone})"
EVALUATED_TO = "Figures up to"
MEASURED = "Measured"
MEASURED_VALUE = "{share} % of the month"
STANDING = "Status"
GENERATED = "Issued"
ZONED = "{time} ({zone})"
AVAILABILITY = "Contract availability"
TARGET = "target {target} % - {result}"
CREDIT_OWED = "Credit owed"
NONE_YET = "none while provisional"
OF_FEE = "{credit} % of the monthly fee"
OBJECTIVES = "Service levels"
OBJECTIVE, MEASURED_COL, AGREED, RESULT = "Objective", "Measured", "Agreed", "Result"
CIRCUITS = "Circuits"
CIRCUIT, OUTAGE_COUNT, COUNTED = "Circuit", "Outages", "Counted downtime"
OUTAGES = "Outages"
NO_OUTAGES = "No outages in the period."
OUTAGE_TIMES = (
    "Times are in {zone}. Counted downtime is the outage less the time agreed maintenance or a stopped clock took."
)
FROM, TO, DURATION, WHAT = "From", "To", "Duration", "What happened"
CREDIT = "Service credit"
BELOW, CREDIT_COL, APPLIES = "Availability below", "Credit of the monthly fee", "Applies"
APPLIED = "applies"
FOOTER = "{legal_name} - {contract} - {month} - times in {zone}"
PAGE = "page {number} of {total}"
