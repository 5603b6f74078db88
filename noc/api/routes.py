"""The REST API's routes as one table: each entry is both what the router serves and what the OpenAPI document
says, so a route cannot exist undocumented.

Every route but the document itself needs ``Authorization: Bearer <token>``; the token's user is the actor, and
the tickets service applies its role rules (``tickets.access``) to what they see and do. Inventory writes and the
inventory export are the admin's alone.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from noc import audit, i18n
from noc import models as m
from noc.api import TOKENS
from noc.api import schemas as s
from noc.api.bodies import has_nul, load_json
from noc.api.errors import ApiError, from_exception
from noc.auth import Principal, principal_for_token, refuse
from noc.crypto import secret_box_for
from noc.i18n import accepted
from noc.inventory.service import accounts_with_managers, export_yaml, import_text
from noc.keys import SESSIONS, SETTINGS, TICKETS
from noc.notify.records import NotificationView, notifications_of
from noc.store.reports import build_report, daily_series
from noc.store.sla import open_breaches
from noc.timeutil import utcnow
from sla.customer import AUDIENCES, Audience
from sla.documents.tables import render_csv, render_json
from sla.errors import SlaError
from sla.period import parse_month
from tickets import access, filters
from tickets.access import Actor
from tickets.rules import FaultEvent, FaultKind, Impact
from tickets.service import TicketDetail, TicketService, TicketSummary

JSON = "application/json"
MAX_ID = 2**31 - 1  # larger ids cannot exist (and would overflow an INTEGER bind on PostgreSQL)
MAX_PAGE = 200
MIN_REPORT_YEAR, MAX_REPORT_YEAR = 1970, 2999
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    where: str  # "path" or "query"
    schema: dict[str, Any]
    description: str = ""
    required: bool = False


@dataclass(frozen=True, slots=True)
class Call:
    """One authenticated request: who acts, and the validated body if the route takes one."""

    request: web.Request
    user: Principal
    body: BaseModel | None

    @property
    def tickets(self) -> TicketService:
        return self.request.app[TICKETS]

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self.request.app[SESSIONS]

    def body_as(self, model: type[M]) -> M:
        assert isinstance(self.body, model)  # the route table pairs each handler with its body model
        return self.body


Handler = Callable[[Call], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    response: type[BaseModel] | None  # the 200 JSON body; None for other media (``media``)
    params: tuple[Param, ...] = ()
    body: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    media: tuple[str, ...] = (JSON,)
    admin_only: bool = False
    upload: tuple[str, ...] = ()  # the media types of a raw (not JSON) body the route stores as it is


# --- plumbing ------------------------------------------------------------------------------------------------


def _json(model: BaseModel, status: int = 200) -> web.Response:
    return web.Response(text=model.model_dump_json(), status=status, content_type=JSON)


async def _authenticate(request: web.Request) -> Principal:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "Authorization: a bearer token is required (Authorization: Bearer <token>)")
    token = token.strip()
    cache, now = request.app[TOKENS], time.monotonic()
    principal = cache.get(token, now)
    if principal is None:
        principal = await principal_for_token(request.app[SESSIONS], token)
        if principal is None:
            raise ApiError(401, "Authorization: the token is unknown or revoked, or its user is inactive")
        cache.put(token, principal, now)
    return principal


async def _body(request: web.Request, model: type[BaseModel]) -> BaseModel:
    raw = await request.read()
    data = {} if not raw.strip() else load_json(raw)
    if not isinstance(data, dict):
        raise ApiError(422, "body: a JSON object is required", "body")
    if has_nul(data):
        raise ApiError(422, "body: text may not contain NUL characters", "body")
    return model.model_validate(data)


def wrap(route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            for name, value in (*request.match_info.items(), *request.query.items()):
                if "\x00" in value:
                    raise ApiError(400, f"{name}: may not contain NUL characters", name)
            user = await _authenticate(request)
            if route.admin_only and user.role != "admin":
                raise ApiError(403, f"{user.username} ({user.role}) may not do this: admin only")
            body = await _body(request, route.body) if route.body is not None else None
            return await route.handler(Call(request, user, body))
        except Exception as exc:
            response = from_exception(exc)
            if response is None:
                raise
            if response.status == 401:
                response.headers["WWW-Authenticate"] = 'Bearer realm="noc"'
            return response

    return handle


def _query_int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ApiError(400, f"{name}: {text!r} is not an integer", name) from None
    if not low <= value <= high:
        raise ApiError(400, f"{name}: must be {low} to {high}, not {value}", name)
    return value


def _query_bool(request: web.Request, name: str) -> bool:
    text = request.query.get(name, "false").lower()
    if text not in ("true", "false", "1", "0"):
        raise ApiError(400, f"{name}: true or false, not {text!r}", name)
    return text in ("true", "1")


def ticket_id_in(request: web.Request) -> int:
    """The path's ticket number; anything no ticket could have (not ASCII digits, beyond an INTEGER key) is a 404."""
    text = request.match_info["ticket_id"]
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_ID:
        raise ApiError(404, f"no ticket {text!r}", "ticket_id")
    return int(text)


def _ticket_id(call: Call) -> int:
    return ticket_id_in(call.request)


async def _actor(call: Call, session: AsyncSession) -> Actor:
    # The tickets service resolves a user into the actor its role rules take; the API applies the same rules to
    # what is not a ticket (accounts, circuits, breaches, reports) rather than keeping its own.
    return await call.tickets.actor(session, call.user.username)


# --- inventory -----------------------------------------------------------------------------------------------


async def _devices(session: AsyncSession, actor: Actor, name: str | None = None) -> list[s.DeviceOut]:
    query = select(m.Device).order_by(m.Device.name)
    if name is not None:
        query = query.where(m.Device.name == name)
    devices = list(await session.scalars(query))
    ids = [d.id for d in devices]
    states = {
        st.device_id: st
        for st in await session.scalars(select(m.DeviceStatus).where(m.DeviceStatus.device_id.in_(ids)))
    }
    interfaces: dict[int, list[s.InterfaceOut]] = {}
    carried: dict[tuple[int, str], set[int]] = {}
    for device_id, interface_name, account_id in await session.execute(
        select(m.Circuit.device_id, m.Circuit.interface_name, m.Circuit.account_id).where(m.Circuit.device_id.in_(ids))
    ):
        carried.setdefault((device_id, interface_name), set()).add(account_id)
    for i in await session.scalars(
        select(m.Interface).where(m.Interface.device_id.in_(ids)).order_by(m.Interface.device_id, m.Interface.if_index)
    ):
        shown = s.InterfaceOut.model_validate(i)
        if not access.may_see_interface_alias(actor, frozenset(carried.get((i.device_id, i.name), ()))):
            shown = shown.model_copy(update={"alias": None})
        interfaces.setdefault(i.device_id, []).append(shown)
    return [
        s.DeviceOut(
            name=d.name,
            address=d.address,
            platform=d.platform,
            role=d.role,
            region=d.region,
            site=d.site,
            enabled=d.enabled,
            state=s.DeviceState.model_validate(states[d.id]) if d.id in states else None,
            interfaces=interfaces.get(d.id, []),
        )
        for d in devices
    ]


async def list_devices(call: Call) -> web.Response:
    async with call.sessions() as session:
        return _json(s.DeviceList(items=await _devices(session, await _actor(call, session))))


async def show_device(call: Call) -> web.Response:
    name = call.request.match_info["name"]
    async with call.sessions() as session:
        found = await _devices(session, await _actor(call, session), name)
    if not found:
        raise ApiError(404, f"no device named {name!r}", "name")
    return _json(found[0])


async def _circuits(call: Call, name: str | None = None, account: str | None = None) -> list[s.CircuitOut]:
    async with call.sessions() as session:
        actor = await _actor(call, session)
        query = (
            select(m.Circuit, m.KeyAccount.name, m.Contract.name, m.Device.name)
            .join(m.KeyAccount, m.KeyAccount.id == m.Circuit.account_id)
            .join(m.Contract, m.Contract.id == m.Circuit.contract_id)
            .join(m.Device, m.Device.id == m.Circuit.device_id)
            .order_by(m.Circuit.name)
        )
        if name is not None:
            query = query.where(m.Circuit.name == name)
        if account is not None:
            row = await readable_account(session, actor, account, "account")
            query = query.where(m.Circuit.account_id == row.id)
        rows = [r for r in (await session.execute(query)).all() if access.may_see_account(actor, r[0].account_id)]
        if name is not None and not rows and await session.scalar(select(m.Circuit.id).where(m.Circuit.name == name)):
            raise ApiError(403, f"{actor.username} ({actor.role}) may not see circuit {name}")
        ids = [r[0].id for r in rows]
        p = m.ProbeMeasurement
        newest_probe = (
            select(p.circuit_id, func.max(p.ts).label("ts")).where(p.circuit_id.in_(ids)).group_by(p.circuit_id)
        ).subquery()
        probes = {
            x.circuit_id: x
            for x in await session.scalars(
                select(p).join(newest_probe, (p.circuit_id == newest_probe.c.circuit_id) & (p.ts == newest_probe.c.ts))
            )
        }
        i = m.InterfaceMeasurement
        device_ids = {r[0].device_id for r in rows}
        newest_if = (
            select(i.device_id, i.if_name, func.max(i.ts).label("ts"))
            .where(i.device_id.in_(device_ids))
            .group_by(i.device_id, i.if_name)
        ).subquery()
        measured = {
            (x.device_id, x.if_name): x
            for x in await session.scalars(
                select(i).join(
                    newest_if,
                    (i.device_id == newest_if.c.device_id)
                    & (i.if_name == newest_if.c.if_name)
                    & (i.ts == newest_if.c.ts),
                )
            )
        }
    out = []
    for circuit, account_name, contract_name, device_name in rows:
        probe = probes.get(circuit.id)
        latest_if = measured.get((circuit.device_id, circuit.interface_name))
        out.append(
            s.CircuitOut(
                name=circuit.name,
                account=account_name,
                contract=contract_name,
                device=device_name,
                interface=circuit.interface_name,
                far_end_address=circuit.far_end_address,
                committed_rate_bps=circuit.committed_rate_bps,
                probe=circuit.probe,
                service=circuit.service,
                latest_probe=s.ProbeOut.model_validate(probe) if probe else None,
                latest_interface=s.InterfaceMeasurementOut.model_validate(latest_if) if latest_if else None,
            )
        )
    return out


async def list_circuits(call: Call) -> web.Response:
    return _json(s.CircuitList(items=await _circuits(call, account=call.request.query.get("account"))))


async def show_circuit(call: Call) -> web.Response:
    name = call.request.match_info["name"]
    found = await _circuits(call, name=name)
    if not found:
        raise ApiError(404, f"no circuit named {name!r}", "name")
    return _json(found[0])


async def list_accounts(call: Call) -> web.Response:
    async with call.sessions() as session:
        actor = await _actor(call, session)
        rows = await accounts_with_managers(session)
    items = [
        s.AccountOut(name=a.name, legal_name=a.legal_name, tier=a.tier, region=a.region, account_manager=manager)
        for a, manager in rows
        if access.may_see_account(actor, a.id)
    ]
    return _json(s.AccountList(items=items))


async def account_health(call: Call) -> web.Response:
    archive = await call.tickets.account_health(call.user.username, call.request.match_info["name"])
    return _json(s.HealthOut(archive))


async def export_inventory(call: Call) -> web.Response:
    text = await export_yaml(call.sessions, secret_box_for(call.request.app[SETTINGS]))
    return web.Response(text=text, content_type="application/yaml")


async def import_inventory(call: Call) -> web.Response:
    """All or nothing, as ``noc inventory import``. ``${VAR}`` references are not resolved from the server's
    environment: a client must not be able to copy the server's variables into the inventory."""
    dry_run = _query_bool(call.request, "dry_run")
    raw = await call.request.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, "body: not UTF-8 text", "body") from exc
    if "\x00" in text:
        raise ApiError(422, "body: may not contain NUL characters", "body")
    # {} as the environment: a client must not be able to copy the server's variables into the inventory
    report = await import_text(
        call.sessions,
        secret_box_for(call.request.app[SETTINGS]),
        text,
        "request body",
        f"api:{call.user.username}",
        dry_run,
        {},
    )
    changes = [
        s.ChangeOut(kind=c.kind, name=c.name, action=c.action, changed_fields=list(c.changed_fields))
        for c in report.changes
    ]
    return _json(s.ImportOut(dry_run=dry_run, changes=changes))


# --- tickets -------------------------------------------------------------------------------------------------


def _ticket(summary: TicketSummary) -> s.TicketOut:
    return s.TicketOut.model_validate(summary)


def _detail(detail: TicketDetail, notifications: Sequence[NotificationView]) -> s.TicketDetailOut:
    return s.TicketDetailOut(
        ticket=_ticket(detail.summary),
        symptoms=detail.symptoms,
        causes=list(detail.causes),
        children=list(detail.children),
        transitions=[s.TransitionOut.model_validate(t) for t in detail.transitions],
        worklog=[s.WorklogOut.model_validate(w) for w in detail.worklog],
        cause_category=detail.cause_category,
        resolution=detail.resolution,
        rating=s.RatingOut.model_validate(detail.rating) if detail.rating else None,
        suggestions=[s.CaseOut.model_validate(c) for c in detail.suggestions],
        notifications=[s.NotificationOut.model_validate(n) for n in notifications],
    )


async def list_tickets(call: Call) -> web.Response:
    query = call.request.query
    limit = _query_int(call.request, "limit", 50, 1, MAX_PAGE)
    offset = _query_int(call.request, "offset", 0, 0, 100_000)
    try:  # a list field may also be repeated (status=new&status=acknowledged)
        where = filters.filter_from({name: ",".join(query.getall(name)) for name in filters.FIELDS if name in query})
    except filters.FilterError as exc:
        raise ApiError(400, str(exc), exc.field) from exc
    # The service pages in the filter's order; one more than asked tells whether a next page exists.
    found = await call.tickets.list_tickets(call.user.username, where, limit=offset + limit + 1)
    page = found[offset : offset + limit]
    more = len(found) > offset + limit
    return _json(
        s.TicketPage(
            items=[_ticket(t) for t in page], limit=limit, offset=offset, next_offset=offset + limit if more else None
        )
    )


async def report_fault(call: Call) -> web.Response:
    body = call.body_as(s.ReportIn)
    kind = FaultKind(body.kind)
    event = FaultEvent(
        kind, body.circuit, body.cause or kind.value, Impact(body.impact), call.tickets.clock.now(), body.summary
    )
    return _json(s.FaultOut.model_validate(await call.tickets.report_fault(call.user.username, event)))


async def show_ticket(call: Call) -> web.Response:
    detail = await call.tickets.show_ticket(call.user.username, _ticket_id(call))
    async with call.sessions() as session:
        notifications = await notifications_of(session, detail.summary.id)
    return _json(_detail(detail, notifications))


async def acknowledge(call: Call) -> web.Response:
    body = call.body_as(s.AcknowledgeIn)
    if body.expected_version is not None and not 0 <= body.expected_version <= MAX_ID:
        raise ApiError(422, "expected_version: out of range", "expected_version")
    summary = await call.tickets.acknowledge(
        call.user.username, _ticket_id(call), body.expected_version, note=body.note, until=body.until
    )
    return _json(_ticket(summary))


async def take(call: Call) -> web.Response:
    return _json(_ticket(await call.tickets.take(call.user.username, _ticket_id(call))))


async def wait_on_customer(call: Call) -> web.Response:
    body = call.body_as(s.PendingIn)
    return _json(_ticket(await call.tickets.wait_on_customer(call.user.username, _ticket_id(call), body.reason)))


async def assign(call: Call) -> web.Response:
    body = call.body_as(s.AssignIn)
    return _json(
        _ticket(await call.tickets.assign(call.user.username, _ticket_id(call), body.technician, auto=body.auto))
    )


async def add_note(call: Call) -> web.Response:
    body = call.body_as(s.NoteIn)
    return _json(_ticket(await call.tickets.add_note(call.user.username, _ticket_id(call), body.text)))


async def start_work(call: Call) -> web.Response:
    return _json(_ticket(await call.tickets.start_work(call.user.username, _ticket_id(call))))


async def resume(call: Call) -> web.Response:
    return _json(_ticket(await call.tickets.resume(call.user.username, _ticket_id(call))))


async def resolve(call: Call) -> web.Response:
    body = call.body_as(s.ResolveIn)
    summary = await call.tickets.resolve(
        call.user.username, _ticket_id(call), confirmed_on_site=body.confirmed_on_site, note=body.note
    )
    return _json(_ticket(summary))


async def close(call: Call) -> web.Response:
    body = call.body_as(s.CloseIn)
    summary = await call.tickets.close(call.user.username, _ticket_id(call), body.cause_category, body.resolution)
    return _json(_ticket(summary))


async def reopen(call: Call) -> web.Response:
    return _json(_ticket(await call.tickets.reopen(call.user.username, _ticket_id(call))))


async def rate(call: Call) -> web.Response:
    body = call.body_as(s.RateIn)
    return _json(_ticket(await call.tickets.rate(call.user.username, _ticket_id(call), body.score, body.comment)))


# --- SLA -----------------------------------------------------------------------------------------------------


async def breaches(call: Call) -> web.Response:
    async with call.sessions() as session:
        actor = await _actor(call, session)
        found = await open_breaches(session)
        accounts = dict(
            (
                await session.execute(
                    select(m.Circuit.id, m.KeyAccount.name).join(m.KeyAccount, m.KeyAccount.id == m.Circuit.account_id)
                )
            ).all()
        )
        visible = {
            cid
            for cid, account_id in (await session.execute(select(m.Circuit.id, m.Circuit.account_id))).all()
            if access.may_see_account(actor, account_id)
        }
    items = [
        s.BreachOut(
            circuit=circuit,
            account=accounts[row.circuit_id],
            objective=row.objective,
            measured=row.measured,
            limit=row.limit,
            since=row.since,
        )
        for row, circuit in found
        if row.circuit_id in visible
    ]
    return _json(s.BreachList(items=items))


REPORT_MEDIA = {"json": JSON, "csv": "text/csv", "pdf": "application/pdf"}


def report_audience(request: web.Request) -> Audience:
    """``audience``: internal (the default: every detail) or customer (the customer's copy, a PDF); else a 400
    naming the field."""
    given = request.query.get("audience", "internal")
    for audience in AUDIENCES:
        if given == audience:
            return audience
    raise ApiError(400, f"audience: internal or customer, not {given!r}", "audience")


def report_language(request: web.Request) -> str:
    """The customer's copy's language: ``language`` (zh-CN or en), else the caller's Accept-Language, else zh-CN;
    another value is a 400 naming the field. The internal copy is in English whatever is asked."""
    given = request.query.get("language")
    if given is None:
        return accepted(request.headers.get("Accept-Language", "")) or i18n.DEFAULT
    if given not in i18n.LANGUAGES:
        raise ApiError(400, f"language: one of {', '.join(i18n.LANGUAGES)}, not {given!r}", "language")
    return given


def _report_format(request: web.Request, audience: Audience) -> str:
    given = request.query.get("format")
    if audience == "customer":
        if given not in (None, "pdf"):
            raise ApiError(400, f"format: the customer's copy is a PDF, not {given}", "format")
        return "pdf"
    if given is not None:
        if given not in REPORT_MEDIA:
            raise ApiError(400, f"format: one of json, csv, pdf, not {given!r}", "format")
        return given
    accept = request.headers.get("Accept", "")
    for fmt in ("pdf", "csv"):
        if REPORT_MEDIA[fmt] in accept:
            return fmt
    return "json"


def report_month(text: str) -> tuple[int, int]:
    """A report's ``month`` (YYYY-MM) as (year, month), or a 400 naming the field."""
    try:
        year, month = parse_month(text)
    except SlaError as exc:
        raise ApiError(400, f"month: {exc}", "month") from exc
    if not MIN_REPORT_YEAR <= year <= MAX_REPORT_YEAR:
        # Far years overflow the date arithmetic of the period (a day before 0001-01-01); none holds data anyway.
        raise ApiError(400, f"month: year must be {MIN_REPORT_YEAR} to {MAX_REPORT_YEAR}", "month")
    return year, month


async def readable_account(session: AsyncSession, actor: Actor, name: str, field: str) -> m.KeyAccount:
    """The key account, if the actor may see it: else 404 (unknown, naming ``field``) or 403."""
    account = await session.scalar(select(m.KeyAccount).where(m.KeyAccount.name == name))
    if account is None:
        raise ApiError(404, f"no key account named {name!r}", field)
    access.require_account(actor, account.id, account.name)
    return account


async def readable_contract(session: AsyncSession, actor: Actor, name: str) -> tuple[m.Contract, m.KeyAccount]:
    """The contract and its account, if the actor may see the account: else 404 (unknown) or 403."""
    contract = await session.scalar(select(m.Contract).where(m.Contract.name == name))
    if contract is None:
        raise ApiError(404, f"no contract named {name!r}", "contract")
    account = await session.get(m.KeyAccount, contract.account_id)
    assert account is not None  # a contract's account is a foreign key
    access.require_account(actor, account.id, account.name)
    return contract, account


def report_filename(contract: str, year: int, month: int, extension: str, audience: Audience = "internal") -> str:
    suffix = "-customer" if audience == "customer" else ""
    return f"sla-{_SAFE_NAME.sub('_', contract)}-{year:04d}-{month:02d}{suffix}.{extension}"


async def sla_report(call: Call) -> web.Response:
    name = call.request.match_info["contract"]
    month_text = call.request.query.get("month")
    if month_text is None:
        raise ApiError(400, "month: required, YYYY-MM", "month")
    year, month = report_month(month_text)
    audience = report_audience(call.request)
    fmt = _report_format(call.request, audience)
    language = report_language(call.request)
    now = utcnow()
    async with call.sessions() as session:
        _, account = await readable_contract(session, await _actor(call, session), name)
        report, contract = await build_report(session, name, year, month, as_of=now)
        series = await daily_series(session, contract.id, report)
    if fmt == "json":
        return web.Response(text=render_json(report, series), content_type=JSON)
    if fmt == "csv":
        return web.Response(text=render_csv(report), content_type="text/csv")
    from sla.documents.customer_pdf import audience_pdf  # loads matplotlib: at the first drawing, not at start

    # Drawing the PDF takes a while: off the event loop, so other requests are served meanwhile (in the language
    # asked for: the thread carries this context).
    with i18n.speaking(language if audience == "customer" else i18n.SOURCE):
        pdf = await asyncio.to_thread(
            partial(audience_pdf, legal_name=account.legal_name, account_tier=account.tier, generated_at=now),
            audience,
            report,
            series,
        )
    filename = report_filename(name, year, month, "pdf", audience)
    return web.Response(
        body=pdf,
        content_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# --- the audit -----------------------------------------------------------------------------------------------

AUDIT_MEDIA = {"json": JSON, "csv": "text/csv"}


async def audit_events(call: Call) -> web.Response:
    """The audit, for admins; the read is audited, and so is a refused one."""
    fmt = call.request.query.get("format", "json")
    if fmt not in AUDIT_MEDIA:
        raise ApiError(400, f"format: json or csv, not {fmt!r}", "format")
    export = fmt == "csv"
    origin = audit.Origin(call.user.username, call.user.role, "api", client=call.request.remote or "")
    if call.user.role != "admin":
        action = audit.Action.AUDIT_EXPORT if export else audit.Action.AUDIT_READ
        await refuse(call.sessions, origin, action, "audit", "admin only")
        raise ApiError(403, f"{call.user.username} ({call.user.role}) may not read the audit: admin only")
    async with call.sessions() as session:
        try:
            filters = audit.filters_from(call.request.query)
        except audit.FilterError as exc:
            raise ApiError(400, str(exc), exc.field) from exc
        rows = await audit.read(session, origin, filters, export=export)
    if export:
        return web.Response(
            text=audit.to_csv(rows),
            content_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
        )
    more = len(rows) == filters.limit
    return _json(
        s.AuditPage(
            items=[s.AuditEventOut.model_validate(audit.as_dict(r)) for r in rows],
            limit=filters.limit,
            offset=filters.offset,
            next_offset=filters.offset + filters.limit if more else None,
        )
    )


# --- the table -----------------------------------------------------------------------------------------------

_ID = Param("ticket_id", "path", {"type": "integer", "minimum": 1}, "the ticket's number", required=True)
_NAME = Param("name", "path", {"type": "string"}, required=True)
_COMMON = (401,)
_T_ERR = (401, 403, 404, 409, 422)

ROUTES: Sequence[Route] = (
    Route(
        "GET",
        "/api/devices",
        list_devices,
        "Devices with live state and interfaces",
        "inventory",
        s.DeviceList,
        errors=_COMMON,
    ),
    Route(
        "GET", "/api/devices/{name}", show_device, "One device", "inventory", s.DeviceOut, (_NAME,), errors=(401, 404)
    ),
    Route(
        "GET",
        "/api/circuits",
        list_circuits,
        "Circuits the user may see, with their latest probe and interface measurements",
        "inventory",
        s.CircuitList,
        (Param("account", "query", {"type": "string"}, "only this key account's circuits"),),
        errors=(401, 403, 404),
    ),
    Route(
        "GET",
        "/api/circuits/{name}",
        show_circuit,
        "One circuit",
        "inventory",
        s.CircuitOut,
        (_NAME,),
        errors=(401, 403, 404),
    ),
    Route(
        "GET",
        "/api/accounts",
        list_accounts,
        "Key accounts the user may see",
        "accounts",
        s.AccountList,
        errors=_COMMON,
    ),
    Route(
        "GET",
        "/api/accounts/{name}/health",
        account_health,
        "The key account's health archive: contracts, circuits, faults, changes, reminders, satisfaction",
        "accounts",
        s.HealthOut,
        (_NAME,),
        errors=(401, 403, 404),
    ),
    Route(
        "GET",
        "/api/inventory",
        export_inventory,
        "The inventory as YAML, secrets masked (admin)",
        "inventory",
        None,
        errors=(401, 403),
        media=("application/yaml",),
        admin_only=True,
    ),
    Route(
        "PUT",
        "/api/inventory",
        import_inventory,
        "Apply an inventory YAML document, all or nothing (admin)",
        "inventory",
        s.ImportOut,
        (Param("dry_run", "query", {"type": "boolean"}, "report what would change, write nothing"),),
        errors=(400, 401, 403, 422),
        admin_only=True,
    ),
    Route(
        "GET",
        "/api/tickets",
        list_tickets,
        "Tickets the user may see, filtered and sorted (newest first by default); a bad filter is a 400 naming it",
        "tickets",
        s.TicketPage,
        (
            Param(
                "status",
                "query",
                {"type": "string"},
                f"statuses separated by commas; open: every open status, all: any ({', '.join(filters.STATUS_WORDS)})",
            ),
            Param("priority", "query", {"type": "string"}, "priorities separated by commas (P1,P2)"),
            *(
                Param(name, "query", {"type": "string", "maxLength": filters.MAX_TEXT}, f"part of the {what}, any case")
                for name, what in (
                    ("account", "key account's name"),
                    ("circuit", "circuit's name"),
                    ("device", "device's name"),
                    ("text", "title or the reported symptoms"),
                )
            ),
            Param("since", "query", {"type": "string"}, "detected at or after: YYYY-MM-DD (UTC) or an ISO instant"),
            Param("until", "query", {"type": "string"}, "detected before: YYYY-MM-DD (through that day) or an instant"),
            Param("sort", "query", {"type": "string", "enum": list(filters.TicketSort)}, "default newest"),
            Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 50}),
            Param("offset", "query", {"type": "integer", "minimum": 0, "maximum": 100_000, "default": 0}),
        ),
        errors=(400, 401, 403, 404, 422),
    ),
    Route(
        "POST",
        "/api/tickets",
        report_fault,
        "Report a fault on a circuit (a complaint, or a ticket opened by hand)",
        "tickets",
        s.FaultOut,
        (),
        s.ReportIn,
        (400, 401, 403, 404, 422),
    ),
    Route(
        "GET",
        "/api/tickets/{ticket_id}",
        show_ticket,
        "A ticket with its worklog and history",
        "tickets",
        s.TicketDetailOut,
        (_ID,),
        errors=(401, 403, 404),
    ),
    Route(
        "POST",
        "/api/tickets/{ticket_id}/ack",
        acknowledge,
        "Acknowledge",
        "tickets",
        s.TicketOut,
        (_ID,),
        s.AcknowledgeIn,
        (*_T_ERR, 400),
    ),
    Route(
        "POST",
        "/api/tickets/{ticket_id}/assign",
        assign,
        "Dispatch to a technician",
        "tickets",
        s.TicketOut,
        (_ID,),
        s.AssignIn,
        (*_T_ERR, 400),
    ),
    Route(
        "POST",
        "/api/tickets/{ticket_id}/notes",
        add_note,
        "Add a worklog note",
        "tickets",
        s.TicketOut,
        (_ID,),
        s.NoteIn,
        (*_T_ERR, 400),
    ),
    # The working steps the ticket page and the CLI take (the NOC, or the technician it is dispatched to); waiting
    # on the customer says why (its own route below, with a body).
    *(
        Route(
            "POST",
            f"/api/tickets/{{ticket_id}}/{step}",
            handler,
            summary,
            "tickets",
            s.TicketOut,
            (_ID,),
            errors=_T_ERR,
        )
        for step, handler, summary in (
            ("start", start_work, "Start work"),
            ("resume", resume, "Resume work after waiting on the customer: the restoration clock runs again"),
        )
    ),
    Route(
        "POST",
        "/api/tickets/{ticket_id}/take",
        take,
        "A technician takes an unassigned ticket of their region (self-dispatch)",
        "tickets",
        s.TicketOut,
        (_ID,),
        errors=_T_ERR,
    ),
    Route(
        "POST",
        "/api/tickets/{ticket_id}/pending",
        wait_on_customer,
        "Wait on the customer, saying why: the restoration clock stops until work resumes",
        "tickets",
        s.TicketOut,
        (_ID,),
        s.PendingIn,
        (*_T_ERR, 400),
    ),
    Route(
        "POST",
        "/api/tickets/{ticket_id}/resolve",
        resolve,
        "Resolve (while the system still sees the fault: only confirmed restored on site, with a note)",
        "tickets",
        s.TicketOut,
        (_ID,),
        s.ResolveIn,
        (*_T_ERR, 400),
    ),
    Route(
        "POST",
        "/api/tickets/{ticket_id}/close",
        close,
        "Close a resolved ticket (tier A needs a cause category and resolution)",
        "tickets",
        s.TicketOut,
        (_ID,),
        s.CloseIn,
        (*_T_ERR, 400),
    ),
    Route("POST", "/api/tickets/{ticket_id}/reopen", reopen, "Reopen", "tickets", s.TicketOut, (_ID,), errors=_T_ERR),
    Route(
        "POST",
        "/api/tickets/{ticket_id}/rating",
        rate,
        "Record the customer's satisfaction (1-5) after closure",
        "tickets",
        s.TicketOut,
        (_ID,),
        s.RateIn,
        (*_T_ERR, 400),
    ),
    Route(
        "GET",
        "/api/audit",
        audit_events,
        "The audit, newest first (admin; the read itself is audited, and so is a refused one)",
        "audit",
        s.AuditPage,
        (
            Param("action", "query", {"type": "string", "enum": list(audit.ACTIONS)}),
            Param("actor", "query", {"type": "string", "maxLength": 200}),
            Param("subject", "query", {"type": "string", "maxLength": 200}, "the user, account ... acted on"),
            Param("outcome", "query", {"type": "string", "enum": list(audit.OUTCOMES)}),
            Param("since", "query", {"type": "string", "format": "date-time"}, "from this instant (with zone)"),
            Param("until", "query", {"type": "string", "format": "date-time"}, "before this instant (with zone)"),
            Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": audit.MAX_ROWS, "default": 100}),
            Param("offset", "query", {"type": "integer", "minimum": 0, "maximum": 1_000_000, "default": 0}),
            Param("format", "query", {"type": "string", "enum": list(AUDIT_MEDIA)}, "csv: an export"),
        ),
        errors=(400, 401, 403),
        media=(JSON, "text/csv"),
    ),
    Route("GET", "/api/sla/breaches", breaches, "SLA breaches open now", "sla", s.BreachList, errors=_COMMON),
    Route(
        "GET",
        "/api/sla/reports/{contract}",
        sla_report,
        "A contract's monthly SLA report as JSON, CSV or PDF (by format, else by Accept); the customer's copy as a PDF",
        "sla",
        None,
        (
            Param("contract", "path", {"type": "string"}, required=True),
            Param("month", "query", {"type": "string", "pattern": r"^\d{4}-\d{2}$"}, "YYYY-MM", required=True),
            Param("format", "query", {"type": "string", "enum": list(REPORT_MEDIA)}, "else chosen by Accept"),
            Param(
                "audience",
                "query",
                {"type": "string", "enum": list(AUDIENCES), "default": "internal"},
                "customer: the customer's copy (a PDF: no tier, device, address or cause code)",
            ),
            Param(
                "language",
                "query",
                {"type": "string", "enum": list(i18n.LANGUAGES)},
                "the customer's copy's language; else by Accept-Language, else zh-CN",
            ),
        ),
        errors=(400, 401, 403, 404, 422),
        media=(JSON, "text/csv", "application/pdf"),
    ),
)
