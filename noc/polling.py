"""``noc poll``: build the plan, run the collectors for a number of cycles, print observations as they come."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

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
)
from noc.settings import PollerSettings


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

    client = PysnmpClient()
    try:
        snmp = SnmpCollector(
            client,
            timeout_s=settings.timeout_s,
            retries=settings.retries,
            rediscover_after_s=settings.discovery_interval_s,
        )
        async with SshCollector(ssh_settings(settings)) as ssh:
            poller = Poller(sessions, plan, settings, snmp, ssh, listeners=[show])
            await poller.run_cycles(cycles, interval_s)
    finally:
        client.close()
    return 0
