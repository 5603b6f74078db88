"""SNMP polling cost: our client vs Prometheus snmp_exporter, against a net-snmp agent that looks like a 48-port box.

Run as root from the repository root:  .venv/bin/python bench/snmp_poll.py [--walks 20] [--scrapes 40] [--polls 50]

What it does (every loop bounded; everything it starts is stopped on exit, also on error):
- a network namespace with 24 veth pairs (48 ports) + mgmt0 + lo, and snmpd inside it, reached over mgmt0;
- (a) our CPU ms per ifTable+ifXTable walk (the data snmp_exporter's ``if_mib`` fetches) vs the exporter's CPU per
  scrape of the same agent with a hand-written 0.21-format ``if_mib`` module, read from /proc/<pid>/stat of the
  exporter before/after N scrapes, and the ratio ours/theirs (goal <= 1.0);
- (b) our CPU per poll cycle of the 48-port device (SnmpCollector.poll: sysUpTime, HC octets, errors, discards,
  oper status, discontinuity time) and the devices per minute per core that implies (goal >= 10,000);
- a cProfile summary of one walk, grouped by package, and the top functions.

Each figure is the best of 3 runs (others' processes on a shared machine only ever add CPU time), for both our
backends: the pysnmp adapter (default) and the lean v2c codec (collectors/snmp/fast_backend.py).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from collectors.model import DeviceTarget, SnmpCredentials  # noqa: E402
from collectors.snmp.client import (  # noqa: E402
    SnmpClient,
    SnmpEndpoint,
    oid,
)
from collectors.snmp.fast_backend import FastV2cClient  # noqa: E402
from collectors.snmp.poll import SnmpCollector  # noqa: E402
from collectors.snmp.pysnmp_backend import PysnmpClient  # noqa: E402
from collectors.snmp.walk import walk_columns  # noqa: E402
from tests.peers.netns import Lab  # noqa: E402
from tests.peers.snmpd import ManagementLink, SnmpdAgent, free_udp_port  # noqa: E402

PORT_PAIRS = 24
IF_TABLE_COLUMNS = [oid(f"1.3.6.1.2.1.2.2.1.{c}") for c in range(1, 23)]
IFX_TABLE_COLUMNS = [oid(f"1.3.6.1.2.1.31.1.1.1.{c}") for c in range(1, 20)]
EXPORTER = "/usr/bin/prometheus-snmp-exporter"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
REPEATS = 3

# (name, column, exporter type) for the hand-written if_mib module, as the generator would emit for IF-MIB.
IF_MIB_METRICS = [
    ("ifIndex", "1.3.6.1.2.1.2.2.1.1", "gauge"),
    ("ifDescr", "1.3.6.1.2.1.2.2.1.2", "DisplayString"),
    ("ifType", "1.3.6.1.2.1.2.2.1.3", "gauge"),
    ("ifMtu", "1.3.6.1.2.1.2.2.1.4", "gauge"),
    ("ifSpeed", "1.3.6.1.2.1.2.2.1.5", "gauge"),
    ("ifPhysAddress", "1.3.6.1.2.1.2.2.1.6", "PhysAddress48"),
    ("ifAdminStatus", "1.3.6.1.2.1.2.2.1.7", "gauge"),
    ("ifOperStatus", "1.3.6.1.2.1.2.2.1.8", "gauge"),
    ("ifLastChange", "1.3.6.1.2.1.2.2.1.9", "gauge"),
    ("ifInOctets", "1.3.6.1.2.1.2.2.1.10", "counter"),
    ("ifInUcastPkts", "1.3.6.1.2.1.2.2.1.11", "counter"),
    ("ifInNUcastPkts", "1.3.6.1.2.1.2.2.1.12", "counter"),
    ("ifInDiscards", "1.3.6.1.2.1.2.2.1.13", "counter"),
    ("ifInErrors", "1.3.6.1.2.1.2.2.1.14", "counter"),
    ("ifInUnknownProtos", "1.3.6.1.2.1.2.2.1.15", "counter"),
    ("ifOutOctets", "1.3.6.1.2.1.2.2.1.16", "counter"),
    ("ifOutUcastPkts", "1.3.6.1.2.1.2.2.1.17", "counter"),
    ("ifOutNUcastPkts", "1.3.6.1.2.1.2.2.1.18", "counter"),
    ("ifOutDiscards", "1.3.6.1.2.1.2.2.1.19", "counter"),
    ("ifOutErrors", "1.3.6.1.2.1.2.2.1.20", "counter"),
    ("ifOutQLen", "1.3.6.1.2.1.2.2.1.21", "gauge"),
    ("ifSpecific", "1.3.6.1.2.1.2.2.1.22", "OctetString"),
    ("ifName", "1.3.6.1.2.1.31.1.1.1.1", "DisplayString"),
    ("ifInMulticastPkts", "1.3.6.1.2.1.31.1.1.1.2", "counter"),
    ("ifInBroadcastPkts", "1.3.6.1.2.1.31.1.1.1.3", "counter"),
    ("ifOutMulticastPkts", "1.3.6.1.2.1.31.1.1.1.4", "counter"),
    ("ifOutBroadcastPkts", "1.3.6.1.2.1.31.1.1.1.5", "counter"),
    ("ifHCInOctets", "1.3.6.1.2.1.31.1.1.1.6", "counter"),
    ("ifHCInUcastPkts", "1.3.6.1.2.1.31.1.1.1.7", "counter"),
    ("ifHCInMulticastPkts", "1.3.6.1.2.1.31.1.1.1.8", "counter"),
    ("ifHCInBroadcastPkts", "1.3.6.1.2.1.31.1.1.1.9", "counter"),
    ("ifHCOutOctets", "1.3.6.1.2.1.31.1.1.1.10", "counter"),
    ("ifHCOutUcastPkts", "1.3.6.1.2.1.31.1.1.1.11", "counter"),
    ("ifHCOutMulticastPkts", "1.3.6.1.2.1.31.1.1.1.12", "counter"),
    ("ifHCOutBroadcastPkts", "1.3.6.1.2.1.31.1.1.1.13", "counter"),
    ("ifLinkUpDownTrapEnable", "1.3.6.1.2.1.31.1.1.1.14", "gauge"),
    ("ifHighSpeed", "1.3.6.1.2.1.31.1.1.1.15", "gauge"),
    ("ifPromiscuousMode", "1.3.6.1.2.1.31.1.1.1.16", "gauge"),
    ("ifConnectorPresent", "1.3.6.1.2.1.31.1.1.1.17", "gauge"),
    ("ifAlias", "1.3.6.1.2.1.31.1.1.1.18", "DisplayString"),
    ("ifCounterDiscontinuityTime", "1.3.6.1.2.1.31.1.1.1.19", "gauge"),
]


def exporter_config(community: str) -> dict[str, object]:
    """snmp_exporter 0.21 format: modules at top level; walk/get/metrics/lookups/version/auth inside the module."""
    lookups = [
        {"labels": ["ifIndex"], "labelname": name, "oid": column, "type": "DisplayString"}
        for name, column, _ in IF_MIB_METRICS
        if name in {"ifDescr", "ifName", "ifAlias"}
    ]
    metrics = [
        {
            "name": name,
            "oid": column,
            "type": kind,
            "help": f"IF-MIB {name}",
            "indexes": [{"labelname": "ifIndex", "type": "gauge"}],
            "lookups": lookups,
        }
        for name, column, kind in IF_MIB_METRICS
    ]
    return {
        "if_mib": {
            "walk": ["1.3.6.1.2.1.2", "1.3.6.1.2.1.31.1.1"],
            "metrics": metrics,
            "version": 2,
            "max_repetitions": 25,
            "retries": 1,
            "timeout": "5s",
            "auth": {"community": community},
        }
    }


def process_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5), counted after "(comm)"
    return (utime + stime) / CLOCK_TICKS


@contextmanager
def device_48_ports() -> Iterator[SnmpdAgent]:
    lab = Lab(prefix="nocbench")
    agent: SnmpdAgent | None = None
    mgmt: ManagementLink | None = None
    try:
        ns = lab.namespace()
        for i in range(PORT_PAIRS):
            ns.run("ip", "link", "add", f"ge{2 * i}", "type", "veth", "peer", "name", f"ge{2 * i + 1}")
            ns.run("ip", "link", "set", f"ge{2 * i}", "up")
            ns.run("ip", "link", "set", f"ge{2 * i + 1}", "up")
        octet = 100 + os.getpid() % 20
        mgmt = ManagementLink(ns, f"nocb{os.getpid() % 100000}", f"10.200.{octet}.1", f"10.200.{octet}.2")
        mgmt.create()
        agent = SnmpdAgent(address=f"10.200.{octet}.2", port=161, sys_name="bench48", netns=ns)
        agent.start()
        yield agent
    finally:
        if agent is not None:
            agent.cleanup()
        if mgmt is not None:
            mgmt.delete()
        lab.close()


@contextmanager
def snmp_exporter(community: str) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    workdir = Path(tempfile.mkdtemp(prefix="noc-bench-exporter-"))
    config = workdir / "snmp.yml"
    config.write_text(json.dumps(exporter_config(community)))  # JSON is YAML
    port = free_udp_port()  # a free TCP port is just as likely free; the exporter fails loudly otherwise
    argv = [EXPORTER, f"--config.file={config}", f"--web.listen-address=127.0.0.1:{port}", "--log.level=error"]
    proc = subprocess.Popen(argv, start_new_session=True)
    try:
        for _ in range(100):  # bounded wait until it serves HTTP
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=0.2).read()
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("snmp_exporter did not start")
        yield proc, port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=5)
        shutil.rmtree(workdir, ignore_errors=True)


def measure_exporter(agent: SnmpdAgent, scrapes: int) -> tuple[float, int, int]:
    with snmp_exporter(agent.community) as (proc, port):
        url = f"http://127.0.0.1:{port}/snmp?target={agent.address}:{agent.port}&module=if_mib"
        body = urllib.request.urlopen(url, timeout=10).read().decode()
        series = sum(1 for line in body.splitlines() if line and not line.startswith("#"))
        runs = []
        for _ in range(REPEATS):  # best of REPEATS, as for ours
            before = process_cpu_s(proc.pid)
            for _ in range(scrapes):
                urllib.request.urlopen(url, timeout=10).read()
            runs.append((process_cpu_s(proc.pid) - before) * 1000 / scrapes)
    return min(runs), series, len(body)


async def measure_ours(
    agent: SnmpdAgent, walks: int, polls: int, pdu_sizes: list[int], backend: str
) -> dict[str, object]:
    client: PysnmpClient | FastV2cClient = PysnmpClient() if backend == "pysnmp" else FastV2cClient()
    seam: SnmpClient = client
    out: dict[str, object] = {}
    try:
        creds = SnmpCredentials("2c", community=agent.community)
        endpoint = SnmpEndpoint("bench48", agent.address, agent.port, creds, timeout_s=5.0, retries=1)
        columns = IF_TABLE_COLUMNS + IFX_TABLE_COLUMNS
        walk_ms: dict[int, tuple[float, int, int]] = {}
        for size in pdu_sizes:
            first = await walk_columns(seam, endpoint, columns, max_varbinds_per_pdu=size)  # warm-up
            values = sum(len(rows) for rows in first.columns.values())
            runs = []
            for _ in range(REPEATS):  # best of REPEATS: other processes on a shared machine only ever add time
                start = time.process_time()
                for _ in range(walks):
                    await walk_columns(seam, endpoint, columns, max_varbinds_per_pdu=size)
                runs.append((time.process_time() - start) * 1000 / walks)
            walk_ms[size] = (min(runs), values, first.requests)
        out["walk"] = walk_ms

        target = DeviceTarget(name="bench48", address=agent.address, platform="linux", snmp=creds, snmp_port=agent.port)
        collector = SnmpCollector(seam, timeout_s=5.0, retries=1)
        discovery = await collector.discover(target)
        result = await collector.poll(target)
        runs = []
        for _ in range(REPEATS):
            start = time.process_time()
            for _ in range(polls):
                await collector.poll(target)
            runs.append((time.process_time() - start) * 1000 / polls)
        out["poll_ms"] = min(runs)
        out["interfaces"] = len(discovery.interfaces)
        out["poll_interfaces"] = len(result.interfaces)

        best = min(walk_ms, key=lambda size: walk_ms[size][0])
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(5):
            await walk_columns(seam, endpoint, columns, max_varbinds_per_pdu=best)
        profiler.disable()
        out["profile"] = profiler
    finally:
        client.close()
    return out


def profile_summary(profiler: cProfile.Profile, top: int) -> str:
    stats = pstats.Stats(profiler)
    by_package: dict[str, float] = defaultdict(float)
    total = 0.0
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        total += tottime
        for package in ("pyasn1", "pysnmp", "collectors", "asyncio"):
            if f"/{package}/" in filename:
                by_package[package] += tottime
                break
        else:
            by_package["other"] += tottime
    lines = ["own time by package: " + ", ".join(f"{k} {v / total:.0%}" for k, v in sorted(by_package.items()))]
    buffer = io.StringIO()
    pstats.Stats(profiler, stream=buffer).sort_stats("tottime").print_stats(top)
    body = [ln for ln in buffer.getvalue().splitlines() if ln.strip()]
    start = next(i for i, ln in enumerate(body) if ln.lstrip().startswith("ncalls"))
    lines += [ln.replace(str(ROOT) + "/", "")[:150] for ln in body[start : start + top + 1]]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--walks", type=int, default=20)
    parser.add_argument("--scrapes", type=int, default=40)
    parser.add_argument("--polls", type=int, default=50)
    parser.add_argument("--pdu-sizes", default="40,120,400", help="varbinds per GETBULK to try for the walk")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("needs root (network namespaces)", file=sys.stderr)
        return 2
    sizes = [int(s) for s in args.pdu_sizes.split(",")]
    with device_48_ports() as agent:
        results = {
            backend: asyncio.run(measure_ours(agent, args.walks, args.polls, sizes, backend))
            for backend in ("pysnmp", "lean-v2c")
        }
        theirs_ms, series, body_bytes = measure_exporter(agent, args.scrapes)
    interfaces = results["pysnmp"]["interfaces"]
    print(f"device: snmpd in a namespace, {interfaces} interfaces ({2 * PORT_PAIRS} veth ports + mgmt0 + lo)")
    print(f"snmp_exporter 0.21 if_mib: {theirs_ms:.1f} ms CPU per scrape ({series} series, {body_bytes} bytes)")
    for backend, ours in results.items():
        walk = ours["walk"]
        assert isinstance(walk, dict)
        best_size = min(walk, key=lambda size: walk[size][0])
        best_ms, _values, _ = walk[best_size]
        poll_ms = ours["poll_ms"]
        assert isinstance(poll_ms, float)
        print(f"== backend {backend}")
        print("(a) ifTable+ifXTable walk")
        for size, (ms, count, requests) in sorted(walk.items()):
            print(f"    {size:>3} varbinds/GETBULK: {ms:7.2f} ms CPU per walk ({count} values, {requests} PDUs)")
        print(f"    ratio ours/snmp_exporter: {best_ms / theirs_ms:.2f}  (goal <= 1.0)")
        print(f"(b) poll cycle of the 48-port device ({ours['poll_interfaces']} interfaces, minimal columns)")
        per_core = 60_000 / poll_ms
        print(f"    {poll_ms:.2f} ms CPU per device-cycle -> {per_core:,.0f} devices/min/core (goal >= 10,000)")
        profiler = ours["profile"]
        assert isinstance(profiler, cProfile.Profile)
        print(f"    profile of 5 walks at {best_size} varbinds/GETBULK:")
        print("    " + profile_summary(profiler, 8).replace("\n", "\n    "))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
