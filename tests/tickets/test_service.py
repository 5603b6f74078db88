"""The ticket service against SQLite and PostgreSQL: the issue's acceptance cases and the lifecycle around them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from noc import models as m
from noc.db import Base
from noc.models import AuditEvent
from noc.settings import TicketSettings
from tests.tickets.conftest import T0, DrivenClock
from tickets.errors import CloseRefused, Conflict, IllegalTransition, InvalidRequest, NotFound, Refused
from tickets.filters import TicketFilter
from tickets.models import FaultCase, Recurrence, Ticket, TicketEvent, TicketTransition
from tickets.records import SlaComplianceEntry
from tickets.rules import DeviceDown, DeviceUp, FaultCleared, FaultEvent, FaultKind, Impact
from tickets.service import TicketService

Sessions = async_sessionmaker[AsyncSession]


def breach(circuit: str, at_min: float, impact: Impact = Impact.SERVICE_DOWN, summary: str = "") -> FaultEvent:
    return FaultEvent(
        FaultKind.SLA_BREACH, circuit, "sla:availability", impact, T0 + timedelta(minutes=at_min), summary
    )


def recovery(circuit: str, at_min: float) -> FaultCleared:
    return FaultCleared(circuit, "sla:availability", T0 + timedelta(minutes=at_min))


async def count(sessions: Sessions, model: type[Base], *where: ColumnElement[bool]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


# --- 1. flapping ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("circuit", ["ACME-BJ-001", "RHEIN-FRA-001"])  # stays open / auto-resolves and reopens
async def test_flapping_breach_is_one_ticket_with_five_recurrences(
    svc: TicketService, stocked: Sessions, circuit: str
) -> None:
    outcomes = []
    for i in range(5):  # down/up five times in ten minutes
        outcomes.append(await svc.handle_fault(breach(circuit, 2 * i)))
        await svc.handle_clear(recovery(circuit, 2 * i + 1))
    assert len({o.ticket_id for o in outcomes}) == 1
    assert outcomes[0].action == "opened"
    assert await count(stocked, Ticket) == 1
    assert await count(stocked, Recurrence, Recurrence.ticket_id == outcomes[0].ticket_id) == 5
    async with stocked() as session:
        ticket = await session.get(Ticket, outcomes[0].ticket_id)
        assert ticket is not None and ticket.recurrence_count == 5
        if circuit.startswith("RHEIN"):  # auto-resolve: each recovery resolved it, each breach reopened it
            assert ticket.status == "resolved"
            assert {o.action for o in outcomes[1:]} == {"reopened"}


async def test_the_same_occurrence_reported_again_changes_nothing(svc: TicketService, stocked: Sessions) -> None:
    """Alertmanager repeats a firing alert with its original start: one ticket, one recurrence."""
    first = await svc.handle_fault(breach("ACME-BJ-001", 0))
    again = await svc.handle_fault(breach("ACME-BJ-001", 0))
    assert (again.ticket_id, again.action) == (first.ticket_id, "duplicate")
    assert await count(stocked, Recurrence, Recurrence.ticket_id == first.ticket_id) == 1
    later = await svc.handle_fault(breach("ACME-BJ-001", 3))
    assert later.action == "appended"


async def test_recurrence_after_the_window_opens_a_new_ticket(svc: TicketService) -> None:
    first = await svc.handle_fault(breach("RHEIN-FRA-001", 0))
    await svc.handle_clear(recovery("RHEIN-FRA-001", 10))
    later = await svc.handle_fault(breach("RHEIN-FRA-001", 10 + 24 * 60 + 1))
    assert later.action == "opened" and later.ticket_id != first.ticket_id


async def test_severity_change_updates_the_ticket(svc: TicketService, stocked: Sessions) -> None:
    first = await svc.handle_fault(breach("CITY-SH-001", 0, Impact.DEGRADED))
    worse = await svc.handle_fault(breach("CITY-SH-001", 5, Impact.SERVICE_DOWN))
    assert (worse.ticket_id, worse.action, worse.impact_changed) == (first.ticket_id, "appended", True)
    assert (first.priority, worse.priority) == ("P3", "P2")
    async with stocked() as session:
        ticket = await session.get(Ticket, first.ticket_id)
        assert ticket is not None and (ticket.impact, ticket.status) == ("service_down", "new")
        kinds = list(await session.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket.id)))
    assert kinds == ["impact_changed"]


async def test_people_report_complaints_where_they_may(svc: TicketService, stocked: Sessions) -> None:
    def complaint(circuit: str, at_min: float) -> FaultEvent:
        at = T0 + timedelta(minutes=at_min)
        return FaultEvent(FaultKind.COMPLAINT, circuit, "complaint", Impact.DEGRADED, at, "slow since 9:00")

    first = await svc.report_fault("karl", complaint("ACME-BJ-002", 0))
    again = await svc.report_fault("nina", complaint("ACME-BJ-002", 5))  # the customer called the NOC too
    assert (first.action, again.action, again.ticket_id) == ("opened", "appended", first.ticket_id)
    with pytest.raises(Refused, match=r"karl \(account_manager\) may not see circuit CITY-SH-001"):
        await svc.report_fault("karl", complaint("CITY-SH-001", 0))
    with pytest.raises(InvalidRequest, match="people report complaints or manual faults"):
        await svc.report_fault("nina", breach("CITY-SH-001", 0))
    detail = await svc.show_ticket("karl", first.ticket_id)
    assert detail.transitions[0].actor == "karl"


# --- 2. a PE down takes 20 circuits of 3 accounts -----------------------------------------------------------------


async def add_circuits(sessions: Sessions, device: str, per_account: dict[str, int]) -> None:
    async with sessions() as session:
        dev = await session.scalar(select(m.Device).where(m.Device.name == device))
        assert dev is not None
        for account_name, n in per_account.items():
            account = await session.scalar(select(m.KeyAccount).where(m.KeyAccount.name == account_name))
            assert account is not None
            contract = await session.scalar(select(m.Contract).where(m.Contract.account_id == account.id))
            assert contract is not None
            for i in range(n):
                session.add(
                    m.Circuit(
                        name=f"{account_name[:4].upper()}-X{i:02}",
                        account_id=account.id,
                        contract_id=contract.id,
                        device_id=dev.id,
                        interface_name=f"GigabitEthernet1/0/{account.id * 10 + i}",
                    )
                )
        await session.commit()


async def test_pe_down_is_one_incident_with_a_child_per_circuit(svc: TicketService, stocked: Sessions) -> None:
    # pe-bj-01 carries ACME-BJ-001 and CITY-SH-002 already: 18 more make 20 circuits of 3 accounts
    await add_circuits(stocked, "pe-bj-01", {"acme-bank": 6, "city-gov": 6, "rhein-logistik": 6})
    outcome = await svc.handle_device_down(DeviceDown("pe-bj-01", T0, summary="pe-bj-01 unreachable (SNMP, ICMP)"))
    assert outcome.parent_opened and len(outcome.children) == 20
    async with stocked() as session:
        parent = await session.get(Ticket, outcome.parent_id)
        assert parent is not None and (parent.kind, parent.account_id, parent.priority) == ("incident", None, "P1")
        rows = (
            await session.execute(
                select(m.Circuit.account_id, Ticket.account_id, Ticket.parent_id).join(
                    Ticket, Ticket.circuit_id == m.Circuit.id
                )
            )
        ).all()
    assert len(rows) == 20
    assert all(circuit_account == ticket_account for circuit_account, ticket_account, _ in rows)
    assert {parent_id for *_, parent_id in rows} == {outcome.parent_id}
    assert len({account for _, account, _ in rows}) == 3

    # the same outage seen again is the same incident, not a second storm
    again = await svc.handle_device_down(DeviceDown("pe-bj-01", T0 + timedelta(minutes=1)))
    assert (again.parent_id, again.parent_opened) == (outcome.parent_id, False)
    assert {c.action for c in again.children} == {"appended"}
    assert await count(stocked, Ticket) == 21
    recurrences = await count(stocked, Recurrence)

    # the same failure delivered twice (a bus redelivers what a crash left unacknowledged) changes nothing
    redelivered = await svc.handle_device_down(DeviceDown("pe-bj-01", T0 + timedelta(minutes=1)))
    assert (redelivered.parent_id, redelivered.parent_opened, redelivered.children) == (outcome.parent_id, False, ())
    assert await count(stocked, Recurrence) == recurrences == 2 * 21

    # acknowledging the incident answers its children; the device coming back clears them all
    await svc.acknowledge("nina", outcome.parent_id)
    assert await count(stocked, Ticket, Ticket.status == "acknowledged") == 21
    cleared = await svc.handle_device_up(DeviceUp("pe-bj-01", T0 + timedelta(minutes=30)))
    assert len(cleared) == 20
    assert sum(c.resolved for c in cleared) == 6 + 0  # rhein-logistik auto-resolves; the others wait for people


async def test_breaches_while_the_device_is_down_join_the_device_ticket(svc: TicketService, stocked: Sessions) -> None:
    incident = await svc.handle_device_down(DeviceDown("pe-sh-01", T0))
    child = incident.children[0]
    async with stocked() as session:
        ticket = await session.get(Ticket, child.ticket_id)
        assert ticket is not None
        circuit = await session.get(m.Circuit, ticket.circuit_id)
        assert circuit is not None
    joined = await svc.handle_fault(breach(circuit.name, 2))
    assert (joined.ticket_id, joined.action) == (child.ticket_id, "appended")
    assert await count(stocked, Ticket) == 3  # the incident and its two children, no storm of SLA tickets


# --- 3. timers with a driven clock ---------------------------------------------------------------------------------


async def test_response_timer_warns_at_75_percent_and_escalates_at_45_minutes(
    svc: TicketService, clock: DrivenClock, stocked: Sessions
) -> None:
    opened = await svc.handle_fault(breach("CITY-SH-001", 0))  # city-gov: 45 min response, manager mei
    clock.set(T0 + timedelta(minutes=33, seconds=44))
    assert await svc.run_timers() == []
    clock.set(T0 + timedelta(minutes=33, seconds=45))
    (warning,) = await svc.run_timers()
    assert (warning.ref, warning.event.timer, warning.event.kind, warning.event.level, warning.notify) == (
        opened.ref,
        "response",
        "warning",
        0,
        "noc",
    )
    clock.set(T0 + timedelta(minutes=44, seconds=59))
    assert await svc.run_timers() == []
    clock.set(T0 + timedelta(minutes=45))
    (escalation,) = await svc.run_timers()
    assert (escalation.event.kind, escalation.event.level, escalation.notify) == ("escalation", 1, "noc_lead")
    assert await svc.run_timers() == []  # once only
    clock.set(T0 + timedelta(minutes=67, seconds=30))
    (second,) = await svc.run_timers()
    assert (second.event.level, second.notify) == (2, "mei")
    async with stocked() as session:
        ticket = await session.get(Ticket, opened.ticket_id)
        assert ticket is not None and ticket.escalation_level == 2
        kinds = list(await session.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket.id)))
    assert kinds == ["timer_warning", "escalation", "escalation"]


async def test_open_counts_for_metrics(svc: TicketService, clock: DrivenClock) -> None:
    acme = await svc.handle_fault(breach("ACME-BJ-001", 0))  # P1, response 30 min
    await svc.handle_fault(breach("CITY-SH-001", 0, Impact.DEGRADED))  # P3, response 45 min
    clock.set(T0 + timedelta(minutes=40))
    await svc.acknowledge("nina", acme.ticket_id)
    counts = await svc.open_counts()
    assert counts.by_priority_status == {("P1", "acknowledged"): 1, ("P3", "new"): 1}
    assert counts.response_overdue == 0
    clock.set(T0 + timedelta(minutes=46))
    assert (await svc.open_counts()).response_overdue == 1


async def test_acknowledged_in_time_never_escalates_the_response(svc: TicketService, clock: DrivenClock) -> None:
    opened = await svc.handle_fault(breach("CITY-SH-001", 0))
    clock.set(T0 + timedelta(minutes=20))
    await svc.acknowledge("nina", opened.ticket_id)
    clock.set(T0 + timedelta(hours=2))
    assert await svc.run_timers() == []


async def test_stop_clock_time_is_excluded_from_restoration(
    svc: TicketService, clock: DrivenClock, stocked: Sessions
) -> None:
    opened = await svc.handle_fault(breach("ACME-BJ-001", 0))  # acme-bank: restoration 4 h
    clock.set(T0 + timedelta(minutes=10))
    await svc.assign("nina", opened.ticket_id, "tom-north")
    clock.set(T0 + timedelta(hours=1))
    await svc.wait_on_customer("tom", opened.ticket_id, "customer site closed until they call back")
    clock.set(T0 + timedelta(hours=3))
    resumed = await svc.resume("tom", opened.ticket_id)
    assert resumed.restore_due_at == T0 + timedelta(hours=6)
    clock.set(T0 + timedelta(hours=5, minutes=59))
    assert [n.event.kind for n in await svc.run_timers()] == ["warning"]  # restoration 75 % at 5 h
    clock.set(T0 + timedelta(hours=6))
    (escalation,) = await svc.run_timers()
    assert (escalation.event.timer, escalation.event.level) == ("restoration", 1)


async def timer_events(sessions: Sessions, ticket_id: int) -> list[tuple[str, int]]:
    async with sessions() as session:
        rows = await session.execute(
            select(TicketEvent.kind, TicketEvent.detail)
            .where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind.in_(["timer_warning", "escalation"]))
            .order_by(TicketEvent.id)
        )
        return [(kind, detail["level"]) for kind, detail in rows if detail["timer"] == "restoration"]


async def test_restore_at_limit_plus_14_s_net_of_stop_clock_is_breached_by_14_s_at_resolution(
    svc: TicketService, clock: DrivenClock, stocked: Sessions
) -> None:
    opened = await svc.handle_fault(breach("ACME-BJ-001", 0))  # acme-bank: restoration 4 h
    clock.set(T0 + timedelta(minutes=1))
    await svc.assign("nina", opened.ticket_id, "tom-north")
    clock.set(T0 + timedelta(hours=1))
    await svc.wait_on_customer("tom", opened.ticket_id, "customer site closed until they call back")
    clock.set(T0 + timedelta(hours=3))  # two hours on the customer: off the clock
    await svc.resume("tom", opened.ticket_id)
    clock.set(T0 + timedelta(hours=6, seconds=14))
    resolved = await svc.resolve("tom", opened.ticket_id)
    verdict = resolved.restore_verdict
    assert verdict is not None
    assert (verdict.net_s, verdict.limit_s, verdict.met, verdict.breached_by_s) == (4 * 3600 + 14, 4 * 3600, False, 14)
    # Closed before any timer pass: the breach is on the ticket all the same, and in its history.
    clock.set(T0 + timedelta(hours=6, minutes=5))
    closed = await svc.close("tom", opened.ticket_id, "fibre_cut", "spliced")
    assert closed.restore_verdict == verdict
    async with stocked() as session:
        (event,) = await session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == opened.ticket_id, TicketEvent.kind == "restore_verdict")
        )
    assert event.at == T0 + timedelta(hours=6, seconds=14) and event.detail["breached_by_s"] == 14
    # The timer pass comes later: no warning, no escalation for a restored ticket.
    clock.set(T0 + timedelta(hours=7))
    assert await svc.run_timers() == []
    assert await timer_events(stocked, opened.ticket_id) == []
    assert (await svc.show_ticket("nina", opened.ticket_id)).summary.escalation_level == 0


async def test_restored_in_time_is_met_and_nothing_escalates_after_resolution(
    svc: TicketService, clock: DrivenClock, stocked: Sessions
) -> None:
    opened = await svc.handle_fault(breach("ACME-BJ-001", 0))
    await svc.acknowledge("nina", opened.ticket_id)
    clock.set(T0 + timedelta(hours=3, minutes=59, seconds=59))
    verdict = (await svc.resolve("nina", opened.ticket_id)).restore_verdict
    assert verdict is not None and (verdict.met, verdict.breached_by_s) == (True, 0)
    clock.set(T0 + timedelta(hours=8))  # past 150 %: a resolved ticket is not escalated
    assert await svc.run_timers() == []
    assert await timer_events(stocked, opened.ticket_id) == []


async def test_a_reopened_ticket_s_clock_runs_on_and_its_verdict_is_taken_again(
    svc: TicketService, clock: DrivenClock, stocked: Sessions
) -> None:
    opened = await svc.handle_fault(breach("ACME-BJ-001", 0))  # restoration 4 h; level 2 at 6 h
    await svc.acknowledge("nina", opened.ticket_id)
    clock.set(T0 + timedelta(hours=4))
    assert [(n.event.timer, n.event.level) for n in await svc.run_timers()] == [("restoration", 0), ("restoration", 1)]
    clock.set(T0 + timedelta(hours=5))
    first = (await svc.resolve("nina", opened.ticket_id)).restore_verdict
    assert first is not None and first.breached_by_s == 3600
    clock.set(T0 + timedelta(hours=7))
    assert await svc.run_timers() == []  # 7 h after the fault, but resolved at 5 h: no level 2
    clock.set(T0 + timedelta(hours=8))
    reopened = await svc.reopen("nina", opened.ticket_id)
    assert reopened.restore_verdict is None  # open again: no verdict until it is resolved again
    clock.set(T0 + timedelta(hours=8, minutes=59))
    assert await svc.run_timers() == []  # 5 h 59 min on the clock
    clock.set(T0 + timedelta(hours=9))
    assert [(n.event.timer, n.event.level) for n in await svc.run_timers()] == [("restoration", 2)]
    clock.set(T0 + timedelta(hours=9, minutes=30))
    second = (await svc.resolve("nina", opened.ticket_id)).restore_verdict
    assert second is not None and (second.net_s, second.breached_by_s) == (6.5 * 3600, 2.5 * 3600)
    raised = [("timer_warning", 0), ("escalation", 1), ("escalation", 2)]
    assert await timer_events(stocked, opened.ticket_id) == raised


# --- 4. closing, the case library, suggestions ---------------------------------------------------------------------


async def close_as_case(svc: TicketService, circuit: str, summary: str, cause: str, resolution: str) -> int:
    opened = await svc.handle_fault(breach(circuit, 0, summary=summary))
    await svc.acknowledge("nina", opened.ticket_id)
    await svc.resolve("nina", opened.ticket_id)
    await svc.close("nina", opened.ticket_id, cause, resolution)
    return opened.ticket_id


async def test_tier_a_closes_only_with_cause_and_becomes_a_case(svc: TicketService, stocked: Sessions) -> None:
    opened = await svc.handle_fault(
        breach("ACME-BJ-001", 0, summary="loss 4 % and CRC errors rising on GigabitEthernet0/0/1 optical power low")
    )
    await svc.assign("nina", opened.ticket_id, "tom-north")
    await svc.resolve("tom", opened.ticket_id)
    with pytest.raises(CloseRefused, match="tier-A account acme-bank: it closes only with a cause category"):
        await svc.close("tom", opened.ticket_id)
    with pytest.raises(CloseRefused):
        await svc.close("tom", opened.ticket_id, "fibre_cut", " ")
    assert await count(stocked, FaultCase) == 0
    closed = await svc.close("tom", opened.ticket_id, "fibre_cut", "dirty connector at ODF cleaned, optical power ok")
    assert closed.status == "closed"
    assert await count(stocked, FaultCase, FaultCase.ticket_id == opened.ticket_id) == 1

    # two more cases with other symptoms, then a new fault that looks like the first
    await close_as_case(
        svc,
        "CITY-SH-001",
        "BGP session flapping to customer CE hold timer expired",
        "configuration",
        "BGP timers aligned with the CE",
    )
    await close_as_case(
        svc,
        "RHEIN-FRA-001",
        "latency 80 ms during backup window interface saturated",
        "capacity",
        "QoS policy for backup traffic",
    )
    new = await svc.handle_fault(
        FaultEvent(
            FaultKind.COMPLAINT,
            "ACME-SH-003",
            "complaint",
            Impact.DEGRADED,
            T0 + timedelta(hours=3),
            "customer reports packet loss, CRC errors and low optical power",
        )
    )
    suggestions = await svc.suggestions("nina", new.ticket_id)
    assert suggestions, "the similar case is suggested"
    assert suggestions[0].ticket_id == opened.ticket_id
    assert suggestions[0].cause_category == "fibre_cut"


async def test_non_tier_a_may_close_without_a_cause_and_files_no_case(svc: TicketService, stocked: Sessions) -> None:
    opened = await svc.handle_fault(breach("CITY-SH-001", 0))
    await svc.resolve("nina", opened.ticket_id)
    assert (await svc.close("nina", opened.ticket_id)).status == "closed"
    assert await count(stocked, FaultCase) == 0


# --- lifecycle -----------------------------------------------------------------------------------------------------


async def test_every_transition_is_recorded_with_who_and_when(
    svc: TicketService, clock: DrivenClock, stocked: Sessions
) -> None:
    opened = await svc.handle_fault(breach("ACME-BJ-001", 0))
    steps = [
        ("nina", svc.acknowledge),
        ("tom", svc.start_work),
        ("tom", svc.resolve),
    ]
    await svc.assign("nina", opened.ticket_id, auto=True)  # huawei in the north: tom-north
    for minute, (user, step) in enumerate(steps, start=1):
        clock.set(T0 + timedelta(minutes=minute))
        if step == svc.acknowledge:
            with pytest.raises(Conflict, match="already acknowledged by nina"):  # dispatching answered it
                await step(user, opened.ticket_id)
            continue
        await step(user, opened.ticket_id)
    with pytest.raises(IllegalTransition, match="is resolved: it cannot become in_progress"):
        await svc.start_work("tom", opened.ticket_id)
    await svc.close("tom", opened.ticket_id, "hardware", "line card replaced")
    await svc.reopen("nina", opened.ticket_id)
    await svc.add_note("nina", opened.ticket_id, "customer says it is back")
    detail = await svc.show_ticket("nina", opened.ticket_id)
    assert [(t.actor, t.from_status, t.to_status) for t in detail.transitions] == [
        ("system:sla_breach", None, "new"),
        ("nina", "new", "dispatched"),
        ("tom", "dispatched", "in_progress"),
        ("tom", "in_progress", "resolved"),
        ("tom", "resolved", "closed"),
        ("nina", "closed", "reopened"),
    ]
    assert [w.text for w in detail.worklog] == ["customer says it is back"]
    assert detail.summary.technician == "tom-north" and detail.summary.acknowledged_at == T0


async def test_queue_and_manual_dispatch(svc: TicketService) -> None:
    a = await svc.handle_fault(breach("ACME-SH-003", 0))  # south, juniper
    b = await svc.handle_fault(breach("RHEIN-FRA-001", 0))  # south, linux
    assert (await svc.assign("nina", a.ticket_id, auto=True)).technician == "li-south"
    await svc.assign("nina", b.ticket_id, "li-south")
    queue = await svc.queue("li")
    assert [t.ref for t in queue] == [a.ref, b.ref]  # P1 before P3
    with pytest.raises(InvalidRequest, match="no technician named"):
        await svc.assign("nina", a.ticket_id, "nobody")


async def test_rating_after_closure_and_averages(svc: TicketService) -> None:
    ids = [await close_as_case(svc, "RHEIN-FRA-001", f"fault {i}", "power", "UPS replaced") for i in range(1)]
    opened = await svc.handle_fault(breach("CITY-SH-001", 0))
    with pytest.raises(IllegalTransition, match="after closure"):
        await svc.rate("mei", opened.ticket_id, 5)
    with pytest.raises(InvalidRequest, match="1 to 5"):
        await svc.rate("karl", ids[0], 6)
    await svc.rate("karl", ids[0], 4, "quick fix")
    with pytest.raises(Conflict, match="already rated"):
        await svc.rate("karl", ids[0], 5)
    with pytest.raises(Refused):
        await svc.rate("mei", ids[0], 1)  # not her account
    assert await svc.satisfaction_by_account("karl") == {"rhein-logistik": (4.0, 1)}
    assert await svc.satisfaction_by_account("mei") == {}


# --- 5. access and the personal-data audit -------------------------------------------------------------------------


async def audit_rows(sessions: Sessions) -> Sequence[AuditEvent]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(AuditEvent).where(AuditEvent.action == "personal_data.read").order_by(AuditEvent.id)
            )
        )


async def test_account_manager_sees_only_their_accounts(svc: TicketService) -> None:
    await svc.handle_fault(breach("ACME-BJ-001", 0))
    await svc.handle_fault(breach("CITY-SH-001", 0))
    assert {t.account for t in await svc.list_tickets("karl")} == {"acme-bank"}
    assert await svc.list_tickets("karl", TicketFilter(account="city-gov")) == []  # a filter narrows what he sees
    with pytest.raises(Refused, match="may not see account city-gov"):
        await svc.account_health("karl", "city-gov")
    assert {t.account for t in await svc.list_tickets("nina")} == {"acme-bank", "city-gov"}


async def test_technician_reads_contacts_only_for_their_tickets_and_every_read_is_audited(
    svc: TicketService, stocked: Sessions
) -> None:
    acme = await svc.handle_fault(breach("ACME-BJ-001", 0))
    city = await svc.handle_fault(breach("CITY-SH-002", 0))  # on pe-bj-01: tom's region, not his ticket
    assert {t.ref for t in await svc.list_tickets("tom")} == {acme.ref, city.ref}
    with pytest.raises(Refused, match="may not read the contacts of account acme-bank"):
        await svc.show_ticket("tom", acme.ticket_id, with_contacts=True)
    await svc.assign("nina", acme.ticket_id, "tom-north")
    detail = await svc.show_ticket("tom", acme.ticket_id, with_contacts=True)
    assert detail.contacts is not None and detail.contacts[0].phone == "+86 10 5555 0101"
    with pytest.raises(Refused, match="may not read the contacts of account city-gov"):
        await svc.show_ticket("tom", city.ticket_id, with_contacts=True)
    with pytest.raises(Refused):
        await svc.account_contacts("tom", "city-gov", "calling the customer")
    with pytest.raises(Refused):
        await svc.show_ticket("li", acme.ticket_id)  # south: neither his region nor his ticket
    contacts = await svc.account_contacts("mei", "city-gov", "renewal call")
    assert contacts[0].name == "Zhang Wei"

    rows = await audit_rows(stocked)
    assert [(r.actor, r.subject, r.outcome, r.detail["purpose"]) for r in rows] == [
        ("tom", "acme-bank", "refused", f"ticket {acme.ref}"),
        ("tom", "acme-bank", "allowed", f"ticket {acme.ref}"),
        ("tom", "city-gov", "refused", f"ticket {city.ref}"),
        ("tom", "city-gov", "refused", "calling the customer"),
        ("mei", "city-gov", "allowed", "renewal call"),
    ]
    assert rows[1].detail["fields"] == ["email", "name", "phone"] and rows[1].role == "technician"
    assert all(r.at is not None for r in rows)


async def test_reading_without_contacts_decrypts_nothing_and_audits_nothing(
    svc: TicketService, stocked: Sessions
) -> None:
    health = await svc.account_health("karl", "acme-bank")
    assert health.contacts is None and health.contact_count == 1
    assert await audit_rows(stocked) == []


# --- health archive -----------------------------------------------------------------------------------------------


class FakeSlaHistory:
    async def compliance_history(self, account: str) -> Sequence[SlaComplianceEntry]:
        return [SlaComplianceEntry("CITYGOV-2025-07", "2026-10", 99.93, 99.9, True)] if account == "city-gov" else []


async def test_health_archive(stocked: Sessions, box: object, clock: DrivenClock) -> None:
    from noc.crypto import SecretBox

    assert isinstance(box, SecretBox)
    svc = TicketService(stocked, TicketSettings(), box=box, clock=clock, sla_source=FakeSlaHistory())
    await svc.handle_fault(breach("CITY-SH-001", 0))
    health = await svc.account_health("mei", "city-gov", with_contacts=True)
    assert (health.tier, health.account_manager, health.open_tickets) == ("B", "mei", 1)
    assert [c.name for c in health.circuits] == ["CITY-SH-001", "CITY-SH-002"]
    assert [f.circuit for f in health.fault_history] == ["CITY-SH-001"]
    assert {(c.entity, c.name) for c in health.change_history} >= {
        ("accounts", "city-gov"),
        ("contracts", "CITYGOV-2025-07"),
    }
    # the contract ends 2026-12-15: 23 days after the clock's 2026-11-22, inside the 30-day notice
    assert [(r.contract, r.days_left, r.notify) for r in health.reminders] == [("CITYGOV-2025-07", 23, "mei")]
    assert health.sla_compliance_available and health.sla_compliance[0].month == "2026-10"
    assert health.contacts is not None and health.contacts[0].email == "duty@city-gov.example"
    assert [r.contract for r in await svc.contract_reminders()] == ["CITYGOV-2025-07"]


# --- 6. concurrency ------------------------------------------------------------------------------------------------


async def test_second_acknowledge_gets_a_clear_conflict(svc: TicketService, stocked: Sessions) -> None:
    opened = await svc.handle_fault(breach("CITY-SH-001", 0))
    read = (await svc.list_tickets("nina"))[0]
    await svc.acknowledge("nina", opened.ticket_id, expected_version=read.version)
    with pytest.raises(Conflict, match=r"already acknowledged by nina at 2026-11-22 08:00:00Z"):
        await svc.acknowledge("admin", opened.ticket_id)
    with pytest.raises(Conflict, match="changed since you read it"):
        await svc.acknowledge("admin", opened.ticket_id, expected_version=read.version)
    assert await count(stocked, TicketTransition, TicketTransition.to_status == "acknowledged") == 1


async def test_unknown_circuit_device_or_ticket_is_bad_input(svc: TicketService, stocked: Sessions) -> None:
    with pytest.raises(NotFound, match="no circuit named 'NOPE-1'"):
        await svc.handle_fault(breach("NOPE-1", 0))
    with pytest.raises(NotFound, match="no device named 'pe-nowhere'"):
        await svc.handle_device_down(DeviceDown("pe-nowhere", T0))
    with pytest.raises(NotFound, match="no ticket 404"):
        await svc.acknowledge("nina", 404)
    assert await count(stocked, Ticket) == 0
