"""SNMP polling cost: our backends vs Prometheus snmp_exporter, against a net-snmp agent that looks like a 48-port box.

Run as root from the repository root:  .venv/bin/python bench/snmp_poll.py [--walks 5] [--scrapes 10] [--polls 10]

What it does (every loop bounded; everything it starts is stopped on exit, also on error):
- a network namespace with 24 veth pairs (48 ports) + mgmt0 + lo, and snmpd inside it, reached over mgmt0, with an
  SNMPv3 user for each measured security profile;
- for each profile (v2c; v3 SHA-256/AES-128; v3 SHA-512/AES-256) and each backend (native = the own codec, the
  default; pysnmp = the reference):
  (a) CPU ms per ifTable+ifXTable walk (the data snmp_exporter's ``if_mib`` fetches) vs the exporter's CPU per
      scrape of the same agent with the same profile (a hand-written 0.21-format module per profile, read from
      /proc/<pid>/stat before/after N scrapes), and the ratio ours/theirs (goal for native <= 0.5);
  (b) CPU per poll cycle of the 48-port device (SnmpCollector.poll: sysUpTime, HC octets, errors, discards, oper
      status, discontinuity time; goal for native <= 3 ms v2c, <= 4 ms v3) and the devices/min/core it implies;
- a cProfile summary (CPU time) of native SNMPv3 walks, grouped by package, and the top functions.

Each figure is the best of 7 short runs (15 for poll cycles): other processes on a shared machine only ever add
CPU time.

Repeatable figures on a shared machine (instruction counts, not CPU time): ``--record FILE`` (root) saves the
agent's answers to one poll cycle and one walk per profile; ``--replay FILE --iterations N`` (no root, no agent,
no socket) replays them through the native client: the best of 7 runs of N poll cycles and of N walks. Under
callgrind, the difference between the instructions of N and of 0 iterations, divided by 7 N, is the client's
instructions per poll cycle or walk (one profile and one of poll/walk per run):

    valgrind --tool=callgrind --callgrind-out-file=cg.N \
        .venv/bin/python bench/snmp_poll.py --replay F --profile v2c --what poll --iterations N
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import itertools
import json
import os
import pstats
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from collectors.model import DeviceTarget, SnmpCredentials  # noqa: E402
from collectors.snmp.client import SnmpClient, SnmpEndpoint, oid  # noqa: E402
from collectors.snmp.fast_backend import NativeClient  # noqa: E402
from collectors.snmp.poll import SnmpCollector  # noqa: E402
from collectors.snmp.pysnmp_backend import PysnmpClient  # noqa: E402
from collectors.snmp.transport import UdpEngine  # noqa: E402
from collectors.snmp.walk import walk_columns  # noqa: E402
from tests.peers.netns import Lab  # noqa: E402
from tests.peers.snmpd import ManagementLink, SnmpdAgent, free_udp_port  # noqa: E402

PORT_PAIRS = 24
IF_TABLE_COLUMNS = [oid(f"1.3.6.1.2.1.2.2.1.{c}") for c in range(1, 23)]
IFX_TABLE_COLUMNS = [oid(f"1.3.6.1.2.1.31.1.1.1.{c}") for c in range(1, 20)]
EXPORTER = "/usr/bin/prometheus-snmp-exporter"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
REPEATS = 7
POLL_REPEATS = 15
RETRIES = 3
T = TypeVar("T")
BACKENDS = ("native", "pysnmp")
AUTH_KEY = "bench-auth-key-1"
PRIV_KEY = "bench-priv-key-2"


@dataclass(frozen=True)
class Profile:
    """One security profile, as our credentials and as snmp_exporter's module ``auth``."""

    name: str
    credentials: SnmpCredentials
    exporter_auth: dict[str, str]


def _v3(
    user: str, auth: str, priv: str, exporter_auth: str, exporter_priv: str
) -> tuple[SnmpCredentials, dict[str, str]]:
    creds = SnmpCredentials(
        "3",
        user=user,
        auth_protocol=auth,
        auth_key=AUTH_KEY,
        priv_protocol=priv,
        priv_key=PRIV_KEY,  # type: ignore[arg-type]
    )
    exporter = {
        "security_level": "authPriv",
        "username": user,
        "password": AUTH_KEY,
        "auth_protocol": exporter_auth,
        "priv_protocol": exporter_priv,
        "priv_password": PRIV_KEY,
    }
    return creds, exporter


PROFILES = (
    Profile("v2c", SnmpCredentials("2c", community="public"), {"community": "public"}),
    Profile("v3 SHA-256/AES-128", *_v3("bench256", "SHA-256", "AES", "SHA256", "AES")),
    Profile("v3 SHA-512/AES-256", *_v3("bench512", "SHA-512", "AES-256", "SHA512", "AES256")),
)


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


def exporter_config() -> dict[str, object]:
    """snmp_exporter 0.21 format: modules at top level; walk/get/metrics/lookups/version/auth inside each module.
    One module per profile, all fetching the same data."""
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
        module_name(profile): {
            "walk": ["1.3.6.1.2.1.2", "1.3.6.1.2.1.31.1.1"],
            "metrics": metrics,
            "version": 2 if profile.credentials.version == "2c" else 3,
            "max_repetitions": 25,
            "retries": 1,
            "timeout": "5s",
            "auth": profile.exporter_auth,
        }
        for profile in PROFILES
    }


def module_name(profile: Profile) -> str:
    return "if_mib_" + "".join(c for c in profile.name.lower() if c.isalnum())


def process_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5), counted after "(comm)"
    return (utime + stime) / CLOCK_TICKS


class BenchAgent(SnmpdAgent):
    """snmpd with the v3 users of PROFILES."""

    def write_config(self) -> None:
        super().write_config()
        with self.conf.open("a") as conf:
            for profile in PROFILES:
                c = profile.credentials
                if c.version == "3":
                    conf.write(f"createUser {c.user} {c.auth_protocol} {AUTH_KEY} {c.priv_protocol} {PRIV_KEY}\n")
                    conf.write(f"rouser {c.user} priv\n")


def _free_octet(index: int) -> int:
    """A third octet for the management /30 in 10.200.100-199.x that no link on this host uses yet: other benches
    and test sessions on the machine build their labs in 10.200.x too, and a shared subnet mixes up their agents."""
    shown = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True, check=True).stdout
    used = {int(octet) for octet in re.findall(r"inet 10\.200\.(\d+)\.", shown)}
    start = (os.getpid() + index) % 100
    for step in range(100):
        octet = 100 + (start + step) % 100
        if octet not in used:
            return octet
    raise RuntimeError("no free 10.200.x.0/30 left in 10.200.100-199 for the management link")


@contextmanager
def device_48_ports(index: int = 0) -> Iterator[SnmpdAgent]:
    """A 48-port agent in a namespace of its own; ``index`` tells several of them apart (addresses, links)."""
    lab = Lab(prefix="nocbench")
    agent: SnmpdAgent | None = None
    mgmt: ManagementLink | None = None
    try:
        ns = lab.namespace()
        # No IPv6 chatter (router solicitations, DAD) on 48 fresh links: its softirq work would be charged to
        # whichever process runs at that moment, i.e. to the first measurements.
        ns.run("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
        ns.run("sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1")
        for i in range(PORT_PAIRS):
            ns.run("ip", "link", "add", f"ge{2 * i}", "type", "veth", "peer", "name", f"ge{2 * i + 1}")
            ns.run("ip", "link", "set", f"ge{2 * i}", "up")
            ns.run("ip", "link", "set", f"ge{2 * i + 1}", "up")
        octet = _free_octet(index)
        mgmt = ManagementLink(ns, f"nocb{os.getpid() % 10000}x{index}", f"10.200.{octet}.1", f"10.200.{octet}.2")
        mgmt.create()
        agent = BenchAgent(address=f"10.200.{octet}.2", port=161, sys_name="bench48", netns=ns)
        agent.start()
        yield agent
    finally:
        if agent is not None:
            agent.cleanup()
        if mgmt is not None:
            mgmt.delete()
        lab.close()


@contextmanager
def snmp_exporter() -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    workdir = Path(tempfile.mkdtemp(prefix="noc-bench-exporter-"))
    config = workdir / "snmp.yml"
    config.write_text(json.dumps(exporter_config()))  # JSON is YAML
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


def measure_exporter(agent: SnmpdAgent, scrapes: int) -> dict[str, tuple[float, int]]:
    """Per profile: (best CPU ms per scrape, series)."""
    out: dict[str, tuple[float, int]] = {}
    with snmp_exporter() as (proc, port):
        for profile in PROFILES:
            url = f"http://127.0.0.1:{port}/snmp?target={agent.address}:{agent.port}&module={module_name(profile)}"
            body = urllib.request.urlopen(url, timeout=10).read().decode()
            series = sum(1 for line in body.splitlines() if line and not line.startswith("#"))
            if "snmp_scrape_pdus_returned" not in body or series < 1000:
                raise RuntimeError(f"snmp_exporter could not scrape with {profile.name}: {body[:500]}")
            runs = []
            for _ in range(REPEATS):  # best of REPEATS, as for ours
                before = process_cpu_s(proc.pid)
                for _ in range(scrapes):
                    urllib.request.urlopen(url, timeout=10).read()
                runs.append((process_cpu_s(proc.pid) - before) * 1000 / scrapes)
            out[profile.name] = (min(runs), series)
    return out


@dataclass
class Ours:
    walk_ms: dict[int, tuple[float, int, int]]  # varbinds per GETBULK -> (CPU ms, values, PDUs)
    poll_ms: float
    interfaces: int
    poll_interfaces: int
    profile: cProfile.Profile | None


async def measure_ours(
    agent: SnmpdAgent, profile: Profile, backend: str, walks: int, polls: int, pdu_sizes: list[int], profiled: bool
) -> Ours:
    print(f"measuring {profile.name}, {backend}", file=sys.stderr)
    client: NativeClient | PysnmpClient = NativeClient() if backend == "native" else PysnmpClient()
    seam: SnmpClient = client
    try:
        # Retries: a pysnmp walk timed out twice on the loaded machine (cause not found; never a wrong value), which
        # ended the whole run; a resend, if one happens, costs less than a walk.
        endpoint = SnmpEndpoint(
            "bench48", agent.address, agent.port, profile.credentials, timeout_s=5.0, retries=RETRIES
        )
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

        target = DeviceTarget(
            name="bench48", address=agent.address, platform="linux", snmp=profile.credentials, snmp_port=agent.port
        )
        collector = SnmpCollector(seam, timeout_s=5.0, retries=RETRIES)
        discovery = await collector.discover(target)
        result = await collector.poll(target)
        runs = []
        for _ in range(POLL_REPEATS):  # a poll is short: more, shorter runs find the quiet moments of a busy machine
            start = time.process_time()
            for _ in range(polls):
                await collector.poll(target)
            runs.append((time.process_time() - start) * 1000 / polls)

        profiler = None
        if profiled:
            best = min(walk_ms, key=lambda size: walk_ms[size][0])
            # CPU time, not wall time: a sendto that wakes snmpd on this core would otherwise carry snmpd's work.
            profiler = cProfile.Profile(time.process_time)
            profiler.enable()
            for _ in range(5):
                await walk_columns(seam, endpoint, columns, max_varbinds_per_pdu=best)
            profiler.disable()
        return Ours(walk_ms, min(runs), len(discovery.interfaces), len(result.interfaces), profiler)
    finally:
        client.close()


def profile_summary(profiler: cProfile.Profile, top: int) -> str:
    stats = pstats.Stats(profiler)
    by_package: dict[str, float] = defaultdict(float)
    total = 0.0
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        total += tottime
        for package in ("pyasn1", "pysnmp", "cryptography", "collectors", "asyncio"):
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


class RecordingEngine(UdpEngine):
    """The real UDP engine, keeping every answer the client accepted."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: list[bytes] = []

    async def exchange(
        self,
        device: str,
        address: tuple[str, int],
        version: int,
        build: Callable[[int], bytes],
        accept: Callable[[bytes], T],
        *,
        timeout_s: float,
        retries: int,
    ) -> T:
        def keep(data: bytes) -> T:
            result = accept(data)
            self.answers.append(data)
            return result

        return await super().exchange(device, address, version, build, keep, timeout_s=timeout_s, retries=retries)


class ReplayEngine(UdpEngine):
    """Answers each request with the next recorded answer (``setup`` once, then ``loop`` over and over): the
    client's own work, encoding, decoding, USM, walk and poll logic, without sockets or agent."""

    def __init__(self, setup: list[bytes], loop: list[bytes]) -> None:
        super().__init__()
        self._answers = itertools.chain(setup, itertools.cycle(loop))
        self._request_ids = itertools.count(1)

    async def exchange(
        self,
        device: str,
        address: tuple[str, int],
        version: int,
        build: Callable[[int], bytes],
        accept: Callable[[bytes], T],
        *,
        timeout_s: float,
        retries: int,
    ) -> T:
        build(next(self._request_ids))
        return accept(next(self._answers))


def _target(address: str, port: int, profile: Profile) -> DeviceTarget:
    return DeviceTarget(name="bench48", address=address, platform="linux", snmp=profile.credentials, snmp_port=port)


async def record(agent: SnmpdAgent, profile: Profile) -> dict[str, list[bytes]]:
    """The answers to a discovery and first poll (setup), to one more poll cycle, and to one walk."""
    engine = RecordingEngine()
    client = NativeClient(engine=engine)
    try:
        collector = SnmpCollector(client, timeout_s=5.0, retries=RETRIES)
        await collector.poll(_target(agent.address, agent.port, profile))
        setup, engine.answers = engine.answers, []
        await collector.poll(_target(agent.address, agent.port, profile))
        poll, engine.answers = engine.answers, []
        endpoint = SnmpEndpoint("bench48", agent.address, agent.port, profile.credentials, 5.0, RETRIES)
        await walk_columns(client, endpoint, IF_TABLE_COLUMNS + IFX_TABLE_COLUMNS, max_varbinds_per_pdu=120)
        return {"setup": setup, "poll": poll, "walk": engine.answers}
    finally:
        client.close()


async def replay(recorded: dict[str, Any], profile: Profile, what: str, iterations: int) -> float:
    """CPU ms per replayed poll cycle or walk (best of REPEATS runs of ``iterations``)."""
    answers = recorded[profile.name]
    client = NativeClient(
        engine=ReplayEngine([bytes.fromhex(a) for a in answers["setup"]], [bytes.fromhex(a) for a in answers[what]])
    )
    target = _target(recorded["address"], recorded["port"], profile)
    collector = SnmpCollector(client, timeout_s=5.0, retries=RETRIES)
    await collector.poll(target)  # the setup answers: discovery and a first poll
    endpoint = collector.endpoint(target)
    columns = IF_TABLE_COLUMNS + IFX_TABLE_COLUMNS
    runs = []
    for _ in range(REPEATS if iterations else 0):
        start = time.process_time()
        for _ in range(iterations):
            if what == "poll":
                await collector.poll(target)
            else:
                await walk_columns(client, endpoint, columns, max_varbinds_per_pdu=120)
        runs.append((time.process_time() - start) * 1000 / iterations)
    return min(runs, default=0.0)


def record_to(path: Path) -> int:
    with device_48_ports() as agent:
        recorded: dict[str, Any] = {"address": agent.address, "port": agent.port}
        for profile in PROFILES:
            answers = asyncio.run(record(agent, profile))
            recorded[profile.name] = {what: [a.hex() for a in datagrams] for what, datagrams in answers.items()}
    path.write_text(json.dumps(recorded))
    print(f"recorded the answers of {len(PROFILES)} profiles to {path}")
    return 0


def replay_from(path: Path, iterations: int, only_what: str | None, only_profile: str | None) -> int:
    recorded = json.loads(path.read_text())
    for profile in PROFILES:
        if only_profile not in (None, profile.name):
            continue
        for what in ("poll", "walk") if only_what is None else (only_what,):
            # Each replay starts from the setup answers, so that the engine clock and keys are as recorded.
            ms = asyncio.run(replay(recorded, profile, what, iterations))
            if iterations:
                print(f"    {profile.name:20} replayed {what}: {ms:6.2f} ms CPU (no sockets, no agent)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--walks", type=int, default=5)
    parser.add_argument("--scrapes", type=int, default=10)
    parser.add_argument("--polls", type=int, default=10)
    parser.add_argument("--pdu-sizes", default="120,400", help="varbinds per GETBULK to try for the walk")
    parser.add_argument("--record", type=Path, help="save the agent's answers to FILE and stop")
    parser.add_argument("--replay", type=Path, help="replay the answers saved in FILE (see above) and stop")
    parser.add_argument("--iterations", type=int, default=20, help="poll cycles or walks per replayed run")
    parser.add_argument("--what", choices=["poll", "walk"], help="replay only poll cycles or only walks")
    parser.add_argument("--profile", choices=[p.name for p in PROFILES], help="replay only this profile")
    args = parser.parse_args()
    if args.replay is not None:
        return replay_from(args.replay, args.iterations, args.what, args.profile)
    if os.geteuid() != 0:
        print("needs root (network namespaces)", file=sys.stderr)
        return 2
    if args.record is not None:
        return record_to(args.record)
    sizes = [int(s) for s in args.pdu_sizes.split(",")]
    profiled = PROFILES[-1]
    with device_48_ports() as agent:
        results = {
            (profile.name, backend): asyncio.run(
                measure_ours(
                    agent,
                    profile,
                    backend,
                    args.walks,
                    args.polls,
                    sizes,
                    profiled=(profile, backend) == (profiled, "native"),
                )
            )
            for profile in PROFILES
            for backend in BACKENDS
        }
        theirs = measure_exporter(agent, args.scrapes)
    any_result = next(iter(results.values()))
    print(
        f"device: snmpd in a namespace, {any_result.interfaces} interfaces ({2 * PORT_PAIRS} veth ports + mgmt0 + lo)"
    )
    print(f"snmp_exporter 0.21 if_mib module per profile, {theirs[PROFILES[0].name][1]} series per scrape")
    print()
    print("(a) CPU per ifTable+ifXTable walk (best PDU size) vs snmp_exporter's CPU per scrape of the same data")
    print(f"    {'profile':20} {'snmp_exporter':>14} {'native':>16} {'pysnmp':>16}")
    for profile in PROFILES:
        row = [f"{theirs[profile.name][0]:8.1f} ms"]
        for backend in BACKENDS:
            walk = results[(profile.name, backend)].walk_ms
            best = min(walk, key=lambda size: walk[size][0])
            ms = walk[best][0]
            row.append(f"{ms:7.1f} ms {ms / theirs[profile.name][0]:4.2f}x")
        print(f"    {profile.name:20} {row[0]:>14} {row[1]:>16} {row[2]:>16}")
    print("    goal: native <= 0.50x snmp_exporter")
    print()
    print("(b) CPU per poll cycle of the 48-port device (minimal columns) and devices/min/core it implies")
    for profile in PROFILES:
        cells = []
        for backend in BACKENDS:
            ours = results[(profile.name, backend)]
            cells.append(f"{backend} {ours.poll_ms:6.2f} ms ({60_000 / ours.poll_ms:7,.0f}/min/core)")
        print(f"    {profile.name:20} " + "   ".join(cells))
    print("    goal: native <= 3 ms (v2c), <= 4 ms (v3)")
    print()
    print("walk detail (CPU ms per walk, values, PDUs) per varbinds/GETBULK:")
    for (name, backend), ours in results.items():
        detail = ", ".join(
            f"{size}: {ms:.1f} ms/{count}/{pdus}" for size, (ms, count, pdus) in sorted(ours.walk_ms.items())
        )
        print(f"    {name:20} {backend:7} {detail}")
    profiler = results[(profiled.name, "native")].profile
    assert profiler is not None
    print()
    print(f"profile of 5 native walks (CPU time), {profiled.name}:")
    print("    " + profile_summary(profiler, 10).replace("\n", "\n    "))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
