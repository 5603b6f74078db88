"""The ticket service: applies the pure rules to stored state and persists the outcome.

One transaction per operation; ``Ticket.version`` makes each write conditional on what was read, so a concurrent
change surfaces as ``Conflict`` instead of a lost update. Fault input (``handle_fault``, ``handle_device_down``,
``handle_clear``, ``handle_device_up``) acts as ``system:<source>``; every other operation acts as a named user
whose role decides what they may see and do (``tickets.access``). Decrypting customer contacts writes an audit
row, also when it is refused.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, NoReturn

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from noc import models as m
from noc.crypto import SecretBox
from noc.settings import TicketSettings
from noc.timeutil import Clock, SystemClock
from tickets import access, fieldwork, filters, rules
from tickets.access import Action, Actor, TicketScope
from tickets.audit import ALLOWED, REFUSED, read_row
from tickets.cases import CaseMatch, search_text, similar_cases
from tickets.dispatch import TechnicianFacts, choose_technician
from tickets.errors import Conflict, IllegalTransition, InvalidRequest, NoTechnician, NotFound, Refused, TicketError
from tickets.fieldservice import FieldWork
from tickets.lifecycle import OPEN_STATUSES, UNANSWERED, Status, check_close, check_transition
from tickets.models import (
    INCIDENT,
    TICKET,
    FaultCase,
    Rating,
    Recurrence,
    StopClock,
    Ticket,
    TicketEvent,
    TicketTransition,
    WorklogEntry,
)
from tickets.records import (
    ChangeView,
    CircuitView,
    ContactView,
    ContractExpiryReminder,
    ContractTerm,
    ContractView,
    FaultRecord,
    HealthArchive,
    SlaComplianceSource,
    contract_expiry_reminders,
)
from tickets.timers import (
    RestoreVerdict,
    StopInterval,
    TimerEvent,
    TimerView,
    evaluate_timers,
    restoration_due_at,
    restore_verdict,
)

log = logging.getLogger(__name__)

Sessions = async_sessionmaker[AsyncSession]
ANSWERS = frozenset({Status.ACKNOWLEDGED, Status.DISPATCHED, Status.IN_PROGRESS, Status.RESOLVED})
RESTORE_VERDICT = "restore_verdict"  # the ticket event recording the restoration verdict at resolution
ACKNOWLEDGED_ALREADY = frozenset({Status.ACKNOWLEDGED, Status.DISPATCHED, Status.IN_PROGRESS, Status.PENDING_CUSTOMER})


# --- what the service returns ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FaultOutcome:
    ticket_id: int
    ref: str
    action: str  # opened | appended | reopened | duplicate
    priority: str
    impact_changed: bool = False


@dataclass(frozen=True, slots=True)
class IncidentOutcome:
    parent_id: int
    parent_ref: str
    parent_opened: bool
    children: tuple[FaultOutcome, ...]


@dataclass(frozen=True, slots=True)
class ClearOutcome:
    ticket_id: int
    ref: str
    resolved: bool


@dataclass(frozen=True, slots=True)
class TimerNotice:
    """A timer event raised now, with whom to tell: ``noc`` (the board) for a warning, ``noc_lead`` for level 1,
    the account manager's username for level 2 (``account_manager`` when the account has none)."""

    event: TimerEvent
    ref: str
    account: str | None
    notify: str


@dataclass(frozen=True, slots=True)
class OpenTicketCounts:
    """For metrics: open tickets (incidents included) by (priority, status), and those past their response time."""

    by_priority_status: dict[tuple[str, str], int]
    response_overdue: int


@dataclass(frozen=True, slots=True)
class TicketSummary:
    id: int
    ref: str
    kind: str
    parent_id: int | None
    status: str
    priority: str
    impact: str
    account: str | None
    circuit: str | None
    device: str | None
    cause: str
    title: str
    technician: str | None
    detected_at: datetime
    acknowledged_at: datetime | None
    response_due_at: datetime | None
    restore_due_at: datetime | None
    escalation_level: int
    recurrences: int
    version: int
    restore_verdict: RestoreVerdict | None = None  # taken at resolution; None while unresolved
    ack_until: datetime | None = None  # acknowledged "until" then (tickets.fieldwork)

    def to_json(self) -> dict[str, Any]:
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(self).items()}


@dataclass(frozen=True, slots=True)
class TicketDetail:
    summary: TicketSummary
    symptoms: str
    children: tuple[str, ...]
    transitions: tuple[TicketTransition, ...]
    worklog: tuple[WorklogEntry, ...]
    recurrences: tuple[Recurrence, ...]
    events: tuple[TicketEvent, ...]
    stop_clock: tuple[StopClock, ...]
    cause_category: str | None
    resolution: str | None
    rating: Rating | None
    suggestions: tuple[CaseMatch, ...]
    causes: tuple[str, ...] = ()  # every cause of the fault, in the order they came (one fault, one ticket)
    contacts: tuple[ContactView, ...] | None = None
    # What the reader may do to it by the role rules (the lifecycle still decides which step fits the status),
    # and whether they may read the account's contacts: pages offer only these, the operations still check.
    may: frozenset[Action] = frozenset()
    may_read_contacts: bool = False


@dataclass
class _Names:
    """id -> name of the small inventory tables, for summaries."""

    accounts: dict[int, str] = field(default_factory=dict)
    circuits: dict[int, str] = field(default_factory=dict)
    devices: dict[int, m.Device] = field(default_factory=dict)
    technicians: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _CircuitRow:
    circuit: m.Circuit
    account: m.KeyAccount
    contract: m.Contract
    device: m.Device

    @property
    def facts(self) -> rules.CircuitFacts:
        return rules.CircuitFacts(
            circuit=self.circuit.name,
            account=self.account.name,
            tier=self.account.tier,
            auto_resolve=self.account.auto_resolve,
            response_time_s=self.contract.response_time_s,
            restore_time_s=self.contract.restore_time_s,
        )


def _state(ticket: Ticket | None, causes: frozenset[str] = frozenset()) -> rules.TicketState | None:
    if ticket is None:
        return None
    return rules.TicketState(
        ticket.id,
        Status(ticket.status),
        rules.Impact(ticket.impact),
        ticket.resolved_at,
        ticket.fault_cleared_at,
        causes,
    )


def _changed_meanwhile(ref: str) -> Conflict:
    return Conflict(f"{ref} was changed by someone else at the same time; nothing was saved, reload and retry")


def _verdict(ticket: Ticket) -> RestoreVerdict | None:
    """The restoration verdict stored at resolution; None while unresolved (and on parent incidents)."""
    if ticket.restore_net_s is None or ticket.restore_time_s is None:
        return None
    return RestoreVerdict.of(ticket.restore_net_s, ticket.restore_time_s)


def timer_view(ticket: Ticket, stops: Sequence[StopClock]) -> TimerView | None:
    """The timers' view of a stored ticket; None for tickets without timers (parent incidents)."""
    if ticket.response_time_s is None or ticket.restore_time_s is None:
        return None
    return TimerView(
        ticket_id=ticket.id,
        detected_at=ticket.detected_at,
        # A ticket resolved before anyone answered it no longer waits for an answer.
        acknowledged_at=ticket.acknowledged_at or ticket.resolved_at,
        resolved_at=ticket.resolved_at,
        response_time_s=ticket.response_time_s,
        restore_time_s=ticket.restore_time_s,
        stop_clock=tuple(StopInterval(s.start_at, s.end_at) for s in sorted(stops, key=lambda s: s.start_at)),
        marks=frozenset(ticket.timer_marks),
    )


class TicketService:
    def __init__(
        self,
        sessions: Sessions,
        settings: TicketSettings,
        *,
        box: SecretBox | None = None,
        clock: Clock | None = None,
        sla_source: SlaComplianceSource | None = None,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.box = box
        self.clock: Clock = clock or SystemClock()
        self.sla_source = sla_source

    # --- fault input (the pipeline) ------------------------------------------------------------------------------

    async def handle_fault(self, event: rules.FaultEvent) -> FaultOutcome:
        """Open, append to or reopen the ticket for the event's circuit and cause."""
        async with self.sessions() as session:
            return await self._handle_fault(session, event, f"system:{event.kind}")

    async def report_fault(self, username: str, event: rules.FaultEvent) -> FaultOutcome:
        """A fault reported by a person: a customer's complaint taken by the NOC or the account manager, or a
        ticket an engineer opens by hand. Deduplicated like any other fault."""
        if event.kind not in (rules.FaultKind.COMPLAINT, rules.FaultKind.MANUAL):
            raise InvalidRequest(f"people report complaints or manual faults, not {event.kind}")
        async with self.sessions() as session:
            actor = await self.actor(session, username)
            row = await self._circuit(session, event.circuit)
            scope = TicketScope(f"circuit {row.circuit.name}", row.account.id, row.device.region, None)
            access.require_ticket(actor, Action.REPORT, scope)
            return await self._handle_fault(session, event, actor.username)

    async def _handle_fault(self, session: AsyncSession, event: rules.FaultEvent, actor: str) -> FaultOutcome:
        row = await self._circuit(session, event.circuit)
        latest = await self._latest(session, row.circuit.id, event.cause)
        down = await self._open_device_down(session, row.circuit.id)
        ongoing = await self._ongoing(session, row.circuit.id)
        decision = rules.decide_fault(
            event,
            row.facts,
            await self._state_of(session, latest),
            self.settings,
            _state(down),
            await self._state_of(session, ongoing),
        )
        ticket, outcome = await self._apply(session, decision, row, [latest, down, ongoing], None, actor)
        await self._commit(session, ticket.ref)
        return outcome

    async def handle_device_down(self, event: rules.DeviceDown) -> IncidentOutcome:
        """One parent incident for the device, one child ticket per circuit on it, each on its own account."""
        async with self.sessions() as session:
            device = await session.scalar(select(m.Device).where(m.Device.name == event.device))
            if device is None:
                raise NotFound(f"no device named {event.device!r}")
            rows = await self._circuits_on(session, device.id)
            latest = {r.circuit.name: await self._latest(session, r.circuit.id, event.cause) for r in rows}
            ongoing = {r.circuit.name: await self._ongoing(session, r.circuit.id) for r in rows}
            incident = await session.scalar(
                select(Ticket)
                .where(Ticket.kind == INCIDENT, Ticket.cause_key == event.cause, Ticket.status.in_(OPEN_STATUSES))
                .order_by(Ticket.id.desc())
                .limit(1)
            )
            if incident is not None and await self._seen(session, incident.id, event.detected_at):
                # The same failure delivered again (a bus redelivers what a crash left unacknowledged): no-op.
                return IncidentOutcome(incident.id, incident.ref, False, ())
            decision = rules.decide_device_down(
                event,
                [r.facts for r in rows],
                {name: s for name, t in latest.items() if (s := _state(t)) is not None},
                incident.id if incident is not None else None,
                self.settings,
                {name: s for name, t in ongoing.items() if (s := await self._state_of(session, t)) is not None},
            )
            now = self.clock.now()
            if isinstance(decision.parent, rules.OpenIncident):
                incident = self._open_incident(session, decision.parent, device.id, now)
                await session.flush()
                self._record_transition(
                    session, incident, None, Status.NEW, f"system:{rules.FaultKind.DEVICE_DOWN}", now
                )
            assert incident is not None
            self._add_recurrence(
                session, incident, event.detected_at, rules.FaultKind.DEVICE_DOWN, event.impact, event.summary
            )
            by_name = {r.circuit.name: r for r in rows}
            children = []
            for child in decision.children:
                _, outcome = await self._apply(
                    session,
                    child,
                    by_name[child.event.circuit],
                    [latest[child.event.circuit], ongoing[child.event.circuit]],
                    incident.id,
                    f"system:{child.event.kind}",
                )
                children.append(outcome)
            await self._commit(session, incident.ref)
            return IncidentOutcome(
                incident.id, incident.ref, isinstance(decision.parent, rules.OpenIncident), tuple(children)
            )

    async def handle_clear(self, event: rules.FaultCleared) -> ClearOutcome | None:
        """The fault condition ended: stop the restoration clock; resolve the ticket if the account auto-resolves."""
        async with self.sessions() as session:
            row = await self._circuit(session, event.circuit)
            outcome = await self._clear(session, row, event)
            await self._commit(session, outcome.ref if outcome else f"circuit {row.circuit.name}")
            return outcome

    async def handle_device_up(self, event: rules.DeviceUp) -> list[ClearOutcome]:
        async with self.sessions() as session:
            device = await session.scalar(select(m.Device).where(m.Device.name == event.device))
            if device is None:
                raise NotFound(f"no device named {event.device!r}")
            outcomes = []
            for row in await self._circuits_on(session, device.id):
                outcome = await self._clear(session, row, event.cleared_for(row.circuit.name))
                if outcome is not None:
                    outcomes.append(outcome)
            cause = rules.device_cause(event.device)
            for incident in await session.scalars(
                select(Ticket).where(
                    Ticket.kind == INCIDENT, Ticket.cause_key == cause, Ticket.status.in_(OPEN_STATUSES)
                )
            ):
                incident.fault_cleared_at = event.cleared_at
                self._event(session, incident, "fault_cleared", "system:device_up", event.cleared_at, {})
            await self._commit(session, f"device {event.device}")
            return outcomes

    async def note_unconfirmed_clear(
        self, event: rules.FaultCleared | rules.DeviceUp, author: str, why: str
    ) -> list[str]:
        """A recovery reported from outside that the system's own view contradicts: a worklog line on each open
        ticket it speaks of, which stays open. The refs written to."""
        async with self.sessions() as session:
            if isinstance(event, rules.DeviceUp):
                query = select(Ticket).where(Ticket.cause_key == rules.device_cause(event.device))
            else:
                row = await self._circuit(session, event.circuit)
                query = select(Ticket).where(
                    Ticket.kind == TICKET, Ticket.circuit_id == row.circuit.id, Ticket.cause_key == event.cause
                )
            found = list(await session.scalars(query.where(Ticket.status.in_(OPEN_STATUSES)).order_by(Ticket.id)))
            now = self.clock.now()
            text = f"recovery reported at {event.cleared_at.isoformat()} not confirmed, ticket left open: {why}"
            for ticket in found:
                session.add(WorklogEntry(ticket_id=ticket.id, at=now, author=author, text=text))
            await session.commit()
            return [t.ref for t in found]

    async def run_timers(self) -> list[TimerNotice]:
        """Raise the warnings and escalations due now, once each; record them on the tickets. Resolved and closed
        tickets are left alone: their restoration verdict was taken when they were resolved, nothing escalates
        after it (a reopened ticket's clocks run on). Then the field-work checks: acknowledgements whose "until" has
        come, on-site resolutions due to be looked at again (``tickets.fieldservice``)."""
        now = self.clock.now()
        notices: list[TimerNotice] = []
        async with self.sessions() as session:
            ids = list(
                await session.scalars(
                    select(Ticket.id).where(Ticket.kind == TICKET, Ticket.status.in_(OPEN_STATUSES)).order_by(Ticket.id)
                )
            )
        for ticket_id in ids:
            # One transaction per ticket: a ticket changed meanwhile is simply looked at again next run.
            try:
                notices.extend(await self._run_timers_for(ticket_id, now))
            except Conflict:
                log.info("ticket %s changed while its timers were evaluated; next run", ticket_id)
        await FieldWork(self).run_checks(now)
        return notices

    async def _run_timers_for(self, ticket_id: int, now: datetime) -> list[TimerNotice]:
        async with self.sessions() as session:
            ticket = await self._ticket(session, ticket_id)
            if ticket.status not in OPEN_STATUSES:
                return []  # resolved since it was listed
            view = timer_view(ticket, await self._stops(session, ticket.id))
            if view is None:
                return []
            events = evaluate_timers(view, now, self.settings)
            if not events:
                return []
            account = await session.get(m.KeyAccount, ticket.account_id) if ticket.account_id else None
            manager = (
                await session.get(m.User, account.account_manager_id)
                if account and account.account_manager_id
                else None
            )
            ticket.timer_marks = [*ticket.timer_marks, *(e.mark for e in events)]
            ticket.escalation_level = max([ticket.escalation_level, *(e.level for e in events)])
            notices = []
            for e in events:
                kind = "timer_warning" if e.level == 0 else "escalation"
                detail = {"timer": e.timer.value, "level": e.level, "due_at": e.at.isoformat(), "limit_s": e.limit_s}
                self._event(session, ticket, kind, "system:timers", now, detail)
                notify = manager.username if (e.level == 2 and manager is not None) else e.escalate_to
                notices.append(TimerNotice(e, ticket.ref, account.name if account else None, notify))
            await self._commit(session, ticket.ref)
            return notices

    # --- people's operations -------------------------------------------------------------------------------------

    async def acknowledge(
        self,
        username: str,
        ticket_id: int,
        expected_version: int | None = None,
        *,
        note: str | None = None,
        until: datetime | None = None,
    ) -> TicketSummary:
        """Acknowledge, optionally with a note (worklog) and "until" an instant: past it, still only acknowledged,
        the ticket is new again and re-alerts (``tickets.fieldservice``)."""
        text = (note or "").strip()

        async def body(session: AsyncSession, actor: Actor, ticket: Ticket, now: datetime) -> None:
            fieldwork.check_ack_until(until, now, self.settings.ack_until_max_s)
            if Status(ticket.status) in ACKNOWLEDGED_ALREADY:
                who = await session.scalar(
                    select(TicketTransition)
                    .where(
                        TicketTransition.ticket_id == ticket.id,
                        TicketTransition.from_status.in_([Status.NEW, Status.REOPENED]),
                    )
                    .order_by(TicketTransition.id.desc())
                    .limit(1)
                )
                by = f" by {who.actor} at {who.at:%Y-%m-%d %H:%M:%S}Z" if who else ""
                raise Conflict(f"{ticket.ref} was already acknowledged{by}; it is {ticket.status} now")
            self._transition(session, ticket, Status.ACKNOWLEDGED, actor.username, now)
            ticket.ack_until = until
            detail = {k: v for k, v in (("note", text), ("until", until.isoformat() if until else "")) if v}
            if detail:
                self._event(session, ticket, "acknowledged", actor.username, now, detail)
            if text:
                session.add(
                    WorklogEntry(ticket_id=ticket.id, at=now, author=actor.username, text=f"acknowledged: {text}")
                )
            if ticket.kind == INCIDENT:
                # The NOC answers the incident once: its children still waiting are answered with it.
                for child in await session.scalars(
                    select(Ticket).where(Ticket.parent_id == ticket.id, Ticket.status == Status.NEW)
                ):
                    self._transition(session, child, Status.ACKNOWLEDGED, actor.username, now)

        return await self._operate(username, ticket_id, Action.ACKNOWLEDGE, body, expected_version)

    async def assign(
        self, username: str, ticket_id: int, technician: str | None = None, *, auto: bool = False
    ) -> TicketSummary:
        if (technician is None) == (not auto):
            raise InvalidRequest("assign needs either a technician's name or automatic dispatch, not both")

        async def body(session: AsyncSession, actor: Actor, ticket: Ticket, now: datetime) -> None:
            if ticket.kind == INCIDENT:
                raise InvalidRequest(f"{ticket.ref} is an incident: dispatch its child tickets")
            techs = list(await session.scalars(select(m.Technician).order_by(m.Technician.name)))
            if auto:
                device = await session.get(m.Device, ticket.device_id) if ticket.device_id else None
                region, platform = (device.region, device.platform) if device else ("", "")
                counted = await session.execute(
                    select(Ticket.technician_id, func.count())
                    .where(Ticket.status.in_(OPEN_STATUSES), Ticket.technician_id.is_not(None))
                    .group_by(Ticket.technician_id)
                )
                loads = {tech_id: int(n) for tech_id, n in counted}
                facts = [TechnicianFacts(t.name, tuple(t.regions), tuple(t.skills), loads.get(t.id, 0)) for t in techs]
                chosen = choose_technician(region, platform, facts)
                if chosen is None:
                    raise NoTechnician(f"{ticket.ref}: no technician covers region {region or '(none)'}")
                tech = next(t for t in techs if t.name == chosen.name)
            else:
                found = [t for t in techs if t.name == technician]
                if not found:
                    raise NotFound(f"no technician named {technician!r}")
                tech = found[0]
            self._transition(session, ticket, Status.DISPATCHED, actor.username, now)
            ticket.technician_id = tech.id
            self._event(session, ticket, "assigned", actor.username, now, {"technician": tech.name, "auto": auto})

        return await self._operate(username, ticket_id, Action.ASSIGN, body)

    async def start_work(self, username: str, ticket_id: int) -> TicketSummary:
        return await self._move(username, ticket_id, Status.IN_PROGRESS)

    async def wait_on_customer(self, username: str, ticket_id: int, reason: str) -> TicketSummary:
        """Stop-clock: restoration time does not run while the customer owes us something; why is required."""
        why = fieldwork.reason_text("reason", reason)

        async def body(session: AsyncSession, actor: Actor, ticket: Ticket, now: datetime) -> None:
            await self._to(session, ticket, Status.PENDING_CUSTOMER, actor.username, now)
            self._event(session, ticket, "waiting_on_customer", actor.username, now, {"reason": why})

        return await self._operate(username, ticket_id, Action.WORK, body)

    async def resume(self, username: str, ticket_id: int) -> TicketSummary:
        return await self._move(username, ticket_id, Status.IN_PROGRESS)

    async def resolve(
        self, username: str, ticket_id: int, *, confirmed_on_site: bool = False, note: str | None = None
    ) -> TicketSummary:
        """While the system still sees the fault, only as confirmed restored on site with a note."""
        return await FieldWork(self).resolve(username, ticket_id, confirmed_on_site=confirmed_on_site, note=note)

    async def take(self, username: str, ticket_id: int) -> TicketSummary:
        """A technician takes an unassigned ticket of one of their regions."""
        return await FieldWork(self).take(username, ticket_id)

    async def _move(self, username: str, ticket_id: int, target: Status) -> TicketSummary:
        async def body(session: AsyncSession, actor: Actor, ticket: Ticket, now: datetime) -> None:
            await self._to(session, ticket, target, actor.username, now)

        return await self._operate(username, ticket_id, Action.WORK, body)

    async def close(
        self, username: str, ticket_id: int, cause_category: str | None = None, resolution: str | None = None
    ) -> TicketSummary:
        """Close a resolved ticket; with a cause and a resolution it becomes a case in the fault case library."""

        async def body(session: AsyncSession, actor: Actor, ticket: Ticket, now: datetime) -> None:
            check_transition(ticket.ref, Status(ticket.status), Status.CLOSED)
            account = await session.get(m.KeyAccount, ticket.account_id) if ticket.account_id else None
            check_close(
                ticket.ref,
                account.name if account else "-",
                account.tier if account else "",
                cause_category,
                resolution,
                self.settings.cause_categories,
            )
            ticket.cause_category = cause_category
            ticket.resolution = (resolution or "").strip() or None
            await self._to(session, ticket, Status.CLOSED, actor.username, now)
            if ticket.cause_category and ticket.resolution:
                await self._file_case(session, ticket, now)

        return await self._operate(username, ticket_id, Action.WORK, body)

    async def reopen(self, username: str, ticket_id: int) -> TicketSummary:
        async def body(session: AsyncSession, actor: Actor, ticket: Ticket, now: datetime) -> None:
            await self._to(session, ticket, Status.REOPENED, actor.username, now)

        return await self._operate(username, ticket_id, Action.REOPEN, body)

    async def add_note(self, username: str, ticket_id: int, text: str) -> TicketSummary:
        if not text.strip():
            raise InvalidRequest("a note needs text")

        async def body(session: AsyncSession, actor: Actor, ticket: Ticket, now: datetime) -> None:
            session.add(WorklogEntry(ticket_id=ticket.id, at=now, author=actor.username, text=text.strip()))

        return await self._operate(username, ticket_id, Action.NOTE, body)

    async def rate(self, username: str, ticket_id: int, score: int, comment: str = "") -> TicketSummary:
        """The customer's satisfaction, 1-5, once per ticket, after closure."""
        if not 1 <= score <= 5:
            raise InvalidRequest(f"score must be 1 to 5, not {score}")

        async def body(session: AsyncSession, actor: Actor, ticket: Ticket, now: datetime) -> None:
            if ticket.account_id is None:
                raise InvalidRequest(f"{ticket.ref} is an incident: rate its tickets")
            if ticket.status != Status.CLOSED:
                raise IllegalTransition(f"{ticket.ref} is {ticket.status}: the customer rates it after closure")
            existing = await session.scalar(select(Rating).where(Rating.ticket_id == ticket.id))
            if existing is not None:
                raise Conflict(f"{ticket.ref} was already rated {existing.score} by {existing.recorded_by}")
            session.add(
                Rating(
                    ticket_id=ticket.id,
                    account_id=ticket.account_id,
                    score=score,
                    comment=comment,
                    recorded_by=actor.username,
                    at=now,
                )
            )

        return await self._operate(username, ticket_id, Action.RATE, body)

    # --- reading -------------------------------------------------------------------------------------------------

    async def list_tickets(
        self,
        username: str,
        where: filters.TicketFilter = filters.EVERY,
        technician: str | None = None,
        limit: int = 500,
    ) -> list[TicketSummary]:
        """The tickets this user may see that the filter keeps (``tickets.filters``), in the filter's order."""
        async with self.sessions() as session:
            actor = await self.actor(session, username)
            # The names a summary shows come with the page's rows (one query), never as whole tables.
            query = (
                select(Ticket, m.KeyAccount.name, m.Circuit.name, m.Device, m.Technician.name)
                .outerjoin(m.KeyAccount, m.KeyAccount.id == Ticket.account_id)
                .outerjoin(m.Circuit, m.Circuit.id == Ticket.circuit_id)
                .outerjoin(m.Device, m.Device.id == Ticket.device_id)
                .outerjoin(m.Technician, m.Technician.id == Ticket.technician_id)
                .where(*filters.where_clauses(where))
                .order_by(*filters.order_of(where.sort))
                .limit(limit)
            )
            # Narrowed in SQL so the limit counts what this user may see; the access rule still decides each row.
            if actor.role == "account_manager":
                query = query.where(Ticket.account_id.in_(actor.managed_account_ids))
            elif actor.role == "technician":
                in_regions = select(m.Device.id).where(m.Device.region.in_(actor.regions))
                query = query.where(or_(Ticket.technician_id == actor.technician_id, Ticket.device_id.in_(in_regions)))
            if technician is not None:
                tech = await session.scalar(select(m.Technician).where(m.Technician.name == technician))
                if tech is None:
                    raise NotFound(f"no technician named {technician!r}")
                query = query.where(Ticket.technician_id == tech.id)
            rows = (await session.execute(query)).all()
        names = _Names()
        for t, account, circuit, device, technician in rows:
            if t.account_id is not None:
                names.accounts[t.account_id] = account
            if t.circuit_id is not None:
                names.circuits[t.circuit_id] = circuit
            if device is not None:
                names.devices[device.id] = device
            if t.technician_id is not None:
                names.technicians[t.technician_id] = technician
        tickets = [row[0] for row in rows]
        return [self._summary(t, names) for t in tickets if access.may_see_ticket(actor, self._scope(t, names))]

    async def queue(self, username: str, technician: str | None = None) -> list[TicketSummary]:
        """A technician's open tickets, most urgent first (their own when no name is given)."""
        async with self.sessions() as session:
            actor = await self.actor(session, username)
            if technician is None:
                if actor.technician_id is None:
                    raise InvalidRequest(f"{username} is not a technician: name one")
                tech = await session.get(m.Technician, actor.technician_id)
                assert tech is not None
                technician = tech.name
        tickets = await self.list_tickets(username, filters.OPEN, technician=technician)
        far = datetime.max.replace(tzinfo=tickets[0].detected_at.tzinfo) if tickets else None
        return sorted(tickets, key=lambda t: (t.priority, t.restore_due_at or far, t.id))

    async def show_ticket(self, username: str, ticket_id: int, *, with_contacts: bool = False) -> TicketDetail:
        async with self.sessions() as session:
            actor = await self.actor(session, username)
            ticket = await self._ticket(session, ticket_id)
            names = await self._names_for(session, ticket)
            scope = self._scope(ticket, names)
            if with_contacts and ticket.account_id is not None and not access.may_see_ticket(actor, scope):
                account = await self._account_by_id(session, ticket.account_id)
                await self._refuse_contacts(session, actor, account, f"ticket {ticket.ref}")
            access.require_ticket(actor, None, scope)
            detail = replace(
                await self._detail(session, ticket, names),
                may=frozenset(a for a in Action if access.may_act(actor, a, scope)),
                may_read_contacts=ticket.account_id is not None and access.may_read_contacts(actor, ticket.account_id),
            )
            if not access.may_read_case_library(actor):
                detail = replace(detail, suggestions=())
            if with_contacts:
                if ticket.account_id is None:
                    raise InvalidRequest(f"{ticket.ref} is an incident: its tickets carry the accounts")
                account = await self._account_by_id(session, ticket.account_id)
                contacts = await self._read_contacts(session, actor, account, f"ticket {ticket.ref}")
                detail = replace(detail, contacts=contacts)
            return detail

    async def suggestions(self, username: str, ticket_id: int) -> list[CaseMatch]:
        return list((await self.show_ticket(username, ticket_id)).suggestions)

    async def account_health(self, username: str, account: str, *, with_contacts: bool = False) -> HealthArchive:
        """The key account's record: tier, contracts, circuits, faults, changes, reminders, satisfaction."""
        now = self.clock.now()
        async with self.sessions() as session:
            actor = await self.actor(session, username)
            row = await self._account(session, account)
            if with_contacts and not access.may_read_contacts(actor, row.id):
                await self._refuse_contacts(session, actor, row, "account record")
            access.require_account(actor, row.id, row.name)
            manager = await session.get(m.User, row.account_manager_id) if row.account_manager_id else None
            contracts = list(
                await session.scalars(
                    select(m.Contract).where(m.Contract.account_id == row.id).order_by(m.Contract.name)
                )
            )
            names = await self._names(session)
            circuits = list(
                await session.scalars(select(m.Circuit).where(m.Circuit.account_id == row.id).order_by(m.Circuit.name))
            )
            contract_names = {c.id: c.name for c in contracts}
            tickets = list(
                await session.scalars(
                    select(Ticket).where(Ticket.account_id == row.id).order_by(Ticket.detected_at.desc())
                )
            )
            entities = [("accounts", row.name), *(("contracts", c.name) for c in contracts)]
            entities += [("circuits", c.name) for c in circuits]
            changes = []
            for entity, name in entities:
                changes += list(
                    await session.scalars(
                        select(m.ChangeRecord).where(
                            m.ChangeRecord.entity == entity, m.ChangeRecord.entity_name == name
                        )
                    )
                )
            avg, count = (
                await session.execute(
                    select(func.avg(Rating.score), func.count(Rating.id)).where(Rating.account_id == row.id)
                )
            ).one()
            contact_count = await session.scalar(select(func.count(m.Contact.id)).where(m.Contact.account_id == row.id))
            contacts = await self._read_contacts(session, actor, row, "account record") if with_contacts else None
            sla = tuple(await self.sla_source.compliance_history(row.name)) if self.sla_source else ()
            manager_name = manager.username if manager else None
            reminders = contract_expiry_reminders(
                [ContractTerm(c.name, row.name, c.valid_to, manager_name) for c in contracts],
                now.date(),
                self.settings.contract_expiry_notice_days,
            )
            return HealthArchive(
                account=row.name,
                legal_name=row.legal_name,
                tier=row.tier,
                region=row.region,
                account_manager=manager_name,
                auto_resolve=row.auto_resolve,
                services=tuple(row.services),
                contracts=tuple(
                    ContractView(
                        c.name,
                        c.valid_from,
                        c.valid_to,
                        c.timezone,
                        format(c.availability_target_pct, "f"),
                        c.response_time_s,
                        c.restore_time_s,
                        c.archive_ref,
                    )
                    for c in contracts
                ),
                circuits=tuple(
                    CircuitView(
                        c.name,
                        contract_names.get(c.contract_id, ""),
                        names.devices[c.device_id].name,
                        names.devices[c.device_id].platform,
                        names.devices[c.device_id].region,
                        c.interface_name,
                        c.far_end_address,
                        c.service,
                    )
                    for c in circuits
                ),
                fault_history=tuple(
                    FaultRecord(
                        t.ref,
                        names.circuits.get(t.circuit_id) if t.circuit_id else None,
                        t.status,
                        t.priority,
                        t.cause_key,
                        t.cause_category,
                        t.detected_at,
                        t.closed_at,
                        t.recurrence_count,
                        _verdict(t),
                    )
                    for t in tickets
                ),
                change_history=tuple(
                    ChangeView(c.at, c.actor, c.entity, c.entity_name, c.action, tuple(c.changed_fields))
                    for c in sorted(changes, key=lambda c: (c.at, c.id), reverse=True)
                ),
                reminders=tuple(reminders),
                satisfaction_avg=float(avg) if avg is not None else None,
                satisfaction_count=int(count),
                contact_count=int(contact_count or 0),
                sla_compliance=sla,
                sla_compliance_available=self.sla_source is not None,
                contacts=contacts,
                open_tickets=sum(1 for t in tickets if t.status in OPEN_STATUSES),
            )

    async def account_contacts(self, username: str, account: str, purpose: str) -> tuple[ContactView, ...]:
        """Decrypted contacts for a stated purpose: allowed roles only, audited either way."""
        if not purpose.strip():
            raise InvalidRequest("reading personal data needs a stated purpose")
        async with self.sessions() as session:
            actor = await self.actor(session, username)
            row = await self._account(session, account)
            return await self._read_contacts(session, actor, row, purpose.strip())

    async def satisfaction_by_account(self, username: str) -> dict[str, tuple[float, int]]:
        """Average score and number of ratings per account this user may see."""
        async with self.sessions() as session:
            actor = await self.actor(session, username)
            rows = await session.execute(
                select(m.KeyAccount.id, m.KeyAccount.name, func.avg(Rating.score), func.count(Rating.id))
                .join(Rating, Rating.account_id == m.KeyAccount.id)
                .group_by(m.KeyAccount.id, m.KeyAccount.name)
                .order_by(m.KeyAccount.name)
            )
            return {name: (float(avg), int(n)) for ident, name, avg, n in rows if access.may_see_account(actor, ident)}

    async def open_counts(self) -> OpenTicketCounts:
        """System use (metrics): no actor, counts only."""
        now = self.clock.now()
        async with self.sessions() as session:
            rows = await session.execute(
                select(Ticket.priority, Ticket.status, func.count())
                .where(Ticket.status.in_(OPEN_STATUSES))
                .group_by(Ticket.priority, Ticket.status)
            )
            by = {(p, st): int(n) for p, st, n in rows}
            overdue = await session.scalar(
                select(func.count()).where(
                    Ticket.kind == TICKET,
                    Ticket.status.in_(OPEN_STATUSES),
                    Ticket.acknowledged_at.is_(None),
                    Ticket.response_due_at < now,
                )
            )
        return OpenTicketCounts(by, int(overdue or 0))

    async def contract_reminders(self) -> list[ContractExpiryReminder]:
        """Contract expiry reminders across all accounts, for the pipeline to send (no actor: system use)."""
        now = self.clock.now()
        async with self.sessions() as session:
            rows = await session.execute(
                select(m.Contract.name, m.KeyAccount.name, m.Contract.valid_to, m.User.username)
                .join(m.KeyAccount, m.Contract.account_id == m.KeyAccount.id)
                .outerjoin(m.User, m.KeyAccount.account_manager_id == m.User.id)
            )
            terms = [ContractTerm(c, a, v, u) for c, a, v, u in rows]
        return contract_expiry_reminders(terms, now.date(), self.settings.contract_expiry_notice_days)

    async def actor(self, session: AsyncSession, username: str) -> Actor:
        """The user as the role rules see them: role, technician record and regions, the accounts they manage or
        have tickets on. The pages and the API apply the same rules (``tickets.access``) to what is not a ticket."""
        # One round trip for the user and their technician record; the account lists only for the roles they
        # scope (every API call resolves its actor, so this is on the hot path).
        row = (
            await session.execute(
                select(m.User, m.Technician)
                .outerjoin(m.Technician, m.Technician.user_id == m.User.id)
                .where(m.User.username == username, m.User.active.is_(True))
            )
        ).first()
        if row is None:
            raise InvalidRequest(f"no active user named {username!r}")
        user, tech = row
        managed: frozenset[int] = frozenset()
        if user.role == "account_manager":
            managed = frozenset(
                await session.scalars(select(m.KeyAccount.id).where(m.KeyAccount.account_manager_id == user.id))
            )
        assigned: frozenset[int] = frozenset()
        if tech is not None:
            assigned = frozenset(
                a
                for a in await session.scalars(
                    select(Ticket.account_id).where(Ticket.technician_id == tech.id, Ticket.status != Status.CLOSED)
                )
                if a is not None
            )
        return Actor(
            username=user.username,
            role=user.role,
            technician_id=tech.id if tech else None,
            regions=frozenset(tech.regions) if tech else frozenset(),
            managed_account_ids=managed,
            assigned_account_ids=assigned,
        )

    # --- internals: loading --------------------------------------------------------------------------------------

    async def _ticket(self, session: AsyncSession, ticket_id: int) -> Ticket:
        ticket = await session.get(Ticket, ticket_id)
        if ticket is None:
            raise NotFound(f"no ticket {ticket_id}")
        return ticket

    async def _account(self, session: AsyncSession, name: str) -> m.KeyAccount:
        row = await session.scalar(select(m.KeyAccount).where(m.KeyAccount.name == name))
        if row is None:
            raise NotFound(f"no key account named {name!r}")
        return row

    async def _account_by_id(self, session: AsyncSession, ident: int) -> m.KeyAccount:
        row = await session.get(m.KeyAccount, ident)
        assert row is not None, "tickets reference existing accounts"
        return row

    def _circuit_query(self) -> Any:
        return (
            select(m.Circuit, m.KeyAccount, m.Contract, m.Device)
            .join(m.KeyAccount, m.Circuit.account_id == m.KeyAccount.id)
            .join(m.Contract, m.Circuit.contract_id == m.Contract.id)
            .join(m.Device, m.Circuit.device_id == m.Device.id)
        )

    async def _circuit(self, session: AsyncSession, name: str) -> _CircuitRow:
        row = (await session.execute(self._circuit_query().where(m.Circuit.name == name))).one_or_none()
        if row is None:
            raise NotFound(f"no circuit named {name!r}")
        return _CircuitRow(*row)

    async def _circuits_on(self, session: AsyncSession, device_id: int) -> list[_CircuitRow]:
        rows = await session.execute(
            self._circuit_query().where(m.Circuit.device_id == device_id).order_by(m.Circuit.name)
        )
        return [_CircuitRow(*r) for r in rows]

    async def _latest(self, session: AsyncSession, circuit_id: int, cause: str) -> Ticket | None:
        ticket: Ticket | None = await session.scalar(
            select(Ticket)
            .where(Ticket.kind == TICKET, Ticket.circuit_id == circuit_id, Ticket.cause_key == cause)
            .order_by(Ticket.id.desc())
            .limit(1)
        )
        return ticket

    async def _open_device_down(self, session: AsyncSession, circuit_id: int) -> Ticket | None:
        ticket: Ticket | None = await session.scalar(
            select(Ticket)
            .where(
                Ticket.kind == TICKET,
                Ticket.circuit_id == circuit_id,
                Ticket.cause_key.startswith(rules.DEVICE_DOWN_CAUSE_PREFIX, autoescape=True),
                Ticket.status.in_(OPEN_STATUSES),
            )
            .order_by(Ticket.id.desc())
            .limit(1)
        )
        return ticket

    async def _ongoing(self, session: AsyncSession, circuit_id: int) -> Ticket | None:
        """The circuit's latest open ticket for a fault the system detected, whatever its cause."""
        ticket: Ticket | None = await session.scalar(
            select(Ticket)
            .where(
                Ticket.kind == TICKET,
                Ticket.circuit_id == circuit_id,
                Ticket.source.in_([k.value for k in rules.SAME_FAULT_KINDS]),
                Ticket.status.in_(OPEN_STATUSES),
            )
            .order_by(Ticket.id.desc())
            .limit(1)
        )
        return ticket

    async def _carrying(self, session: AsyncSession, circuit_id: int, cause: str) -> Ticket | None:
        """The circuit's open ticket with ``cause`` active, else its latest ticket opened for that cause."""
        for ticket in await session.scalars(
            select(Ticket)
            .where(Ticket.kind == TICKET, Ticket.circuit_id == circuit_id, Ticket.status.in_(OPEN_STATUSES))
            .order_by(Ticket.id.desc())
        ):
            if cause in await self._active_causes(session, ticket):
                return ticket
        return await self._latest(session, circuit_id, cause)

    async def _cause_events(self, session: AsyncSession, ticket_id: int) -> list[tuple[str, str | None]]:
        kinds = (rules.CAUSE_ADDED, rules.CAUSE_CLEARED, rules.FAULT_CLEARED)
        events = await session.scalars(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind.in_(kinds))
            .order_by(TicketEvent.id)
        )
        return [(e.kind, e.detail.get("cause")) for e in events]

    async def _active_causes(self, session: AsyncSession, ticket: Ticket) -> frozenset[str]:
        return rules.active_causes(ticket.cause_key, await self._cause_events(session, ticket.id))

    async def _state_of(self, session: AsyncSession, ticket: Ticket | None) -> rules.TicketState | None:
        """The rules' view of a ticket with its active causes."""
        if ticket is None:
            return None
        return _state(ticket, await self._active_causes(session, ticket))

    async def _stops(self, session: AsyncSession, ticket_id: int) -> list[StopClock]:
        return list(
            await session.scalars(select(StopClock).where(StopClock.ticket_id == ticket_id).order_by(StopClock.id))
        )

    async def _names(self, session: AsyncSession) -> _Names:
        names = _Names()
        names.accounts = {i: n for i, n in await session.execute(select(m.KeyAccount.id, m.KeyAccount.name))}
        names.circuits = {i: n for i, n in await session.execute(select(m.Circuit.id, m.Circuit.name))}
        names.devices = {d.id: d for d in await session.scalars(select(m.Device))}
        names.technicians = {i: n for i, n in await session.execute(select(m.Technician.id, m.Technician.name))}
        return names

    async def _names_for(self, session: AsyncSession, ticket: Ticket) -> _Names:
        """The names one ticket's summary shows: its account, circuit and device, and every technician (a short
        list, and an assignment may name any of them) — not whole inventories, which may be large."""
        names = _Names()
        if ticket.account_id is not None:
            account = await session.get(m.KeyAccount, ticket.account_id)
            names.accounts = {account.id: account.name} if account is not None else {}
        if ticket.circuit_id is not None:
            circuit = await session.get(m.Circuit, ticket.circuit_id)
            names.circuits = {circuit.id: circuit.name} if circuit is not None else {}
        if ticket.device_id is not None:
            device = await session.get(m.Device, ticket.device_id)
            names.devices = {device.id: device} if device is not None else {}
        names.technicians = {t.id: t.name for t in await session.scalars(select(m.Technician))}
        return names

    @staticmethod
    def _scope(ticket: Ticket, names: _Names) -> TicketScope:
        device = names.devices.get(ticket.device_id) if ticket.device_id is not None else None
        return TicketScope(ticket.ref, ticket.account_id, device.region if device else "", ticket.technician_id)

    @staticmethod
    def _summary(t: Ticket, names: _Names) -> TicketSummary:
        device = names.devices.get(t.device_id) if t.device_id is not None else None
        return TicketSummary(
            id=t.id,
            ref=t.ref,
            kind=t.kind,
            parent_id=t.parent_id,
            status=t.status,
            priority=t.priority,
            impact=t.impact,
            account=names.accounts.get(t.account_id) if t.account_id is not None else None,
            circuit=names.circuits.get(t.circuit_id) if t.circuit_id is not None else None,
            device=device.name if device else None,
            cause=t.cause_key,
            title=t.title,
            technician=names.technicians.get(t.technician_id) if t.technician_id is not None else None,
            detected_at=t.detected_at,
            acknowledged_at=t.acknowledged_at,
            response_due_at=t.response_due_at,
            restore_due_at=t.restore_due_at,
            escalation_level=t.escalation_level,
            recurrences=t.recurrence_count,
            version=t.version,
            restore_verdict=_verdict(t),
            ack_until=t.ack_until,
        )

    async def _detail(self, session: AsyncSession, ticket: Ticket, names: _Names) -> TicketDetail:
        def rows_of(model: Any) -> Any:
            return select(model).where(model.ticket_id == ticket.id).order_by(model.id)

        children = await session.scalars(select(Ticket).where(Ticket.parent_id == ticket.id).order_by(Ticket.id))
        device = names.devices.get(ticket.device_id) if ticket.device_id is not None else None
        query = " ".join([ticket.title, ticket.symptoms, device.platform if device else ""])
        suggestions = await similar_cases(session, query, self.settings.case_suggestions)
        events = tuple(await session.scalars(rows_of(TicketEvent)))
        return TicketDetail(
            summary=self._summary(ticket, names),
            symptoms=ticket.symptoms,
            children=tuple(c.ref for c in children),
            transitions=tuple(await session.scalars(rows_of(TicketTransition))),
            worklog=tuple(await session.scalars(rows_of(WorklogEntry))),
            recurrences=tuple(await session.scalars(rows_of(Recurrence))),
            events=events,
            stop_clock=tuple(await session.scalars(rows_of(StopClock))),
            cause_category=ticket.cause_category,
            resolution=ticket.resolution,
            rating=await session.scalar(select(Rating).where(Rating.ticket_id == ticket.id)),
            # The case filed from this very ticket is no suggestion for it.
            suggestions=tuple(s for s in suggestions if s.ticket_id != ticket.id),
            causes=rules.listed_causes(ticket.cause_key, [(e.kind, e.detail.get("cause")) for e in events]),
        )

    async def _read_contacts(
        self, session: AsyncSession, actor: Actor, account: m.KeyAccount, purpose: str
    ) -> tuple[ContactView, ...]:
        now = self.clock.now()
        if not access.may_read_contacts(actor, account.id):
            await self._refuse_contacts(session, actor, account, purpose)
        if self.box is None:
            raise TicketError("no secret key configured: contacts cannot be decrypted")
        contacts = list(
            await session.scalars(select(m.Contact).where(m.Contact.account_id == account.id).order_by(m.Contact.role))
        )
        views = tuple(
            ContactView(
                c.role,
                c.purpose,
                self.box.decrypt(c.name_enc),
                self.box.decrypt(c.phone_enc) if c.phone_enc else None,
                self.box.decrypt(c.email_enc) if c.email_enc else None,
                c.verified_on,
            )
            for c in contacts
        )
        fields = sorted({f for c in views for f in ("name", "phone", "email") if getattr(c, f)})
        session.add(read_row(now, actor.username, actor.role, account.name, fields, purpose, ALLOWED))
        await session.commit()
        return views

    async def _refuse_contacts(
        self, session: AsyncSession, actor: Actor, account: m.KeyAccount, purpose: str
    ) -> NoReturn:
        """A refused attempt at personal data is audited too, committed although the operation fails."""
        session.add(read_row(self.clock.now(), actor.username, actor.role, account.name, [], purpose, REFUSED))
        await session.commit()
        raise Refused(f"{actor.username} ({actor.role}) may not read the contacts of account {account.name}")

    # --- internals: writing --------------------------------------------------------------------------------------

    async def _operate(
        self,
        username: str,
        ticket_id: int,
        action: Action,
        body: Callable[[AsyncSession, Actor, Ticket, datetime], Awaitable[None]],
        expected_version: int | None = None,
    ) -> TicketSummary:
        async with self.sessions() as session:
            actor = await self.actor(session, username)
            ticket = await self._ticket(session, ticket_id)
            names = await self._names_for(session, ticket)
            access.require_ticket(actor, action, self._scope(ticket, names))
            if expected_version is not None and ticket.version != expected_version:
                raise Conflict(
                    f"{ticket.ref} changed since you read it (version {expected_version} -> {ticket.version})"
                )
            ref = ticket.ref  # read now: a rollback expires the ticket's attributes
            try:
                # A step may write before the commit (a transition row, the ticket flushed): the version check
                # can fail there as well as at the commit, and means the same.
                await body(session, actor, ticket, self.clock.now())
            except StaleDataError as exc:
                await session.rollback()
                raise _changed_meanwhile(ref) from exc
            await self._commit(session, ref)
            return self._summary(ticket, names)

    async def _commit(self, session: AsyncSession, ref: str) -> None:
        try:
            await session.commit()
        except StaleDataError as exc:
            await session.rollback()
            raise _changed_meanwhile(ref) from exc

    async def _apply(
        self,
        session: AsyncSession,
        decision: rules.FaultDecision,
        row: _CircuitRow,
        known: Sequence[Ticket | None],
        parent_id: int | None,
        actor: str,
    ) -> tuple[Ticket, FaultOutcome]:
        """Persist a decision; ``known`` are the tickets it may refer to."""
        now = self.clock.now()
        event = decision.event
        if isinstance(decision, rules.OpenTicket):
            ticket = Ticket(
                kind=TICKET,
                parent_id=parent_id,
                account_id=row.account.id,
                circuit_id=row.circuit.id,
                device_id=row.device.id,
                source=event.kind.value,
                cause_key=event.cause,
                title=f"{row.circuit.name}: {event.summary or event.cause}"[:300],
                symptoms=event.summary,
                status=Status.NEW.value,
                impact=event.impact.value,
                priority=decision.priority,
                detected_at=event.detected_at,
                opened_at=now,
                response_time_s=decision.response_time_s,
                restore_time_s=decision.restore_time_s,
                response_due_at=event.detected_at + timedelta(seconds=decision.response_time_s),
                restore_due_at=event.detected_at + timedelta(seconds=decision.restore_time_s),
                escalation_level=0,
                timer_marks=[],
                recurrence_count=0,
            )
            session.add(ticket)
            await session.flush()
            self._record_transition(session, ticket, None, Status.NEW, actor, now)
            self._add_recurrence(session, ticket, event.detected_at, event.kind, event.impact, event.summary)
            return ticket, FaultOutcome(ticket.id, ticket.ref, "opened", ticket.priority)
        ticket = next(t for t in known if t is not None and t.id == decision.ticket_id)
        if isinstance(decision, rules.AppendRecurrence) and await self._already_recorded(session, ticket.id, event):
            # The same occurrence reported again (an Alertmanager repeat, a replayed event): nothing new happened.
            return ticket, FaultOutcome(ticket.id, ticket.ref, "duplicate", ticket.priority)
        if isinstance(decision, rules.ReopenTicket):
            await self._to(session, ticket, Status.REOPENED, actor, now)
            if parent_id is not None:
                ticket.parent_id = parent_id
            action = "reopened"
        else:
            if ticket.fault_cleared_at is not None:
                # The fault is back: the restoration clock runs again.
                ticket.fault_cleared_at = None
                await self._restart_clock(session, ticket, event.detected_at, only_reason="fault_cleared")
            if ticket.parent_id is None and parent_id is not None:
                ticket.parent_id = parent_id
            action = "appended"
        if event.cause not in await self._active_causes(session, ticket):
            detail = {"cause": event.cause, "kind": event.kind.value}
            self._event(session, ticket, rules.CAUSE_ADDED, actor, event.detected_at, detail)
        self._add_recurrence(session, ticket, event.detected_at, event.kind, event.impact, event.summary)
        change = decision.impact_change
        if change is not None:
            ticket.impact, ticket.priority = change.new.value, change.priority
            detail = {"from": change.old.value, "to": change.new.value, "priority": change.priority}
            self._event(session, ticket, "impact_changed", actor, now, detail)
        return ticket, FaultOutcome(ticket.id, ticket.ref, action, ticket.priority, change is not None)

    async def _clear(self, session: AsyncSession, row: _CircuitRow, event: rules.FaultCleared) -> ClearOutcome | None:
        latest = await self._carrying(session, row.circuit.id, event.cause)
        decision = rules.decide_clear(event, await self._state_of(session, latest), row.account.auto_resolve)
        if decision is None or latest is None:
            return None
        ticket, actor = latest, "system:recovery"
        if isinstance(decision, rules.ClearCause):
            self._event(session, ticket, rules.CAUSE_CLEARED, actor, decision.cleared_at, {"cause": event.cause})
            return None
        ticket.fault_cleared_at = decision.cleared_at
        self._event(session, ticket, rules.FAULT_CLEARED, actor, decision.cleared_at, {"cause": event.cause})
        await self._stop_clock(session, ticket, decision.cleared_at, "fault_cleared")
        if decision.resolve:
            await self._to(session, ticket, Status.RESOLVED, actor, decision.cleared_at)
        return ClearOutcome(ticket.id, ticket.ref, decision.resolve)

    def _open_incident(self, session: AsyncSession, spec: rules.OpenIncident, device_id: int, now: datetime) -> Ticket:
        incident = Ticket(
            kind=INCIDENT,
            device_id=device_id,
            source=rules.FaultKind.DEVICE_DOWN.value,
            cause_key=spec.cause,
            title=spec.title,
            symptoms=spec.title,
            status=Status.NEW.value,
            impact=spec.impact.value,
            priority=spec.priority,
            detected_at=spec.detected_at,
            opened_at=now,
            escalation_level=0,
            timer_marks=[],
            recurrence_count=0,
        )
        session.add(incident)
        return incident

    @staticmethod
    async def _already_recorded(session: AsyncSession, ticket_id: int, event: rules.FaultEvent) -> bool:
        found = await session.scalar(
            select(func.count()).where(
                Recurrence.ticket_id == ticket_id,
                Recurrence.detected_at == event.detected_at,
                Recurrence.source == event.kind.value,
            )
        )
        return bool(found)

    @staticmethod
    async def _seen(session: AsyncSession, ticket_id: int, detected_at: datetime) -> bool:
        """Whether the ticket already has the occurrence detected at that instant."""
        found = await session.scalar(
            select(Recurrence.id).where(Recurrence.ticket_id == ticket_id, Recurrence.detected_at == detected_at)
        )
        return found is not None

    @staticmethod
    def _add_recurrence(
        session: AsyncSession,
        ticket: Ticket,
        detected_at: datetime,
        source: rules.FaultKind,
        impact: rules.Impact,
        summary: str,
    ) -> None:
        session.add(
            Recurrence(
                ticket_id=ticket.id, detected_at=detected_at, source=source.value, impact=impact.value, summary=summary
            )
        )
        ticket.recurrence_count += 1

    async def _to(self, session: AsyncSession, ticket: Ticket, target: Status, actor: str, at: datetime) -> None:
        """A status change with what it means for the clocks."""
        self._transition(session, ticket, target, actor, at)
        if target is Status.PENDING_CUSTOMER:
            await self._stop_clock(session, ticket, at, "pending_customer")
        elif target in (Status.IN_PROGRESS, Status.DISPATCHED):
            await self._restart_clock(session, ticket, at, only_reason="pending_customer")
        elif target is Status.RESOLVED:
            ticket.resolved_at = at
            await self._stop_clock(session, ticket, at, "resolved")
            self._record_verdict(session, ticket, actor, at, await self._stops(session, ticket.id))
        elif target is Status.CLOSED:
            ticket.closed_at = at
        elif target is Status.REOPENED:
            ticket.resolved_at = ticket.closed_at = ticket.fault_cleared_at = None
            ticket.restore_net_s = None  # the clock runs on; the verdict is taken again at the next resolution
            await self._restart_clock(session, ticket, at)

    def _record_verdict(
        self, session: AsyncSession, ticket: Ticket, actor: str, at: datetime, stops: Sequence[StopClock]
    ) -> None:
        """The restoration verdict at the moment of resolution: on the ticket and as a ``restore_verdict`` event."""
        view = timer_view(ticket, stops)
        verdict = restore_verdict(view) if view is not None else None
        if verdict is not None:
            ticket.restore_net_s = verdict.net_s
            self._event(session, ticket, RESTORE_VERDICT, actor, at, asdict(verdict))

    def _transition(self, session: AsyncSession, ticket: Ticket, target: Status, actor: str, at: datetime) -> None:
        current = Status(ticket.status)
        check_transition(ticket.ref, current, target)
        if current in UNANSWERED and target in ANSWERS and not actor.startswith("system:"):
            ticket.acknowledged_at = ticket.acknowledged_at or at
        ticket.status = target.value
        self._record_transition(session, ticket, current, target, actor, at)

    @staticmethod
    def _record_transition(
        session: AsyncSession, ticket: Ticket, current: Status | None, target: Status, actor: str, at: datetime
    ) -> None:
        session.add(
            TicketTransition(
                ticket_id=ticket.id,
                at=at,
                actor=actor,
                from_status=current.value if current else None,
                to_status=target.value,
            )
        )

    @staticmethod
    def _event(
        session: AsyncSession, ticket: Ticket, kind: str, actor: str, at: datetime, detail: dict[str, Any]
    ) -> None:
        session.add(TicketEvent(ticket_id=ticket.id, at=at, actor=actor, kind=kind, detail=detail))

    async def _stop_clock(self, session: AsyncSession, ticket: Ticket, at: datetime, reason: str) -> None:
        """Stop the restoration clock unless it is stopped already (intervals never overlap)."""
        stops = await self._stops(session, ticket.id)
        if not any(s.end_at is None for s in stops):
            session.add(StopClock(ticket_id=ticket.id, start_at=at, reason=reason))
        await self._refresh_due(session, ticket)

    async def _restart_clock(
        self, session: AsyncSession, ticket: Ticket, at: datetime, only_reason: str | None = None
    ) -> None:
        for stop in await self._stops(session, ticket.id):
            if stop.end_at is None and (only_reason is None or stop.reason == only_reason):
                stop.end_at = max(at, stop.start_at)
        await self._refresh_due(session, ticket)

    async def _refresh_due(self, session: AsyncSession, ticket: Ticket) -> None:
        await session.flush()
        view = timer_view(ticket, await self._stops(session, ticket.id))
        if view is not None:
            ticket.restore_due_at = restoration_due_at(view)

    async def _file_case(self, session: AsyncSession, ticket: Ticket, now: datetime) -> None:
        assert ticket.cause_category is not None and ticket.resolution is not None
        device = await session.get(m.Device, ticket.device_id) if ticket.device_id else None
        platform = device.platform if device else ""
        summaries = await session.scalars(select(Recurrence.summary).where(Recurrence.ticket_id == ticket.id))
        symptoms = "\n".join(dict.fromkeys([ticket.title, ticket.symptoms, *summaries])).strip()
        case = await session.scalar(select(FaultCase).where(FaultCase.ticket_id == ticket.id))
        if case is None:
            case = FaultCase(ticket_id=ticket.id, created_at=now)
            session.add(case)
        case.cause_category, case.platform, case.symptoms = ticket.cause_category, platform, symptoms
        case.resolution = ticket.resolution
        case.search_text = search_text(symptoms, ticket.cause_category, platform, ticket.resolution)


__all__ = [
    "ClearOutcome",
    "FaultOutcome",
    "IncidentOutcome",
    "OpenTicketCounts",
    "TicketDetail",
    "TicketService",
    "TicketSummary",
    "TimerNotice",
    "timer_view",
]
