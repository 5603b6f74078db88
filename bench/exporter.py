"""Scrape cost of /metrics: 10,000 devices and about 100,000 series from the in-memory snapshot.

Run from the repository root:  .venv/bin/python bench/exporter.py [--devices 10000] [--scrapes 5]

Prints the exposition size, the series count and the time per scrape (median) for our custom collector over the
snapshot, and, as the peer figure from the same run, the same series held in prometheus_client's ordinary
labelled Gauges (what an exporter that sets gauges per poll would serve). Bounded: a fixed number of scrapes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prometheus_client import CollectorRegistry, Gauge, generate_latest

from collectors.counters import InterfaceRate, Verdict
from collectors.model import ProbeSample
from exporters.collector import NocCollector
from exporters.snapshot import CircuitInfo, DeviceInfo, SlaState, Snapshot

TS = datetime(2026, 11, 22, tzinfo=UTC)


def build(devices: int) -> Snapshot:
    snapshot = Snapshot()
    infos = [DeviceInfo(f"pe-{i:05d}", "cisco_ios", f"region-{i % 8}", "pe") for i in range(devices)]
    # one circuit per tenth device: 10,000 devices give 30k device, 60k interface and ~13k circuit series
    circuits = [
        CircuitInfo(f"ckt-{i:05d}", f"pe-{i:05d}", "Gi0/1", "ABC"[i % 3], f"K-{i // 10:04d}", 0.02, 0.001, 0.005)
        for i in range(0, devices, 10)
    ]
    snapshot.set_inventory(infos, circuits)
    for i, info in enumerate(infos):
        snapshot.device_polled(info.name, i % 50 != 0, 123456.0, TS)
        snapshot.interfaces_measured(
            info.name,
            [
                InterfaceRate(
                    info.name,
                    port + 1,
                    f"Gi0/{port + 1}",
                    TS,
                    "up",
                    60.0,
                    1_000_000_000,
                    1.5e8,
                    7e7,
                    0.15,
                    0.07,
                    in_verdict=Verdict.OK,
                    out_verdict=Verdict.OK,
                )
                for port in range(1)
            ],
        )
        if i % 10 == 0:
            snapshot.probe_measured(ProbeSample(f"ckt-{i:05d}", info.name, "10.0.0.1", TS, 5, 5, 1.0, 2.0, 4.0, 0.5))
            snapshot.sla_updated(
                f"ckt-{i:05d}",
                SlaState(
                    available=True, month_availability_ratio=0.9995, objectives_met={"latency": True, "loss": True}
                ),
            )
    return snapshot


def peer_registry(text: str) -> CollectorRegistry:
    """The same samples in ordinary labelled Gauges, parsed back from our own exposition."""
    from prometheus_client.parser import text_string_to_metric_families

    registry = CollectorRegistry()
    for family in text_string_to_metric_families(text):
        if not family.samples:
            continue
        names = sorted(family.samples[0].labels)
        gauge = Gauge(family.name, family.documentation or family.name, names, registry=registry)
        for sample in family.samples:
            if names:
                gauge.labels(**sample.labels).set(sample.value)
            else:
                gauge.set(sample.value)
    return registry


def timed(registry: CollectorRegistry, scrapes: int) -> tuple[float, bytes]:
    samples, body = [], b""
    for _ in range(scrapes):
        start = time.perf_counter()
        body = generate_latest(registry)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--scrapes", type=int, default=5)
    args = parser.parse_args()
    if not 1 <= args.devices <= 100_000 or not 1 <= args.scrapes <= 50:
        parser.error("--devices in 1..100000, --scrapes in 1..50")
    snapshot = build(args.devices)
    ours = CollectorRegistry()
    ours.register(NocCollector(snapshot))
    seconds, body = timed(ours, args.scrapes)
    text = body.decode()
    series = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
    print(f"{args.devices:,} devices, {series:,} series, {len(body) / 1e6:.1f} MB per scrape")
    print(f"ours  (custom collector over the snapshot): {1000 * seconds:.0f} ms per scrape (median of {args.scrapes})")
    peer_seconds, _ = timed(peer_registry(text), args.scrapes)
    print(f"peer  (prometheus_client labelled Gauges):  {1000 * peer_seconds:.0f} ms per scrape")


if __name__ == "__main__":
    main()
