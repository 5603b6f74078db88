"""``noc serve``'s measurement path, wired: the poll stage publishes on the bus; the store, the SLA engine, the
exporter snapshot and the ticket rules consume it, each in its own supervised loop.

Start continues what the last run left: devices that were down stay down from the same start (no second outage,
incident or recurrence), open breaches stay open from the same start, and messages a stop left on the bus are
applied first. Stop is bounded by ``service.stop_timeout_s``: polls in flight are cancelled, the consumers get
what time is left to commit what they hold, and whatever is not committed stays on the bus for the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from collectors.availability import AvailabilityState
from collectors.ssh import SshCollector
from exporters.collector import FlowMetrics, PollerMetrics
from exporters.snapshot import CircuitInfo, DeviceInfo, Snapshot, TicketCounts
from noc import models as m
from noc.crypto import SecretBox
from noc.flow.bus import Bus, Subscription
from noc.flow.collect import snmp_client, snmp_collector
from noc.flow.connect import open_bus
from noc.flow.consumers import Apply, ConsumerRunner, has_transition, snapshot_consumer, ticket_consumer
from noc.flow.gaps import GapRecorder
from noc.flow.plan import PollPlan, inventory_version, load_plan
from noc.flow.sla import SlaEngine
from noc.flow.stage import PollStage, ssh_settings
from noc.flow.supervise import Supervisor
from noc.messages import Message
from noc.notify.notifier import Notifier
from noc.notify.outbox import AccountRules
from noc.settings import Settings
from noc.store.measurements import MeasurementStore
from noc.store.reports import build_reports
from noc.store.sla import load_engine_inputs
from noc.timeutil import utcnow
from sla.breach import Breach, DetectorSettings, Event
from sla.terms import terms_from_contract
from tickets import rules as ticket_rules
from tickets.errors import TicketError
from tickets.service import TicketService

log = logging.getLogger(__name__)


async def inventory_for_snapshot(session: AsyncSession) -> tuple[list[DeviceInfo], list[CircuitInfo]]:
    """Only what labels may carry: names, platform, region, tier, contract limits. No personal data."""
    devices = (await session.scalars(select(m.Device).where(m.Device.enabled))).all()
    names = {d.id: d.name for d in devices}
    tiers = {a.id: a.tier for a in (await session.scalars(select(m.KeyAccount))).all()}
    contracts = {c.id: c for c in (await session.scalars(select(m.Contract))).all()}
    circuits = []
    for c in (await session.scalars(select(m.Circuit))).all():
        if c.device_id not in names:
            continue
        contract = contracts[c.contract_id]
        terms = terms_from_contract(contract)
        circuits.append(
            CircuitInfo(
                name=c.name,
                device=names[c.device_id],
                interface=c.interface_name,
                account_tier=tiers[c.account_id],
                contract=contract.name,
                rtt_ceiling_s=None if terms.latency_ceiling_ms is None else terms.latency_ceiling_ms / 1000,
                loss_ceiling_ratio=None if terms.loss_ceiling_pct is None else terms.loss_ceiling_pct / 100,
                jitter_ceiling_s=None if terms.jitter_ceiling_ms is None else terms.jitter_ceiling_ms / 1000,
            )
        )
    return [DeviceInfo(d.name, d.platform, d.region, d.role) for d in devices], circuits


async def continue_availability(
    session: AsyncSession, threshold: int
) -> dict[str, tuple[AvailabilityState, m.DeviceStatus]]:
    """Each device's stored availability, repaired: a down device keeps its oldest open outage (later open ones a
    crash left are merged into it), an up device has no open outage (closed when it came back)."""
    names = {ident: name for ident, name in await session.execute(select(m.Device.id, m.Device.name))}
    found, open_rows = await _stored(session, None)
    statuses = {s.device_id: s for s in found}
    o = m.DeviceOutage
    out: dict[str, tuple[AvailabilityState, m.DeviceStatus]] = {}
    for device_id, status in statuses.items():
        rows = open_rows.get(device_id, [])
        state = stored_state(status, rows, threshold)
        if state.up is False and len(rows) > 1:
            await session.execute(delete(o).where(o.id.in_([r.id for r in rows[1:]])))
            log.warning("device %s: %d extra open outages merged into the one since %s", names[device_id],
                        len(rows) - 1, rows[0].start_at.isoformat())  # fmt: skip
        elif state.up is not False:
            back = status.since or status.last_ok_at or utcnow()
            for row in rows:
                row.end_at = max(back, row.start_at)
        out[names[device_id]] = (state, status)
    await session.commit()
    return out


async def _stored(
    session: AsyncSession, device_ids: set[int] | None
) -> tuple[Sequence[m.DeviceStatus], dict[int, list[m.DeviceOutage]]]:
    """Stored statuses and open outages (oldest first), of these devices or of all."""
    status_query, o = select(m.DeviceStatus), m.DeviceOutage
    outage_query = select(o).where(o.end_at.is_(None)).order_by(o.start_at)
    if device_ids is not None:
        status_query = status_query.where(m.DeviceStatus.device_id.in_(device_ids))
        outage_query = outage_query.where(o.device_id.in_(device_ids))
    open_rows: dict[int, list[m.DeviceOutage]] = {}
    for row in (await session.scalars(outage_query)).all():
        open_rows.setdefault(row.device_id, []).append(row)
    return (await session.scalars(status_query)).all(), open_rows


def stored_state(status: m.DeviceStatus, open_outages: Sequence[m.DeviceOutage], threshold: int) -> AvailabilityState:
    """The availability a poller continues from: a down device stays down from its oldest open outage."""
    if status.available is not False:
        return AvailabilityState(up=status.available)
    start = open_outages[0].start_at if open_outages else (status.since or status.last_poll_at or utcnow())
    return AvailabilityState(
        up=False,
        consecutive_failures=max(status.consecutive_failures, threshold),
        first_failure_at=start,
        down_since=start,
    )


async def availability_of(
    session: AsyncSession, devices: dict[str, int], threshold: int
) -> dict[str, tuple[AvailabilityState, datetime | None]]:
    """The stored availability of these devices (name -> id) and their last poll, read only: what a poller taking
    them over continues (the service that owns the store repairs what a crash left, at its start)."""
    ids = {ident: name for name, ident in devices.items()}
    statuses, open_rows = await _stored(session, set(ids))
    return {
        ids[s.device_id]: (stored_state(s, open_rows.get(s.device_id, []), threshold), s.last_poll_at) for s in statuses
    }


class NocService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        box: SecretBox,
        settings: Settings,
        snapshot: Snapshot,
        metrics: PollerMetrics,
        flow_metrics: FlowMetrics,
        tickets: TicketService,
    ) -> None:
        self._sessions, self._box, self._settings = sessions, box, settings
        self.snapshot, self._metrics, self.tickets = snapshot, metrics, tickets
        self.name = settings.poller.name or socket.gethostname()
        self.supervisor = Supervisor(flow_metrics, settings.bus.retry_initial_s, settings.bus.retry_max_s)
        self._flow_metrics = flow_metrics
        self._stack = contextlib.AsyncExitStack()
        self.bus: Bus | None = None
        self.stage: PollStage | None = None
        self.sla: SlaEngine | None = None
        self.store = MeasurementStore(sessions, flow_metrics)
        self.runners: list[ConsumerRunner] = []
        self.gaps = GapRecorder(sessions)
        self._intervals: dict[str, float] = {}
        self._version = -1
        self.notifier = Notifier(sessions, settings.notify, settings.web.public_url, AccountRules.of(settings.tickets))

    async def _inventory(self, session: AsyncSession) -> PollPlan:
        """The plan and the snapshot's inventory (devices with their poll intervals), and the gaps watched."""
        poller = self._settings.poller
        plan = await load_plan(session, self._box, poller)
        devices, circuits = await inventory_for_snapshot(session)
        intervals = {d.target.name: d.target.poll_interval_s for d in plan.devices}
        devices = [replace(d, interval_s=intervals.get(d.name, poller.interval_s)) for d in devices]
        self.snapshot.set_inventory(devices, circuits, utcnow())
        self._intervals = {d.name: d.interval_s for d in devices}
        self._version = await inventory_version(session)
        return plan

    async def start(self) -> None:
        poller, fleet = self._settings.poller, self._settings.fleet
        async with self._sessions() as session:
            plan = await self._inventory(session)
            engine_inputs = await load_engine_inputs(session)
            states = await continue_availability(session, poller.down_after_failures)
        for name, (state, status) in states.items():
            if status.last_poll_at is not None:
                self.snapshot.device_polled(name, state.up is not False, None, status.last_poll_at)
        await self.gaps.start(self._intervals, utcnow())
        self.sla = SlaEngine(self._sessions, engine_inputs, DetectorSettings())
        continued = await self.sla.restore()
        self.sla.listeners.append(self._on_sla_event)
        bus = self.bus = open_bus(self._settings.bus, self.name)
        await bus.start()
        sla = self.sla

        async def observe(messages: Sequence[Message]) -> None:
            for message in messages:
                sla.observe(message)

        self._consume("store", self.store.apply, bus.subscribe("store"))
        self._consume("sla", observe, bus.subscribe("sla"))
        self._consume(
            "snapshot", snapshot_consumer(self.snapshot), bus.subscribe(f"snapshot:{self.name}", durable=False)
        )
        self._consume("tickets", ticket_consumer(self.tickets), bus.subscribe("tickets", accepts=has_transition))
        gaps = self._consume("gaps", self.gaps.apply, bus.subscribe("gaps"))

        async def gap_tick() -> None:
            # no news while polls are on their way (a replay) or the bus is away is no gap
            if not gaps.busy and not gaps.health.failing:
                await self.gaps.tick(utcnow())

        self.supervisor.every("gaps", fleet.heartbeat_s, gap_tick)
        self.supervisor.every("inventory", fleet.inventory_check_s, self._inventory_tick)
        if poller.enabled:
            client = self._stack.enter_context(snmp_client(poller))
            snmp = snmp_collector(client, poller)
            ssh = await self._stack.enter_async_context(SshCollector(ssh_settings(poller)))
            stage = self.stage = PollStage(plan, poller, snmp, ssh, bus, self.name, self._metrics)
            stage.restore({name: state for name, (state, _) in states.items()})
            stage.scheduler.assign(plan.targets())
            self.supervisor.every("probe", poller.interval_s, stage.probe_round)
        self.supervisor.every("sla-tick", poller.sla_tick_s, self._sla_tick)
        self.supervisor.every("month", poller.sla_report_interval_s, self._month_to_date)
        self.supervisor.every("purge", 3600.0, self._purge)
        self.supervisor.every("timers", self._settings.tickets.timers_interval_s, self._timers)
        if self.notifier.configured:
            await self.notifier.start()
            self._stack.push_async_callback(self.notifier.close)
            self.supervisor.every("notify", self._settings.notify.interval_s, self.notifier.tick)
        down = sum(1 for state, _ in states.values() if state.up is False)
        log.info(
            "polling %d devices (%d down, continued), probing %d circuits, %d open breaches continued; bus %s",
            len(plan.devices) if poller.enabled else 0,
            down,
            sum(len(d.probes) for d in plan.devices) if poller.enabled else 0,
            continued,
            "memory" if self._settings.bus.url == "memory" else "redis",
        )

    async def _inventory_tick(self) -> None:
        """An inventory change reaches the running service: the snapshot (a removed device's series go), the gaps
        watched and, when it polls, its plan (a new device is polled within one interval, a removed one stops)."""
        async with self._sessions() as session:
            if await inventory_version(session) == self._version:
                return
            plan = await self._inventory(session)
        await self.gaps.set_inventory(self._intervals)
        if self.stage is not None:
            self.stage.set_plan(plan)
            _, stopped = self.stage.scheduler.assign(plan.targets())
            for name in stopped:
                self.stage.tracker.forget(name)
        log.info("inventory changed: %d devices watched", len(self._intervals))

    def _consume(self, name: str, apply: Apply, subscription: Subscription) -> ConsumerRunner:
        assert self.bus is not None
        runner = ConsumerRunner(
            name,
            apply,
            subscription,
            self.bus,
            self._settings.bus,
            self.supervisor.stage(name),
            self._flow_metrics,
            stopping=self.supervisor.stopping,
        )
        self.runners.append(runner)
        self.supervisor.spawn(f"consume-{name}", runner.run)
        return runner

    def failing(self) -> list[str]:
        """The stages failing now (what ``/healthz`` names)."""
        return sorted(h.name for h in self.supervisor.failing())

    async def _sla_tick(self) -> None:
        assert self.sla is not None
        try:
            await self.sla.tick()
        finally:  # the snapshot shows what the engine knows even while its storage fails
            active: dict[str, set[str]] = {name: set() for name in self.sla.circuits}
            for breach in self.sla.detector.active():
                active.setdefault(breach.circuit, set()).add(breach.objective)
            for circuit, objectives in active.items():
                self.snapshot.breaches_changed(circuit, frozenset(objectives))
                self.snapshot.circuit_classified(circuit, self.sla.available_now(circuit))
        counts = await self.tickets.open_counts()
        self.snapshot.tickets_counted(TicketCounts(counts.by_priority_status, counts.response_overdue))

    async def _month_to_date(self) -> None:
        """Month-to-date availability and objectives per circuit for /metrics, from the same rollups and rules as
        the monthly report; each contract's month is its own local month."""
        now = utcnow()
        async with self._sessions() as session:
            contracts = (await session.scalars(select(m.Contract))).all()
            by_month: dict[tuple[int, int], list[str]] = {}
            for contract in contracts:
                local = now.astimezone(ZoneInfo(contract.timezone))
                by_month.setdefault((local.year, local.month), []).append(contract.name)
            for (year, month), names in by_month.items():
                for report, _ in await build_reports(session, year, month, contract_names=names, as_of=now):
                    for circuit in report.circuits:
                        pct = circuit.availability_pct
                        self.snapshot.month_to_date(
                            circuit.circuit,
                            None if pct is None else float(pct) / 100,
                            {o.objective: o.met for o in circuit.objectives if o.met is not None},
                        )

    async def _on_sla_event(self, event: Event) -> None:
        """Breaches open (or append to) tickets; recoveries clear their condition. A database that is away
        propagates (the engine offers the event again); a ticket rule's refusal is logged."""
        settings = self.tickets.settings
        try:
            if isinstance(event, Breach):
                fault = ticket_rules.sla_breach_fault(
                    event.circuit, event.objective, event.measured, event.limit, event.since, settings
                )
                await self.tickets.handle_fault(fault)
            else:
                await self.tickets.handle_clear(ticket_rules.sla_recovery(event.circuit, event.objective, event.until))
        except TicketError:
            log.exception("SLA event for %s did not reach its ticket", event.circuit)

    async def _timers(self) -> None:
        for notice in await self.tickets.run_timers():
            log.warning("ticket %s: %s, notify %s", notice.ref, notice.event, notice.notify)

    async def _purge(self) -> None:
        poller = self._settings.poller
        await self.store.purge(
            timedelta(days=poller.raw_retention_days), timedelta(days=poller.rollup_retention_days), utcnow()
        )

    async def stop(self) -> None:
        """Within ``service.stop_timeout_s``: polls cancelled, consumers drained as far as time allows, the rest
        left on the bus (memory: written to the spill files) for the next start."""
        clock = asyncio.get_running_loop()
        started = clock.time()
        deadline = started + self._settings.service.stop_timeout_s
        log.info("stopping: polls in flight are cancelled, consumers get %.0f s to commit", deadline - started)

        def left(share: float = 1.0) -> float:
            return max(0.05, (deadline - clock.time()) * share)

        if self.stage is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(left(0.2)):
                    await self.stage.scheduler.unassign_all()
        await self.supervisor.cancel(["probe"], timeout_s=left(0.1))
        await asyncio.gather(*(r.drain(left(0.3)) for r in self.runners if r.name != "snapshot"))
        storage_ok = not any(self.supervisor.stage(n).failing for n in ("sla-tick", "store"))
        # Every loop finishes the step in hand and returns: a consumer applies and acknowledges what it took, and
        # takes nothing more (a message that reached the bus after the drain stays there for the next start).
        # Only then the engine's last tick, so nothing the SLA consumer acknowledged misses it.
        await self.supervisor.stop(left(0.4))
        if self.sla is not None and storage_ok:
            # What the engine decided since its last tick. Never cut off mid-statement (a cancelled SQLite
            # statement can leave its connection unclosable): waited for, within what time is left.
            last = asyncio.create_task(self.sla.tick(), name="noc-sla-last-tick")
            await asyncio.wait([last], timeout=left(0.5))
        if self.bus is not None:
            await self.bus.close()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(left()):
                await self._stack.aclose()
        log.info("stopped in %.1f s", clock.time() - started)
