"""``noc poller``: one member of a poller fleet. It polls and probes the devices its group's membership view gives
it (:mod:`noc.flow.ownership`), publishes every poll on the Redis bus and writes nothing of the measurement path
itself: the store, the SLA engine, the snapshot and the ticket rules run in ``noc serve`` (``--no-poller`` there
when only the fleet polls).

- Every ``fleet.heartbeat_s`` it heartbeats and recomputes what it owns. A device it gains starts from its stored
  availability (a device that was down stays down from the same start) and with no counter baseline (its first
  poll gives no rate, never a spike); a device it loses stops at once and is forgotten.
- Every ``fleet.inventory_check_s`` it looks at the inventory's change counter and reloads the plan when it moved:
  a new device is polled within one interval, a removed one stops.
- Redis away: it keeps polling what it owns (the bus keeps the messages in its local spool, bounded, spilled to
  files), keeps its devices (nobody can take them over meanwhile) and rejoins when Redis answers; for
  ``fleet.failover_s`` after that it moves nothing, so that every member has heartbeaten again before the view
  decides who is alive (their heartbeats all went stale together).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from typing import Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from collectors.ssh import SshCollector
from exporters.collector import FlowMetrics, PollerMetrics
from noc.crypto import SecretBox
from noc.errors import InputError
from noc.flow.bus import Bus
from noc.flow.collect import snmp_client, snmp_collector
from noc.flow.connect import open_bus
from noc.flow.fleet import Identity, Membership
from noc.flow.ownership import View
from noc.flow.plan import PollPlan, inventory_version, load_plan
from noc.flow.service import availability_of
from noc.flow.stage import PollStage, ssh_settings
from noc.flow.supervise import Supervisor
from noc.settings import Settings
from noc.timeutil import utcnow

log = logging.getLogger(__name__)


class FleetMetrics(Protocol):
    def owned(self, count: int) -> None: ...
    def handed_over(self, gained: int, lost: int) -> None: ...
    def members(self, live: int) -> None: ...


class FleetPoller:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        box: SecretBox,
        settings: Settings,
        metrics: PollerMetrics,
        flow_metrics: FlowMetrics,
        fleet_metrics: FleetMetrics,
        name: str,
    ) -> None:
        if settings.bus.url == "memory":
            raise InputError("bus.url: a poller fleet shares its devices and messages through Redis (redis://...)")
        self._sessions, self._box, self._settings = sessions, box, settings
        self._metrics, self._fleet_metrics = metrics, fleet_metrics
        self.name = name
        self.supervisor = Supervisor(flow_metrics, settings.bus.retry_initial_s, settings.bus.retry_max_s)
        self._stack = contextlib.AsyncExitStack()
        self.bus: Bus | None = None
        self.stage: PollStage | None = None
        self.view: View | None = None
        self._plan: PollPlan | None = None
        self._version = -1
        self._redis: aioredis.Redis | None = None
        self._membership: Membership | None = None
        self._beats = 0  # heartbeats in a row that reached Redis
        self._quiet_beats = 1  # how many of them pass before the view moves a device (pollers started together)
        self._assigned_for: tuple[object, ...] = ()  # what the current share was computed from

    async def start(self) -> None:
        settings, poller = self._settings, self._settings.poller
        bus = self.bus = open_bus(settings.bus, self.name)
        await bus.start()
        redis = self._redis = aioredis.from_url(settings.bus.url)
        me = Identity(self.name, poller.group, poller.capacity)
        self._membership = Membership(redis, settings.bus.prefix, me, settings.fleet)
        client = self._stack.enter_context(snmp_client(poller))
        ssh = await self._stack.enter_async_context(SshCollector(ssh_settings(poller)))
        await self._reload()
        assert self._plan is not None
        self.stage = PollStage(
            self._plan.only(set()), poller, snmp_collector(client, poller), ssh, bus, self.name, self._metrics
        )
        self.supervisor.every("fleet", settings.fleet.heartbeat_s, self._fleet_tick)
        self.supervisor.every("inventory", settings.fleet.inventory_check_s, self._inventory_tick)
        self.supervisor.every("probe", poller.interval_s, self._probe)
        log.info("poller %s of group %s joining the fleet (bus %s)", self.name, poller.group, settings.bus.prefix)

    async def _reload(self) -> bool:
        """Reload the plan when the inventory changed; True when it did."""
        async with self._sessions() as session:
            version = await inventory_version(session)
            if version == self._version:
                return False
            plan = await load_plan(session, self._box, self._settings.poller)
        group = self._settings.poller.group
        self._plan = PollPlan(tuple(d for d in plan.devices if d.group == group), plan.device_ids, plan.circuit_ids)
        self._version = version
        return True

    async def _inventory_tick(self) -> None:
        if await self._reload():
            await self._assign()

    async def _fleet_tick(self) -> None:
        assert self._membership is not None
        try:
            self.view, members = await self._membership.beat()
        except (RedisError, OSError):
            # Keep polling what it owns: nobody can take its devices over while Redis is away either. When it
            # answers again every member's heartbeat is stale: nothing moves until each had failover_s to beat.
            if self._beats:
                log.warning("fleet: Redis cannot be reached; keeping the %d devices owned", len(self._owned()))
            fleet = self._settings.fleet
            self._beats, self._quiet_beats = 0, math.ceil(fleet.failover_s / fleet.heartbeat_s) + 1
            raise
        self._fleet_metrics.members(sum(1 for m_ in members if m_.group == self._settings.poller.group))
        self._beats += 1
        if self._beats > self._quiet_beats:
            await self._assign()

    def _owned(self) -> list[str]:
        return [] if self.stage is None else self.stage.scheduler.assigned()

    async def _assign(self) -> None:
        stage, plan, view = self.stage, self._plan, self.view
        if stage is None or plan is None or view is None:
            return
        group = self._settings.poller.group
        basis = (tuple((m_.name, m_.capacity) for m_ in view.owners.get(group, ())), view.epoch(group), self._version)
        if basis == self._assigned_for:
            return  # the same owning members under the same epoch and inventory: the same share
        mine = {d.target.name for d in plan.devices if view.owner(d.target.name, group) == self.name}
        gained = mine - set(stage.scheduler.assigned())
        start_in: dict[str, float] = {}
        if gained:
            async with self._sessions() as session:
                stored = await availability_of(
                    session, {n: plan.device_ids[n] for n in gained}, self._settings.poller.down_after_failures
                )
            stage.restore({name: state for name, (state, _) in stored.items()})
            # the first poll one interval after the previous owner's last one: one poll per device and interval
            now, intervals = utcnow(), {d.target.name: d.target.poll_interval_s for d in plan.devices}
            for name, (_, last) in stored.items():
                if last is not None:
                    start_in[name] = (last - now).total_seconds() + intervals[name]
        stage.epoch = view.epoch(group)
        stage.set_plan(plan.only(mine))
        started, stopped = stage.scheduler.assign(stage.plan.targets(), start_in)
        for name in stopped:
            stage.tracker.forget(name)  # a device that comes back later starts from a new baseline
        if started or stopped:
            log.info("fleet: %d devices gained, %d handed over; %d owned", len(started), len(stopped), len(mine))
            self._fleet_metrics.handed_over(len(started), len(stopped))
        self._fleet_metrics.owned(len(mine))
        self._assigned_for = basis  # only once the share is in force (a failed read above tries again next beat)

    async def _probe(self) -> None:
        if self.stage is not None and self.stage.plan.devices:
            await self.stage.probe_round()

    def failing(self) -> list[str]:
        return sorted(h.name for h in self.supervisor.failing())

    async def stop(self) -> None:
        """Polls cancelled, the bus closed (what the local spool holds is kept for the next start). The membership
        entry stays: a restart within ``fleet.failover_s`` moves no device."""
        timeout = self._settings.service.stop_timeout_s
        if self.stage is not None:
            await self.stage.scheduler.unassign_all()
        await self.supervisor.stop(timeout / 2)
        if self.bus is not None:
            await self.bus.close()
        if self._redis is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._redis.aclose()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout / 2):
                await self._stack.aclose()
