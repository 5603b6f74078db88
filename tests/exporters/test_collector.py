"""The exposition: conventional names, parseable, labels without personal data, no frozen series."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from collectors.counters import InterfaceRate, Verdict
from collectors.model import ProbeSample
from exporters.collector import NocCollector, PollerMetrics
from exporters.snapshot import CircuitInfo, DeviceInfo, SlaState, Snapshot, TicketCounts

TS = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def scrape(snapshot: Snapshot, now: datetime | None = None) -> dict[str, list[tuple[dict[str, str], float]]]:
    registry = CollectorRegistry()
    at = now or TS + timedelta(seconds=30)
    registry.register(NocCollector(snapshot, clock=lambda: at))
    PollerMetrics(registry)
    text = generate_latest(registry).decode()
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((sample.labels, sample.value))
    return out


def lab() -> Snapshot:
    s = Snapshot()
    s.set_inventory(
        [DeviceInfo("pe-1", "cisco_ios", "north", "pe"), DeviceInfo("pe-2", "linux", "south", "pe")],
        [CircuitInfo("ACME-1", "pe-1", "Gi0/1", "A", "C1", rtt_ceiling_s=0.02, loss_ceiling_ratio=0.001)],
    )
    s.device_polled("pe-1", True, 1234.5, TS)
    s.device_polled("pe-2", False, None, TS)
    s.interfaces_measured(
        "pe-1",
        [
            InterfaceRate(
                "pe-1",
                3,
                "Gi0/1",
                TS,
                "up",
                60.0,
                1_000_000_000,
                2.5e8,
                1.0e8,
                0.25,
                0.1,
                in_verdict=Verdict.OK,
                out_verdict=Verdict.OK,
            )
        ],
    )
    s.probe_measured(ProbeSample("ACME-1", "pe-1", "10.0.0.1", TS, 5, 4, 1.0, 2.0, 4.0, 1.2))
    s.circuit_classified("ACME-1", True)
    s.breaches_changed("ACME-1", frozenset({"loss"}))
    s.tickets_counted(TicketCounts({("P1", "new"): 2}, response_overdue=1))
    return s


def test_series_have_conventional_names_units_and_values() -> None:
    m = scrape(lab())
    assert m["noc_device_up"] == [
        ({"device": "pe-1", "platform": "cisco_ios", "region": "north", "role": "pe"}, 1.0),
        ({"device": "pe-2", "platform": "linux", "region": "south", "role": "pe"}, 0.0),
    ]
    assert m["noc_device_uptime_seconds"] == [({"device": "pe-1"}, 1234.5)]
    assert m["noc_interface_receive_bits_per_second"] == [({"device": "pe-1", "interface": "Gi0/1"}, 2.5e8)]
    assert ({"device": "pe-1", "interface": "Gi0/1", "direction": "transmit"}, 0.1) in m[
        "noc_interface_utilisation_ratio"
    ]
    circuit = {"circuit": "ACME-1", "device": "pe-1", "interface": "Gi0/1", "contract": "C1", "account_tier": "A"}
    assert (circuit | {"stat": "avg"}, 0.002) in m["noc_circuit_rtt_seconds"]
    assert m["noc_circuit_loss_ratio"] == [(circuit, 0.2)]
    assert m["noc_circuit_jitter_seconds"] == [(circuit, 0.0012)]
    assert m["noc_circuit_available"] == [(circuit, 1.0)]
    assert m["noc_sla_breach_active"] == [(circuit | {"objective": "loss"}, 1.0)]
    assert m["noc_circuit_loss_ceiling_ratio"] == [(circuit, 0.001)]
    assert m["noc_tickets_open"] == [({"priority": "P1", "status": "new"}, 2.0)]
    assert m["noc_ticket_response_overdue"] == [({}, 1.0)]
    assert "noc_poll_errors_total" not in m  # no failure seen yet: no made-up zero series per reason


def test_poller_self_metrics() -> None:
    registry = CollectorRegistry()
    metrics = PollerMetrics(registry)
    metrics.poll_duration.labels(collector="snmp").observe(0.03)
    metrics.poll_errors.labels(reason="timeout").inc()
    families = {f.name: f for f in text_string_to_metric_families(generate_latest(registry).decode())}
    buckets = {
        s.labels["le"]: s.value for s in families["noc_poll_duration_seconds"].samples if s.name.endswith("_bucket")
    }
    assert buckets["0.025"] == 0 and buckets["0.05"] == 1
    assert [(s.labels, s.value) for s in families["noc_poll_errors"].samples if s.name.endswith("_total")] == [
        ({"reason": "timeout"}, 1.0)
    ]


def test_removed_inventory_leaves_no_frozen_series() -> None:
    s = lab()
    s.set_inventory([DeviceInfo("pe-2", "linux", "south", "pe")], [])
    m = scrape(s)
    assert [labels["device"] for labels, _ in m["noc_device_up"]] == ["pe-2"]
    assert "noc_interface_oper_up" not in m and "noc_circuit_loss_ratio" not in m
    # a late measurement of the removed device does not bring it back
    s.device_polled("pe-1", True, 1.0, TS)
    s.probe_measured(ProbeSample("ACME-1", "pe-1", "10.0.0.1", TS, 5, 5))
    m = scrape(s)
    assert [labels["device"] for labels, _ in m["noc_device_up"]] == ["pe-2"]
    assert "noc_circuit_loss_ratio" not in m


def test_unpolled_device_has_no_made_up_value() -> None:
    s = Snapshot()
    s.set_inventory([DeviceInfo("pe-9", "linux", "", "pe")], [])
    assert "noc_device_up" not in scrape(s)


def test_month_and_objectives() -> None:
    s = lab()
    s.sla_updated(
        "ACME-1", SlaState(available=False, month_availability_ratio=0.9993, objectives_met={"latency": False})
    )
    m = scrape(s)
    circuit = {"circuit": "ACME-1", "device": "pe-1", "interface": "Gi0/1", "contract": "C1", "account_tier": "A"}
    assert m["noc_sla_month_availability_ratio"] == [(circuit, 0.9993)]
    assert m["noc_sla_objective_met"] == [(circuit | {"objective": "latency"}, 0.0)]
    assert m["noc_circuit_available"] == [(circuit, 0.0)]


def test_stale_or_down_interfaces_are_not_exported_as_live() -> None:
    s = lab()  # pe-1 polled every 60 s (the default), its Gi0/1 measured at TS
    fresh = scrape(s, TS + timedelta(seconds=119))
    assert [labels["interface"] for labels, _ in fresh["noc_interface_oper_up"]] == ["Gi0/1"]
    stale = scrape(s, TS + timedelta(seconds=121))  # older than two intervals: no rate, no oper status
    for name in (
        "noc_interface_oper_up",
        "noc_interface_receive_bits_per_second",
        "noc_interface_speed_bits_per_second",
    ):
        assert name not in stale
    assert stale["noc_device_up"]  # the device's own series stay and say why
    s.device_polled("pe-1", False, None, TS + timedelta(seconds=60))
    down = scrape(s, TS + timedelta(seconds=61))
    assert "noc_interface_oper_up" not in down
    assert ({"device": "pe-1", "platform": "cisco_ios", "region": "north", "role": "pe"}, 0.0) in down["noc_device_up"]


def test_a_device_nobody_polls_for_two_intervals_is_a_monitoring_gap() -> None:
    s = lab()  # pe-1 polled at TS, every 60 s
    s.set_inventory([*s.devices.values(), DeviceInfo("pe-new", "linux", "east", "pe")], [], at=TS)
    labels = {"device": "pe-1", "platform": "cisco_ios", "region": "north", "role": "pe"}
    assert dict((d["device"], v) for d, v in scrape(s, TS + timedelta(seconds=119))["noc_device_monitoring_gap"]) == {
        "pe-1": 0.0,
        "pe-2": 0.0,
        "pe-new": 0.0,  # not polled yet, but watched for less than two intervals
    }
    late = scrape(s, TS + timedelta(seconds=121))["noc_device_monitoring_gap"]
    assert (labels, 1.0) in late and (
        {"device": "pe-new", "platform": "linux", "region": "east", "role": "pe"},
        1.0,
    ) in late
    assert scrape(s, TS + timedelta(seconds=121))["noc_device_up"][0][1] == 1.0  # a gap is not downtime
