"""The ``noc poller`` process: one fleet member (:mod:`noc.flow.poller`) with its own ``/metrics`` and ``/healthz``
for Prometheus and the operator, no web app. Stopped by SIGTERM/SIGINT within ``service.stop_timeout_s``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Info, generate_latest

import noc
from exporters.collector import FleetMetrics, FlowMetrics, PollerMetrics
from noc.app import may_scrape, unauthorised
from noc.crypto import secret_box_for
from noc.db import create_engine, session_factory
from noc.flow.poller import FleetPoller
from noc.settings import Settings

log = logging.getLogger(__name__)
POLLER = web.AppKey("poller", FleetPoller)
REGISTRY = web.AppKey("registry", CollectorRegistry)
SETTINGS = web.AppKey("settings", Settings)


async def metrics(request: web.Request) -> web.Response:
    if not may_scrape(request.app[SETTINGS], request.headers.get("Authorization", "")):
        return unauthorised()
    return web.Response(body=generate_latest(request.app[REGISTRY]), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def healthz(request: web.Request) -> web.Response:
    """200 while every loop works (fleet heartbeat, inventory, probes); 503 naming those failing."""
    poller = request.app[POLLER]
    stage = poller.stage
    body: dict[str, object] = {
        "status": "ok",
        "poller": poller.name,
        "owned": 0 if stage is None else len(stage.scheduler.assigned()),
        "version": noc.__version__,
    }
    failing = poller.failing()
    if failing:
        body.update(status="degraded", failing=failing)
        return web.json_response(body, status=503)
    return web.json_response(body)


async def _run(settings: Settings, host: str, port: int) -> None:
    name = settings.poller.name or socket.gethostname()
    registry = CollectorRegistry()
    Info("noc_build", "Build of this NOC service.", registry=registry).info({"version": noc.__version__})
    engine = create_engine(settings.database_url, pool_pre_ping=True)
    poller = FleetPoller(
        session_factory(engine),
        secret_box_for(settings),
        settings,
        PollerMetrics(registry),
        FlowMetrics(registry),
        FleetMetrics(registry, name, settings.poller.group),
        name,
    )
    app = web.Application()
    app[POLLER], app[REGISTRY], app[SETTINGS] = poller, registry, settings
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app, access_log=None)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        await poller.start()
        log.info("poller %s: /metrics on http://%s:%d", name, host, port)
        await stop.wait()
    finally:
        await poller.stop()
        await runner.cleanup()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await engine.dispose()


def run_poller(settings: Settings, host: str, port: int) -> int:
    asyncio.run(_run(settings, host, port))
    return 0
