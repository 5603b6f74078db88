"""Graph series as JSON: one interface's traffic, errors and oper status, one circuit's latency, loss, jitter,
availability and traffic, over a named range ending now or a window given by its instants.

The server chooses the table (raw rows for short windows, 5-minute rollups or hourly statistics for long ones) so a
series never has more than ``noc.store.series.MAX_POINTS`` points; ``null`` marks where nothing was measured. The
pages' graphs read the same read model (``noc.store.series``) through the browser's session.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from noc.api.errors import ApiError
from noc.api.routes import JSON, Call, Param, Route
from noc.store import series
from noc.timeutil import utcnow


def _answer(graph: series.Graph) -> web.Response:
    return web.Response(text=graph.model_dump_json(), content_type=JSON)


def _refused_as_api(exc: series.SeriesError) -> ApiError:
    return ApiError(exc.status, str(exc), exc.field)


async def device_series(call: Call) -> web.Response:
    query = call.request.query
    interface = query.get("interface")
    if not interface:
        raise ApiError(400, "interface: required (the interface's name, e.g. GigabitEthernet0/0/1)", "interface")
    try:
        metric = series.parse_metric(query.get("metric"), series.InterfaceMetric, series.InterfaceMetric.TRAFFIC)
        window = series.parse_window(query, utcnow())
        async with call.sessions() as session:
            actor = await call.tickets.actor(session, call.user.username)
            graph = await series.interface_graph_for(
                session, actor, call.request.match_info["name"], interface, metric, window
            )
    except series.SeriesError as exc:
        raise _refused_as_api(exc) from exc
    return _answer(graph)


async def circuit_series(call: Call) -> web.Response:
    query = call.request.query
    try:
        metric = series.parse_metric(query.get("metric"), series.CircuitMetric, series.CircuitMetric.LATENCY)
        window = series.parse_window(query, utcnow())
        async with call.sessions() as session:
            actor = await call.tickets.actor(session, call.user.username)
            graph = await series.circuit_graph_for(session, actor, call.request.match_info["name"], metric, window)
    except series.SeriesError as exc:
        raise _refused_as_api(exc) from exc
    return _answer(graph)


_WINDOW = (
    Param("range", "query", {"type": "string", "enum": list(series.RANGES)}, "a range ending now (default 24h)"),
    Param("start", "query", {"type": "string", "format": "date-time"}, "instead of range: from this instant"),
    Param("end", "query", {"type": "string", "format": "date-time"}, "with start: until this instant (default now)"),
)
_NAME = Param("name", "path", {"type": "string"}, required=True)

ROUTES: Sequence[Route] = (
    Route(
        "GET",
        "/api/devices/{name}/series",
        device_series,
        "One interface's graph: traffic (bit/s against speed and committed rates), errors and discards (/s), oper "
        "status (% up); NOC, admin and technicians",
        "graphs",
        series.Graph,
        (
            _NAME,
            Param("interface", "query", {"type": "string", "minLength": 1}, "the interface's name", required=True),
            Param("metric", "query", {"type": "string", "enum": list(series.InterfaceMetric)}, "default traffic"),
            *_WINDOW,
        ),
        errors=(400, 401, 403, 404),
    ),
    Route(
        "GET",
        "/api/circuits/{name}/series",
        circuit_series,
        "One circuit's graph against its contract: latency, loss, jitter, availability of its Δt states, traffic",
        "graphs",
        series.Graph,
        (
            _NAME,
            Param("metric", "query", {"type": "string", "enum": list(series.CircuitMetric)}, "default latency"),
            *_WINDOW,
        ),
        errors=(400, 401, 403, 404),
    ),
)
