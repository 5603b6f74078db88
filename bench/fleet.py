"""A poller fleet's throughput: device polls per minute by 1, 2 and 3 ``noc poller`` processes sharing the same
48-port agents through Redis, each held to the same CPU budget.

Run as root from the repository root:
    .venv/bin/python bench/fleet.py [--devices 400] [--interval 5] [--quota 0.1] [--window 60] [--pollers 1 2 3]

Honest on a two-core machine: the agents (net-snmp in network namespaces, as bench/snmp_poll.py builds them) and
Redis need CPU too, so instead of pinning pollers to cores each poller process is held to ``--quota`` of a core by a
cgroup CPU quota, like a small machine of its own, once every device has been discovered (the warm-up runs
unlimited). CPU is then the pollers' limit, and the question is whether the fleet adds up: the demand (devices at
``--interval``) is set above what all of them can do. Measured from each poller's own ``/metrics``
(``noc_poll_duration_seconds_count``) and its CPU time over ``--window`` seconds. No ``noc serve`` runs: the pollers
publish to a Redis stream that nobody consumes (trimmed at its bound), so only the pollers' own work is measured.

Prints per fleet size: polls per minute, the ratio to one poller, CPU ms per device poll, and the share of its
quota each poller used.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.pipeline import inventory  # noqa: E402
from bench.snmp_poll import device_48_ports, process_cpu_s  # noqa: E402
from noc.crypto import generate_key  # noqa: E402
from tests.noccli import NOC, noc, noc_env  # noqa: E402
from tests.peers.ports import free_tcp_port  # noqa: E402
from tests.peers.snmpd import SnmpdAgent  # noqa: E402

CGROUP = Path("/sys/fs/cgroup/cpu")  # cgroup v1 CPU controller (this machine); cpu.cfs_quota_us per group
PERIOD_US = 100_000
WARMUP_MAX_S = 900.0
POLLS = "noc_poll_duration_seconds_count"
ERRORS, OVERRUNS = "noc_poll_errors_total", "noc_poll_overruns_total"


def scrape(port: int, name: str) -> float:
    """The sum of one metric's series in a poller's /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as answer:
        lines = answer.read().decode().splitlines()
    return sum(float(line.rsplit(" ", 1)[1]) for line in lines if line.startswith((name + "{", name + " ")))


class Quota:
    """A cgroup holding one process to a share of a core."""

    def __init__(self, name: str, share: float) -> None:
        self.path = CGROUP / name
        self.path.mkdir(exist_ok=True)
        (self.path / "cpu.cfs_period_us").write_text(str(PERIOD_US))
        (self.path / "cpu.cfs_quota_us").write_text(str(int(share * PERIOD_US)))

    def hold(self, pid: int) -> None:
        (self.path / "cgroup.procs").write_text(str(pid))

    def remove(self) -> None:
        for pid in (self.path / "cgroup.procs").read_text().split():
            (CGROUP / "cgroup.procs").write_text(pid)
        self.path.rmdir()


def totals(ports: list[int]) -> dict[str, float]:
    return {name: sum(scrape(p, name) for p in ports) for name in (POLLS, ERRORS, OVERRUNS)}


def run_fleet(
    size: int, agents: list[SnmpdAgent], args: argparse.Namespace
) -> tuple[float, float, list[float], dict[str, float]]:
    """Polls per minute, CPU ms per poll, each poller's share of its quota used, and the window's failed and overrun
    polls; for a fleet of ``size``."""
    workdir = Path(tempfile.mkdtemp(prefix="noc-bench-fleet-"))
    redis_port = free_tcp_port()
    processes: list[subprocess.Popen[bytes]] = []
    quotas: list[Quota] = []
    try:
        redis = subprocess.Popen(
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(workdir), "--logfile", str(workdir / "redis.log")],
            start_new_session=True,
        )  # fmt: skip
        processes.append(redis)
        env = noc_env(
            NOC_DATABASE_URL=f"sqlite+aiosqlite:///{workdir}/noc.db", NOC_SECRET_KEY=generate_key(),
            NOC_BUS__URL=f"redis://127.0.0.1:{redis_port}/0", NOC_BUS__SPILL_DIR=str(workdir / "spill"),
            NOC_BUS__STREAM_MAX_MESSAGES="20000", NOC_POLLER__INTERVAL_S=str(args.interval),
            NOC_FLEET__HEARTBEAT_S="1", NOC_FLEET__FAILOVER_S="4", NOC_FLEET__GRACE_S="10",
            NOC_WEB__METRICS_OPEN="true", NOC_LOG_LEVEL="WARNING",
        )  # fmt: skip
        (workdir / "inventory.yaml").write_text(inventory(agents, args.devices))
        for step in (("db", "upgrade"), ("inventory", "import", str(workdir / "inventory.yaml"))):
            done = noc(env, *step, timeout_s=600)
            assert done.returncode == 0, done.stderr
        ports = [free_tcp_port() for _ in range(size)]
        for i, port in enumerate(ports):
            log = (workdir / f"p{i}.log").open("wb")
            argv = [*NOC, "poller", "--name", f"p{i}", "--port", str(port)]
            processes.append(subprocess.Popen(argv, env=env, stdout=log, stderr=log, start_new_session=True))
        pollers = processes[1:]
        # warm-up, unlimited: every device polled twice (discovered, counters baselined) by its owner
        deadline = time.monotonic() + WARMUP_MAX_S
        while time.monotonic() < deadline:
            try:
                if sum(scrape(p, POLLS) for p in ports) >= 2 * args.devices:
                    break
            except OSError:
                pass  # a poller still starting
            time.sleep(2)  # an external process's progress, checked now and then
        for i, proc in enumerate(pollers):
            quotas.append(Quota(f"nocbench-fleet-p{i}", args.quota))
            quotas[-1].hold(proc.pid)
        time.sleep(2 * args.interval)  # the held pollers settle into their budget before the window
        before = totals(ports)
        cpu0 = [process_cpu_s(proc.pid) for proc in pollers]
        start = time.monotonic()
        time.sleep(args.window)
        cpu1 = [process_cpu_s(proc.pid) for proc in pollers]
        elapsed = time.monotonic() - start
        after = totals(ports)
        polls = after[POLLS] - before[POLLS]
        for i, proc in enumerate(pollers):
            if proc.poll() is not None:
                tail = (workdir / f"p{i}.log").read_text(errors="replace").splitlines()[-20:]
                print(f"  poller p{i} ended with {proc.returncode}; its log ends:", *tail, sep="\n    ")
        cpu = sum(cpu1) - sum(cpu0)
        used = [(b - a) / elapsed / args.quota for a, b in zip(cpu0, cpu1, strict=True)]
        return polls * 60 / elapsed, cpu * 1000 / max(polls, 1), used, {k: after[k] - before[k] for k in after}
    finally:
        for proc in reversed(processes):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
        for quota in quotas:
            quota.remove()
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=400)
    parser.add_argument("--agents", type=int, default=4)
    parser.add_argument("--interval", type=float, default=5.0, help="poll interval, s (the demand: devices/interval)")
    parser.add_argument("--quota", type=float, default=0.1, help="each poller's CPU budget, in cores")
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--pollers", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    demand = args.devices * 60 / args.interval
    print(f"{args.devices} devices at {args.interval:g} s: a demand of {demand:.0f} polls/min; each poller held to "
          f"{args.quota:g} of a core", flush=True)  # fmt: skip
    with ExitStack() as stack:
        agents = [stack.enter_context(device_48_ports(i)) for i in range(args.agents)]
        base = None
        for size in args.pollers:
            rate, ms, used, counts = run_fleet(size, agents, args)
            base = base or rate / size
            print(
                f"pollers {size}: {rate:7.0f} polls/min ({rate / base:4.2f}x one poller)  CPU {ms:5.2f} ms/poll  "
                f"quota used {' '.join(f'{u:4.0%}' for u in used)}  failed {counts[ERRORS]:.0f}, "
                f"overran {counts[OVERRUNS]:.0f} of them",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
