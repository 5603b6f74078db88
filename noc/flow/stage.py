"""The poll stage: the scheduler runs the collectors, the counter math turns samples into rates (it needs each
device's previous sample, so it lives here, with the device's poller), and each device poll and probe round is
published as one message on the bus. Nothing here writes to the database: a database that is away never slows
polling down.

A device that is down is checked cheaply at its normal interval (one GET of sysUpTime, no retry); only when it
answers is the full poll made, so its recovery is seen within one interval.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from collectors.availability import AvailabilityState
from collectors.counters import InterfaceRate, RateTracker
from collectors.errors import BadAnswer, CollectorError, CredentialsRejected, DeviceUnreachable, WeakCryptoRefused
from collectors.icmp import IcmpSettings, icmp_cycle
from collectors.model import DeviceSample, DeviceTarget, InterfaceSample
from collectors.scheduler import CycleReport, PollRecord, Scheduler, SchedulerSettings
from collectors.snmp.discovery import DeviceDiscovery
from collectors.snmp.poll import SnmpCollector
from collectors.ssh import PingOptions, SshCollector, SshCollectorSettings
from exporters.collector import PollerMetrics
from noc.flow.bus import Bus
from noc.flow.plan import PollPlan
from noc.messages import DevicePolled, ProbeResult, ProbeRound
from noc.settings import PollerSettings
from noc.timeutil import utcnow

log = logging.getLogger(__name__)
TIMETICKS_PER_SECOND = 100
# SSH states that mean the device itself did not let us in; any other state is the device answering.
SSH_DEVICE_FAILURES = frozenset({"auth_failed", "timeout", "refused", "unreachable", "host_key_changed", "error"})


@dataclass(frozen=True, slots=True)
class DevicePoll:
    """What one device poll produced, collector-independent (SNMP or CLI counters)."""

    device: DeviceSample
    interfaces: tuple[InterfaceSample, ...]
    discovery: DeviceDiscovery | None = None  # a new one (the first poll's, or after a change), published once


@dataclass
class PollStage:
    """SNMP (or CLI counters) per device on the scheduler, probes per circuit; every result published."""

    plan: PollPlan
    settings: PollerSettings
    snmp: SnmpCollector
    ssh: SshCollector
    bus: Bus
    name: str = ""
    metrics: PollerMetrics | None = None
    epoch: float = 0.0  # the fleet's ownership epoch, carried by every message (0: one process polls everything)
    _failure_reason: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.set_plan(self.plan)
        self.tracker = RateTracker()
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
                backoff_factor=1.0,  # a down device keeps its interval: the cheap check below keeps it cheap
                history=0,  # every record goes to the bus; a ring of them would hold each device's last polls
            ),
            on_record=self._on_record,
        )

    def set_plan(self, plan: PollPlan) -> None:
        """A new share of devices (a fleet member's): probes follow it; the scheduler is told by the caller."""
        self.plan = plan
        self._collector_of = {d.target.name: "snmp" if d.target.snmp else "ssh" for d in plan.devices}

    def restore(self, states: Mapping[str, AvailabilityState]) -> None:
        """Continue from the stored state (a restart): a device that was down stays down from the same start."""
        for device, state in states.items():
            self.scheduler.restore(device, state)

    async def _poll_device(self, target: DeviceTarget) -> DevicePoll:
        if self.metrics is not None:
            self.metrics.in_flight.inc()
        try:
            if target.snmp is not None and self.scheduler.availability(target.name).up is False:
                await self.snmp.alive(target)  # down: one cheap GET first, the full poll only if it answers
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
            return DevicePoll(result.device, result.interfaces, result.discovery)
        if target.ssh is not None:
            counters = await self.ssh.collect_counters(target)
            if counters.state in SSH_DEVICE_FAILURES:
                raise DeviceUnreachable(f"{target.name}: {counters.state}: {counters.reason}")
            # The device answered; a rejected or unparsable counters command costs its counters, not its availability
            # (the SSH collector logs that state once, on the transition).
            ts = counters.samples[0].ts if counters.samples else utcnow()
            return DevicePoll(DeviceSample(target.name, ts, reachable=True), counters.samples)
        raise CollectorError(f"{target.name}: neither an SNMP nor an SSH profile to poll it with")

    def message(self, record: PollRecord[DevicePoll]) -> DevicePolled:
        """The bus message of one poll record (its rates from the counter math, its discovery if new)."""
        state = self.scheduler.availability(record.device)
        rates: tuple[InterfaceRate, ...] = ()
        uptime, discovery = None, None
        if record.result is not None:
            rates = self.tracker.update(record.result.device, record.result.interfaces).interfaces
            ticks = record.result.device.uptime_ticks
            uptime = None if ticks is None else ticks / TIMETICKS_PER_SECOND
            discovery = record.result.discovery
        transition = record.transition
        return DevicePolled(
            device=record.device,
            ts=record.started_at,
            ok=record.ok,
            up=state.up,
            consecutive_failures=state.consecutive_failures,
            uptime_s=uptime,
            error=record.error,
            transition=None if transition is None else transition.kind,
            down_since=None if transition is None else transition.down_since,
            interfaces=rates,
            discovery=discovery,
            poller=self.name,
            epoch=self.epoch,
            interval_s=record.interval_s,
        )

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
        await self.bus.publish(self.message(record))

    async def probe_round(self) -> ProbeRound:
        ssh_part = self.ssh.probe_cycle(self.plan.ssh_probes())
        icmp = IcmpSettings(
            count=self.settings.probe_count,
            interval_s=self.settings.probe_interval_s,
            timeout_s=self.settings.probe_timeout_s,
            privileged=self.settings.icmp_privileged,
        )
        started = utcnow()
        ssh_results, icmp_samples = await asyncio.gather(ssh_part, icmp_cycle(self.plan.icmp_probes(), icmp))
        results = [ProbeResult(s, "ssh") for r in ssh_results for s in r.samples]
        results += [ProbeResult(s, "icmp") for s in icmp_samples]
        if self.metrics is not None:
            for result in results:
                if result.sample.error:
                    self.metrics.poll_errors.labels(reason="probe_" + result.sample.error.split(":", 1)[0]).inc()
        message = ProbeRound(started, tuple(results), poller=self.name, epoch=self.epoch)
        if results:
            await self.bus.publish(message)
        return message

    async def run_cycle(self, interval_s: float) -> CycleReport[DevicePoll]:
        """Every device once and one probe round, concurrently (``noc poll``)."""
        report, _ = await asyncio.gather(
            self.scheduler.run_cycle(self.plan.targets(), interval_s=interval_s), self.probe_round()
        )
        if report.overrun:
            log.warning("poll cycle took %.1f s, over its %.1f s interval", report.duration_s, interval_s)
        return report


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
