"""``noc poll``: build the plan, run the collectors for a number of cycles, print observations as they come."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from collectors.errors import CollectorError
from collectors.snmp.client import SnmpClient
from collectors.snmp.fast_backend import NativeClient
from collectors.snmp.ifmib import if_type_name
from collectors.snmp.poll import SnmpCollector
from collectors.snmp.pysnmp_backend import PysnmpClient
from collectors.ssh import SshCollector
from noc.crypto import SecretBox
from noc.errors import InputError
from noc.pipeline import (
    DeviceObservation,
    InterfaceObservation,
    Observation,
    Poller,
    PollPlan,
    ProbeObservation,
    load_plan,
    ssh_settings,
    store_discovery,
)
from noc.settings import PollerSettings
from noc.slaflow import SlaEngine, load_engine_inputs
from noc.timeutil import utcnow

log = logging.getLogger(__name__)


def _human(obs: Observation) -> str:
    if isinstance(obs, DeviceObservation):
        state = "up" if obs.available else "DOWN"
        uptime = "" if obs.uptime_s is None else f" uptime {obs.uptime_s:.0f}s"
        error = "" if obs.error is None else f"  ({obs.error})"
        return f"{obs.ts:%H:%M:%S} device {obs.device:16} {state}{uptime}{error}"
    if isinstance(obs, InterfaceObservation):
        r = obs.rate

        def bps(v: float | None) -> str:
            return "-" if v is None else f"{v / 1e6:.3f}M"

        return (
            f"{r.ts:%H:%M:%S} iface  {r.device:16} {r.if_name:24} {r.oper_status:6} "
            f"in {bps(r.in_bits_per_second):>10} out {bps(r.out_bits_per_second):>10}  {r.in_verdict}"
        )
    assert isinstance(obs, ProbeObservation)
    s = obs.sample
    if s.error:
        return f"{s.ts:%H:%M:%S} probe  {s.circuit:16} {s.target} via {s.device}: {s.error}"
    loss = "-" if s.loss_ratio is None else f"{s.loss_ratio:.1%}"
    return (
        f"{s.ts:%H:%M:%S} probe  {s.circuit:16} {s.target} via {s.device}: loss {loss} "
        f"rtt avg {s.rtt_avg_ms} max {s.rtt_max_ms} jitter {s.jitter_ms} ms"
    )


@contextmanager
def snmp_client(settings: PollerSettings) -> Iterator[SnmpClient]:
    """The configured SNMP backend, closed (sockets, engine) on the way out.

    pysnmp is created either way: it is the reference backend, and under the native one the path for weak-crypto
    profiles an operator explicitly allowed.
    """
    reference = PysnmpClient()
    native = NativeClient(weak=reference) if settings.snmp_backend == "native" else None
    try:
        yield reference if native is None else native
    finally:
        reference.close()
        if native is not None:
            native.close()


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
    settings: PollerSettings,
    cycles: int,
    interval_s: float,
    devices: Sequence[str] | None,
    as_json: bool,
) -> int:
    if cycles < 1:
        raise InputError("--cycles: must be at least 1")
    if interval_s <= 0:
        raise InputError("--interval: must be positive")
    async with sessions() as session:
        plan = _only(await load_plan(session, box, settings), devices)

    def show(obs: Observation) -> None:
        line = json.dumps(obs.to_json()) if as_json else _human(obs)
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    with snmp_client(settings) as client:
        snmp = SnmpCollector(
            client,
            timeout_s=settings.timeout_s,
            retries=settings.retries,
            rediscover_after_s=settings.discovery_interval_s,
        )
        async with sessions() as session:
            sla = SlaEngine(sessions, await load_engine_inputs(session))
        async with SshCollector(ssh_settings(settings)) as ssh:
            poller = Poller(sessions, plan, settings, snmp, ssh, listeners=[show, sla.observe])
            poller.after_cycle.append(sla.tick)
            await poller.run_cycles(cycles, interval_s)
            purged = await poller.store.purge(timedelta(days=settings.raw_retention_days), utcnow())
            if purged:
                log.info("purged %d raw measurements older than %d days", purged, settings.raw_retention_days)
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
