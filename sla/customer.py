"""The customer's copy of the monthly report: what the customer may see, and the figures as the contract states them.

Same data as the internal report (:class:`sla.report.ContractReport`), another audience. Chosen by whitelist, so
nothing internal can slip through a new field: the customer's legal name and the contract, the month in the
contract's time zone, availability per contract and circuit, the contract's other objectives, outages as kinds (a
fixed vocabulary, never the raw cause text, which may name devices, addresses or pollers) with their times and the
parts forgiven by agreed maintenance or a stopped clock, and the credit schedule with its arithmetic. Not the
account's tier, devices, interfaces, addresses, poller or sample detail, nor the internal arithmetic.

Rounding never contradicts a verdict: a figure that must reach a floor (availability, the port against the committed
rate) is cut down, a figure under a ceiling (latency, loss, jitter, utilisation) is rounded up. Availability shows
the decimals the contract states (``SlaTerms.availability_places``), or more when the target or a credit band is
written with more, so that "99.95 % is below 99.95 %" can never be printed.

Words live in ``sla.documents.wording``; this module decides and rounds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum
from typing import Literal, get_args

from sla.availability import OutageRecord, truncate
from sla.credits import CreditResult
from sla.intervals import minutes, total
from sla.provisional import ReportStatus, credit_owed
from sla.report import ContractReport, ObjectiveResult
from sla.terms import CreditBand, SlaTerms, UnknownRule

# Who a report is for: the NOC's internal report (every detail) or the customer's copy.
Audience = Literal["internal", "customer"]
AUDIENCES: tuple[Audience, ...] = get_args(Audience)


class OutageKind(StrEnum):
    """What an outage was, in the customer's terms (ordered: the most severe first)."""

    UNREACHABLE = "unreachable"  # the service's equipment could not be reached
    LINK_DOWN = "link_down"  # the connection was down
    LOSS = "loss"  # packet loss above the contract's ceiling
    INTERRUPTION = "interruption"  # any other interruption


_KIND_MARKERS = (
    (OutageKind.UNREACHABLE, ("device_unreachable", "device down", "unreachable")),
    (OutageKind.LINK_DOWN, ("interface_down", "link down", "oper down")),
    (OutageKind.LOSS, ("loss",)),
)


def outage_kinds(causes: Iterable[str]) -> tuple[OutageKind, ...]:
    """The kinds of an outage from its raw cause labels (``measured:interface_down``, ``device down: <error>`` ...);
    a label matching no kind is an interruption. The raw text is never carried on."""
    found: set[OutageKind] = set()
    for cause in causes:
        text = cause.lower()
        kinds = [kind for kind, markers in _KIND_MARKERS if any(m in text for m in markers)]
        found.update(kinds or [OutageKind.INTERRUPTION])
    return tuple(k for k in OutageKind if k in found) or (OutageKind.INTERRUPTION,)


# Objectives: how each is rounded for the customer (decimals, and which way keeps the verdict true).
FLOOR_OBJECTIVES = frozenset({"availability", "committed_rate"})
FLOAT_NOISE = Decimal("1e-9")
OBJECTIVE_PLACES = {"latency": 1, "jitter": 1, "loss": 3, "utilisation": 1, "committed_rate": 0}


def decimals_of(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def availability_places(terms: SlaTerms) -> int:
    """The decimals availability is shown with: the contract's, or the target's or a band's if written with more."""
    limits = [terms.availability_target_pct, *(b.below_pct for b in terms.credits.bands)]
    return max([terms.availability_places, *(decimals_of(v) for v in limits)])


def shown(value: Decimal | float, places: int, *, floor: bool) -> Decimal:
    """A measured figure rounded for the customer: cut down for a floor, rounded up for a ceiling."""
    # A float's binary noise (0.4 x 1.5 x 100 = 60.00000000000001) must not round a ceiling figure up a step.
    exact = value if isinstance(value, Decimal) else Decimal(str(value)).quantize(FLOAT_NOISE)
    if floor:
        return truncate(exact, places)
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_CEILING)


@dataclass(frozen=True, slots=True)
class CustomerObjective:
    objective: str  # availability | latency | loss | jitter | utilisation | committed_rate
    measured: Decimal | None
    limit: Decimal
    unit: str
    met: bool | None


def customer_objective(objective: ObjectiveResult, places: int) -> CustomerObjective:
    name = objective.objective
    digits = places if name == "availability" else OBJECTIVE_PLACES.get(name, 2)
    floor = name in FLOOR_OBJECTIVES
    measured = None if objective.measured is None else shown(objective.measured, digits, floor=floor)
    limit = Decimal(str(objective.limit)).normalize() if isinstance(objective.limit, float) else objective.limit
    return CustomerObjective(name, measured, limit, objective.unit, objective.met)


@dataclass(frozen=True, slots=True)
class CustomerOutage:
    circuit: str
    start: datetime  # aware UTC, clipped to the period; shown in the contract's zone
    end: datetime
    kinds: tuple[OutageKind, ...]
    duration_min: Decimal
    counted_min: Decimal  # what counted against availability
    maintenance_min: Decimal  # inside agreed maintenance
    clock_stopped_min: Decimal  # while the clock was stopped (e.g. waiting for the customer)
    began_before: bool  # began before the month
    still_down: bool  # still down when the period ended


def _excluded_min(outage: OutageRecord, prefix: str) -> Decimal:
    return minutes(total(e.interval for e in outage.excluded if e.label.startswith(prefix)))


def customer_outage(circuit: str, outage: OutageRecord) -> CustomerOutage:
    return CustomerOutage(
        circuit=circuit,
        start=outage.start,
        end=outage.end,
        kinds=outage_kinds(outage.causes),
        duration_min=outage.duration_min,
        counted_min=outage.counted_min,
        maintenance_min=_excluded_min(outage, "maintenance:"),
        clock_stopped_min=_excluded_min(outage, "stop_clock:"),
        began_before=outage.continues_before,
        still_down=outage.continues_after,
    )


@dataclass(frozen=True, slots=True)
class CustomerCircuit:
    circuit: str
    availability_pct: Decimal | None
    met: bool | None
    outages: int
    counted_min: Decimal
    objectives: tuple[CustomerObjective, ...]


@dataclass(frozen=True, slots=True)
class CustomerCredit:
    bands: tuple[CreditBand, ...]
    band: CreditBand | None  # the band the figures give (None: none applies, or nothing measured)
    monthly_fee: Decimal
    currency: str
    credit_pct: Decimal
    by_band: Decimal
    cap_pct: Decimal
    cap_amount: Decimal
    capped: bool
    owed: Decimal | None  # None while the report is provisional: no credit is stated as owed


def customer_credit(credit: CreditResult, bands: tuple[CreditBand, ...], status: ReportStatus) -> CustomerCredit:
    return CustomerCredit(
        bands=bands,
        band=credit.band,
        monthly_fee=credit.monthly_fee,
        currency=credit.currency,
        credit_pct=credit.credit_pct,
        by_band=credit.uncapped_amount,
        cap_pct=credit.cap_pct,
        cap_amount=credit.cap_amount,
        capped=credit.capped,
        owed=credit_owed(status, credit),
    )


@dataclass(frozen=True, slots=True)
class CustomerReport:
    legal_name: str
    contract: str
    year: int
    month: int
    timezone: str
    start: datetime  # the month's first instant, in the contract's zone
    end: datetime  # the next month's first instant, in the contract's zone
    evaluated_to: datetime  # the end, or now for a month in progress, in the contract's zone
    places: int  # availability's decimals
    availability_pct: Decimal | None  # cut to ``places``
    target_pct: Decimal
    met: bool | None
    unknown_rule: UnknownRule
    status: ReportStatus
    objectives: tuple[CustomerObjective, ...]
    circuits: tuple[CustomerCircuit, ...]
    outages: tuple[CustomerOutage, ...]
    credit: CustomerCredit


def _cut(value: Decimal | None, places: int) -> Decimal | None:
    return None if value is None else truncate(value, places)


def customer_report(report: ContractReport, legal_name: str) -> CustomerReport:
    """The customer's copy of ``report`` for the account named ``legal_name``."""
    terms = report.terms
    places = availability_places(terms)
    zone = terms.zone
    head = next(o for o in report.objectives if o.objective == "availability")
    return CustomerReport(
        legal_name=legal_name,
        contract=report.contract,
        year=report.period.year,
        month=report.period.month,
        timezone=terms.timezone,
        start=report.period.start.astimezone(zone),
        end=report.period.end.astimezone(zone),
        evaluated_to=report.span.end.astimezone(zone),
        places=places,
        availability_pct=_cut(report.availability_pct, places),
        target_pct=terms.availability_target_pct,
        met=head.met,
        unknown_rule=terms.unknown_time,
        status=report.status,
        objectives=tuple(customer_objective(o, places) for o in report.objectives),
        circuits=tuple(
            CustomerCircuit(
                circuit=c.circuit,
                availability_pct=_cut(c.availability_pct, places),
                met=next(o.met for o in c.objectives if o.objective == "availability"),
                outages=len(c.availability.outages),
                counted_min=c.availability.outage_min - c.availability.excluded_outage_min,
                objectives=tuple(customer_objective(o, places) for o in c.objectives),
            )
            for c in report.circuits
        ),
        outages=tuple(
            sorted(
                (customer_outage(c.circuit, o) for c in report.circuits for o in c.availability.outages),
                key=lambda o: (o.start, o.circuit),
            )
        ),
        credit=customer_credit(report.credit, terms.credits.bands, report.status),
    )


def whole_minutes(value: Decimal) -> int:
    """Minutes for reading, rounded up: a 30-second outage is "1 min", never "0 min"."""
    return int(value.quantize(Decimal(1), rounding=ROUND_CEILING))
