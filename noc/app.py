"""The aiohttp application factory: typed state, long-lived resources in ``cleanup_ctx``, ``/healthz``, ``/metrics``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import shutil
import signal
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Info, generate_latest
from sqlalchemy.exc import SQLAlchemyError

import noc
from exporters.collector import FlowMetrics, NocCollector, PollerMetrics
from exporters.snapshot import Snapshot
from noc import dbadmin
from noc.api import setup_api
from noc.auth import bearer_matches
from noc.crypto import secret_box_for
from noc.db import create_engine, session_factory
from noc.errors import InputError
from noc.flow.service import NocService
from noc.keys import ENGINE, METRICS_FROM, REGISTRY, SERVICE, SESSIONS, SETTINGS, SNAPSHOT, TICKETS
from noc.settings import Settings
from noc.store.compliance import StoredSlaCompliance
from noc.web import setup_web
from tickets.service import TicketService

STARTUP_S = 300.0  # how long the first worker may take to listen (migrations checked, inventory read)
# On every answer (pages, API, redirects, errors, static files): no inline script, nothing from elsewhere, no
# framing, no type sniffing; and the Server header names no software version.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Server": "noc",
}
log = logging.getLogger(__name__)


async def _database(app: web.Application) -> AsyncIterator[None]:
    engine = create_engine(app[SETTINGS].database_url, pool_pre_ping=True)
    await dbadmin.require_current(engine)
    app[ENGINE] = engine
    app[SESSIONS] = session_factory(engine)
    settings = app[SETTINGS]
    history = StoredSlaCompliance(app[SESSIONS], settings.tickets.sla_history_months)
    app[TICKETS] = TicketService(app[SESSIONS], settings.tickets, box=secret_box_for(settings), sla_source=history)
    yield
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(10):
            await engine.dispose()


async def _service(app: web.Application) -> AsyncIterator[None]:
    """The poller, SLA engine and exporter snapshot run beside the web app, stopped cleanly with it."""
    settings = app[SETTINGS]
    service = NocService(
        app[SESSIONS],
        secret_box_for(settings),
        settings,
        app[SNAPSHOT],
        PollerMetrics(app[REGISTRY]),
        FlowMetrics(app[REGISTRY]),
        app[TICKETS],
    )
    await service.start()
    app[SERVICE] = service
    yield
    await service.stop()


async def healthz(request: web.Request) -> web.Response:
    """200 when the database takes a write and every stage works; 503 naming what fails (the database, or the
    stages of the measurement path that are failing now)."""
    body: dict[str, object] = {"status": "ok", "database": "ok", "version": noc.__version__}
    try:
        await dbadmin.heartbeat(request.app[ENGINE], f"web:{os.getpid()}")
    except (SQLAlchemyError, OSError) as exc:
        body["database"] = f"cannot write: {type(exc).__name__}"
    service = request.app.get(SERVICE)
    failing = service.failing() if service is not None else []
    if failing:
        body["failing"] = failing
    if failing or body["database"] != "ok":
        body["status"] = "degraded"
        return web.json_response(body, status=503)
    return web.json_response(body)


def may_scrape(settings: Settings, authorization: str) -> bool:
    """``/metrics`` needs ``web.metrics_token`` as a bearer token, unless ``web.metrics_open`` (no token set)."""
    if settings.web.metrics_token is None:
        return settings.web.metrics_open
    return bearer_matches(authorization, settings.web.metrics_token.get_secret_value())


def unauthorised() -> web.Response:
    return web.Response(
        text="Authorization: a valid bearer token is required (web.metrics_token)\n",
        status=401,
        headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
    )


async def metrics(request: web.Request) -> web.Response:
    if not may_scrape(request.app[SETTINGS], request.headers.get("Authorization", "")):
        return unauthorised()
    source = request.app[METRICS_FROM]
    if source:
        # A web-only worker: the poller's process holds the measurements, so its exposition is the one to give.
        # The caller's credentials go along: the polling process checks them as any scrape.
        forwarded = {"Authorization": request.headers["Authorization"]} if "Authorization" in request.headers else {}
        try:
            async with (
                aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=source)) as client,
                client.get("http://noc/metrics", headers=forwarded, timeout=aiohttp.ClientTimeout(total=30)) as answer,
            ):
                return web.Response(
                    body=await answer.read(), status=answer.status, headers={"Content-Type": CONTENT_TYPE_LATEST}
                )
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            # A failed scrape (Prometheus records up == 0), never a made-up exposition without the poller's series.
            message = f"the polling process does not answer ({type(exc).__name__}): try again\n"
            return web.Response(text=message, status=503)
    body = generate_latest(request.app[REGISTRY])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers["Server"] = SECURITY_HEADERS["Server"]
    if request.app[SETTINGS].web.cookie_secure:  # served through TLS: browsers keep to it
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")


def open_endpoints(settings: Settings) -> list[str]:
    """What the settings leave readable or writable without credentials, said once at start."""
    web_settings = settings.web
    found = []
    if web_settings.alertmanager_token is None and web_settings.alertmanager_open:
        found.append("POST /api/alertmanager accepts notifications without a token (web.alertmanager_open)")
    if web_settings.metrics_token is None and web_settings.metrics_open:
        found.append("/metrics answers without credentials (web.metrics_open)")
    return found


def create_app(settings: Settings, metrics_from: str | None = None, *, service: bool = True) -> web.Application:
    """The web app; with ``service`` (and unless it is a web-only worker, ``metrics_from``) also the measurement
    path's consumers, the SLA engine and the ticket timers, and the poll stage unless ``poller.enabled`` is off."""
    app = web.Application()
    app.on_response_prepare.append(_security_headers)
    app[SETTINGS] = settings
    app[METRICS_FROM] = metrics_from or ""
    # A registry per app: no global state, so tests and several apps in one process never collide.
    registry = CollectorRegistry()
    Info("noc_build", "Build of this NOC service.", registry=registry).info({"version": noc.__version__})
    app[REGISTRY] = registry
    snapshot = Snapshot()
    registry.register(NocCollector(snapshot))
    app[SNAPSHOT] = snapshot
    app.cleanup_ctx.append(_database)
    if service and not metrics_from:
        app.cleanup_ctx.append(_service)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    setup_api(app)
    setup_web(app)
    return app


def run(settings: Settings, host: str, port: int, worker: Worker | None = None) -> None:
    if worker is None or worker.index == 0:
        for warning in open_endpoints(settings):
            log.warning("open by configuration: %s", warning)
    if worker is None:
        web.run_app(create_app(settings), host=host, port=port, print=None)
    elif worker.index == 0:  # also on the Unix socket the other workers fetch /metrics from
        web.run_app(create_app(settings), host=host, port=port, path=worker.socket, print=None, reuse_port=True)
    else:
        web.run_app(create_app(settings, worker.socket), host=host, port=port, print=None, reuse_port=True)


@dataclass(frozen=True, slots=True)
class Worker:
    index: int
    socket: str  # the first worker's Unix socket


def serve(settings: Settings, host: str, port: int, workers: int = 1) -> int:
    """One process, or ``workers`` processes accepting on the same port (SO_REUSEPORT: the kernel spreads the
    connections). Only the first runs the poller, SLA engine and ticket timers; the others serve the web app and
    API. Everything they share lives in the database (sessions included), so any of them can answer any request.
    SIGTERM/SIGINT stop them all; if one dies, the rest are stopped and the exit status says so."""
    if workers <= 1:
        run(settings, host, port)
        return 0
    if port == 0:
        raise InputError("--workers: several processes need a fixed --port")
    context = multiprocessing.get_context("spawn")
    rundir = tempfile.mkdtemp(prefix="noc-serve-")
    socket = os.path.join(rundir, "metrics.sock")
    children = [
        context.Process(target=run, args=(settings, host, port, Worker(i, socket)), name=f"noc-web-{i}")
        for i in range(workers)
    ]
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.is_alive() and child.pid is not None:
                os.kill(child.pid, signal.SIGTERM)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        # The first process alone at first: the others pass /metrics on from it, so they start once it listens.
        children[0].start()
        deadline = time.monotonic() + STARTUP_S
        while not os.path.exists(socket) and children[0].is_alive() and time.monotonic() < deadline and not stopping:
            children[0].join(0.1)  # waits on the process itself, a tenth of a second at a time
        for child in children[1:]:
            if children[0].is_alive() and not stopping:
                child.start()
        started = [c for c in children if c.pid is not None]
        multiprocessing.connection.wait([c.sentinel for c in started])  # the first to end, by request or not
        failed = not stopping
        stop()
        for child in started:
            child.join()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        shutil.rmtree(rundir, ignore_errors=True)
    return 1 if failed else 0
