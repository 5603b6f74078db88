"""``noc serve``: one process runs the scheduler and collectors, the measurement pipeline, SLA evaluation and the
exporter snapshot beside the web app.

Every loop is a task owned by :class:`NocService`; ``stop`` cancels them and waits, so in-flight polls end
cleanly (each poll's rows are written in one short transaction, never half). The inventory is read at start: an
import while the service runs takes effect at its next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from collectors.snmp.poll import SnmpCollector
from collectors.ssh import SshCollector
from exporters.collector import PollerMetrics
from exporters.snapshot import CircuitInfo, DeviceInfo, Snapshot, TicketCounts
from noc import models as m
from noc.crypto import SecretBox
from noc.pipeline import (
    DeviceObservation,
    InterfaceObservation,
    Observation,
    Poller,
    ProbeObservation,
    load_plan,
    ssh_settings,
)
from noc.polling import snmp_client
from noc.settings import PollerSettings
from noc.slaflow import SlaEngine, build_reports, load_engine_inputs
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


def snapshot_listener(snapshot: Snapshot) -> Callable[[Observation], None]:
    def listen(obs: Observation) -> None:
        if isinstance(obs, DeviceObservation):
            snapshot.device_polled(obs.device, obs.available, obs.uptime_s, obs.ts)
        elif isinstance(obs, InterfaceObservation):
            snapshot.interface_measured(obs.rate)
        elif isinstance(obs, ProbeObservation) and obs.sample.error is None:
            snapshot.probe_measured(obs.sample)

    return listen


class NocService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        box: SecretBox,
        settings: PollerSettings,
        snapshot: Snapshot,
        metrics: PollerMetrics,
        tickets: TicketService,
    ) -> None:
        self._sessions, self._box, self._settings = sessions, box, settings
        self.snapshot, self._metrics, self.tickets = snapshot, metrics, tickets
        self._tasks: list[asyncio.Task[None]] = []
        self._stack = contextlib.AsyncExitStack()
        self.poller: Poller | None = None
        self.sla: SlaEngine | None = None

    async def start(self) -> None:
        async with self._sessions() as session:
            plan = await load_plan(session, self._box, self._settings)
            devices, circuits = await inventory_for_snapshot(session)
            engine_inputs = await load_engine_inputs(session)
        self.snapshot.set_inventory(devices, circuits)
        client = self._stack.enter_context(snmp_client(self._settings))
        snmp = SnmpCollector(
            client,
            timeout_s=self._settings.timeout_s,
            retries=self._settings.retries,
            rediscover_after_s=self._settings.discovery_interval_s,
        )
        ssh = await self._stack.enter_async_context(SshCollector(ssh_settings(self._settings)))
        self.sla = SlaEngine(self._sessions, engine_inputs, DetectorSettings())
        self.sla.listeners.append(self._on_sla_event)
        self.poller = Poller(
            self._sessions,
            plan,
            self._settings,
            snmp,
            ssh,
            listeners=[snapshot_listener(self.snapshot), self.sla.observe, self._on_device],
            metrics=self._metrics,
        )
        self._spawn("poll", self.poller.scheduler.run(plan.targets()))
        self._spawn("probe", self._every(self._settings.interval_s, self.poller.probe_cycle))
        self._spawn("sla", self._every(self._settings.sla_tick_s, self._sla_tick))
        self._spawn("month", self._every(self._settings.sla_report_interval_s, self._month_to_date))
        self._spawn("purge", self._every(3600.0, self._purge))
        self._spawn("timers", self._every(60.0, self._timers))
        log.info("polling %d devices, probing %d circuits", len(plan.devices), sum(len(d.probes) for d in plan.devices))

    def _spawn(self, name: str, work: Awaitable[object]) -> None:
        async def guarded() -> None:
            await work

        self._tasks.append(asyncio.create_task(guarded(), name=f"noc-{name}"))

    async def _every(self, interval_s: float, job: Callable[[], Awaitable[object]]) -> None:
        """Run ``job`` every ``interval_s`` seconds; one failure is logged and the loop goes on."""
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background job %s failed", getattr(job, "__name__", job))
            next_at += interval_s
            await asyncio.sleep(max(0.0, next_at - loop.time()))

    async def _sla_tick(self) -> None:
        assert self.sla is not None
        await self.sla.tick()
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
        """Breaches open (or append to) tickets; recoveries clear their condition."""
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

    async def _on_device(self, obs: Observation) -> None:
        """A device going down opens one incident over its circuits; coming back clears them."""
        if not isinstance(obs, DeviceObservation) or obs.transition is None:
            return
        try:
            if obs.transition == "down":
                summary = f"device {obs.device} stopped answering: {obs.error or 'no answer'}"
                await self.tickets.handle_device_down(
                    ticket_rules.DeviceDown(obs.device, obs.down_since or obs.ts, summary=summary)
                )
            else:
                await self.tickets.handle_device_up(ticket_rules.DeviceUp(obs.device, obs.ts))
        except TicketError:
            log.exception("device %s %s did not reach its tickets", obs.device, obs.transition)

    async def _timers(self) -> None:
        for notice in await self.tickets.run_timers():
            log.warning("ticket %s: %s, notify %s", notice.ref, notice.event, notice.notify)

    async def _purge(self) -> None:
        assert self.poller is not None
        await self.poller.store.purge(timedelta(days=self._settings.raw_retention_days), utcnow())

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self._stack.aclose()
