"""The in-memory state a scrape reads: updated by the pipeline as measurements arrive, never by a scrape.

A scrape must not wait on a database or a device, so the exporter only ever reads this snapshot. The inventory
part is replaced wholesale (``set_inventory``) so a device or circuit removed from the inventory disappears from
the next scrape instead of leaving a frozen series behind.
"""

from __future__ import annotations

import math
import threading
from array import array
from collections.abc import Iterable, Iterator, Sequence
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
class InterfaceRows:
    """One device's interfaces at its latest poll, in columns: about 2.5 KB for 48 ports instead of about 15 KB of
    a key and an :class:`InterfaceState` per interface. A scrape reads them as InterfaceStates."""

    ts: datetime  # the poll that measured them (its rates share its time)
    names: tuple[str, ...]
    oper_up: bytes
    speeds_bps: array[int]  # 0: unknown
    rates: array[float]  # per interface: receive, transmit bit/s, receive, transmit utilisation; NaN: none

    @classmethod
    def of(cls, rates: Sequence[InterfaceRate]) -> InterfaceRows:
        values = array("d")
        for r in rates:
            for value in (r.in_bits_per_second, r.out_bits_per_second, r.in_utilisation_ratio, r.out_utilisation_ratio):
                values.append(math.nan if value is None else value)
        return cls(
            rates[0].ts,
            tuple(r.if_name for r in rates),
            bytes(r.oper_status == "up" for r in rates),
            array("Q", (r.speed_bps or 0 for r in rates)),
            values,
        )

    def states(self) -> Iterator[tuple[str, InterfaceState]]:
        def value(at: int) -> float | None:
            v = self.rates[at]
            return None if math.isnan(v) else v

        for i, name in enumerate(self.names):
            yield (
                name,
                InterfaceState(
                    bool(self.oper_up[i]),
                    value(4 * i),
                    value(4 * i + 1),
                    value(4 * i + 2),
                    value(4 * i + 3),
                    self.speeds_bps[i] or None,
                    self.ts,
                ),
            )


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
        self.interfaces: dict[str, InterfaceRows] = {}  # per device
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
            self.interfaces = {k: v for k, v in self.interfaces.items() if k in self.devices}
            self.probes = {k: v for k, v in self.probes.items() if k in self.circuits}
            self.sla = {k: v for k, v in self.sla.items() if k in self.circuits}

    def device_polled(self, device: str, up: bool, uptime_s: float | None, ts: datetime) -> None:
        with self._lock:
            if device in self.devices:
                self.device_state[device] = DeviceState(up, uptime_s, ts)

    def interfaces_measured(self, device: str, rates: Sequence[InterfaceRate]) -> None:
        """A device poll's interfaces replace those of its previous poll (a poll without any changes nothing; an
        interface the poll no longer shows is gone at once)."""
        if not rates:
            return
        rows = InterfaceRows.of(rates)
        with self._lock:
            if device in self.devices:
                self.interfaces[device] = rows

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
