"""The network's pages: the device list, a device, one of its interfaces, a circuit; each with interactive graphs.

Who sees what (``tickets.access``, as on the board and the account pages):

* devices and interfaces are the network's state: NOC, admin and technicians. A circuit on a device is listed
  only to whoever may see its account (others see how many are not shown); an interface's alias only under the
  API's rule (``may_see_interface_alias``).
* a circuit's page, and its graphs, for whoever may see the circuit's account: an account manager their own
  accounts' circuits, a technician those of the accounts their tickets are on; anyone else gets 403.

The graphs (``static/graphs.js`` over uPlot, which ``make`` installs with npm and the app serves from
``node_modules`` at ``/vendor/uplot/``) read ``/graphs/interface`` and ``/graphs/circuit``: the same read model
and JSON as the API's ``/api/devices/{name}/series`` and ``/api/circuits/{name}/series``, with the browser's
session instead of a token.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from aiohttp import web

from noc.api.errors import error_response
from noc.auth import BrowserSession
from noc.errors import InputError
from noc.keys import SESSIONS, SETTINGS, TICKETS
from noc.store import network, series
from noc.store.capacity import circuit_outlook, interface_outlook
from noc.store.reports import build_report
from noc.timeutil import utcnow
from noc.vendor import node_modules, serve_vendor
from noc.web.core import page, render, viewer_of
from sla.documents.text import limit_text, measured_text, status_text
from sla.period import month_containing
from sla.report import CircuitReport
from tickets import access, filters
from tickets.access import Actor
from tickets.errors import TicketError
from tickets.service import TicketSummary

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
NETWORK_ROLES = tuple(sorted(access.NETWORK_ROLES))
ALL_ROLES = ("noc", "admin", "technician", "account_manager")
TICKETS_SCANNED = 500  # the open tickets a page looks through for its device or circuit
BY_TICKETS = "tickets"
UPLOT_FILES = ("uPlot.iife.min.js", "uPlot.min.css")


async def _actor(request: web.Request, viewer: BrowserSession) -> Actor:
    async with request.app[SESSIONS]() as session:
        return await request.app[TICKETS].actor(session, viewer.user.username)


async def _open_tickets(request: web.Request, viewer: BrowserSession) -> list[TicketSummary]:
    return await request.app[TICKETS].list_tickets(viewer.user.username, filters.OPEN, limit=TICKETS_SCANNED)


def graph_src(path: str, **params: str) -> str:
    return f"{path}?{urlencode(params)}"


# --- the device list -----------------------------------------------------------------------------------------


@routes.get("/devices")
@page(*NETWORK_ROLES)
async def device_list(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    query = request.query
    text = query.get("q", "").strip()[:200]
    chosen_sort = query.get("sort") or "name"
    try:
        state = network.DeviceState(query["state"]) if query.get("state") else None
        # by tickets: the open tickets the viewer may see, counted below; the rows come by name
        sort = network.DeviceSort.NAME if chosen_sort == BY_TICKETS else network.DeviceSort(chosen_sort)
    except ValueError as exc:
        raise InputError(f"state or sort: {exc}") from None
    region = query.get("region", "")
    async with request.app[SESSIONS]() as session:
        rows = await network.device_rows(session, text, state, region, sort)
        regions = await network.regions(session)
    open_by_device: dict[str, int] = {}
    for t in await _open_tickets(request, viewer):
        if t.device:
            open_by_device[t.device] = open_by_device.get(t.device, 0) + 1
    if chosen_sort == BY_TICKETS:
        rows.sort(key=lambda r: (-open_by_device.get(r.name, 0), r.name))
    return render(
        request,
        "devices.html",
        rows=rows,
        open_by_device=open_by_device,
        regions=regions,
        states=list(network.DeviceState),
        sorts=[*network.DeviceSort, BY_TICKETS],
        q=text,
        chosen_state=state.value if state else "",
        chosen_region=region,
        chosen_sort=chosen_sort,
    )


# --- one device ----------------------------------------------------------------------------------------------


@routes.get("/devices/{name}")
@page(*NETWORK_ROLES)
async def device_page(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    name = request.match_info["name"]
    async with request.app[SESSIONS]() as session:
        actor = await request.app[TICKETS].actor(session, viewer.user.username)
        detail = await network.device_detail(session, name, utcnow())
    if detail is None:
        return render(request, "error.html", status=404, message=f"no device named {name!r}")
    carried: dict[str, set[int]] = {}
    for c in detail.circuits:
        carried.setdefault(c.interface_name, set()).add(c.account_id)
    aliases = {
        i.interface.name: i.interface.alias
        for i in detail.interfaces
        if access.may_see_interface_alias(actor, frozenset(carried.get(i.interface.name, ())))
    }
    circuits = [c for c in detail.circuits if access.may_see_account(actor, c.account_id)]
    tickets = [t for t in await _open_tickets(request, viewer) if t.device == name]
    return render(
        request,
        "device.html",
        d=detail,
        aliases=aliases,
        circuits=circuits,
        hidden_circuits=len(detail.circuits) - len(circuits),
        tickets=tickets,
    )


@routes.get("/devices/{name}/interface")
@page(*NETWORK_ROLES)
async def interface_page(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    name = request.match_info["name"]
    if_name = request.query.get("name", "")
    async with request.app[SESSIONS]() as session:
        actor = await request.app[TICKETS].actor(session, viewer.user.username)
        detail = await network.interface_detail(session, name, if_name, utcnow())
        if detail is None:
            return render(request, "error.html", status=404, message=f"no interface {if_name!r} on device {name!r}")
        carried = frozenset(c.account_id for c in detail.circuits)
        circuits = [c for c in detail.circuits if access.may_see_account(actor, c.account_id)]
        limits = [
            (f"committed rate of {c.name}", float(c.committed_rate_bps)) for c in circuits if c.committed_rate_bps
        ]
        if detail.now.interface.speed_bps:
            limits.append(("interface speed", float(detail.now.interface.speed_bps)))
        trend = await interface_outlook(session, detail.device.id, if_name, limits, utcnow())
    graphs = [
        (metric.value, graph_src("/graphs/interface", device=name, interface=if_name, metric=metric.value))
        for metric in series.InterfaceMetric
    ]
    return render(
        request,
        "interface.html",
        i=detail,
        alias=detail.now.interface.alias if access.may_see_interface_alias(actor, carried) else None,
        circuits=circuits,
        hidden_circuits=len(detail.circuits) - len(circuits),
        graphs=graphs,
        trend=trend,
    )


# --- one circuit ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MonthSoFar:
    month: str
    report: CircuitReport | None
    problem: str = ""


async def _month_so_far(request: web.Request, contract: str, timezone: str, circuit: str) -> MonthSoFar:
    now = utcnow()
    period = month_containing(now, timezone)
    async with request.app[SESSIONS]() as session:
        try:
            report, _ = await build_report(session, contract, period.year, period.month, as_of=now)
        except InputError as exc:
            return MonthSoFar(period.label, None, str(exc))
    return MonthSoFar(period.label, next((c for c in report.circuits if c.circuit == circuit), None))


@routes.get("/circuits/{name}")
@page(*ALL_ROLES)
async def circuit_page(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    name = request.match_info["name"]
    async with request.app[SESSIONS]() as session:
        actor = await request.app[TICKETS].actor(session, viewer.user.username)
        detail = await network.circuit_detail(session, name)
        if detail is None:
            return render(request, "error.html", status=404, message=f"no circuit named {name!r}")
        access.require_account(actor, detail.account.id, detail.account.name)
        trend = await circuit_outlook(session, detail.circuit, detail.contract, utcnow())
    month = await _month_so_far(request, detail.contract.name, detail.contract.timezone, name)
    tickets = [t for t in await _open_tickets(request, viewer) if t.circuit == name]
    graphs = [
        (metric.value, graph_src("/graphs/circuit", circuit=name, metric=metric.value))
        for metric in series.CircuitMetric
    ]
    return render(
        request,
        "circuit.html",
        c=detail,
        month=month,
        tickets=tickets,
        graphs=graphs,
        trend=trend,
        may_open_device=viewer.user.role in NETWORK_ROLES,
        status_text=status_text,
        measured_text=measured_text,
        limit_text=limit_text,
    )


# --- the graphs' data ----------------------------------------------------------------------------------------

JsonView = Callable[[web.Request, Actor], Awaitable[series.Graph]]


def graph_json(view: JsonView) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """A graph's JSON for the signed-in browser: errors as the API words them (JSON), never a page."""

    async def handler(request: web.Request) -> web.StreamResponse:
        viewer = viewer_of(request)
        if viewer is None:
            return error_response(401, "sign in first")
        try:
            graph = await view(request, await _actor(request, viewer))
        except series.SeriesError as exc:
            return error_response(exc.status, str(exc), exc.field)
        except TicketError as exc:  # Refused: the role rules
            return error_response(403, str(exc))
        except InputError as exc:
            return error_response(400, str(exc))
        return web.Response(text=graph.model_dump_json(), content_type="application/json")

    return handler


async def _interface_graph(request: web.Request, actor: Actor) -> series.Graph:
    query = request.query
    metric = series.parse_metric(query.get("metric"), series.InterfaceMetric, series.InterfaceMetric.TRAFFIC)
    window = series.parse_window(query, utcnow())
    async with request.app[SESSIONS]() as session:
        return await series.interface_graph_for(
            session, actor, query.get("device", ""), query.get("interface", ""), metric, window
        )


async def _circuit_graph(request: web.Request, actor: Actor) -> series.Graph:
    query = request.query
    metric = series.parse_metric(query.get("metric"), series.CircuitMetric, series.CircuitMetric.LATENCY)
    window = series.parse_window(query, utcnow())
    async with request.app[SESSIONS]() as session:
        return await series.circuit_graph_for(session, actor, query.get("circuit", ""), metric, window)


def setup_network(app: web.Application) -> None:
    app.router.add_routes(routes)
    app.router.add_get("/graphs/interface", graph_json(_interface_graph))
    app.router.add_get("/graphs/circuit", graph_json(_circuit_graph))
    found = node_modules(app[SETTINGS].web.assets_dir) / "uplot" / "dist"
    serve_vendor(app, "/vendor/uplot/", found, UPLOT_FILES, "uPlot (the pages' graphs)")
