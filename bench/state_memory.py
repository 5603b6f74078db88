"""Per-device state in memory, by owner: what ``noc serve`` holds for each device between its polls.

Run as root from the repository root:
    .venv/bin/python bench/state_memory.py [--devices 1000]

N device entries share one 48-port snmpd agent (a network namespace, as bench/snmp_poll.py builds one). The real
poll stage's scheduler polls each of them twice in its own loop (discovery, then a poll with rates) and publishes
on an in-memory bus; the exporter snapshot consumes the messages meanwhile; then every device's scheduler loop is
started and left waiting for its next poll, as between two polls of the service. Then the objects each owner
keeps are counted (each object once, with the first owner that reaches it; ``sys.getsizeof``, allocator overhead
not included), and the process's RSS growth is printed beside them (allocator overhead and freed-but-kept memory
included).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import types
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.snmp_poll import device_48_ports  # noqa: E402
from collectors.model import DeviceTarget, SnmpCredentials  # noqa: E402
from collectors.ssh import SshCollector  # noqa: E402
from exporters.snapshot import DeviceInfo, Snapshot  # noqa: E402
from noc.flow.bus import MemoryBus  # noqa: E402
from noc.flow.collect import snmp_client, snmp_collector  # noqa: E402
from noc.flow.consumers import snapshot_consumer  # noqa: E402
from noc.flow.plan import DevicePlan, PollPlan  # noqa: E402
from noc.flow.stage import PollStage, ssh_settings  # noqa: E402
from noc.messages import DevicePolled, Message, held_bytes  # noqa: E402
from noc.settings import BusSettings, PollerSettings  # noqa: E402

INTERVAL_S = 10.0  # each device's loop polls twice, as the service's loops do (discovery, then rates)
SHARED_TYPES = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.CodeType)


class Counter:
    """Bytes of object graphs, each object counted once (with the first owner that reaches it)."""

    def __init__(self, shared: Iterable[object]) -> None:
        self.seen = {id(o) for o in shared}
        self.seen.update(id(vars(module)) for module in list(sys.modules.values()) if module is not None)
        self.seen.add(id(vars(__builtins__)) if isinstance(__builtins__, types.ModuleType) else id(__builtins__))

    def size(self, *roots: object) -> int:
        total, stack = 0, list(roots)
        while stack:
            obj = stack.pop()
            if id(obj) in self.seen or isinstance(obj, SHARED_TYPES):
                continue
            self.seen.add(id(obj))
            total += sys.getsizeof(obj)
            stack.extend(gc.get_referents(obj))
        return total


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def measure(address: str, port: int, n: int) -> None:
    poller = PollerSettings()
    credentials = SnmpCredentials(version="2c", community="public")
    targets = [
        DeviceTarget(f"pe-{i:05d}", address, "linux", credentials, port, poll_interval_s=INTERVAL_S) for i in range(n)
    ]
    plan = PollPlan(tuple(DevicePlan(i, t, ()) for i, t in enumerate(targets)), {}, {})
    bus = MemoryBus(BusSettings(spill_dir=Path("/nonexistent")))
    subscription = bus.subscribe("snapshot", durable=False)
    snapshot = Snapshot()
    snapshot.set_inventory([DeviceInfo(t.name, "linux", "", "") for t in targets], [])
    apply_snapshot = snapshot_consumer(snapshot)
    last: list[Message] = []

    polled = asyncio.Event()

    async def consume() -> None:  # as the service's snapshot consumer does, while the polls run
        while not (polled.is_set() and not subscription.backlog()):
            deliveries = await subscription.take(100, 1.0)
            await apply_snapshot([d.message for d in deliveries])
            await subscription.ack(deliveries)
            last[:] = [d.message for d in deliveries[-1:]] or last

    with snmp_client(poller) as client:
        snmp = snmp_collector(client, poller)
        async with SshCollector(ssh_settings(poller)) as ssh:
            stage = PollStage(plan, poller, snmp, ssh, bus, "bench")
            gc.collect()
            before = rss_kib()
            consumer = asyncio.create_task(consume())
            await stage.scheduler.run(targets, rounds=2)
            polled.set()
            await consumer
            message = last[0]
            assert isinstance(message, DevicePolled) and message.interfaces, "the last poll has rates"
            stage.scheduler.assign(targets, {t.name: 3600.0 for t in targets})
            await asyncio.sleep(0)  # every loop started, waiting for its next poll
            gc.collect()
            grown = rss_kib() - before
            loop = asyncio.get_running_loop()
            counter = Counter([loop, stage, stage.scheduler, snmp, client, ssh, bus, snapshot, poller, consumer])
            owners = {
                "plan target (inventory, credentials shared)": counter.size(stage.plan, stage._collector_of),
                "discovery / interface table": counter.size(snmp._indexes, snmp._fresh, snmp._last_uptime),
                "previous counters (rate tracker)": counter.size(stage.tracker._previous),
                "availability state": counter.size(stage.scheduler._devices),
                "scheduler loop (task, coroutine, timer)": counter.size(stage.scheduler._assigned),
                "exporter snapshot": counter.size(snapshot.devices, snapshot.device_state, snapshot.interfaces),
            }
            message_bytes = Counter([loop]).size(message)
            await stage.scheduler.unassign_all()
    print(f"{n} devices on a 48-port agent ({len(message.interfaces)} interfaces), bytes per device:")
    for owner, size in owners.items():
        print(f"  {owner:45} {size / n:9.0f}")
    print(f"  {'all owners (objects)':45} {sum(owners.values()) / n:9.0f}")
    print(f"  {'RSS growth of the process':45} {grown * 1024 / n:9.0f}")
    print(
        f"one bus message (a 48-port device poll), objects: {message_bytes} bytes; the bus counts {held_bytes(message)}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=1000)
    args = parser.parse_args()
    with device_48_ports(0) as agent:
        asyncio.run(measure(agent.address, agent.port, args.devices))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
