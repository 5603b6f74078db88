"""``POST /api/alertmanager``: Alertmanager's notifications (payload version 4) become ticket inputs.

Closed unless configured: the bearer token ``web.alertmanager_token`` is required, or the operator sets
``web.alertmanager_open`` to let anyone who reaches the port post. Only ``application/json`` is read (a browser's
cross-site form cannot send it without a CORS preflight). A notification is checked whole before anything is
applied: malformed (400), an instant outside the accepted window (422): nothing written.

A "resolved" notification is a claim, not a fact: it resolves a fault only when the system's own view agrees (the
device is not down per the poller, no SLA breach is open on the circuit). Otherwise the claim is written on the
open tickets' worklog and they stay open.
"""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exporters.alertmanager import Decision, OutOfWindow, WebhookError, Window, map_alerts
from noc import models as m
from noc.api import schemas as s
from noc.api.bodies import load_json
from noc.api.errors import ApiError, error_response
from noc.auth import bearer_matches
from noc.keys import SESSIONS, SETTINGS, TICKETS
from noc.timeutil import utcnow
from tickets.errors import TicketError
from tickets.rules import DeviceDown, DeviceUp, FaultCleared, FaultEvent

PATH = "/api/alertmanager"
AUTHOR = "system:alertmanager"


def _authorised(request: web.Request) -> bool:
    settings = request.app[SETTINGS].web
    if settings.alertmanager_token is None:
        return settings.alertmanager_open
    return bearer_matches(request.headers.get("Authorization", ""), settings.alertmanager_token.get_secret_value())


async def _contradiction(session: AsyncSession, decision: FaultCleared | DeviceUp) -> str | None:
    """Why the system's own view disagrees with a reported recovery, or None when it does not."""
    if isinstance(decision, DeviceUp):
        device, circuit_id = decision.device, None
    else:
        row = (
            await session.execute(
                select(m.Circuit.id, m.Device.name)
                .join(m.Device, m.Device.id == m.Circuit.device_id)
                .where(m.Circuit.name == decision.circuit)
            )
        ).first()
        if row is None:
            return None  # unknown circuit: the tickets service reports it
        circuit_id, device = row
    available = await session.scalar(
        select(m.DeviceStatus.available)
        .join(m.Device, m.Device.id == m.DeviceStatus.device_id)
        .where(m.Device.name == device)
    )
    if available is False:
        return f"device {device} does not answer (the poller's view)"
    if circuit_id is not None:
        objective = await session.scalar(
            select(m.SlaBreachRecord.objective)
            .where(m.SlaBreachRecord.circuit_id == circuit_id, m.SlaBreachRecord.until.is_(None))
            .limit(1)
        )
        if objective is not None:
            return f"the {objective} breach on the circuit is still open"
    return None


async def _apply(request: web.Request, decision: Decision) -> tuple[list[str], list[str]]:
    """The tickets changed, and the tickets only annotated (a recovery the system does not confirm)."""
    tickets = request.app[TICKETS]
    if isinstance(decision, FaultEvent):
        return [(await tickets.handle_fault(decision)).ref], []
    if isinstance(decision, DeviceDown):
        return [(await tickets.handle_device_down(decision)).parent_ref], []
    async with request.app[SESSIONS]() as session:
        why = await _contradiction(session, decision)
    if why is not None:
        return [], await tickets.note_unconfirmed_clear(decision, AUTHOR, why)
    if isinstance(decision, FaultCleared):
        outcome = await tickets.handle_clear(decision)
        return ([outcome.ref] if outcome is not None else []), []
    return [o.ref for o in await tickets.handle_device_up(decision)], []


async def alertmanager_webhook(request: web.Request) -> web.Response:
    if not _authorised(request):
        response = error_response(401, "Authorization: a valid bearer token is required", "Authorization")
        response.headers["WWW-Authenticate"] = 'Bearer realm="alertmanager"'
        return response
    if request.content_type != "application/json":
        return error_response(415, f"Content-Type: application/json, not {request.content_type}", "Content-Type")
    settings = request.app[SETTINGS].web
    max_age = timedelta(days=settings.alertmanager_max_age_days)
    window = Window.around(utcnow(), max_age, timedelta(seconds=settings.alertmanager_max_skew_s))
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return error_response(413, f"body: larger than the server's limit of {request.client_max_size} bytes", "body")
    try:
        decisions, ignored = map_alerts(load_json(raw), window)
    except ApiError as exc:
        return error_response(exc.status, exc.message, exc.field)
    except OutOfWindow as exc:
        return error_response(422, str(exc), exc.field)
    except WebhookError as exc:
        return error_response(400, str(exc), exc.field)
    applied: list[str] = []
    unconfirmed: list[str] = []
    skipped = [s.IgnoredOut(fingerprint=i.fingerprint, reason=i.reason) for i in ignored]
    for decision in decisions:
        try:
            changed, noted = await _apply(request, decision)
        except TicketError as exc:
            skipped.append(s.IgnoredOut(fingerprint="", reason=str(exc)))
            continue
        applied += changed
        unconfirmed += noted
    body = s.WebhookOut(tickets=applied, unconfirmed=unconfirmed, ignored=skipped)
    return web.Response(text=body.model_dump_json(), content_type="application/json")
