"""The web application's typed state keys, in a module of their own: the app factory, the pages and the API all
use them, and none of those has to import another to get them (no import cycle between ``noc.app``, ``noc.web``
and ``noc.api``)."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from exporters.snapshot import Snapshot
from noc.flow.service import NocService
from noc.settings import Settings
from tickets.service import TicketService

SETTINGS = web.AppKey("settings", Settings)
ENGINE = web.AppKey("engine", AsyncEngine)
SESSIONS = web.AppKey("sessions", async_sessionmaker[AsyncSession])
REGISTRY = web.AppKey("registry", CollectorRegistry)
SNAPSHOT = web.AppKey("snapshot", Snapshot)
SERVICE = web.AppKey("service", NocService)
TICKETS = web.AppKey("tickets", TicketService)
METRICS_FROM = web.AppKey("metrics_from", str)  # a Unix socket to fetch /metrics from, or "": ours
