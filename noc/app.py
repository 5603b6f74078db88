"""The aiohttp application factory: typed state, long-lived resources in ``cleanup_ctx``, ``/healthz``, ``/metrics``."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Info, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import noc
from exporters.alertmanager import WebhookError, map_alerts
from exporters.collector import NocCollector, PollerMetrics
from exporters.snapshot import Snapshot
from noc import dbadmin
from noc.api import setup_api
from noc.crypto import secret_box_for
from noc.db import create_engine, session_factory
from noc.service import NocService
from noc.settings import Settings
from noc.web import setup_web
from tickets.errors import TicketError
from tickets.rules import DeviceDown, FaultCleared, FaultEvent
from tickets.service import TicketService

SETTINGS = web.AppKey("settings", Settings)
ENGINE = web.AppKey("engine", AsyncEngine)
SESSIONS = web.AppKey("sessions", async_sessionmaker[AsyncSession])
REGISTRY = web.AppKey("registry", CollectorRegistry)
SNAPSHOT = web.AppKey("snapshot", Snapshot)
SERVICE = web.AppKey("service", NocService)
TICKETS = web.AppKey("tickets", TicketService)


async def _database(app: web.Application) -> AsyncIterator[None]:
    engine = create_engine(app[SETTINGS].database_url, pool_pre_ping=True)
    await dbadmin.require_current(engine)
    app[ENGINE] = engine
    app[SESSIONS] = session_factory(engine)
    settings = app[SETTINGS]
    app[TICKETS] = TicketService(app[SESSIONS], settings.tickets, box=secret_box_for(settings))
    yield
    await engine.dispose()


async def _service(app: web.Application) -> AsyncIterator[None]:
    """The poller, SLA engine and exporter snapshot run beside the web app, stopped cleanly with it."""
    settings = app[SETTINGS]
    service = NocService(
        app[SESSIONS],
        secret_box_for(settings),
        settings.poller,
        app[SNAPSHOT],
        PollerMetrics(app[REGISTRY]),
        app[TICKETS],
    )
    await service.start()
    app[SERVICE] = service
    yield
    await service.stop()


async def healthz(request: web.Request) -> web.Response:
    try:
        async with request.app[ENGINE].connect() as conn:
            await conn.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as exc:
        return web.json_response({"status": "degraded", "database": type(exc).__name__}, status=503)
    return web.json_response({"status": "ok", "database": "ok", "version": noc.__version__})


async def metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[REGISTRY])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def alertmanager_webhook(request: web.Request) -> web.Response:
    """Alertmanager (payload version 4) → tickets. A malformed payload is refused whole (400) before anything is
    applied; an alert about an unknown circuit or device is reported back as ignored, the others still apply."""
    token = request.app[SETTINGS].web.alertmanager_token
    if token is not None:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token.get_secret_value()}".encode()):
            return web.json_response({"error": "Authorization: a valid bearer token is required"}, status=401)
    try:
        body = await request.json()
    except ValueError:
        return web.json_response({"error": "body: not JSON"}, status=400)
    try:
        decisions, ignored = map_alerts(body)
    except WebhookError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    tickets = request.app[TICKETS]
    applied: list[str] = []
    skipped = [{"fingerprint": i.fingerprint, "reason": i.reason} for i in ignored]
    for decision in decisions:
        try:
            if isinstance(decision, FaultEvent):
                applied.append((await tickets.handle_fault(decision)).ref)
            elif isinstance(decision, FaultCleared):
                outcome = await tickets.handle_clear(decision)
                if outcome is not None:
                    applied.append(outcome.ref)
            elif isinstance(decision, DeviceDown):
                applied.append((await tickets.handle_device_down(decision)).parent_ref)
            else:
                applied.extend(o.ref for o in await tickets.handle_device_up(decision))
        except TicketError as exc:
            skipped.append({"fingerprint": "", "reason": str(exc)})
    return web.json_response({"tickets": applied, "ignored": skipped})


def create_app(settings: Settings) -> web.Application:
    app = web.Application()
    app[SETTINGS] = settings
    # A registry per app: no global state, so tests and several apps in one process never collide.
    registry = CollectorRegistry()
    Info("noc_build", "Build of this NOC service.", registry=registry).info({"version": noc.__version__})
    app[REGISTRY] = registry
    snapshot = Snapshot()
    registry.register(NocCollector(snapshot))
    app[SNAPSHOT] = snapshot
    app.cleanup_ctx.append(_database)
    if settings.poller.enabled:
        app.cleanup_ctx.append(_service)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_post("/api/alertmanager", alertmanager_webhook)
    setup_api(app)
    setup_web(app)
    return app


def run(settings: Settings, host: str, port: int) -> None:
    web.run_app(create_app(settings), host=host, port=port, print=None)
