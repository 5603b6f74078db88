"""The pure ticket rules, table-driven, with properties where one fits: no database, no clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from noc.settings import TicketSettings
from tickets import access, dispatch, rules
from tickets.access import Action, Actor, TicketScope
from tickets.errors import CloseRefused, IllegalTransition, InvalidRequest, Refused
from tickets.lifecycle import OPEN_STATUSES, Status, check_close, check_transition
from tickets.records import ContractTerm, contract_expiry_reminders
from tickets.rules import (
    AppendRecurrence,
    CircuitFacts,
    DeviceDown,
    FaultCleared,
    FaultEvent,
    FaultKind,
    Impact,
    OpenIncident,
    OpenTicket,
    ReopenTicket,
    TicketState,
)

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
S = TicketSettings()
ACME = CircuitFacts("ACME-1", "acme-bank", "A", auto_resolve=False, response_time_s=1800, restore_time_s=14400)
RHEIN = CircuitFacts("RHEIN-1", "rhein-logistik", "C", auto_resolve=True)


def fault(circuit: str = "ACME-1", impact: Impact = Impact.SERVICE_DOWN, at: datetime = T0) -> FaultEvent:
    return FaultEvent(FaultKind.SLA_BREACH, circuit, "sla:availability", impact, at, "circuit down")


# --- priority and limits -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tier", "impact", "expected"),
    [
        ("A", Impact.SERVICE_DOWN, "P1"),
        ("A", Impact.DEGRADED, "P2"),
        ("A", Impact.AT_RISK, "P3"),
        ("B", Impact.SERVICE_DOWN, "P2"),
        ("C", Impact.SERVICE_DOWN, "P3"),
        ("C", Impact.AT_RISK, "P4"),
    ],
)
def test_priority_is_tier_by_impact(tier: str, impact: Impact, expected: str) -> None:
    assert rules.priority(S, tier, impact) == expected


def test_priority_matrix_is_a_setting() -> None:
    matrix = {t: dict(row) for t, row in S.priority_matrix.items()}
    matrix["C"]["service_down"] = "P1"
    assert rules.priority(TicketSettings(priority_matrix=matrix), "C", Impact.SERVICE_DOWN) == "P1"


def test_incomplete_priority_matrix_is_refused() -> None:
    with pytest.raises(ValidationError, match="tier B needs a priority"):
        TicketSettings(priority_matrix={"A": S.priority_matrix["A"], "C": S.priority_matrix["C"]})


@pytest.mark.parametrize(
    ("circuit", "expected"),
    [
        (ACME, (1800, 14400)),  # the contract's own
        (RHEIN, (45 * 60, 24 * 3600)),  # the standard's defaults, tier C
        (CircuitFacts("X", "x", "A"), (45 * 60, 4 * 3600)),  # tier A default restoration 4 h
    ],
)
def test_limits_contract_else_defaults(circuit: CircuitFacts, expected: tuple[int, int]) -> None:
    assert rules.limits(S, circuit) == expected


# --- one ticket per circuit and cause ----------------------------------------------------------------------------


def state(status: Status, impact: Impact = Impact.SERVICE_DOWN, resolved_min: float | None = None) -> TicketState:
    resolved = T0 - timedelta(minutes=resolved_min) if resolved_min is not None else None
    return TicketState(7, status, impact, resolved)


@pytest.mark.parametrize(
    ("latest", "expected"),
    [
        (None, OpenTicket),
        *((state(s), AppendRecurrence) for s in sorted(OPEN_STATUSES)),
        (state(Status.RESOLVED, resolved_min=60), ReopenTicket),
        (state(Status.CLOSED, resolved_min=23 * 60), ReopenTicket),
        (state(Status.RESOLVED, resolved_min=24 * 60), ReopenTicket),  # the window's edge is inside
        (state(Status.RESOLVED, resolved_min=24 * 60 + 1), OpenTicket),
        (state(Status.CLOSED, resolved_min=3 * 24 * 60), OpenTicket),
    ],
)
def test_decide_fault(latest: TicketState | None, expected: type) -> None:
    decision = rules.decide_fault(fault(), ACME, latest, S)
    assert type(decision) is expected
    if isinstance(decision, OpenTicket):
        assert (decision.account, decision.priority, decision.response_time_s) == ("acme-bank", "P1", 1800)
    else:
        assert decision.ticket_id == 7 and decision.impact_change is None


def test_reopen_window_is_a_setting() -> None:
    short = TicketSettings(reopen_window_s=600)
    assert type(rules.decide_fault(fault(), ACME, state(Status.RESOLVED, resolved_min=11), short)) is OpenTicket
    assert type(rules.decide_fault(fault(), ACME, state(Status.RESOLVED, resolved_min=9), short)) is ReopenTicket


@pytest.mark.parametrize(
    ("old", "new", "priority"),
    [(Impact.DEGRADED, Impact.SERVICE_DOWN, "P1"), (Impact.SERVICE_DOWN, Impact.AT_RISK, "P3")],
)
def test_severity_change_updates_the_open_ticket(old: Impact, new: Impact, priority: str) -> None:
    decision = rules.decide_fault(fault(impact=new), ACME, state(Status.IN_PROGRESS, old), S)
    assert isinstance(decision, AppendRecurrence)
    assert decision.impact_change == rules.ImpactChange(old, new, priority)


def test_event_for_another_circuit_is_refused() -> None:
    with pytest.raises(InvalidRequest):
        rules.decide_fault(fault("OTHER"), ACME, None, S)


def test_naive_instants_are_refused() -> None:
    with pytest.raises(InvalidRequest, match="timezone-aware"):
        FaultEvent(FaultKind.MANUAL, "ACME-1", "manual", Impact.AT_RISK, datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("latest", "auto_resolve", "expected"),
    [
        (None, True, None),
        (state(Status.NEW), False, rules.ClearFault(7, T0, resolve=False)),
        (state(Status.NEW), True, rules.ClearFault(7, T0, resolve=True)),
        (state(Status.RESOLVED, resolved_min=5), True, None),
        (TicketState(7, Status.NEW, Impact.DEGRADED, None, T0), True, None),  # already cleared
    ],
)
def test_decide_clear(latest: TicketState | None, auto_resolve: bool, expected: rules.ClearFault | None) -> None:
    assert rules.decide_clear(FaultCleared("ACME-1", "sla:availability", T0), latest, auto_resolve) == expected


# --- flapping, as a property: a tiny in-memory store driven by the rules -----------------------------------------


@dataclass
class _Ticket:
    status: Status
    resolved_at: datetime | None = None
    cleared: datetime | None = None
    recurrences: int = 1


@dataclass
class _Store:
    facts: CircuitFacts
    tickets: list[_Ticket] = field(default_factory=list)

    def latest(self) -> TicketState | None:
        if not self.tickets:
            return None
        t = self.tickets[-1]
        return TicketState(len(self.tickets) - 1, t.status, Impact.SERVICE_DOWN, t.resolved_at, t.cleared)

    def down(self, at: datetime) -> None:
        d = rules.decide_fault(fault(self.facts.circuit, at=at), self.facts, self.latest(), S)
        if isinstance(d, OpenTicket):
            self.tickets.append(_Ticket(Status.NEW))
            return
        t = self.tickets[d.ticket_id]
        t.recurrences += 1
        t.cleared = None
        if isinstance(d, ReopenTicket):
            t.status, t.resolved_at = Status.REOPENED, None

    def up(self, at: datetime) -> None:
        d = rules.decide_clear(FaultCleared(self.facts.circuit, "sla:availability", at), self.latest(), True)
        if d is not None:
            t = self.tickets[d.ticket_id]
            t.cleared = at
            if d.resolve and self.facts.auto_resolve:
                t.status, t.resolved_at = Status.RESOLVED, at


@settings(max_examples=200, deadline=None)
@given(
    flaps=st.integers(min_value=1, max_value=30),
    gaps_s=st.lists(st.integers(min_value=1, max_value=3600), min_size=60, max_size=60),
    auto=st.booleans(),
)
def test_flapping_within_the_window_is_one_ticket(flaps: int, gaps_s: list[int], auto: bool) -> None:
    """However often and fast a circuit flaps (all within the reopen window), it is one ticket with every flap."""
    store = _Store(RHEIN if auto else ACME)
    at = T0
    for i in range(flaps):
        store.down(at)
        at += timedelta(seconds=gaps_s[2 * i])
        store.up(at)
        at += timedelta(seconds=gaps_s[2 * i + 1])
    assert len(store.tickets) == 1
    assert store.tickets[0].recurrences == flaps


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (FaultKind.SLA_BREACH, AppendRecurrence),
        (FaultKind.ALERTMANAGER, AppendRecurrence),
        (FaultKind.COMPLAINT, AppendRecurrence),
        (FaultKind.MANUAL, OpenTicket),  # an engineer opening a ticket on purpose gets one
    ],
)
def test_symptoms_of_a_device_down_join_its_ticket(kind: FaultKind, expected: type) -> None:
    down = TicketState(3, Status.ACKNOWLEDGED, Impact.SERVICE_DOWN)
    event = FaultEvent(kind, "ACME-1", "sla:availability", Impact.SERVICE_DOWN, T0)
    decision = rules.decide_fault(event, ACME, None, S, device_down=down)
    assert type(decision) is expected
    if isinstance(decision, AppendRecurrence):
        assert decision.ticket_id == 3
    resolved = TicketState(3, Status.RESOLVED, Impact.SERVICE_DOWN, T0)
    assert type(rules.decide_fault(event, ACME, None, S, device_down=resolved)) is OpenTicket


@pytest.mark.parametrize(
    ("objective", "impact", "cause"),
    [
        ("availability", Impact.SERVICE_DOWN, "sla:availability"),
        ("latency", Impact.DEGRADED, "sla:latency"),
        ("loss", Impact.DEGRADED, "sla:loss"),
        ("utilisation", Impact.AT_RISK, "sla:utilisation"),
        ("burn_rate", Impact.AT_RISK, "sla:burn_rate"),
        ("something_new", Impact.DEGRADED, "sla:something_new"),
    ],
)
def test_sla_breach_maps_to_a_fault_event(objective: str, impact: Impact, cause: str) -> None:
    event = rules.sla_breach_fault("ACME-1", objective, 35.0, 20.0, T0, S)
    assert (event.kind, event.impact, event.cause, event.detected_at) == (FaultKind.SLA_BREACH, impact, cause, T0)
    assert "measured 35 against limit 20" in event.summary
    assert rules.sla_recovery("ACME-1", objective, T0) == FaultCleared("ACME-1", cause, T0)


def test_impact_by_objective_is_validated() -> None:
    with pytest.raises(ValidationError, match=r"impact_by_objective\.latency"):
        TicketSettings(impact_by_objective={"latency": "catastrophic"})


# --- incidents -----------------------------------------------------------------------------------------------------


def test_device_down_is_one_incident_with_a_child_per_circuit() -> None:
    accounts = [("acme-bank", "A"), ("city-gov", "B"), ("rhein-logistik", "C")]
    circuits = [CircuitFacts(f"C-{i:02}", *accounts[i % 3]) for i in range(20)]
    decision = rules.decide_device_down(DeviceDown("pe-1", T0), circuits, {}, None, S)
    assert isinstance(decision.parent, OpenIncident)
    assert decision.parent.priority == "P1" and decision.parent.cause == "device_down:pe-1"
    assert len(decision.children) == 20
    assert all(isinstance(c, OpenTicket) for c in decision.children)
    by_circuit = {c.event.circuit: c for c in decision.children if isinstance(c, OpenTicket)}
    assert {c.circuit: by_circuit[c.circuit].account for c in circuits} == {c.circuit: c.account for c in circuits}
    again = rules.decide_device_down(DeviceDown("pe-1", T0), circuits[:1], {"C-00": state(Status.NEW)}, 41, S)
    assert again.parent == 41 and isinstance(again.children[0], AppendRecurrence)


# --- lifecycle -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "target", "ok"),
    [
        (Status.NEW, Status.ACKNOWLEDGED, True),
        (Status.ACKNOWLEDGED, Status.DISPATCHED, True),
        (Status.DISPATCHED, Status.IN_PROGRESS, True),
        (Status.IN_PROGRESS, Status.PENDING_CUSTOMER, True),
        (Status.PENDING_CUSTOMER, Status.IN_PROGRESS, True),
        (Status.IN_PROGRESS, Status.RESOLVED, True),
        (Status.RESOLVED, Status.CLOSED, True),
        (Status.CLOSED, Status.REOPENED, True),
        (Status.REOPENED, Status.ACKNOWLEDGED, True),
        (Status.NEW, Status.CLOSED, False),
        (Status.IN_PROGRESS, Status.CLOSED, False),
        (Status.CLOSED, Status.ACKNOWLEDGED, False),
        (Status.RESOLVED, Status.IN_PROGRESS, False),
        (Status.NEW, Status.REOPENED, False),
    ],
)
def test_transitions(current: Status, target: Status, ok: bool) -> None:
    if ok:
        check_transition("T-1", current, target)
    else:
        with pytest.raises(IllegalTransition, match=f"T-1 is {current}: it cannot become {target}"):
            check_transition("T-1", current, target)


@pytest.mark.parametrize(
    ("tier", "cause", "resolution", "refused"),
    [
        ("A", None, None, True),
        ("A", "fibre_cut", None, True),
        ("A", None, "spliced", True),
        ("A", "fibre_cut", "   ", True),
        ("A", "fibre_cut", "spliced", False),
        ("B", None, None, False),
    ],
)
def test_tier_a_closes_only_with_cause_and_resolution(
    tier: str, cause: str | None, resolution: str | None, refused: bool
) -> None:
    if refused:
        with pytest.raises(CloseRefused, match="tier-A account acme-bank: it closes only with a cause category"):
            check_close("T-1", "acme-bank", tier, cause, resolution, S.cause_categories)
    else:
        check_close("T-1", "acme-bank", tier, cause, resolution, S.cause_categories)


def test_unknown_cause_category_is_bad_input() -> None:
    with pytest.raises(InvalidRequest, match="unknown cause category 'gremlins'"):
        check_close("T-1", "x", "B", "gremlins", "it went away", S.cause_categories)


# --- dispatch ------------------------------------------------------------------------------------------------------

TOM = dispatch.TechnicianFacts("tom-north", ("north",), ("fibre", "huawei", "cisco"), 3)
ANN = dispatch.TechnicianFacts("ann-north", ("north",), ("juniper",), 0)
LI = dispatch.TechnicianFacts("li-south", ("south",), ("juniper", "linux"), 0)


@pytest.mark.parametrize(
    ("region", "platform", "expected"),
    [
        ("north", "huawei_vrp", "tom-north"),  # the skill wins over a shorter queue
        ("north", "juniper_junos", "ann-north"),
        ("north", "linux", "ann-north"),  # nobody has the skill: the shortest queue
        ("south", "cisco_xe", "li-south"),
        ("east", "linux", None),
    ],
)
def test_choose_technician(region: str, platform: str, expected: str | None) -> None:
    chosen = dispatch.choose_technician(region, platform, [TOM, ANN, LI])
    assert (chosen.name if chosen else None) == expected


# --- access --------------------------------------------------------------------------------------------------------

NOC = Actor("nina", "noc")
KARL = Actor("karl", "account_manager", managed_account_ids=frozenset({1, 3}))
TOM_A = Actor("tom", "technician", technician_id=1, regions=frozenset({"north"}), assigned_account_ids=frozenset({1}))
ON_ACME_NORTH = TicketScope("T-1", 1, "north", None)
ON_CITY_SOUTH = TicketScope("T-2", 2, "south", 1)  # assigned to tom although outside his region
ON_CITY_NORTH = TicketScope("T-3", 2, "north", None)
INCIDENT = TicketScope("I-4", None, "north", None)


@pytest.mark.parametrize(
    ("actor", "scope", "action", "allowed"),
    [
        (NOC, INCIDENT, Action.ACKNOWLEDGE, True),
        (KARL, ON_ACME_NORTH, None, True),
        (KARL, ON_CITY_NORTH, None, False),
        (KARL, ON_ACME_NORTH, Action.ACKNOWLEDGE, False),
        (KARL, ON_ACME_NORTH, Action.RATE, True),
        (KARL, INCIDENT, None, False),
        (TOM_A, ON_ACME_NORTH, None, True),  # his region
        (TOM_A, ON_CITY_SOUTH, None, True),  # assigned to him
        (TOM_A, ON_CITY_SOUTH, Action.WORK, True),
        (TOM_A, ON_ACME_NORTH, Action.WORK, False),  # seen, not assigned
        (TOM_A, ON_ACME_NORTH, Action.NOTE, True),
        (TOM_A, ON_ACME_NORTH, Action.ACKNOWLEDGE, False),
        (TOM_A, INCIDENT, None, False),
    ],
)
def test_ticket_access(actor: Actor, scope: TicketScope, action: Action | None, allowed: bool) -> None:
    if allowed:
        access.require_ticket(actor, action, scope)
    else:
        with pytest.raises(Refused, match=f"{actor.username} \\({actor.role}\\) may not"):
            access.require_ticket(actor, action, scope)


@pytest.mark.parametrize(
    ("actor", "account_id", "allowed"),
    [(NOC, 2, True), (KARL, 1, True), (KARL, 2, False), (TOM_A, 1, True), (TOM_A, 2, False)],
)
def test_contacts_access(actor: Actor, account_id: int, allowed: bool) -> None:
    assert access.may_read_contacts(actor, account_id) is allowed


# --- contract expiry reminders ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("valid_to", "days_left"),
    [
        (date(2026, 11, 22), 0),
        (date(2026, 12, 15), 23),
        (date(2026, 12, 22), 30),
        (date(2026, 12, 23), None),
        (date(2026, 11, 21), None),
    ],
)
def test_contract_expiry_reminders(valid_to: date, days_left: int | None) -> None:
    got = contract_expiry_reminders([ContractTerm("K-1", "acme", valid_to, "karl")], date(2026, 11, 22), 30)
    assert [r.days_left for r in got] == ([] if days_left is None else [days_left])
    assert all(r.notify == "karl" for r in got)
