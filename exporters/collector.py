"""Prometheus collectors: fresh metric families per scrape, read from the snapshot, never any I/O.

Names follow Prometheus conventions (base units, ``_ratio``, ``_seconds``, ``_bits_per_second``). Labels carry
device, interface, circuit, contract and account tier: never personal data, never a secret.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from collectors.gaps import overdue
from exporters.snapshot import Snapshot

POLL_BUCKETS_S = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class NocCollector(Collector):
    def __init__(self, snapshot: Snapshot, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._snapshot = snapshot
        self._clock = clock

    def describe(self) -> Iterator[Metric]:
        # No description up front: registering must not trigger a collect() of a half-built snapshot.
        return iter(())

    def collect(self) -> Iterator[Metric]:
        s = self._snapshot.copy()
        now = self._clock()
        yield from _devices(s, now)
        yield from _interfaces(s, now)
        yield from _circuits(s)
        yield from _tickets(s)


def _gauge(name: str, doc: str, labels: list[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=labels)


def _devices(s: Snapshot, now: datetime) -> Iterator[Metric]:
    up = _gauge(
        "noc_device_up",
        "1 when the device answers its polls, 0 when down (N failures).",
        ["device", "platform", "region", "role"],
    )
    uptime = _gauge("noc_device_uptime_seconds", "The device's sysUpTime.", ["device"])
    last = _gauge("noc_device_last_poll_timestamp_seconds", "When the device was last polled.", ["device"])
    gap = _gauge(
        "noc_device_monitoring_gap",
        "1 while nobody has polled the device for over two of its intervals (no poller of its group, or polls that "
        "do not get through): unknown time, not downtime.",
        ["device", "platform", "region", "role"],
    )
    for name, info in sorted(s.devices.items()):
        state = s.device_state.get(name)
        seen = state.last_poll_ts if state is not None else s.watched_since
        if seen is not None:
            in_gap = overdue(seen, now, info.interval_s)
            gap.add_metric([name, info.platform, info.region, info.role], 1.0 if in_gap else 0.0)
        if state is None:
            continue  # never polled yet: no value is better than a made-up one
        up.add_metric([name, info.platform, info.region, info.role], 1.0 if state.up else 0.0)
        last.add_metric([name], state.last_poll_ts.timestamp())
        if state.uptime_s is not None:
            uptime.add_metric([name], state.uptime_s)
    yield from (up, uptime, last, gap)


def live(s: Snapshot, device: str, measured_at: datetime | None, now: datetime) -> bool:
    """Interface series are exported only while they say something about now: the device is up and the data is
    no older than two of its poll intervals. Otherwise the series are dropped (absent, not a last value that looks
    live); ``noc_device_up`` and ``noc_device_last_poll_timestamp_seconds`` stay and tell why."""
    state, info = s.device_state.get(device), s.devices.get(device)
    if state is None or not state.up or measured_at is None or info is None:
        return False
    return (now - measured_at).total_seconds() <= 2 * info.interval_s


def _interfaces(s: Snapshot, now: datetime) -> Iterator[Metric]:
    labels = ["device", "interface"]
    oper = _gauge("noc_interface_oper_up", "1 when ifOperStatus is up.", labels)
    rx = _gauge("noc_interface_receive_bits_per_second", "Inbound traffic over the last poll interval.", labels)
    tx = _gauge("noc_interface_transmit_bits_per_second", "Outbound traffic over the last poll interval.", labels)
    util = _gauge("noc_interface_utilisation_ratio", "Traffic against the interface speed.", [*labels, "direction"])
    speed = _gauge("noc_interface_speed_bits_per_second", "The interface speed.", labels)
    for device, rows in sorted(s.interfaces.items()):
        if not live(s, device, rows.ts, now):
            continue
        for interface, st in sorted(dict(rows.states()).items()):
            key = [device, interface]
            oper.add_metric(key, 1.0 if st.oper_up else 0.0)
            if st.receive_bps is not None:
                rx.add_metric(key, st.receive_bps)
            if st.transmit_bps is not None:
                tx.add_metric(key, st.transmit_bps)
            if st.receive_utilisation_ratio is not None:
                util.add_metric([*key, "receive"], st.receive_utilisation_ratio)
            if st.transmit_utilisation_ratio is not None:
                util.add_metric([*key, "transmit"], st.transmit_utilisation_ratio)
            if st.speed_bps is not None:
                speed.add_metric(key, float(st.speed_bps))
    yield from (oper, rx, tx, util, speed)


def _circuits(s: Snapshot) -> Iterator[Metric]:
    labels = ["circuit", "device", "interface", "contract", "account_tier"]
    rtt = _gauge(
        "noc_circuit_rtt_seconds", "Round-trip time toward the far end in the last probe burst.", [*labels, "stat"]
    )
    loss = _gauge("noc_circuit_loss_ratio", "Share of echo requests lost in the last probe burst.", labels)
    jitter = _gauge("noc_circuit_jitter_seconds", "Delay variation in the last probe burst.", labels)
    available = _gauge("noc_circuit_available", "1 when the circuit is usable now (device, interface, loss).", labels)
    month = _gauge("noc_sla_month_availability_ratio", "Month-to-date availability against the contract rules.", labels)
    met = _gauge("noc_sla_objective_met", "1 when the objective is met month to date.", [*labels, "objective"])
    breach = _gauge("noc_sla_breach_active", "1 while a breach of the objective is open.", [*labels, "objective"])
    ceilings = {
        "rtt": _gauge("noc_circuit_rtt_ceiling_seconds", "The contract's latency ceiling.", labels),
        "loss": _gauge("noc_circuit_loss_ceiling_ratio", "The contract's loss ceiling.", labels),
        "jitter": _gauge("noc_circuit_jitter_ceiling_seconds", "The contract's jitter ceiling.", labels),
    }
    for name, info in sorted(s.circuits.items()):
        key = [name, info.device, info.interface, info.contract, info.account_tier]
        for what, limit in (
            ("rtt", info.rtt_ceiling_s),
            ("loss", info.loss_ceiling_ratio),
            ("jitter", info.jitter_ceiling_s),
        ):
            if limit is not None:
                ceilings[what].add_metric(key, limit)
        probe = s.probes.get(name)
        if probe is not None:
            for stat, value in (("min", probe.rtt_min_s), ("avg", probe.rtt_avg_s), ("max", probe.rtt_max_s)):
                if value is not None:
                    rtt.add_metric([*key, stat], value)
            if probe.loss_ratio is not None:
                loss.add_metric(key, probe.loss_ratio)
            if probe.jitter_s is not None:
                jitter.add_metric(key, probe.jitter_s)
        sla = s.sla.get(name)
        if sla is None:
            continue
        if sla.available is not None:
            available.add_metric(key, 1.0 if sla.available else 0.0)
        if sla.month_availability_ratio is not None:
            month.add_metric(key, sla.month_availability_ratio)
        for objective, ok in sorted(sla.objectives_met.items()):
            met.add_metric([*key, objective], 1.0 if ok else 0.0)
        for objective in sorted(sla.breaches_active):
            breach.add_metric([*key, objective], 1.0)
    yield from (rtt, loss, jitter, available, month, met, breach, *ceilings.values())


def _tickets(s: Snapshot) -> Iterator[Metric]:
    open_ = _gauge("noc_tickets_open", "Open tickets by priority and status.", ["priority", "status"])
    for (priority, status), count in sorted(s.tickets.open_by_priority_status.items()):
        open_.add_metric([priority, status], float(count))
    overdue = GaugeMetricFamily(
        "noc_ticket_response_overdue", "Open tickets past their response time.", value=float(s.tickets.response_overdue)
    )
    yield from (open_, overdue)


class PollerMetrics:
    """The poller's own health, as ordinary instrumentation on the app's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.poll_duration = Histogram(
            "noc_poll_duration_seconds",
            "Duration of one device poll.",
            ["collector"],
            buckets=POLL_BUCKETS_S,
            registry=registry,
        )
        self.poll_errors = Counter(
            "noc_poll_errors_total", "Failed device polls and probes by reason.", ["reason"], registry=registry
        )
        self.cycle_overruns = Counter(
            "noc_poll_overruns_total", "Device polls that took longer than their interval.", registry=registry
        )
        self.in_flight = Gauge("noc_polls_in_flight", "Device polls running now.", registry=registry)


class FleetMetrics:
    """A ``noc poller``'s place in its fleet: what it owns, how many members its group has, hand-overs."""

    def __init__(self, registry: CollectorRegistry, poller: str, group: str) -> None:
        labels = {"poller": poller, "group": group}
        self._owned = Gauge(
            "noc_fleet_owned_devices", "Devices this poller polls now.", list(labels), registry=registry
        )
        self._members = Gauge(
            "noc_fleet_members",
            "Live pollers of this poller's group, itself included.",
            list(labels),
            registry=registry,
        )
        self._handovers = Counter(
            "noc_fleet_handovers_total",
            "Devices this poller took over (gained) or gave up (lost) as the fleet changed.",
            [*labels, "direction"],
            registry=registry,
        )
        self._labels = labels

    def owned(self, count: int) -> None:
        self._owned.labels(**self._labels).set(count)

    def members(self, live: int) -> None:
        self._members.labels(**self._labels).set(live)

    def handed_over(self, gained: int, lost: int) -> None:
        self._handovers.labels(**self._labels, direction="gained").inc(gained)
        self._handovers.labels(**self._labels, direction="lost").inc(lost)


class FlowMetrics:
    """The measurement path's own health: per stage (poll, store, sla, snapshot, tickets, ...) what it applied,
    how it failed, when it last succeeded, what waits for it, and what a bound made it drop."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.applied = Counter(
            "noc_flow_messages_total", "Bus messages a consumer applied.", ["stage"], registry=registry
        )
        self.errors = Counter(
            "noc_flow_errors_total",
            "Failures of a stage: storage (the database or the bus unreachable) or message (a message it could not "
            "apply).",
            ["stage", "kind"],
            registry=registry,
        )
        self.last_success = Gauge(
            "noc_flow_last_success_timestamp_seconds",
            "When the stage last succeeded (for the store: its last good write).",
            ["stage"],
            registry=registry,
        )
        self.up = Gauge(
            "noc_flow_stage_up", "1 while the stage works, 0 while it is failing.", ["stage"], registry=registry
        )
        self.backlog = Gauge(
            "noc_flow_backlog_messages", "Bus messages waiting for a consumer.", ["stage"], registry=registry
        )
        self.dropped = Gauge(
            "noc_flow_dropped_messages",
            "Bus messages dropped because a configured bound was exceeded, since start.",
            ["stage"],
            registry=registry,
        )
        self.overlaps = Counter(
            "noc_store_overlapping_polls_total",
            "Polls the store did not keep: another poller had covered the same device and slot at a hand-over.",
            registry=registry,
        )
        self.dead_letters = Counter(
            "noc_flow_dead_letters_total",
            "Messages set aside after failing on their own.",
            ["stage"],
            registry=registry,
        )
