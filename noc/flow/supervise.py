"""Supervised background loops and the health of each stage.

Every loop of the service runs under :class:`Supervisor`: a crash is logged once with its cause and the loop is
restarted with backoff; a stage failing every tick logs once and "recovered" once (never a traceback per tick).
``/healthz`` answers 503 naming the stages that are failing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from exporters.collector import FlowMetrics
from noc.db import is_transient
from noc.timeutil import utcnow

log = logging.getLogger(__name__)


def cancelled() -> bool:
    """This task is being cancelled. Some clients (redis-py, a database driver finishing a statement in its thread)
    surface a cancellation as their own error, or swallow it: a loop must stop all the same."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


@dataclass
class StageHealth:
    name: str
    metrics: FlowMetrics | None = None
    ok_at: datetime | None = None
    failing_since: datetime | None = None
    error: str | None = None

    def succeeded(self) -> None:
        now = utcnow()
        if self.failing_since is not None:
            log.info("stage %s recovered (failing since %s)", self.name, self.failing_since.isoformat())
            self.failing_since, self.error = None, None
        self.ok_at = now
        if self.metrics is not None:
            self.metrics.up.labels(stage=self.name).set(1)
            self.metrics.last_success.labels(stage=self.name).set(now.timestamp())

    def failed(self, exc: BaseException, kind: str = "storage") -> None:
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        if self.failing_since is None:
            self.failing_since = utcnow()
            log.error("stage %s failing: %s", self.name, reason, exc_info=kind != "storage")
        self.error = reason
        if self.metrics is not None:
            self.metrics.up.labels(stage=self.name).set(0)
            self.metrics.errors.labels(stage=self.name, kind=kind).inc()

    @property
    def failing(self) -> bool:
        return self.failing_since is not None


@dataclass
class Supervisor:
    metrics: FlowMetrics | None = None
    initial_backoff_s: float = 0.5
    max_backoff_s: float = 30.0
    health: dict[str, StageHealth] = field(default_factory=dict)
    # Set at a stop: loops finish what they are doing (a statement is never cut off mid-flight) and return.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)

    def stage(self, name: str) -> StageHealth:
        if name not in self.health:
            self.health[name] = StageHealth(name, self.metrics)
        return self.health[name]

    def failing(self) -> list[StageHealth]:
        return [h for h in self.health.values() if h.failing]

    def spawn(self, name: str, loop: Callable[[], Awaitable[None]]) -> None:
        """Run ``loop()`` until it returns; restart it with backoff whenever it raises."""
        health = self.stage(name)

        async def supervised() -> None:
            delay = self.initial_backoff_s
            while True:
                try:
                    await loop()
                    return
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    if cancelled():
                        raise asyncio.CancelledError from exc
                    health.failed(exc, kind="crash")
                if self.stopping.is_set():
                    return
                await self.pause(delay)
                delay = min(delay * 2, self.max_backoff_s)

        self._tasks[name] = asyncio.create_task(supervised(), name=f"noc-{name}")

    def every(self, name: str, interval_s: float, job: Callable[[], Awaitable[object]]) -> None:
        """``job`` every ``interval_s`` seconds; a failure marks the stage failing until a run succeeds, and the
        job is tried again with backoff (never later than its interval), so a long interval does not keep a stage
        failing long after its cause went away."""
        health = self.stage(name)

        async def loop() -> None:
            clock = asyncio.get_running_loop()
            next_at = clock.time()
            delay = self.initial_backoff_s
            while not self.stopping.is_set():
                try:
                    await job()
                    health.succeeded()
                    delay = self.initial_backoff_s
                    next_at = max(next_at + interval_s, clock.time())  # behind schedule: no burst to catch up
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    if cancelled():
                        raise asyncio.CancelledError from exc
                    health.failed(exc, kind="storage" if is_transient(exc) else "crash")
                    next_at = clock.time() + min(delay, interval_s)
                    delay = min(delay * 2, self.max_backoff_s)
                await self.pause(max(0.0, next_at - clock.time()))

        self.spawn(name, loop)

    async def pause(self, seconds: float) -> None:
        """Sleep, cut short by a stop."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self.stopping.wait()

    async def stop(self, timeout_s: float) -> None:
        """Ask every loop to finish at its next step, wait at most ``timeout_s``, then cancel what is left."""
        self.stopping.set()
        tasks = list(self._tasks.values())
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=timeout_s)
            if pending:
                log.warning("%d loops did not finish in time; cancelled", len(pending))
        await self.cancel(timeout_s=1.0)

    async def cancel(self, names: list[str] | None = None, timeout_s: float | None = None) -> None:
        """Cancel the named loops (all by default) and wait for them, at most ``timeout_s``."""
        chosen = [t for n, t in self._tasks.items() if names is None or n in names]
        for task in chosen:
            task.cancel()
        if chosen:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout_s):
                    await asyncio.gather(*chosen, return_exceptions=True)
        for name in [n for n, t in self._tasks.items() if t in chosen]:
            del self._tasks[name]
