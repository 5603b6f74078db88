"""``noc poll``: build the plan, run the collectors for a number of cycles, print observations as they come."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from collectors.counters import InterfaceRate
from collectors.errors import CollectorError
from collectors.snmp.ifmib import if_type_name
from collectors.snmp.poll import SnmpCollector
from collectors.ssh import SshCollector
from noc.crypto import SecretBox
from noc.errors import InputError, OperationalError
from noc.flow.bus import MemoryBus
from noc.flow.collect import snmp_client, snmp_collector
from noc.flow.consumers import ConsumerRunner
from noc.flow.plan import PollPlan, load_plan
from noc.flow.sla import SlaEngine
from noc.flow.stage import PollStage, ssh_settings
from noc.flow.supervise import Supervisor
from noc.messages import DevicePolled, Message, ProbeResult
from noc.settings import PollerSettings, Settings
from noc.store.measurements import MeasurementStore, record_cycle, store_discovery, verdict_of
from noc.store.sla import load_engine_inputs
from noc.timeutil import utcnow

log = logging.getLogger(__name__)


def device_json(message: DevicePolled) -> dict[str, Any]:
    return {
        "kind": "device",
        "device": message.device,
        "ts": message.ts.isoformat(),
        "available": message.available,
        "uptime_s": message.uptime_s,
        "error": message.error,
    }


def interface_json(r: InterfaceRate) -> dict[str, Any]:
    return {
        "kind": "interface",
        "device": r.device,
        "ts": r.ts.isoformat(),
        "if_name": r.if_name,
        "if_index": r.if_index,
        "oper_status": r.oper_status,
        "in_bps": r.in_bits_per_second,
        "out_bps": r.out_bits_per_second,
        "in_utilisation_ratio": r.in_utilisation_ratio,
        "out_utilisation_ratio": r.out_utilisation_ratio,
        "verdict": verdict_of(r),
    }


def probe_json(result: ProbeResult) -> dict[str, Any]:
    s = result.sample
    return {
        "kind": "probe",
        "circuit": s.circuit,
        "device": s.device,
        "target": s.target,
        "method": result.method,
        "ts": s.ts.isoformat(),
        "sent": s.sent,
        "received": s.received,
        "loss_ratio": s.loss_ratio,
        "rtt_min_ms": s.rtt_min_ms,
        "rtt_avg_ms": s.rtt_avg_ms,
        "rtt_max_ms": s.rtt_max_ms,
        "jitter_ms": s.jitter_ms,
        "error": s.error,
    }


def _bps(v: float | None) -> str:
    return "-" if v is None else f"{v / 1e6:.3f}M"


def human_lines(message: Message) -> list[str]:
    """What ``noc poll`` prints for one message, a line per device, interface and probe."""
    if isinstance(message, DevicePolled):
        state = "up" if message.available else "DOWN"
        uptime = "" if message.uptime_s is None else f" uptime {message.uptime_s:.0f}s"
        error = "" if message.error is None else f"  ({message.error})"
        lines = [f"{message.ts:%H:%M:%S} device {message.device:16} {state}{uptime}{error}"]
        lines += [
            f"{r.ts:%H:%M:%S} iface  {r.device:16} {r.if_name:24} {r.oper_status:6} "
            f"in {_bps(r.in_bits_per_second):>10} out {_bps(r.out_bits_per_second):>10}  {r.in_verdict}"
            for r in message.interfaces
        ]
        return lines
    lines = []
    for result in message.results:
        s = result.sample
        if s.error:
            lines.append(f"{s.ts:%H:%M:%S} probe  {s.circuit:16} {s.target} via {s.device}: {s.error}")
            continue
        loss = "-" if s.loss_ratio is None else f"{s.loss_ratio:.1%}"
        lines.append(
            f"{s.ts:%H:%M:%S} probe  {s.circuit:16} {s.target} via {s.device}: loss {loss} "
            f"rtt avg {s.rtt_avg_ms} max {s.rtt_max_ms} jitter {s.jitter_ms} ms"
        )
    return lines


def json_lines(message: Message) -> list[str]:
    if isinstance(message, DevicePolled):
        objects = [device_json(message), *(interface_json(r) for r in message.interfaces)]
    else:
        objects = [probe_json(r) for r in message.results]
    return [json.dumps(o) for o in objects]


def _only(plan: PollPlan, devices: Sequence[str] | None) -> PollPlan:
    if not devices:
        return plan
    unknown = sorted(set(devices) - set(plan.device_ids))
    if unknown:
        raise InputError(f"--device: no enabled device named {', '.join(map(repr, unknown))}")
    return PollPlan(
        devices=tuple(d for d in plan.devices if d.target.name in devices),
        device_ids=plan.device_ids,
        circuit_ids=plan.circuit_ids,
    )


async def run_poll(
    sessions: async_sessionmaker[AsyncSession],
    box: SecretBox,
    settings: Settings,
    cycles: int,
    interval_s: float,
    devices: Sequence[str] | None,
    as_json: bool,
) -> int:
    """``cycles`` rounds through the same path as the service (poll stage → bus → store and SLA engine), each
    starting ``interval_s`` after the previous one started; what a round published is stored before the next."""
    if cycles < 1:
        raise InputError("--cycles: must be at least 1")
    if interval_s <= 0:
        raise InputError("--interval: must be positive")
    poller = settings.poller
    async with sessions() as session:
        plan = _only(await load_plan(session, box, poller), devices)
        sla = SlaEngine(sessions, await load_engine_inputs(session))
    render = json_lines if as_json else human_lines

    async def show(messages: Sequence[Message]) -> None:
        for message in messages:
            for line in render(message):
                sys.stdout.write(line + "\n")
        sys.stdout.flush()

    async def observe(messages: Sequence[Message]) -> None:
        for message in messages:
            sla.observe(message)

    store = MeasurementStore(sessions)
    bus = MemoryBus(settings.bus)
    supervisor = Supervisor()
    runners = [
        ConsumerRunner(name, apply, bus.subscribe(name, durable=False), bus, settings.bus, supervisor.stage(name))
        for name, apply in (("print", show), ("store", store.apply), ("sla", observe))
    ]
    for runner in runners:
        supervisor.spawn(runner.name, runner.run)
    try:
        with snmp_client(poller) as client:
            snmp = snmp_collector(client, poller)
            async with SshCollector(ssh_settings(poller)) as ssh:
                stage = PollStage(plan, poller, snmp, ssh, bus, poller.name or "noc-poll")
                clock = asyncio.get_running_loop()
                for i in range(cycles):
                    start = clock.time()
                    report = await stage.run_cycle(interval_s)
                    await asyncio.gather(*(runner.drain(3600.0) for runner in runners))
                    if supervisor.failing():
                        failing = supervisor.failing()[0]
                        raise OperationalError(f"storing the measurements failed: {failing.error}")
                    await record_cycle(sessions, report)
                    await sla.tick()
                    if i + 1 < cycles:
                        await asyncio.sleep(max(0.0, start + interval_s - clock.time()))
    finally:
        await supervisor.cancel()
    purged = await store.purge(
        timedelta(days=poller.raw_retention_days), timedelta(days=poller.rollup_retention_days), utcnow()
    )
    if purged:
        log.info("purged %d measurements older than their retention", purged)
    return 0


async def run_discover(
    sessions: async_sessionmaker[AsyncSession],
    box: SecretBox,
    settings: PollerSettings,
    devices: Sequence[str] | None,
    as_json: bool,
) -> int:
    """Walk the system group and IF-MIB of each device now and store its interfaces. Exit 1 if any failed."""
    async with sessions() as session:
        plan = _only(await load_plan(session, box, settings), devices)
    failed = 0
    with snmp_client(settings) as client:
        snmp = SnmpCollector(client, timeout_s=settings.timeout_s, retries=settings.retries)
        for device in plan.devices:
            if device.target.snmp is None:
                continue
            try:
                found = await snmp.discover(device.target)
            except CollectorError as exc:
                failed += 1
                sys.stderr.write(f"{device.target.name}: discovery failed: {exc}\n")
                continue
            async with sessions() as session:
                await store_discovery(session, device.device_id, found)
                await session.commit()
            for i in found.interfaces:
                row = {
                    "device": device.target.name,
                    "if_index": i.if_index,
                    "if_name": i.if_name,
                    "if_descr": i.if_descr,
                    "if_alias": i.if_alias,
                    "if_type": if_type_name(i.if_type),
                    "speed_bps": i.speed_bps,
                    "admin_status": i.admin_status,
                    "oper_status": i.oper_status,
                    "mac": i.mac,
                    "mtu": i.mtu,
                }
                if as_json:
                    sys.stdout.write(json.dumps(row) + "\n")
                else:
                    speed = "-" if i.speed_bps is None else f"{i.speed_bps / 1e6:g}M"
                    sys.stdout.write(
                        f"{device.target.name:16} {i.if_index:>6} {i.if_name:28} {i.oper_status or '-':8} "
                        f"{speed:>8}  {i.if_alias}\n"
                    )
    return 1 if failed else 0
