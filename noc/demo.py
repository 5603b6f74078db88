"""``noc demo``: the example operator on simulated routers on loopback, the service running, and a real fault.

What it starts (everything on 127.0.0.1, everything stopped on Ctrl-C, SIGTERM or an error):

- one snmpsim agent per PE router, each on its own UDP port. snmpsim picks the data file by community and cannot
  pick it by listening address, so one process per device is what lets the fault take exactly one PE away. The
  interface counters grow at a steady rate (snmpsim's ``numeric`` variation); the circuits' interfaces are up.
- one FakeNOS process with a shell per PE that carries SSH-probed circuits, answering the exact ping command the
  collector renders for each circuit (same templates, same options as the running poller) with a healthy burst.
- the web app and the service (poller, SLA engine, tickets, ``/metrics``) in this process, on the demo's own
  SQLite database and secret key in the working directory.

Before the service starts, every circuit without stored SLA history for last month (its contract's month, in the
contract's zone) is recorded as measured available throughout it, so the accounts' health archives have a month
of SLA compliance to show. That history is simulated and said to be; nothing is faked once the service runs.

The faults, after ``--fault-after`` seconds (60 by default):

- the SNMP agent of one PE is stopped. Nothing is faked past that point: the running poller sees its polls time
  out, marks the device down after ``poller.down_after_failures`` polls, and the ticket rules open one incident
  with a child ticket per circuit on it, on each circuit's key account;
- the far end of one tier-A circuit starts losing 40 % of its echoes. FakeNOS cannot lose packets, so this one is
  a canned answer that changes: the running probe parses it, the SLA engine opens a loss breach over the circuit's
  contract ceiling, and the breach opens its ticket.

The demo polls every 10 s and calls a device down after 2 failed polls unless configured otherwise, so both show
on the board within about a minute of the fault.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import yaml
from aiohttp import web
from pydantic import SecretStr
from sqlalchemy import insert, select

from collectors.errors import CollectorError
from collectors.model import ProbeTarget, SnmpCredentials
from collectors.snmp.client import SnmpEndpoint, oid
from collectors.snmp.fast_backend import FastV2cClient
from collectors.ssh.platforms import PingOptions, platform_for, render_ping
from noc import auth, dbadmin
from noc import models as m
from noc.app import create_app
from noc.crypto import generate_key, secret_box_for
from noc.db import create_engine, session_factory
from noc.errors import InputError, OperationalError
from noc.flow.stage import ssh_settings
from noc.inventory import service as inventory
from noc.settings import Settings
from noc.store.compliance import months_before
from noc.timeutil import utcnow
from sla.period import month_period
from sla.terms import terms_from_contract

DATA = Path(__file__).with_name("demo_data")
HOST = "127.0.0.1"  # the demo never listens on, or sends to, anything but loopback
FAULT_DEVICE = "pe-bj-01"  # two circuits on two accounts: the incident has children on both
LOSSY_CIRCUIT = "ACME-SH-003"  # tier A, 0.1 % loss ceiling: its burst starts losing 40 % at the fault
READY_TIMEOUT_S = 60.0  # snmpsim indexes its data before answering; FakeNOS starts a server per host
STOP_TIMEOUT_S = 5.0

# FakeNOS plugin for each ping family; a PE of another family gets no simulated shell.
FAKENOS_PLUGINS: Mapping[str, str] = {
    "cisco_ios": "cisco_ios",
    "huawei_vrp": "huawei_vrp",
    "juniper_junos": "juniper_junos",
}
# What a real Junos CLI answers to netmiko's session preparation; FakeNOS's own entries print nothing, and netmiko
# would wait for these texts until its read timeout on every connection.
JUNOS_SESSION_SETUP: Mapping[str, str] = {
    "set cli complete-on-space off": "Disabling complete-on-space",
    "set cli screen-length 0": "Screen length set to 0",
}
SYS_DESCR: Mapping[str, str] = {
    "cisco_ios": "Cisco IOS XE Software, Version 17.9.4a (simulated by noc demo)",
    "huawei_vrp": "Huawei Versatile Routing Platform Software VRP (R) Version 8.210 (simulated by noc demo)",
    "juniper_junos": "Juniper Networks, Inc. mx204 internet router, kernel JUNOS 22.4R3 (simulated by noc demo)",
    "linux": "Linux pe 6.1.0 x86_64 (simulated by noc demo)",
}
# Traffic on each circuit's interface as a share of its committed rate: well under every contract's ceiling.
IN_SHARE, OUT_SHARE = 0.30, 0.12
IF_SPEED_BPS = 1_000_000_000

# snmpsim knows nothing of its parent: this launcher asks the kernel (Linux prctl PR_SET_PDEATHSIG) to send it
# SIGTERM when the demo dies, even by SIGKILL, then becomes snmpsim (the setting survives exec).
_ORPHAN_GUARD = """
import ctypes, os, signal, sys
try:
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
except (OSError, AttributeError):
    pass  # not Linux: Ctrl-C and errors still stop it; only a killed demo leaves it behind
if os.getppid() != int(sys.argv[1]):
    sys.exit(0)  # the demo died before the request took effect
os.execv(sys.argv[2], sys.argv[2:])
"""
_FAKENOS_CHILD = "import sys; from noc.demo import fakenos_main; fakenos_main(sys.argv[1], sys.argv[2])"

T = TypeVar("T")


@dataclass(frozen=True)
class DemoOptions:
    workdir: Path
    port: int
    fault_after_s: float
    fault_device: str = FAULT_DEVICE


class Interrupted(Exception):
    """Ctrl-C or SIGTERM arrived while the lab was still starting."""


def free_port(kind: socket.SocketKind) -> int:
    """A loopback port the kernel says is free now (the child binds it a moment later)."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


# --- the lab's data: inventory with free ports, .snmprec files, canned pings ---------------------------------


def lab_inventory(template: Mapping[str, Any]) -> dict[str, Any]:
    """The demo operator with free loopback ports, so a second demo or a test run never collides with this one."""
    doc = dict(template)
    doc["devices"] = [
        {
            **d,
            "address": HOST,
            "snmp_port": free_port(socket.SOCK_DGRAM),
            **({"ssh_port": free_port(socket.SOCK_STREAM)} if d.get("ssh_profile") else {}),
        }
        for d in template["devices"]
    ]
    return doc


def _community(doc: Mapping[str, Any], device: Mapping[str, Any]) -> str:
    profile = next(p for p in doc["snmp_profiles"] if p["name"] == device["snmp_profile"])
    if profile.get("version") != "2c":
        raise InputError(f"demo inventory: device {device['name']}: the simulator serves SNMPv2c profiles only")
    community: str = profile["community"]
    return community


def _circuits_on(doc: Mapping[str, Any], device: str) -> list[dict[str, Any]]:
    return [c for c in doc["circuits"] if c["device"] == device]


def snmprec(device: Mapping[str, Any], circuits: Sequence[Mapping[str, Any]]) -> str:
    """A PE's agent: system group, a loopback and one up interface per circuit, with counters that grow."""
    family = platform_for(device["platform"]).ping_family
    records: list[tuple[str, str, str]] = [
        ("1.3.6.1.2.1.1.1.0", "4", SYS_DESCR[family]),
        ("1.3.6.1.2.1.1.2.0", "6", "1.3.6.1.4.1.8072.3.2.10"),
        # sysUpTime ticks at 100 per second from the agent's start, like a real agent's
        ("1.3.6.1.2.1.1.3.0", "67:numeric", "initial=0,rate=100,cumulative=1"),
        ("1.3.6.1.2.1.1.4.0", "4", "noc@operator.example"),
        ("1.3.6.1.2.1.1.5.0", "4", str(device["name"])),
        ("1.3.6.1.2.1.1.6.0", "4", str(device.get("site", ""))),
    ]
    interfaces: list[tuple[str, str, int, int]] = [("lo0", "loopback", 24, 0)]
    interfaces += [
        (str(c["interface"]), str(c.get("description", c["name"])), 6, int(c.get("committed_rate_bps") or 10_000_000))
        for c in circuits
    ]
    for index, (name, alias, if_type, committed_bps) in enumerate(interfaces, start=1):
        in_bytes_s = int(committed_bps * IN_SHARE / 8)
        out_bytes_s = int(committed_bps * OUT_SHARE / 8)
        speed = IF_SPEED_BPS if if_type == 6 else 0
        mac = "" if if_type == 24 else f"02005e00{index:04x}"
        for column, tag, value in (
            (1, "2", str(index)),
            (2, "4", name),
            (3, "2", str(if_type)),
            (4, "2", "1500"),
            (5, "66", str(speed)),
            (6, "4x", mac),
            (7, "2", "1"),
            (8, "2", "1"),  # ifOperStatus up
            (10, "65:numeric", f"initial=0,rate={in_bytes_s},cumulative=1,wrap=1"),
            (13, "65", "0"),
            (14, "65", "0"),
            (16, "65:numeric", f"initial=0,rate={out_bytes_s},cumulative=1,wrap=1"),
            (19, "65", "0"),
            (20, "65", "0"),
        ):
            records.append((f"1.3.6.1.2.1.2.2.1.{column}.{index}", tag, value))
        for column, tag, value in (
            (1, "4", name),
            (6, "70:numeric", f"initial=0,rate={in_bytes_s},cumulative=1"),
            (10, "70:numeric", f"initial=0,rate={out_bytes_s},cumulative=1"),
            (15, "66", str(speed // 1_000_000)),
            (18, "4", alias),
            (19, "67", "0"),
        ):
            records.append((f"1.3.6.1.2.1.31.1.1.1.{column}.{index}", tag, value))
    # snmpsim answers GETNEXT by position in the file: records must be in OID order
    records.sort(key=lambda r: tuple(int(p) for p in r[0].split(".")))
    return "".join(f"{o}|{tag}|{value}\n" for o, tag, value in records)


def canned_pings(
    doc: Mapping[str, Any], options: PingOptions, lossy: frozenset[str] = frozenset()
) -> dict[str, dict[str, str]]:
    """Per device: the command the collector will send for each SSH-probed circuit → a healthy burst's output, or
    a lossy one for the circuits in ``lossy``."""
    out: dict[str, dict[str, str]] = {}
    for device in doc["devices"]:
        platform = platform_for(device["platform"])
        commands: dict[str, str] = {}
        for c in _circuits_on(doc, device["name"]):
            if c.get("probe") != "ssh" or (lossy and c["name"] not in lossy):
                continue
            probe = ProbeTarget(c["name"], device["name"], c["far_end"], "ssh", c.get("vrf"), c.get("source_interface"))
            suffix = "_loss" if c["name"] in lossy else ""
            text = (DATA / f"ping_{platform.ping_family}{suffix}.txt").read_text(encoding="utf-8")
            commands[render_ping(platform, probe, options)] = text.replace("{target}", str(c["far_end"]))
        if commands:
            out[device["name"]] = commands
    return out


def fakenos_inventory(doc: Mapping[str, Any], pings: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    profiles = {p["name"]: p for p in doc["ssh_profiles"]}
    prompts = ["{base_prompt}>", "{base_prompt}#"]
    hosts: dict[str, Any] = {}
    for device in doc["devices"]:
        if device["name"] not in pings:
            continue
        family = platform_for(device["platform"]).ping_family
        if family not in FAKENOS_PLUGINS:
            raise InputError(f"demo inventory: device {device['name']}: no simulated shell for {device['platform']}")
        commands = dict(pings[device["name"]])
        if family == "juniper_junos":
            commands |= JUNOS_SESSION_SETUP
        profile = profiles[device["ssh_profile"]]
        hosts[device["name"]] = {
            "username": profile["username"],
            "password": profile["password"],
            "port": device["ssh_port"],
            "platform": FAKENOS_PLUGINS[family],
            "server": {"plugin": "ParamikoSshServer", "configuration": {"address": HOST, "timeout": 1}},
            "nos": {
                "plugin": FAKENOS_PLUGINS[family],
                "configuration": {
                    "commands": {
                        cmd: {"output": text, "prompt": prompts, "help": "demo"} for cmd, text in commands.items()
                    }
                },
            },
        }
    return {"hosts": hosts}


def fakenos_main(inventory_path: str, degraded_path: str) -> None:
    """The FakeNOS child: its paramiko server threads get a GIL of their own. Stops when stdin closes, which also
    happens when the demo process dies without cleaning up. A ``degrade`` line on stdin switches the canned outputs
    to those of ``degraded_path`` ({host: {command: output}}): every SSH session builds its shell from the host's
    command table when it opens, so the next probe of those circuits prints the new output."""
    from fakenos import FakeNOS

    logging.basicConfig(level=logging.ERROR)
    net = FakeNOS(yaml.safe_load(Path(inventory_path).read_text(encoding="utf-8")))
    degraded = yaml.safe_load(Path(degraded_path).read_text(encoding="utf-8"))
    net.start()
    print("READY", flush=True)
    try:
        for line in sys.stdin:  # ends at EOF
            if line.strip() == "degrade":
                for host, commands in degraded.items():
                    table = net.hosts[host].nos_inventory["configuration"]["commands"]
                    for command, output in commands.items():
                        table[command]["output"] = output
                print("DEGRADED", flush=True)
    finally:
        net.stop()


def write_private(path: Path, text: str) -> None:
    """A file only this user can read, from its first byte (no window with the umask's mode)."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


# --- child processes -----------------------------------------------------------------------------------------


@dataclass
class Child:
    """A child in its own session, so that stopping it stops whatever it started, and a Ctrl-C on the terminal
    reaches only the demo, which then stops the children in order."""

    name: str
    process: subprocess.Popen[bytes]

    @classmethod
    def start(cls, name: str, argv: Sequence[str], log_file: Path, env: Mapping[str, str] | None = None) -> Child:
        with log_file.open("ab") as log:
            process = subprocess.Popen(
                list(argv),
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(env) if env is not None else None,
                cwd=log_file.parent,
                start_new_session=True,
            )
        return cls(name, process)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        proc = self.process
        if proc.stdin is not None and not proc.stdin.closed:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=STOP_TIMEOUT_S)
        # the group may hold more than the leader: make sure none of it outlives the demo
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=STOP_TIMEOUT_S)


def _responder() -> str:
    """snmpsim's command, installed beside this interpreter (a venv) or else on PATH."""
    beside = Path(sys.executable).with_name("snmpsim-command-responder")
    found = str(beside) if beside.exists() else shutil.which("snmpsim-command-responder")
    if found is None:
        raise OperationalError("snmpsim-command-responder not found: install the package (pip install -e .)")
    return found


@dataclass
class Lab:
    workdir: Path
    children: dict[str, Child] = field(default_factory=dict)

    def snmpsim(self, device: Mapping[str, Any], community: str, text: str) -> None:
        root = self.workdir / "snmpsim" / str(device["name"])
        (root / "data").mkdir(parents=True, exist_ok=True)
        (root / "cache").mkdir(exist_ok=True)
        (root / "data" / f"{community}.snmprec").write_text(text, encoding="utf-8")
        argv = [
            sys.executable,
            "-c",
            _ORPHAN_GUARD,
            str(os.getpid()),
            _responder(),
            f"--data-dir={root / 'data'}",
            f"--cache-dir={root / 'cache'}",
            f"--agent-udpv4-endpoint={HOST}:{device['snmp_port']}",
            "--log-level=error",
        ]
        env = {**os.environ, "SNMPSIM_ALLOW_ROOT": "true"}  # it refuses to run as root otherwise
        name = f"snmpsim {device['name']}"
        self.children[name] = Child.start(name, argv, root / "snmpsim.log", env)

    def fakenos(self, doc: Mapping[str, Any], degraded: Mapping[str, Mapping[str, str]]) -> None:
        root = self.workdir / "fakenos"
        root.mkdir(parents=True, exist_ok=True)
        path = root / "inventory.yaml"
        write_private(path, yaml.safe_dump(doc))  # it holds the demo's SSH passwords
        (root / "degraded.yaml").write_text(yaml.safe_dump(dict(degraded)), encoding="utf-8")
        argv = [sys.executable, "-c", _FAKENOS_CHILD, str(path), str(root / "degraded.yaml")]
        self.children["fakenos"] = Child.start("fakenos", argv, root / "fakenos.log")

    def degrade(self) -> None:
        """Tell FakeNOS to answer the lossy circuits' pings with loss from now on."""
        stdin = self.children["fakenos"].process.stdin
        assert stdin is not None
        stdin.write(b"degrade\n")
        stdin.flush()

    def check(self) -> None:
        for child in self.children.values():
            if not child.alive():
                raise OperationalError(
                    f"{child.name} exited with {child.process.returncode} (see its log in {self.workdir})"
                )

    def stop(self, name: str) -> None:
        self.children[name].stop()

    def stop_all(self) -> None:
        for child in reversed(list(self.children.values())):
            child.stop()


async def _until(ready: Callable[[], Awaitable[bool]], lab: Lab, what: str, stop: asyncio.Event) -> None:
    """Poll ``ready`` until it holds, bounded by READY_TIMEOUT_S; a dead child or a stop request ends the wait."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not await ready():
        lab.check()
        if stop.is_set():
            raise Interrupted
        if time.monotonic() > deadline:
            raise OperationalError(f"{what} did not answer within {READY_TIMEOUT_S:g} s")
        await asyncio.sleep(0.2)


async def _snmp_answers(client: FastV2cClient, device: Mapping[str, Any], community: str) -> bool:
    endpoint = SnmpEndpoint(
        str(device["name"]), HOST, int(device["snmp_port"]), SnmpCredentials("2c", community), 0.3, 0
    )
    try:
        await client.get(endpoint, [oid("1.3.6.1.2.1.1.3.0")])
    except CollectorError:
        return False
    return True


async def _tcp_answers(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection(HOST, port)
    except OSError:
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def start_lab(lab: Lab, doc: Mapping[str, Any], ping: PingOptions, stop: asyncio.Event) -> None:
    pings = canned_pings(doc, ping)
    for device in doc["devices"]:
        lab.snmpsim(device, _community(doc, device), snmprec(device, _circuits_on(doc, device["name"])))
    if pings:
        lab.fakenos(fakenos_inventory(doc, pings), canned_pings(doc, ping, frozenset({LOSSY_CIRCUIT})))
    client = FastV2cClient()
    try:
        for device in doc["devices"]:
            community = _community(doc, device)

            async def snmp_ready(d: Mapping[str, Any] = device, c: str = community) -> bool:
                return await _snmp_answers(client, d, c)

            await _until(snmp_ready, lab, f"snmpsim for {device['name']}", stop)
    finally:
        client.close()
    for device in doc["devices"]:
        if device["name"] in pings:

            async def ssh_ready(port: int = int(device["ssh_port"])) -> bool:
                return await _tcp_answers(port)

            await _until(ssh_ready, lab, f"FakeNOS for {device['name']}", stop)


# --- the command ---------------------------------------------------------------------------------------------


# A newcomer should see the fault on the board within two minutes of starting: faster than the production defaults
# (60 s, tier A 30 s, down after 3 failures). Only fields the operator did not set are changed.
DEMO_POLLER: Mapping[str, float | int] = {"interval_s": 10.0, "down_after_failures": 2, "sla_tick_s": 5.0}


METRICS_TOKEN_FILE = "metrics.token"  # noqa: S105 - a file name, not a secret


def demo_settings(settings: Settings, workdir: Path) -> Settings:
    """The demo's own database and key in its working directory, demo poll pace where not configured; everything
    else (timeouts, log level, tickets) stays as configured."""
    key_file = workdir / "noc.key"
    if not key_file.exists():
        write_private(key_file, generate_key() + "\n")
    given = settings.poller.model_fields_set
    pace: dict[str, Any] = {k: v for k, v in DEMO_POLLER.items() if k not in given}
    if "tier_a_interval_s" not in given:
        # every demo device is polled at one pace, so the fault shows at the same speed on any PE
        pace["tier_a_interval_s"] = pace.get("interval_s", settings.poller.interval_s)
    web_settings = settings.web
    if web_settings.metrics_token is None and not web_settings.metrics_open:
        # /metrics wants credentials: the demo's scrape token, in a file Prometheus reads (credentials_file)
        token_file = workdir / METRICS_TOKEN_FILE
        if not token_file.exists():
            write_private(token_file, secrets.token_urlsafe(32) + "\n")
        token = SecretStr(token_file.read_text(encoding="utf-8").strip())
        web_settings = web_settings.model_copy(update={"metrics_token": token})
    return settings.model_copy(
        update={
            "database_url": f"sqlite+aiosqlite:///{workdir / 'noc.db'}",
            "secret_key": None,
            "secret_key_file": key_file,
            "poller": settings.poller.model_copy(update=pace),
            "web": web_settings,
        }
    )


@dataclass(frozen=True)
class Login:
    username: str
    role: str
    password: str
    token: str


async def seed_last_month(sessions: auth.Sessions, now: datetime) -> int:
    """Last month (each contract's, in its zone) measured available throughout on every circuit with no stored run
    in it; the number of circuits seeded (none on a second start)."""
    r = m.SlaStateRun
    async with sessions() as session:
        contracts = {c.id: terms_from_contract(c) for c in await session.scalars(select(m.Contract))}
        seeded = 0
        for circuit in await session.scalars(select(m.Circuit).order_by(m.Circuit.name)):
            terms = contracts[circuit.contract_id]
            ((year, month),) = months_before(now.astimezone(ZoneInfo(terms.timezone)).date(), 1)
            period = month_period(year, month, terms.timezone, terms.month_length)
            stored = await session.scalar(
                select(r.id).where(r.circuit_id == circuit.id, r.start_at < period.end, r.end_at > period.start)
            )
            if stored is None:
                session.add(r(circuit_id=circuit.id, start_at=period.start, end_at=period.end, state="available"))
                seeded += 1
        await session.commit()
    return seeded


HISTORY_DAYS = 30
BUCKET = timedelta(minutes=5)
POLLS_PER_BUCKET = 5


def simulated_bps(at: datetime, base_bps: float, zone: ZoneInfo, start: datetime) -> float:
    """A business network's day: quiet at night, busy in office hours local time, quieter at weekends, and 3 %
    busier each week since ``start`` (so the capacity outlook has a trend to follow)."""
    local = at.astimezone(zone)
    hour = local.hour + local.minute / 60
    day = 0.35 + 0.65 * max(0.0, math.sin(math.pi * (hour - 6) / 14)) if 6 <= hour <= 20 else 0.3
    weekend = 0.6 if local.weekday() >= 5 else 1.0
    growth = 1 + 0.03 * (at - start).days / 7
    return base_bps * day * weekend * growth


async def seed_traffic_history(sessions: auth.Sessions, now: datetime, days: int = HISTORY_DAYS) -> int:
    """The last ``days`` of 5-minute traffic on every circuit's interface that has none stored before now, so the
    month and 30-day graphs and the capacity outlook have something to show; the number of interfaces seeded
    (none on a second start). Simulated, and said to be: the banner says so, and live polling takes over."""
    ends = now.replace(second=0, microsecond=0) - timedelta(minutes=now.minute % 5 + 10)
    begins = ends - timedelta(days=days)
    seeded = 0
    async with sessions() as session:
        rows = await session.execute(
            select(m.Circuit.device_id, m.Circuit.interface_name, m.Circuit.committed_rate_bps, m.Contract.timezone)
            .join(m.Contract, m.Contract.id == m.Circuit.contract_id)
            .distinct()
        )
        for device_id, interface, committed, zone in rows:
            stored = await session.scalar(
                select(m.InterfaceRollup.bucket_start).where(
                    m.InterfaceRollup.device_id == device_id,
                    m.InterfaceRollup.if_name == interface,
                    m.InterfaceRollup.bucket_start < ends,
                )
            )
            if stored is not None:
                continue
            base = 0.45 * float(committed or 100_000_000)
            buckets = []
            at = begins
            while at < ends:
                inbound = simulated_bps(at, base, ZoneInfo(zone), begins)
                buckets.append(
                    {
                        "device_id": device_id,
                        "if_name": interface,
                        "bucket_start": at,
                        "samples": POLLS_PER_BUCKET,
                        "oper_up_n": POLLS_PER_BUCKET,
                        "rated_n": POLLS_PER_BUCKET,
                        "in_sum_bps": inbound * POLLS_PER_BUCKET,
                        "in_max_bps": inbound * 1.15,
                        "out_sum_bps": 0.4 * inbound * POLLS_PER_BUCKET,
                        "out_max_bps": 0.4 * inbound * 1.15,
                        "errors_sum_per_s": 0.0,
                        "discards_sum_per_s": 0.0,
                    }
                )
                at += BUCKET
            await session.execute(insert(m.InterfaceRollup), buckets)
            seeded += 1
        await session.commit()
    return seeded


def demo_password(username: str) -> str:
    """Printed on the terminal, so it protects nothing: the demo listens on loopback only."""
    return f"demo-{username}-pw"


async def demo_logins(sessions: auth.Sessions, users: Sequence[Mapping[str, Any]]) -> list[Login]:
    """A password (for the login page) and a fresh API token for every user of the demo operator."""
    logins = []
    for user in users:
        name = str(user["username"])
        await auth.set_password(sessions, name, demo_password(name))
        await auth.revoke_tokens(sessions, name, "demo")  # a token is shown once: a rerun issues a new one
        logins.append(
            Login(name, str(user["role"]), demo_password(name), await auth.issue_token(sessions, name, "demo"))
        )
    return logins


def _banner(doc: Mapping[str, Any], logins: Sequence[Login], url: str, settings: Settings, opts: DemoOptions) -> str:
    env = f"NOC_DATABASE_URL={settings.database_url} NOC_SECRET_KEY_FILE={settings.secret_key_file}"
    token = settings.web.metrics_token
    scrape = (
        f"  (Authorization: Bearer {token.get_secret_value()}; also in {METRICS_TOKEN_FILE} in the demo directory, "
        "for Prometheus' authorization.credentials_file)"
        if token is not None
        else ""
    )
    lines = [
        "",
        f"noc demo is running: {url}",
        f"  board:    {url}/board  (sign in as nina; technicians: {url}/queue, account managers: {url}/accounts)",
        f"  metrics:  {url}/metrics{scrape}",
        f"  health:   {url}/healthz",
        f"  API:      {url}/api/openapi.json",
        "  logins (role, user, password, API token; also in logins.txt in the demo directory):",
    ]
    lines += [f"    {x.role:16} {x.username:6} {x.password:16} {x.token}" for x in logins]
    nina = next((x for x in logins if x.role == "noc"), logins[0])
    lines += [
        f"  e.g.      curl -H 'Authorization: Bearer {nina.token}' {url}/api/tickets",
        f"            {env} noc tickets list --as {nina.username}",
        "  devices:  " + ", ".join(f"{d['name']} (snmp udp/{d['snmp_port']})" for d in doc["devices"]),
        f"  fault:    in {opts.fault_after_s:g} s the SNMP agent of {opts.fault_device} stops "
        f"(device down: an incident with a ticket per circuit), and {LOSSY_CIRCUIT}'s pings lose 40 % "
        "(an SLA loss breach and its ticket)",
        "  Ctrl-C stops everything the demo started.",
        "",
    ]
    return "\n".join(lines)


async def _later(delay_s: float, action: Callable[[], None]) -> None:
    await asyncio.sleep(delay_s)
    action()


async def run_demo(settings: Settings, opts: DemoOptions) -> int:
    workdir = opts.workdir.resolve()
    workdir.mkdir(mode=0o700, parents=True, exist_ok=True)  # the database and logs are the operator's business
    template = yaml.safe_load((DATA / "inventory.yaml").read_text(encoding="utf-8"))
    if opts.fault_device not in {d["name"] for d in template["devices"]}:
        raise InputError(f"--fault-device: no device named {opts.fault_device!r} in the demo inventory")
    settings = demo_settings(settings, workdir)
    if settings.log_level != "DEBUG":
        # every probe cycle opens a session per simulated router, and paramiko logs each at INFO
        logging.getLogger("paramiko").setLevel(logging.WARNING)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    lab = Lab(workdir)
    runner: web.AppRunner | None = None
    fault: asyncio.Task[None] | None = None
    try:
        # (1) database and key
        engine = create_engine(settings.database_url)
        try:
            await dbadmin.upgrade(engine)
            box = secret_box_for(settings)
            # (2) the simulated devices
            doc = lab_inventory(template)
            inventory_path = workdir / "inventory.yaml"
            write_private(inventory_path, yaml.safe_dump(doc, sort_keys=False))  # secrets of the demo operator
            print(f"starting {len(doc['devices'])} simulated PE routers on {HOST}", flush=True)
            await start_lab(lab, doc, ssh_settings(settings.poller).ping, stop)
            # (3) the operator
            report = await inventory.import_file(session_factory(engine), box, inventory_path, "demo")
            print(f"imported the demo operator: {report.count('created')} created, {report.count('updated')} updated")
            seeded = await seed_last_month(session_factory(engine), utcnow())
            print(f"simulated last month's SLA history (available throughout) on {seeded} circuits", flush=True)
            traffic = await seed_traffic_history(session_factory(engine), utcnow())
            print(f"simulated {HISTORY_DAYS} days of 5-minute traffic history on {traffic} interfaces", flush=True)
            logins = await demo_logins(session_factory(engine), doc["users"])
            write_private(
                workdir / "logins.txt", "".join(f"{x.username} {x.role} {x.password} {x.token}\n" for x in logins)
            )
        finally:
            await engine.dispose()
        # (4) the service: poller, SLA engine, tickets and the web app, stopped with the runner
        runner = web.AppRunner(create_app(settings))
        await runner.setup()
        site = web.TCPSite(runner, HOST, opts.port)
        await site.start()
        port = runner.addresses[0][1]
        print(_banner(doc, logins, f"http://{HOST}:{port}", settings, opts), flush=True)

        # (5) the fault
        def inject() -> None:
            lab.stop(f"snmpsim {opts.fault_device}")
            print(f"fault injected: the SNMP agent of {opts.fault_device} is stopped", flush=True)
            if "fakenos" in lab.children:
                lab.degrade()
                print(f"fault injected: the far end of {LOSSY_CIRCUIT} answers with 40 % loss", flush=True)

        fault = asyncio.create_task(_later(opts.fault_after_s, inject))
        await stop.wait()
        print("stopping", flush=True)
        return 0
    except Interrupted:
        print("stopped while starting", flush=True)
        return 0
    finally:
        # (6) everything it started, also on error, and the simulators even if the service fails to stop cleanly
        try:
            if fault is not None:
                fault.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await fault
            if runner is not None:
                await runner.cleanup()
        finally:
            lab.stop_all()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)


def run(settings: Settings, opts: DemoOptions) -> int:
    return asyncio.run(run_demo(settings, opts))
