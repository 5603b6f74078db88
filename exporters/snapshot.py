"""The in-memory state a scrape reads: updated by the pipeline as measurements arrive, never by a scrape.

A scrape must not wait on a database or a device, so the exporter only ever reads this snapshot. The inventory
part is replaced wholesale (``set_inventory``) so a device or circuit removed from the inventory disappears from
the next scrape instead of leaving a frozen series behind.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from collectors.counters import InterfaceRate
from collectors.model import ProbeSample


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    name: str
    platform: str
    region: str
    role: str
    interval_s: float = 60.0  # its poll interval: data older than two of them is stale


@dataclass(frozen=True, slots=True)
class CircuitInfo:
    name: str
    device: str
    interface: str
    account_tier: str
    contract: str
    rtt_ceiling_s: float | None = None
    loss_ceiling_ratio: float | None = None
    jitter_ceiling_s: float | None = None


@dataclass(frozen=True, slots=True)
class DeviceState:
    up: bool
    uptime_s: float | None
    last_poll_ts: datetime


@dataclass(frozen=True, slots=True)
class InterfaceState:
    oper_up: bool
    receive_bps: float | None
    transmit_bps: float | None
    receive_utilisation_ratio: float | None
    transmit_utilisation_ratio: float | None
    speed_bps: int | None
    ts: datetime | None = None  # the poll that measured it


@dataclass(frozen=True, slots=True)
class ProbeState:
    rtt_min_s: float | None
    rtt_avg_s: float | None
    rtt_max_s: float | None
    jitter_s: float | None
    loss_ratio: float | None
    ts: datetime


@dataclass(frozen=True, slots=True)
class SlaState:
    """Per circuit: available now (the SLA engine's Δt classification), the month-to-date availability, each
    objective met or not, and breaches now active."""

    available: bool | None = None
    month_availability_ratio: float | None = None
    objectives_met: dict[str, bool] = field(default_factory=dict)
    breaches_active: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class TicketCounts:
    open_by_priority_status: dict[tuple[str, str], int] = field(default_factory=dict)
    response_overdue: int = 0


class Snapshot:
    """Thread-safe: the pipeline writes from the event loop, ``prometheus_client`` may scrape from a thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.devices: dict[str, DeviceInfo] = {}
        self.circuits: dict[str, CircuitInfo] = {}
        self.device_state: dict[str, DeviceState] = {}
        self.interfaces: dict[tuple[str, str], InterfaceState] = {}
        self.probes: dict[str, ProbeState] = {}
        self.sla: dict[str, SlaState] = {}
        self.tickets = TicketCounts()
        self.watched_since: datetime | None = None  # when the service began watching this inventory

    def set_inventory(
        self, devices: Iterable[DeviceInfo], circuits: Iterable[CircuitInfo], at: datetime | None = None
    ) -> None:
        with self._lock:
            self.watched_since = at
            self.devices = {d.name: d for d in devices}
            self.circuits = {c.name: c for c in circuits}
            self.device_state = {k: v for k, v in self.device_state.items() if k in self.devices}
            self.interfaces = {k: v for k, v in self.interfaces.items() if k[0] in self.devices}
            self.probes = {k: v for k, v in self.probes.items() if k in self.circuits}
            self.sla = {k: v for k, v in self.sla.items() if k in self.circuits}

    def device_polled(self, device: str, up: bool, uptime_s: float | None, ts: datetime) -> None:
        with self._lock:
            if device in self.devices:
                self.device_state[device] = DeviceState(up, uptime_s, ts)

    def interface_measured(self, rate: InterfaceRate) -> None:
        with self._lock:
            if rate.device not in self.devices:
                return
            self.interfaces[(rate.device, rate.if_name)] = InterfaceState(
                oper_up=rate.oper_status == "up",
                receive_bps=rate.in_bits_per_second,
                transmit_bps=rate.out_bits_per_second,
                receive_utilisation_ratio=rate.in_utilisation_ratio,
                transmit_utilisation_ratio=rate.out_utilisation_ratio,
                speed_bps=rate.speed_bps,
                ts=rate.ts,
            )

    def probe_measured(self, sample: ProbeSample) -> None:
        def s(ms: float | None) -> float | None:
            return None if ms is None else ms / 1000.0

        with self._lock:
            if sample.circuit not in self.circuits:
                return
            self.probes[sample.circuit] = ProbeState(
                s(sample.rtt_min_ms),
                s(sample.rtt_avg_ms),
                s(sample.rtt_max_ms),
                s(sample.jitter_ms),
                sample.loss_ratio,
                sample.ts,
            )

    def sla_updated(self, circuit: str, state: SlaState) -> None:
        with self._lock:
            if circuit in self.circuits:
                self.sla[circuit] = state

    def month_to_date(self, circuit: str, availability_ratio: float | None, objectives_met: dict[str, bool]) -> None:
        with self._lock:
            if circuit in self.circuits:
                self.sla[circuit] = replace(
                    self.sla.get(circuit, SlaState()),
                    month_availability_ratio=availability_ratio,
                    objectives_met=dict(objectives_met),
                )

    def circuit_classified(self, circuit: str, available: bool | None) -> None:
        with self._lock:
            if circuit in self.circuits:
                self.sla[circuit] = replace(self.sla.get(circuit, SlaState()), available=available)

    def breaches_changed(self, circuit: str, active: frozenset[str]) -> None:
        with self._lock:
            if circuit in self.circuits:
                self.sla[circuit] = replace(self.sla.get(circuit, SlaState()), breaches_active=active)

    def tickets_counted(self, counts: TicketCounts) -> None:
        with self._lock:
            self.tickets = counts

    def copy(self) -> Snapshot:
        """A consistent view for one scrape (dicts copied under the lock; their values are immutable)."""
        out = Snapshot()
        with self._lock:
            out.devices, out.circuits = dict(self.devices), dict(self.circuits)
            out.device_state, out.interfaces = dict(self.device_state), dict(self.interfaces)
            out.probes, out.sla, out.tickets = dict(self.probes), dict(self.sla), self.tickets
            out.watched_since = self.watched_since
        return out
