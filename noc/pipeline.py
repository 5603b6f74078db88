"""The measurement pipeline: inventory → targets → collectors → rates and availability → storage and listeners.

This is assembly: the only place that knows both the database and the collectors. Collectors get targets with
credentials decrypted at the last moment and return samples; the store turns them into rows; listeners (the
``noc poll`` printer today, the SLA engine and the exporter snapshot later) receive typed observations.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from collectors.availability import AvailabilityState
from collectors.counters import DeviceRates, InterfaceRate, RateTracker
from collectors.errors import BadAnswer, CollectorError, CredentialsRejected, DeviceUnreachable, WeakCryptoRefused
from collectors.icmp import IcmpSettings, icmp_cycle
from collectors.model import DeviceSample, DeviceTarget, InterfaceSample, ProbeSample, ProbeTarget, SnmpCredentials
from collectors.model import SshCredentials as SshCreds
from collectors.scheduler import CycleReport, PollRecord, Scheduler, SchedulerSettings
from collectors.snmp.discovery import DeviceDiscovery
from collectors.snmp.poll import SnmpCollector
from collectors.ssh import PingOptions, SshCollector, SshCollectorSettings
from exporters.collector import PollerMetrics
from noc import models as m
from noc.crypto import SecretBox
from noc.settings import PollerSettings
from noc.timeutil import utcnow

log = logging.getLogger(__name__)
TIMETICKS_PER_SECOND = 100
# SSH states that mean the device itself did not let us in; any other state is the device answering.
SSH_DEVICE_FAILURES = frozenset({"auth_failed", "timeout", "refused", "unreachable", "host_key_changed", "error"})


# --- what the pipeline tells its listeners ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeviceObservation:
    device: str
    ts: datetime
    # A device is available until N consecutive polls fail (then down from the first of them), as the rule says.
    available: bool
    uptime_s: float | None
    error: str | None
    # Set on the poll that changed the device's state: "down" (dated ``down_since``) or "recovered".
    transition: Literal["down", "recovered"] | None = None
    down_since: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "device",
            "device": self.device,
            "ts": self.ts.isoformat(),
            "available": self.available,
            "uptime_s": self.uptime_s,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class InterfaceObservation:
    rate: InterfaceRate

    def to_json(self) -> dict[str, Any]:
        r = self.rate
        return {
            "kind": "interface",
            "device": r.device,
            "ts": r.ts.isoformat(),
            "if_name": r.if_name,
            "if_index": r.if_index,
            "oper_status": r.oper_status,
            "in_bps": r.in_bits_per_second,
            "out_bps": r.out_bits_per_second,
            "in_utilisation_ratio": r.in_utilisation_ratio,
            "out_utilisation_ratio": r.out_utilisation_ratio,
            "verdict": r.in_verdict.value if r.in_verdict == r.out_verdict else f"{r.in_verdict}/{r.out_verdict}",
        }


@dataclass(frozen=True, slots=True)
class ProbeObservation:
    sample: ProbeSample
    method: Literal["ssh", "icmp"]

    def to_json(self) -> dict[str, Any]:
        s = self.sample
        return {
            "kind": "probe",
            "circuit": s.circuit,
            "device": s.device,
            "target": s.target,
            "method": self.method,
            "ts": s.ts.isoformat(),
            "sent": s.sent,
            "received": s.received,
            "loss_ratio": s.loss_ratio,
            "rtt_min_ms": s.rtt_min_ms,
            "rtt_avg_ms": s.rtt_avg_ms,
            "rtt_max_ms": s.rtt_max_ms,
            "jitter_ms": s.jitter_ms,
            "error": s.error,
        }


Observation = DeviceObservation | InterfaceObservation | ProbeObservation
Listener = Callable[[Observation], Awaitable[None] | None]


# --- the plan: what to poll, built from the inventory ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DevicePlan:
    device_id: int
    target: DeviceTarget
    probes: tuple[ProbeTarget, ...]


@dataclass(frozen=True, slots=True)
class PollPlan:
    devices: tuple[DevicePlan, ...]
    device_ids: dict[str, int]
    circuit_ids: dict[str, int]

    def targets(self) -> list[DeviceTarget]:
        return [d.target for d in self.devices]

    def ssh_probes(self) -> list[tuple[DeviceTarget, list[ProbeTarget]]]:
        return [
            (d.target, [p for p in d.probes if p.method == "ssh"])
            for d in self.devices
            if any(p.method == "ssh" for p in d.probes)
        ]

    def icmp_probes(self) -> list[ProbeTarget]:
        return [p for d in self.devices for p in d.probes if p.method == "icmp"]


def _snmp_credentials(profile: m.SnmpProfile, box: SecretBox) -> SnmpCredentials:
    def plain(token: str | None) -> str | None:
        return None if token is None else box.decrypt(token)

    return SnmpCredentials(
        version="3" if profile.version == "3" else "2c",
        community=plain(profile.community_enc),
        user=profile.user,
        auth_protocol=profile.auth_protocol,  # type: ignore[arg-type]  # validated by the inventory schema
        auth_key=plain(profile.auth_key_enc),
        priv_protocol=profile.priv_protocol,  # type: ignore[arg-type]
        priv_key=plain(profile.priv_key_enc),
        allow_weak_crypto=profile.allow_weak_crypto,
    )


def _ssh_credentials(profile: m.SshProfile, box: SecretBox) -> SshCreds:
    def plain(token: str | None) -> str | None:
        return None if token is None else box.decrypt(token)

    return SshCreds(
        username=profile.username,
        password=plain(profile.password_enc),
        private_key=plain(profile.private_key_enc),
        enable_secret=plain(profile.enable_secret_enc),
    )


async def load_plan(session: AsyncSession, box: SecretBox, settings: PollerSettings) -> PollPlan:
    """Every enabled device with its credentials, interval (tier-A circuits poll faster) and circuit probes."""
    snmp = {p.id: p for p in (await session.scalars(select(m.SnmpProfile))).all()}
    ssh = {p.id: p for p in (await session.scalars(select(m.SshProfile))).all()}
    tiers = {a.id: a.tier for a in (await session.scalars(select(m.KeyAccount))).all()}
    circuits = (await session.scalars(select(m.Circuit).order_by(m.Circuit.name))).all()
    devices = (await session.scalars(select(m.Device).where(m.Device.enabled).order_by(m.Device.name))).all()
    by_device: dict[int, list[m.Circuit]] = {}
    for circuit in circuits:
        by_device.setdefault(circuit.device_id, []).append(circuit)
    plans = []
    for device in devices:
        own = by_device.get(device.id, [])
        tier_a = any(tiers.get(c.account_id) == "A" for c in own)
        interval = device.poll_interval_s or (settings.tier_a_interval_s if tier_a else settings.interval_s)
        target = DeviceTarget(
            name=device.name,
            address=device.address,
            platform=device.platform,
            snmp=None if device.snmp_profile_id is None else _snmp_credentials(snmp[device.snmp_profile_id], box),
            snmp_port=device.snmp_port,
            ssh=None if device.ssh_profile_id is None else _ssh_credentials(ssh[device.ssh_profile_id], box),
            ssh_port=device.ssh_port,
            poll_interval_s=interval,
            interfaces_of_interest=frozenset(c.interface_name for c in own)
            if settings.circuit_interfaces_only
            else None,
        )
        probes = tuple(
            ProbeTarget(
                circuit=c.name,
                device=device.name,
                target_address=c.far_end_address,
                method="ssh" if c.probe == "ssh" else "icmp",
                vrf=c.vrf,
                source_interface=c.source_interface,
            )
            for c in own
            if c.probe != "none" and c.far_end_address is not None
        )
        plans.append(DevicePlan(device.id, target, probes))
    return PollPlan(
        devices=tuple(plans),
        device_ids={d.name: d.id for d in devices},
        circuit_ids={c.name: c.id for c in circuits},
    )


# --- storage ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DevicePoll:
    """What one device poll produced, collector-independent (SNMP or CLI counters)."""

    device: DeviceSample
    interfaces: tuple[InterfaceSample, ...]
    discovery: DeviceDiscovery | None = None


class MeasurementStore:
    """Rows from observations; one short transaction per device poll so a slow write never holds others."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], plan: PollPlan) -> None:
        self._sessions = sessions
        self._plan = plan
        self._stored_discovery: dict[str, datetime] = {}

    async def record_device(
        self,
        record: PollRecord[DevicePoll],
        state: AvailabilityState,
        rates: DeviceRates | None,
    ) -> None:
        device_id = self._plan.device_ids[record.device]
        async with self._sessions() as session:
            status = await session.get(m.DeviceStatus, device_id) or m.DeviceStatus(device_id=device_id)
            session.add(status)
            available = state.up
            if status.available != available:
                status.since = (
                    record.transition.down_since
                    if record.transition is not None and record.transition.kind == "down"
                    else record.started_at
                )
            status.available = available
            status.last_poll_at = record.started_at
            status.last_error = record.error
            status.consecutive_failures = state.consecutive_failures
            result = record.result
            if result is not None:
                status.last_ok_at = record.started_at
                ticks = result.device.uptime_ticks
                status.uptime_s = None if ticks is None else ticks // TIMETICKS_PER_SECOND
                if result.discovery is not None and self._stored_discovery.get(record.device) != result.discovery.ts:
                    await store_discovery(session, device_id, result.discovery)
                    status.sys_name = result.discovery.system.name
                    status.sys_descr = result.discovery.system.descr
                    status.discovered_at = result.discovery.ts
                    self._stored_discovery[record.device] = result.discovery.ts
            if record.transition is not None:
                await _record_transition(session, device_id, record)
            for rate in rates.interfaces if rates is not None else ():
                session.add(_measurement(device_id, rate))
            await session.commit()

    async def record_probes(self, observations: Sequence[ProbeObservation]) -> None:
        async with self._sessions() as session:
            for obs in observations:
                s = obs.sample
                session.add(
                    m.ProbeMeasurement(
                        circuit_id=self._plan.circuit_ids[s.circuit],
                        ts=s.ts,
                        method=obs.method,
                        sent=s.sent,
                        received=s.received,
                        loss_ratio=s.loss_ratio,
                        rtt_min_ms=s.rtt_min_ms,
                        rtt_avg_ms=s.rtt_avg_ms,
                        rtt_max_ms=s.rtt_max_ms,
                        jitter_ms=s.jitter_ms,
                        error=s.error,
                    )
                )
            await session.commit()

    async def record_cycle(self, report: CycleReport[DevicePoll]) -> None:
        async with self._sessions() as session:
            session.add(
                m.PollCycle(
                    started_at=report.started_at,
                    duration_s=report.duration_s,
                    interval_s=report.interval_s,
                    devices=len(report.records),
                    failed=sum(1 for r in report.records if not r.ok),
                    overrun=report.overrun,
                    overrun_devices=sum(1 for r in report.records if r.overrun),
                )
            )
            await session.commit()

    async def purge(self, retention: timedelta, now: datetime) -> int:
        """Drop raw measurements older than the retention; returns how many rows went."""
        cutoff = now - retention
        async with self._sessions() as session:
            gone = 0
            for model in (m.InterfaceMeasurement, m.ProbeMeasurement):
                result = await session.execute(delete(model).where(model.ts < cutoff))
                gone += int(getattr(result, "rowcount", 0) or 0)
            await session.commit()
        return gone


def _measurement(device_id: int, r: InterfaceRate) -> m.InterfaceMeasurement:
    return m.InterfaceMeasurement(
        device_id=device_id,
        if_name=r.if_name,
        if_index=r.if_index,
        ts=r.ts,
        interval_s=r.interval_s,
        oper_status=r.oper_status,
        speed_bps=r.speed_bps,
        in_bps=r.in_bits_per_second,
        out_bps=r.out_bits_per_second,
        in_utilisation_ratio=r.in_utilisation_ratio,
        out_utilisation_ratio=r.out_utilisation_ratio,
        in_errors_per_s=r.in_errors_per_second,
        out_errors_per_s=r.out_errors_per_second,
        in_discards_per_s=r.in_discards_per_second,
        out_discards_per_s=r.out_discards_per_second,
        verdict=r.in_verdict.value if r.in_verdict == r.out_verdict else f"{r.in_verdict}/{r.out_verdict}",
    )


async def _record_transition(session: AsyncSession, device_id: int, record: PollRecord[DevicePoll]) -> None:
    transition = record.transition
    assert transition is not None
    if transition.kind == "down":
        session.add(m.DeviceOutage(device_id=device_id, start_at=transition.down_since, reason=record.error or ""))
        return
    open_outage = await session.scalar(
        select(m.DeviceOutage)
        .where(m.DeviceOutage.device_id == device_id, m.DeviceOutage.end_at.is_(None))
        .order_by(m.DeviceOutage.start_at.desc())
    )
    if open_outage is not None:
        open_outage.end_at = transition.at


async def store_discovery(session: AsyncSession, device_id: int, discovery: DeviceDiscovery) -> None:
    """Interfaces by name: an index that moved is updated in place; one that vanished is kept, marked absent."""
    stored = {
        i.name: i for i in (await session.scalars(select(m.Interface).where(m.Interface.device_id == device_id))).all()
    }
    seen: set[str] = set()
    for found in discovery.interfaces:
        name = found.if_name or f"ifIndex {found.if_index}"
        if name in seen:
            continue  # agents that repeat a name: the first row wins, deterministically by index order
        seen.add(name)
        row = stored.get(name) or m.Interface(device_id=device_id, name=name)
        row.if_index, row.descr, row.alias = found.if_index, found.if_descr, found.if_alias
        row.if_type, row.speed_bps, row.mtu, row.mac = found.if_type, found.speed_bps, found.mtu, found.mac
        row.admin_status, row.oper_status = found.admin_status or "unknown", found.oper_status or "unknown"
        row.present, row.discovered_at = True, discovery.ts
        session.add(row)
    for name, row in stored.items():
        if name not in seen:
            row.present = False


# --- the poller ------------------------------------------------------------------------------------------------


@dataclass
class Poller:
    """SNMP (or CLI counters) per device on the scheduler, probes per circuit, stored and told to listeners."""

    sessions: async_sessionmaker[AsyncSession]
    plan: PollPlan
    settings: PollerSettings
    snmp: SnmpCollector
    ssh: SshCollector
    listeners: list[Listener] = field(default_factory=list)
    # Run after every cycle, e.g. the SLA engine's evaluation and storage.
    after_cycle: list[Callable[[], Awaitable[object]]] = field(default_factory=list)
    metrics: PollerMetrics | None = None

    def __post_init__(self) -> None:
        self._failure_reason: dict[str, str] = {}
        self._collector_of = {d.target.name: "snmp" if d.target.snmp else "ssh" for d in self.plan.devices}
        self.tracker = RateTracker()
        self.store = MeasurementStore(self.sessions, self.plan)
        self.scheduler: Scheduler[DevicePoll] = Scheduler(
            poll=self._poll_device,
            settings=SchedulerSettings(
                jitter_ratio=self.settings.jitter_ratio,
                max_concurrency=self.settings.concurrency,
                # The SNMP client already retries each request; the scheduler's budget covers a whole device
                # poll (a discovery walk is several requests) and does not multiply the retries again.
                timeout_s=self.settings.timeout_s * (self.settings.retries + 1) * 4,
                retries=0,
                failure_threshold=self.settings.down_after_failures,
            ),
            on_record=self._on_record,
        )

    async def _poll_device(self, target: DeviceTarget) -> DevicePoll:
        if self.metrics is not None:
            self.metrics.in_flight.inc()
        try:
            return await self._poll_with_collector(target)
        except CollectorError as exc:
            self._failure_reason[target.name] = failure_reason(exc)
            raise
        finally:
            if self.metrics is not None:
                self.metrics.in_flight.dec()

    async def _poll_with_collector(self, target: DeviceTarget) -> DevicePoll:
        if target.snmp is not None:
            result = await self.snmp.poll(target)
            return DevicePoll(result.device, result.interfaces, self.snmp.discovery_of(target.name))
        if target.ssh is not None:
            counters = await self.ssh.collect_counters(target)
            if counters.state in SSH_DEVICE_FAILURES:
                raise DeviceUnreachable(f"{target.name}: {counters.state}: {counters.reason}")
            # The device answered; a rejected or unparsable counters command costs its counters, not its availability
            # (the SSH collector logs that state once, on the transition).
            ts = counters.samples[0].ts if counters.samples else utcnow()
            return DevicePoll(DeviceSample(target.name, ts, reachable=True), counters.samples)
        raise CollectorError(f"{target.name}: neither an SNMP nor an SSH profile to poll it with")

    async def _on_record(self, record: PollRecord[DevicePoll]) -> None:
        reason = self._failure_reason.pop(record.device, "timeout")  # a timeout cancels the poll: nothing caught
        if self.metrics is not None:
            self.metrics.poll_duration.labels(collector=self._collector_of.get(record.device, "snmp")).observe(
                record.duration_s
            )
            if not record.ok:
                self.metrics.poll_errors.labels(reason=reason).inc()
            if record.overrun:
                self.metrics.cycle_overruns.inc()
        state = self.scheduler.availability(record.device)
        rates = None
        if record.result is not None:
            rates = self.tracker.update(record.result.device, record.result.interfaces)
        await self.store.record_device(record, state, rates)
        uptime = None
        if record.result is not None and record.result.device.uptime_ticks is not None:
            uptime = record.result.device.uptime_ticks / TIMETICKS_PER_SECOND
        transition = record.transition
        await self._tell(
            DeviceObservation(
                record.device,
                record.started_at,
                state.up is not False,
                uptime,
                record.error,
                None if transition is None else transition.kind,
                None if transition is None else transition.down_since,
            )
        )
        for rate in rates.interfaces if rates is not None else ():
            await self._tell(InterfaceObservation(rate))

    async def _tell(self, observation: Observation) -> None:
        for listener in self.listeners:
            outcome = listener(observation)
            if outcome is not None:
                await outcome

    async def probe_cycle(self) -> list[ProbeObservation]:
        ssh_part = self.ssh.probe_cycle(self.plan.ssh_probes())
        icmp = IcmpSettings(
            count=self.settings.probe_count,
            interval_s=self.settings.probe_interval_s,
            timeout_s=self.settings.probe_timeout_s,
            privileged=self.settings.icmp_privileged,
        )
        icmp_part = icmp_cycle(self.plan.icmp_probes(), icmp)
        ssh_results, icmp_samples = await asyncio.gather(ssh_part, icmp_part)
        observations = [ProbeObservation(s, "ssh") for r in ssh_results for s in r.samples]
        observations += [ProbeObservation(s, "icmp") for s in icmp_samples]
        if self.metrics is not None:
            for obs in observations:
                if obs.sample.error:
                    self.metrics.poll_errors.labels(reason="probe_" + obs.sample.error.split(":", 1)[0]).inc()
        if observations:
            await self.store.record_probes(observations)
        for obs in observations:
            await self._tell(obs)
        return observations

    async def run_cycles(self, cycles: int, interval_s: float) -> list[CycleReport[DevicePoll]]:
        """``cycles`` rounds, each starting ``interval_s`` after the previous one started (never bunched up)."""
        reports = []
        for i in range(cycles):
            start = time.monotonic()
            report, _ = await asyncio.gather(
                self.scheduler.run_cycle(self.plan.targets(), interval_s=interval_s), self.probe_cycle()
            )
            await self.store.record_cycle(report)
            for hook in self.after_cycle:
                await hook()
            reports.append(report)
            if report.overrun:
                log.warning("poll cycle took %.1f s, over its %.1f s interval", report.duration_s, interval_s)
            if i + 1 < cycles:
                await asyncio.sleep(max(0.0, start + interval_s - time.monotonic()))
        return reports


def failure_reason(exc: CollectorError) -> str:
    """A short, bounded label for ``noc_poll_errors_total{reason}``: never the message (it has addresses)."""
    for kind, reason in (
        (WeakCryptoRefused, "config"),
        (CredentialsRejected, "auth"),
        (BadAnswer, "bad_answer"),
        (DeviceUnreachable, "unreachable"),
    ):
        if isinstance(exc, kind):
            return reason
    return "error"


def ssh_settings(settings: PollerSettings) -> SshCollectorSettings:
    return SshCollectorSettings(
        max_sessions=settings.ssh_workers,
        connect_timeout_s=settings.ssh_connect_timeout_s,
        auth_timeout_s=settings.ssh_connect_timeout_s,
        ping=PingOptions(
            count=settings.probe_count, timeout_s=settings.probe_timeout_s, interval_s=settings.probe_interval_s
        ),
    )
