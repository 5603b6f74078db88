"""Ticket rules as pure functions: a fault event and what is known about the circuit and its latest ticket go in,
a decision comes out. No database, no clock: every instant is in the event.

* ``decide_fault`` - open a ticket, append a recurrence to the open one for the same circuit and cause (one ticket
  per circuit per fault; a changed impact updates it, never close-and-reopen), or reopen a ticket resolved within
  the reopen window. One fault, one ticket: while a circuit has an open ticket for a fault the system detected (an
  SLA breach, its device down), another such cause on that circuit joins it (its impact is the worst of them, the
  causes are listed) instead of opening a second ticket.
* ``decide_device_down`` - one parent incident for the device, one child decision per affected circuit; a circuit
  whose fault was already ticketed (its breach arrived first) has that ticket made a child, whatever the order.
* ``decide_clear`` - a recovery clears its cause; the fault condition clears with the last active cause, or with
  the device coming back (what a dead device took down was its symptom); the account's auto-resolve setting says
  whether the ticket is resolved by it.
* ``active_causes`` / ``listed_causes`` - a ticket's causes from its first cause and its cause events.
* ``priority`` - tier x impact through the settings' matrix; ``limits`` - response and restoration limits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from noc.settings import TicketSettings
from tickets.errors import InvalidRequest
from tickets.lifecycle import OPEN_STATUSES, Status


class Impact(StrEnum):
    SERVICE_DOWN = "service_down"
    DEGRADED = "degraded"
    AT_RISK = "at_risk"


class FaultKind(StrEnum):
    SLA_BREACH = "sla_breach"
    DEVICE_DOWN = "device_down"
    ALERTMANAGER = "alertmanager"
    COMPLAINT = "complaint"
    MANUAL = "manual"


# Faults the system detects on a circuit: while a ticket for one is open, another on the circuit is the same fault.
SAME_FAULT_KINDS = frozenset({FaultKind.SLA_BREACH, FaultKind.DEVICE_DOWN})
SEVERITY = {Impact.AT_RISK: 0, Impact.DEGRADED: 1, Impact.SERVICE_DOWN: 2}
# Ticket events that say which causes a ticket has (``detail["cause"]``); ``fault_cleared`` ends them all.
CAUSE_ADDED, CAUSE_CLEARED, FAULT_CLEARED = "cause_added", "cause_cleared", "fault_cleared"


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None:
        raise InvalidRequest(f"{name}: a timezone-aware instant is required")


@dataclass(frozen=True, slots=True)
class FaultEvent:
    """A fault on one circuit. ``cause`` is the deduplication key (e.g. ``sla:latency``, ``device_down:pe-bj-01``,
    ``alert:InterfaceDown``, ``complaint``); ``summary`` is the symptom as seen, searched against the case library."""

    kind: FaultKind
    circuit: str
    cause: str
    impact: Impact
    detected_at: datetime
    summary: str = ""

    def __post_init__(self) -> None:
        if not self.circuit or not self.cause:
            raise InvalidRequest("a fault event needs a circuit and a cause")
        _require_aware("detected_at", self.detected_at)


@dataclass(frozen=True, slots=True)
class FaultCleared:
    """The fault condition on a circuit ended (SLA recovery, alert resolved)."""

    circuit: str
    cause: str
    cleared_at: datetime

    def __post_init__(self) -> None:
        _require_aware("cleared_at", self.cleared_at)


DEVICE_DOWN_CAUSE_PREFIX = "device_down:"


def device_cause(device: str) -> str:
    return f"{DEVICE_DOWN_CAUSE_PREFIX}{device}"


@dataclass(frozen=True, slots=True)
class DeviceDown:
    """A PE device stopped answering: every circuit on it is affected."""

    device: str
    detected_at: datetime
    impact: Impact = Impact.SERVICE_DOWN
    summary: str = ""

    def __post_init__(self) -> None:
        _require_aware("detected_at", self.detected_at)

    @property
    def cause(self) -> str:
        return device_cause(self.device)

    def fault_for(self, circuit: str) -> FaultEvent:
        summary = self.summary or f"device {self.device} down"
        return FaultEvent(FaultKind.DEVICE_DOWN, circuit, self.cause, self.impact, self.detected_at, summary)


@dataclass(frozen=True, slots=True)
class DeviceUp:
    device: str
    cleared_at: datetime

    def __post_init__(self) -> None:
        _require_aware("cleared_at", self.cleared_at)

    def cleared_for(self, circuit: str) -> FaultCleared:
        return FaultCleared(circuit, device_cause(self.device), self.cleared_at)


# --- what the rules are told -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CircuitFacts:
    circuit: str
    account: str
    tier: str
    auto_resolve: bool = False
    response_time_s: int | None = None  # the contract's, when it states one
    restore_time_s: int | None = None


@dataclass(frozen=True, slots=True)
class TicketState:
    """The latest ticket for one circuit and cause, as far as the rules care."""

    id: int
    status: Status
    impact: Impact
    resolved_at: datetime | None = None
    fault_cleared_at: datetime | None = None
    causes: frozenset[str] = frozenset()  # its active causes; empty: only the one it was opened for


# --- what the rules decide ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImpactChange:
    old: Impact
    new: Impact
    priority: str


@dataclass(frozen=True, slots=True)
class OpenTicket:
    event: FaultEvent
    account: str
    priority: str
    response_time_s: int
    restore_time_s: int


@dataclass(frozen=True, slots=True)
class AppendRecurrence:
    ticket_id: int
    event: FaultEvent
    impact_change: ImpactChange | None


@dataclass(frozen=True, slots=True)
class ReopenTicket:
    ticket_id: int
    event: FaultEvent
    impact_change: ImpactChange | None


FaultDecision = OpenTicket | AppendRecurrence | ReopenTicket


@dataclass(frozen=True, slots=True)
class OpenIncident:
    device: str
    cause: str
    impact: Impact
    priority: str
    detected_at: datetime
    title: str


@dataclass(frozen=True, slots=True)
class IncidentDecision:
    """``parent`` is a new incident or the id of the open one for the same device; ``children`` one per circuit."""

    parent: OpenIncident | int
    children: tuple[FaultDecision, ...]


@dataclass(frozen=True, slots=True)
class ClearFault:
    ticket_id: int
    cleared_at: datetime
    resolve: bool  # the account auto-resolves: the ticket becomes resolved, not only its condition


@dataclass(frozen=True, slots=True)
class ClearCause:
    """One of the ticket's causes ended; others are still active, so its fault condition is not cleared."""

    ticket_id: int
    cause: str
    cleared_at: datetime


# --- the rules ---------------------------------------------------------------------------------------------------


def priority(settings: TicketSettings, tier: str, impact: Impact) -> str:
    try:
        return settings.priority_matrix[tier][impact.value]
    except KeyError as exc:
        raise InvalidRequest(f"no priority for tier {tier!r} and impact {impact.value!r}") from exc


def limits(settings: TicketSettings, circuit: CircuitFacts) -> tuple[int, int]:
    """Response and restoration limits in seconds: the contract's, else the standard's defaults for the tier."""
    response = circuit.response_time_s or settings.response_time_s
    restore = circuit.restore_time_s or settings.restore_time_s_by_tier.get(circuit.tier)
    if restore is None:
        raise InvalidRequest(f"no restoration time for tier {circuit.tier!r}")
    return response, restore


def worst(a: Impact, b: Impact) -> Impact:
    return a if SEVERITY[a] >= SEVERITY[b] else b


def _impact_change(
    settings: TicketSettings, circuit: CircuitFacts, latest: TicketState, impact: Impact
) -> ImpactChange | None:
    if impact == latest.impact:
        return None
    return ImpactChange(latest.impact, impact, priority(settings, circuit.tier, impact))


def decide_fault(
    event: FaultEvent,
    circuit: CircuitFacts,
    latest: TicketState | None,
    settings: TicketSettings,
    device_down: TicketState | None = None,
    ongoing: TicketState | None = None,
) -> FaultDecision:
    """One ticket per circuit and cause: append while it is open, reopen within the window, else open anew.

    ``device_down`` is the circuit's open ticket for its device being down, if any: while the device is down, what
    the circuit's probes and alerts report is that same fault, so it is recorded there instead of as a new ticket.
    ``ongoing`` is the circuit's latest open ticket for a fault the system detected, whatever its cause: a fault of
    that kind joins it as another cause (impact: the worst of them).
    """
    if event.circuit != circuit.circuit:
        raise InvalidRequest(f"event for circuit {event.circuit!r} decided with facts of {circuit.circuit!r}")
    if (
        device_down is not None
        and device_down.status in OPEN_STATUSES
        and event.kind in (FaultKind.SLA_BREACH, FaultKind.ALERTMANAGER, FaultKind.COMPLAINT)
    ):
        return AppendRecurrence(device_down.id, event, None)
    if (
        ongoing is not None
        and ongoing.status in OPEN_STATUSES
        and event.kind in SAME_FAULT_KINDS
        and (latest is None or latest.id != ongoing.id)
    ):
        impact = worst(ongoing.impact, event.impact)
        return AppendRecurrence(ongoing.id, event, _impact_change(settings, circuit, ongoing, impact))
    if latest is not None:
        # The impact follows its cause, but never below another cause still active on the ticket.
        impact = worst(latest.impact, event.impact) if latest.causes - {event.cause} else event.impact
        change = _impact_change(settings, circuit, latest, impact)
        if latest.status in OPEN_STATUSES:
            return AppendRecurrence(latest.id, event, change)
        resolved_at = latest.resolved_at
        window = timedelta(seconds=settings.reopen_window_s)
        if resolved_at is not None and event.detected_at - resolved_at <= window:
            return ReopenTicket(latest.id, event, change)
    response_s, restore_s = limits(settings, circuit)
    return OpenTicket(event, circuit.account, priority(settings, circuit.tier, event.impact), response_s, restore_s)


def decide_device_down(
    event: DeviceDown,
    circuits: Sequence[CircuitFacts],
    latest_by_circuit: Mapping[str, TicketState],
    open_incident_id: int | None,
    settings: TicketSettings,
    ongoing_by_circuit: Mapping[str, TicketState] | None = None,
) -> IncidentDecision:
    """One parent incident per device outage (reused while open), one child per circuit on its own account: a new
    ticket, or the circuit's ongoing one (``decide_fault``'s ``ongoing``) that the device's fault joins."""
    ongoing = ongoing_by_circuit or {}
    children = tuple(
        decide_fault(
            event.fault_for(c.circuit), c, latest_by_circuit.get(c.circuit), settings, ongoing=ongoing.get(c.circuit)
        )
        for c in sorted(circuits, key=lambda c: c.circuit)
    )
    if open_incident_id is not None:
        return IncidentDecision(open_incident_id, children)
    # The incident is as urgent as its most urgent child ("P1" < "P2").
    priorities = [priority(settings, c.tier, event.impact) for c in circuits]
    title = f"{event.device} down: {len(circuits)} circuit(s) affected"
    parent = OpenIncident(
        event.device, event.cause, event.impact, min(priorities, default="P4"), event.detected_at, title
    )
    return IncidentDecision(parent, children)


def sla_breach_fault(
    circuit: str, objective: str, measured: float, limit: float, since: datetime, settings: TicketSettings
) -> FaultEvent:
    """The ticket input for an SLA breach (``sla.breach.Breach``'s fields): impact by objective, from settings."""
    impact = Impact(settings.impact_by_objective.get(objective, Impact.DEGRADED.value))
    summary = f"SLA {objective}: measured {measured:g} against limit {limit:g}"
    return FaultEvent(FaultKind.SLA_BREACH, circuit, sla_cause(objective), impact, since, summary)


def sla_cause(objective: str) -> str:
    return f"sla:{objective}"


def sla_recovery(circuit: str, objective: str, until: datetime) -> FaultCleared:
    """The ticket input for an SLA recovery (``sla.breach.Recovery``'s fields)."""
    return FaultCleared(circuit, sla_cause(objective), until)


def decide_clear(event: FaultCleared, latest: TicketState | None, auto_resolve: bool) -> ClearFault | ClearCause | None:
    """Nothing to do when there is no open ticket or its condition is already cleared. A cause that ends while
    others are active clears only itself, unless it is the device (what it took down was its symptom)."""
    if latest is None or latest.status not in OPEN_STATUSES or latest.fault_cleared_at is not None:
        return None
    if latest.causes - {event.cause} and not event.cause.startswith(DEVICE_DOWN_CAUSE_PREFIX):
        return ClearCause(latest.id, event.cause, event.cleared_at)
    return ClearFault(latest.id, event.cleared_at, auto_resolve)


def _cause_history(first: str, history: Sequence[tuple[str, str | None]]) -> tuple[list[str], set[str]]:
    listed, active = [first], {first}
    for kind, cause in history:
        if kind == FAULT_CLEARED:
            active.clear()
        elif cause is None:
            continue
        elif kind == CAUSE_ADDED:
            active.add(cause)
            if cause not in listed:
                listed.append(cause)
        elif kind == CAUSE_CLEARED:
            active.discard(cause)
    return listed, active


def active_causes(first: str, history: Sequence[tuple[str, str | None]]) -> frozenset[str]:
    """The causes still active on a ticket opened for ``first``, from its events (kind, cause) in order."""
    return frozenset(_cause_history(first, history)[1])


def listed_causes(first: str, history: Sequence[tuple[str, str | None]]) -> tuple[str, ...]:
    """Every cause the ticket has had, in the order they came."""
    return tuple(_cause_history(first, history)[0])
