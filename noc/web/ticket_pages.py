"""The ticket pages every role shares: the list (filters, paging, reporting a fault) and one ticket (its facts and
timers, history, worklog, similar past cases, and the steps its reader may take).

What a reader sees and may do is the tickets service's role rules, never a copy of them here: the list is
``list_tickets`` for that user, and a ticket's detail says which actions its reader may take (``may``); the page
offers those the lifecycle allows from the ticket's status, and each step still goes through the service, which
checks again. A refused or impossible step, or bad input, shows the ticket again with the message and what was typed
kept, with the status code the API would give.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web
from pydantic import ValidationError
from sqlalchemy import select

from noc import models as m
from noc.api import schemas
from noc.api.errors import ApiError
from noc.api.routes import ticket_id_in
from noc.auth import BrowserSession
from noc.i18n import N_
from noc.i18n import gettext as _
from noc.keys import SESSIONS, SETTINGS, TICKETS
from noc.notify.records import notifications_of
from noc.store import network, series
from noc.timeutil import utcnow
from noc.web.core import back, error_status, form_of, page, render
from noc.web.network import graph_src
from noc.web.ticket_actions import LIST_STEPS, Outcome, Run, act, chosen_tickets, list_steps_for
from tickets import filters
from tickets.access import NETWORK_ROLES, Action
from tickets.attachments import IMAGES
from tickets.errors import InvalidRequest, Refused, TicketError
from tickets.fieldservice import AttachmentView, FieldWork
from tickets.fieldwork import FaultSeen
from tickets.filters import TicketFilter
from tickets.lifecycle import ALLOWED, Status
from tickets.models import INCIDENT
from tickets.rules import FaultEvent, FaultKind, Impact
from tickets.service import FaultOutcome, TicketDetail, TicketService, TicketSummary

PAGE_SIZE = 50
MAX_OFFSET = 100_000
routes = web.RouteTableDef()


@dataclass(frozen=True, slots=True)
class Step:
    """A one-button lifecycle step: the action the role rules must allow, the status it moves the ticket to."""

    name: str
    label: str
    action: Action
    target: Status


# Start and resume are one move (to in_progress); the page names it after where the ticket is.
STEPS = (
    Step("take", "Take this ticket", Action.TAKE, Status.DISPATCHED),
    Step("ack", "Acknowledge", Action.ACKNOWLEDGE, Status.ACKNOWLEDGED),
    Step("start", "Start work", Action.WORK, Status.IN_PROGRESS),
    Step("pending", "Wait on the customer", Action.WORK, Status.PENDING_CUSTOMER),
    Step("resolve", "Resolve", Action.WORK, Status.RESOLVED),
    Step("reopen", "Reopen", Action.REOPEN, Status.REOPENED),
)


@dataclass(frozen=True, slots=True)
class Offer:
    """What the ticket page offers its reader: buttons, and which forms to show."""

    steps: tuple[tuple[str, str], ...]  # (name, label)
    assign: bool
    close: bool
    note: bool
    rate: bool
    contacts: bool


def offer_for(detail: TicketDetail) -> Offer:
    t = detail.summary
    status = Status(t.status)
    possible = ALLOWED[status]
    steps = tuple(
        (s.name, "Resume work" if s.name == "start" and status is Status.PENDING_CUSTOMER else s.label)
        for s in STEPS
        if s.action in detail.may and s.target in possible
    )
    return Offer(
        steps=steps,
        assign=Action.ASSIGN in detail.may and t.kind != INCIDENT and Status.DISPATCHED in possible,
        close=Action.WORK in detail.may and Status.CLOSED in possible,
        note=Action.NOTE in detail.may,
        rate=Action.RATE in detail.may and status is Status.CLOSED and detail.rating is None and t.account is not None,
        contacts=detail.may_read_contacts,
    )


@dataclass(frozen=True, slots=True)
class HistoryRow:
    at: datetime
    actor: str
    what: str


def history_of(detail: TicketDetail) -> list[HistoryRow]:
    """Status changes and events (assignment, impact, timers, escalation, recovery) in one timeline, oldest first."""

    def words(value: object) -> str:
        return str(value).replace("_", " ")

    rows = [
        HistoryRow(tr.at, tr.actor, f"{words(tr.from_status or 'opened')} → {words(tr.to_status)}")
        for tr in detail.transitions
    ]
    for ev in detail.events:
        facts = ", ".join(f"{words(k)} {v}" for k, v in ev.detail.items())
        rows.append(HistoryRow(ev.at, ev.actor, words(ev.kind) + (f": {facts}" if facts else "")))
    return sorted(rows, key=lambda r: r.at)  # stable: a transition stays before the event recorded with it


async def technician_names(request: web.Request) -> list[str]:
    async with request.app[SESSIONS]() as session:
        return list(await session.scalars(select(m.Technician.name).order_by(m.Technician.name)))


@dataclass(frozen=True, slots=True)
class SiteView:
    """What the technician going there needs: the site (address, access notes) and the circuit's far end and
    contract limits; for the network's roles also the device's live state, the circuit's interface and its traffic
    graph (the network pages' read models and graph). ``seen``: the fault as the system sees it now."""

    device: m.Device | None
    circuit: network.CircuitDetail | None
    live: network.DeviceDetail | None
    interface: network.InterfaceNow | None
    graph: str | None
    seen: FaultSeen

    @property
    def map_url(self) -> str | None:
        address = self.device.site_address if self.device else ""
        return f"https://www.openstreetmap.org/search?{urlencode({'query': address})}" if address else None


async def site_of(request: web.Request, viewer: BrowserSession, t: TicketSummary) -> SiteView:
    seen = await FieldWork(request.app[TICKETS]).seen_now(t.id)
    async with request.app[SESSIONS]() as session:
        circuit = await network.circuit_detail(session, t.circuit) if t.circuit else None
        live = None
        if t.device and viewer.user.role in NETWORK_ROLES:
            live = await network.device_detail(session, t.device, utcnow())
    device = live.device if live else circuit.device if circuit else None
    interface, graph = None, None
    if live is not None and circuit is not None:
        name = circuit.circuit.interface_name
        interface = next((i for i in live.interfaces if i.interface.name == name), None)
        traffic = series.InterfaceMetric.TRAFFIC.value
        graph = graph_src("/graphs/interface", device=live.device.name, interface=name, metric=traffic)
    return SiteView(device, circuit, live, interface, graph, seen)


async def files_by_entry(
    request: web.Request, viewer: BrowserSession, ticket_id: int
) -> dict[int, list[AttachmentView]]:
    """The ticket's attachments by the worklog entry they belong to."""
    grouped: dict[int, list[AttachmentView]] = {}
    for view in await FieldWork(request.app[TICKETS]).attachments_of(viewer.user.username, ticket_id):
        grouped.setdefault(view.worklog_id, []).append(view)
    return grouped


async def ticket_page(
    request: web.Request,
    viewer: BrowserSession,
    ticket_id: int,
    *,
    status: int = 200,
    error: str = "",
    failed: str = "",
    form: Mapping[str, str] | None = None,
    with_contacts: bool = False,
) -> web.Response:
    detail = await request.app[TICKETS].show_ticket(viewer.user.username, ticket_id, with_contacts=with_contacts)
    offer = offer_for(detail)
    async with request.app[SESSIONS]() as session:
        notifications = await notifications_of(session, detail.summary.id)
    return render(
        request,
        "ticket.html",
        status=status,
        t=detail.summary,
        d=detail,
        offer=offer,
        history=history_of(detail),
        notifications=notifications,
        site=await site_of(request, viewer, detail.summary),
        files=await files_by_entry(request, viewer, detail.summary.id),
        max_attachment=request.app[SETTINGS].tickets.attachment_max_bytes,
        technicians=await technician_names(request) if offer.assign else [],
        causes=request.app[SETTINGS].tickets.cause_categories,
        error=error,
        failed=failed,
        form=form or {},
    )


@routes.get(r"/tickets/{ticket_id:\d{1,12}}")
@page()
async def show_ticket(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    return await ticket_page(request, viewer, ticket_id_in(request))


@routes.post(r"/tickets/{ticket_id:\d{1,12}}/contacts")
@page()
async def show_contacts(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    """The account's contacts on this ticket's page: a deliberate step (a form), each read audited by the service.
    Answered in place, never by a redirect, so personal data never lands in a URL or the history."""
    return await ticket_page(request, viewer, ticket_id_in(request), with_contacts=True)


# --- steps -------------------------------------------------------------------------------------------------------


def _fields(form: Mapping[str, str], *names: str) -> dict[str, str]:
    """The named fields a form sent, for the API's input models (which refuse fields they do not know)."""
    return {n: form[n] for n in names if form.get(n)}


def _version(form: Mapping[str, str]) -> int | None:
    text = form.get("version", "")
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        raise InvalidRequest("version: not a ticket version")
    return int(text)


def _until(form: Mapping[str, str]) -> datetime | None:
    """The form's "until" (a datetime-local field, in UTC as labelled), or an ISO instant with its zone."""
    text = form.get("until", "").strip()
    if not text:
        return None
    try:
        local = len(text) > len("YYYY-MM-DD") and datetime.fromisoformat(text).tzinfo is None
    except ValueError:
        local = False  # parse_instant names the field and the bad value
    return filters.parse_instant("until", f"{text}+00:00" if local else text)


async def _ack(service: TicketService, user: str, ticket_id: int, form: dict[str, str]) -> str:
    # The version the reader saw: if someone acknowledged meanwhile, this says who instead of acknowledging twice.
    until = _until(form)
    t = await service.acknowledge(user, ticket_id, _version(form), note=form.get("note"), until=until)
    if until is None:
        return _("%(ref)s acknowledged") % {"ref": t.ref}
    return _("%(ref)s acknowledged until %(until)s UTC") % {"ref": t.ref, "until": f"{until:%Y-%m-%d %H:%M}"}


async def _take(service: TicketService, user: str, ticket_id: int, form: dict[str, str]) -> str:
    return _("%(ref)s is yours now") % {"ref": (await service.take(user, ticket_id)).ref}


async def _start(service: TicketService, user: str, ticket_id: int, form: dict[str, str]) -> str:
    return _("%(ref)s: work started") % {"ref": (await service.start_work(user, ticket_id)).ref}


async def _pending(service: TicketService, user: str, ticket_id: int, form: dict[str, str]) -> str:
    t = await service.wait_on_customer(user, ticket_id, form.get("reason", ""))
    return _("%(ref)s: waiting on the customer, the restoration clock is stopped") % {"ref": t.ref}


async def _resolve(service: TicketService, user: str, ticket_id: int, form: dict[str, str]) -> str:
    confirmed = form.get("confirmed_on_site") == "yes"
    t = await service.resolve(user, ticket_id, confirmed_on_site=confirmed, note=form.get("note"))
    if confirmed:
        return _("%(ref)s resolved as confirmed restored on site") % {"ref": t.ref}
    return _("%(ref)s resolved") % {"ref": t.ref}


async def _reopen(service: TicketService, user: str, ticket_id: int, form: dict[str, str]) -> str:
    return _("%(ref)s reopened") % {"ref": (await service.reopen(user, ticket_id)).ref}


async def _assign(service: TicketService, user: str, ticket_id: int, form: dict[str, str]) -> str:
    chosen = form.get("technician", "")
    if not chosen:
        raise InvalidRequest("technician: choose a technician, or automatic dispatch")
    auto = chosen == "auto"
    body = schemas.AssignIn(technician=None if auto else chosen, auto=auto)
    t = await service.assign(user, ticket_id, body.technician, auto=body.auto)
    return _("%(ref)s dispatched to %(technician)s") % {"ref": t.ref, "technician": t.technician}


async def _note(service: TicketService, user: str, ticket_id: int, form: dict[str, str]) -> str:
    body = schemas.NoteIn.model_validate(_fields(form, "text"))
    return _("%(ref)s: note added to the worklog") % {"ref": (await service.add_note(user, ticket_id, body.text)).ref}


async def _close(service: TicketService, user: str, ticket_id: int, form: dict[str, str]) -> str:
    body = schemas.CloseIn.model_validate(_fields(form, "cause_category", "resolution"))
    t = await service.close(user, ticket_id, body.cause_category, body.resolution)
    if body.cause_category and body.resolution:
        return _("%(ref)s closed and filed in the case library") % {"ref": t.ref}
    return _("%(ref)s closed") % {"ref": t.ref}


async def _rate(service: TicketService, user: str, ticket_id: int, form: dict[str, str]) -> str:
    body = schemas.RateIn.model_validate(_fields(form, "score", "comment"))
    t = await service.rate(user, ticket_id, body.score, body.comment)
    return _("%(ref)s: the customer's rating %(score)s/5 is recorded") % {"ref": t.ref, "score": body.score}


RUNS: dict[str, Run] = {
    "take": _take,
    "ack": _ack,
    "start": _start,
    "pending": _pending,
    "resolve": _resolve,
    "reopen": _reopen,
    "assign": _assign,
    "note": _note,
    "close": _close,
    "rate": _rate,
}


async def refused_step(
    request: web.Request,
    viewer: BrowserSession,
    ticket_id: int,
    exc: TicketError | ValidationError,
    step: str,
    form: Mapping[str, str],
) -> web.Response:
    """The ticket again with the refusal and what was typed, with the status the API would give."""
    found = error_status(exc)
    assert found is not None
    try:
        return await ticket_page(request, viewer, ticket_id, status=found[0], error=found[1], failed=step, form=form)
    except Refused:  # a ticket the reader may not see (taking another region's): the refusal's own words
        return render(request, "error.html", status=found[0], message=found[1])


@routes.post(r"/tickets/{ticket_id:\d{1,12}}/attach")
@page()
async def attach_file(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    """A photo or file on the worklog (multipart; checked by ``tickets.attachments``)."""
    ticket_id = ticket_id_in(request)
    form = await form_of(request)
    upload = (await request.post()).get("file")
    try:
        if not isinstance(upload, web.FileField) or not upload.filename:
            raise InvalidRequest("file: choose a photo or a file")
        view = await FieldWork(request.app[TICKETS]).attach(
            viewer.user.username, ticket_id, upload.filename, upload.file.read(), form.get("note")
        )
    except (TicketError, ValidationError) as exc:
        return await refused_step(request, viewer, ticket_id, exc, "attach", form)
    raise back(f"/tickets/{ticket_id}", _("%(file)s attached to the worklog") % {"file": view.filename})


@routes.get(r"/tickets/{ticket_id:\d{1,12}}/attachments/{attachment_id:\d{1,12}}")
@page()
async def attachment(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    """One attachment as stored (its hash checked): photos shown in the browser, other files downloaded."""
    attachment_id = int(request.match_info["attachment_id"])
    view, content = await FieldWork(request.app[TICKETS]).attachment(
        viewer.user.username, ticket_id_in(request), attachment_id
    )
    disposition = "inline" if view.media_type in IMAGES else "attachment"
    return web.Response(
        body=content,
        content_type=view.media_type,
        charset="utf-8" if view.media_type == "text/plain" else None,
        headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(view.filename, safe='')}",
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@routes.post(r"/tickets/{ticket_id:\d{1,12}}/{step}")
@page()
async def take_step(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    ticket_id, step = ticket_id_in(request), request.match_info["step"]
    run = RUNS.get(step)
    if run is None:
        raise web.HTTPNotFound()
    form = await form_of(request)
    try:
        notice = await run(request.app[TICKETS], viewer.user.username, ticket_id, form)
    except (TicketError, ValidationError) as exc:
        return await refused_step(request, viewer, ticket_id, exc, step, form)
    raise back(f"/tickets/{ticket_id}", notice)


# --- the list ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Filters:
    """The list's filters as typed (to fill the form and the pager's links again) and as the service takes them."""

    fields: dict[str, str]  # the vocabulary of ``tickets.filters``, and the technician
    where: TicketFilter
    offset: int

    def query(self, offset: int) -> str:
        return urlencode({k: v for k, v in {**self.fields, "offset": offset}.items() if v not in ("", 0)})


def typed(query: Mapping[str, str]) -> dict[str, str]:
    """The filters' fields as typed; an absent status means the open ones."""
    fields = {name: query.get(name, "").strip() for name in (*filters.FIELDS, "technician")}
    fields["status"] = query.get("status", "open").strip()
    return fields


def filters_of(query: Mapping[str, str]) -> Filters:
    """The page's filters; a bad value is a ``FilterError`` naming it."""
    fields = typed(query)
    text = query.get("offset", "0")
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_OFFSET:
        raise filters.FilterError("offset", f"a whole number from 0 to {MAX_OFFSET}")
    return Filters(fields, filters.filter_from(fields), int(text))


async def list_page(
    request: web.Request,
    viewer: BrowserSession,
    *,
    status: int = 200,
    error: str = "",
    form: Mapping[str, str] | None = None,
    outcomes: Sequence[Outcome] = (),
) -> web.Response:
    found: list[TicketSummary] = []
    chosen: Filters | None = None
    try:
        chosen = filters_of(request.query)
        found = await request.app[TICKETS].list_tickets(
            viewer.user.username,
            chosen.where,
            technician=chosen.fields["technician"] or None,
            limit=chosen.offset + PAGE_SIZE + 1,  # one more than shown tells whether a next page exists
        )
    except filters.FilterError as exc:  # a bad filter: said in the page, over the form to correct it
        status, error = 400, str(exc)
    except TicketError as exc:  # a technician who does not exist: said in the page
        found_status = error_status(exc)
        assert found_status is not None
        status, error = found_status
    offset = chosen.offset if chosen else 0
    settings = request.app[SETTINGS]
    shown = found[offset : offset + PAGE_SIZE]
    more = chosen is not None and len(found) > offset + PAGE_SIZE
    context: dict[str, Any] = {
        "tickets": shown,
        "fields": typed(request.query),
        "statuses": filters.STATUS_WORDS,
        "priorities": sorted({p for row in settings.tickets.priority_matrix.values() for p in row.values()}),
        "sorts": list(filters.TicketSort),
        "newer": chosen.query(max(0, offset - PAGE_SIZE)) if chosen and offset else None,
        "older": chosen.query(offset + PAGE_SIZE) if chosen and more else None,
        "technicians": await technician_names(request),
        "impacts": list(Impact),
        "error": error,
        "form": form or {},
        "bulk_steps": list_steps_for(viewer.user.role),
        "query": request.query_string,
        "outcomes": outcomes,
    }
    return render(request, "tickets.html", status=status, **context)


@routes.get("/tickets")
@page()
async def list_tickets(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    return await list_page(request, viewer)


@routes.post("/tickets/bulk")
@page()
async def bulk(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    """Acknowledge or assign every ticket checked in the list, each on its own; the list is shown again (same
    filters) saying what happened to each."""
    form = await form_of(request)
    step = form.get("step", "")
    if step not in LIST_STEPS:
        raise ApiError(422, f"step: one of {', '.join(LIST_STEPS)}", "step")
    ids = chosen_tickets([str(v) for v in (await request.post()).getall("ticket", [])])
    service, run = request.app[TICKETS], RUNS[step]
    outcomes = [await act(run, service, viewer.user.username, ticket_id, form) for ticket_id in ids]
    # Anything done: 200; everything refused: the first refusal's code, as one step alone would answer.
    status = 200 if any(o.done for o in outcomes) else outcomes[0].status
    return await list_page(request, viewer, status=status, outcomes=outcomes)


REPORTED = {
    "opened": N_("%(ref)s opened"),
    "appended": N_("%(ref)s was already open: recorded as a recurrence on it"),
    "reopened": N_("%(ref)s reopened"),
}
ALREADY_REPORTED = N_("%(ref)s already has this report")


def _reported(outcome: FaultOutcome) -> str:
    said = REPORTED.get(outcome.action, ALREADY_REPORTED)
    return _(said) % {"ref": outcome.ref}


@routes.post("/tickets")
@page()
async def report_fault(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    """A customer's complaint or a fault seen by a person, deduplicated like every fault (the API's ``ReportIn``)."""
    form = await form_of(request)
    service = request.app[TICKETS]
    try:
        body = schemas.ReportIn.model_validate(_fields(form, "circuit", "summary", "impact", "kind"))
        kind = FaultKind(body.kind)
        event = FaultEvent(kind, body.circuit, kind.value, Impact(body.impact), service.clock.now(), body.summary)
        outcome = await service.report_fault(viewer.user.username, event)
    except (TicketError, ValidationError) as exc:
        found = error_status(exc)
        assert found is not None
        return await list_page(request, viewer, status=found[0], error=found[1], form=form)
    raise back(f"/tickets/{outcome.ticket_id}", _reported(outcome))
