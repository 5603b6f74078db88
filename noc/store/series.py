"""Graph series read from our own storage: one interface's traffic, errors and status, one circuit's latency, loss,
jitter and availability, over a window the viewer chose.

Which table answers is the server's choice, by the window's length, so a graph never reads more than
``MAX_POINTS`` points per series:

* up to ``RAW_MAX_S`` (36 h): the raw rows (``interface_measurements``, ``probe_measurements``), averaged in SQL
  over a step of ``ceil(span / MAX_POINTS)`` seconds (one row per step at 60 s polling: the samples themselves);
* longer: the 5-minute interface rollups (``interface_rollups``) merged into steps of a whole number of buckets,
  and the hourly circuit statistics (``circuit_hour_stats``) for the probes.

Gaps are gaps: a rollup step with no sample is a ``null`` on a regular grid; between raw samples further apart
than ``GAP_FACTOR`` times their usual spacing a ``null`` is put in, so a line never joins across a monitoring
gap. A rate the counter math discarded (first poll, reboot) is ``null`` too, never a spike.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import BigInteger, ColumnElement, Float, and_, case, cast, func, literal, null, select
from sqlalchemy.ext.asyncio import AsyncSession

from noc import models as m
from noc.errors import InputError
from tickets import access
from tickets.access import Actor
from tickets.errors import Refused

MAX_POINTS = 5000
RAW_MAX_S = 36 * 3600
ROLLUP_S = 300  # the interface rollups' bucket (noc.store.measurements)
HOUR_S = 3600
GAP_FACTOR = 2.5
MAX_SPAN = timedelta(days=400)
RANGES: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
M = TypeVar("M", bound=StrEnum)
Source = Literal["raw", "rollup_5m", "hourly", "state_runs"]


class InterfaceMetric(StrEnum):
    TRAFFIC = "traffic"
    ERRORS = "errors"
    STATUS = "status"


class CircuitMetric(StrEnum):
    LATENCY = "latency"
    LOSS = "loss"
    JITTER = "jitter"
    AVAILABILITY = "availability"
    TRAFFIC = "traffic"


class Line(BaseModel):
    key: str
    label: str
    values: list[float | None] = Field(description="one per instant of ``t``; null where nothing was measured")


class Threshold(BaseModel):
    key: str
    label: str
    value: float


class Graph(BaseModel):
    """One graph: instants, the series measured at them (all in ``unit``) and the limits to draw as lines."""

    title: str
    unit: str = Field(description="bit/s, /s, %, ms")
    start: datetime
    end: datetime
    live: bool = Field(description="the window ends now: worth refreshing")
    source: Source = Field(description="the table that answered: raw rows, 5-minute rollups, hourly statistics")
    step_s: int = Field(description="seconds per point (raw: the averaging step; at most one sample per point)")
    t: list[int] = Field(description="Unix seconds, UTC, ascending")
    series: list[Line]
    thresholds: list[Threshold]


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime
    live: bool

    @property
    def span_s(self) -> float:
        return (self.end - self.start).total_seconds()


def _instant(text: str, name: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"{name}: {text!r} is not an ISO 8601 instant") from None
    if value.tzinfo is None:
        raise InputError(f"{name}: give the instant with its zone (Z or +08:00)")
    if not 2000 <= value.year <= 2999:
        raise InputError(f"{name}: out of range (years 2000 to 2999)")
    return value.astimezone(UTC)


def window_for(range_name: str | None, start: str | None, end: str | None, now: datetime) -> Window:
    """A named range ending now, or ``start``/``end`` (ISO instants with zone; ``end`` defaults to now)."""
    if start is None and end is None:
        name = range_name or "24h"
        if name not in RANGES:
            raise InputError(f"range: one of {', '.join(RANGES)}, not {name!r}")
        return Window(now - RANGES[name], now, True)
    if range_name is not None:
        raise InputError("range: give either range or start/end, not both")
    if start is None:
        raise InputError("start: required with end")
    first = _instant(start, "start")
    last = _instant(end, "end") if end is not None else now
    if last <= first:
        raise InputError("end: must be after start")
    if last - first > MAX_SPAN:
        raise InputError(f"start: the window may span at most {MAX_SPAN.days} days")
    if last - first < timedelta(minutes=1):
        raise InputError("end: the window must span at least a minute")
    return Window(first, last, end is None or last >= now)


def _step(span_s: float, unit_s: int) -> int:
    """Seconds per point: a whole number of ``unit_s`` so that the span holds at most MAX_POINTS of them."""
    return unit_s * max(1, math.ceil(span_s / (unit_s * MAX_POINTS)))


def _bucket(column: Any, dialect: str, step: int) -> ColumnElement[Any]:
    """The Unix second starting the step an instant falls in, computed by the database."""
    if dialect == "postgresql":
        # date_part gives double precision (extract gives numeric since PostgreSQL 14: slower to divide and floor)
        return cast(func.floor(func.date_part("epoch", column) / step) * step, BigInteger)
    # SQLite keeps UTC instants as text; strftime('%s') reads them as UTC seconds (integer division below)
    seconds = cast(func.strftime("%s", column), BigInteger)
    whole = literal(step, BigInteger)
    return seconds.op("/", return_type=BigInteger)(whole).op("*", return_type=BigInteger)(whole)


def _grid(start: datetime, end: datetime, step: int) -> list[int]:
    first = int(start.timestamp()) // step * step
    return list(range(first, int(end.timestamp()), step))


def _on_grid(grid: list[int], rows: Sequence[Any], width: int) -> list[list[float | None]]:
    """Rows (bucket, v1, v2, ...) placed on the regular grid; a bucket with no row stays null."""
    columns: list[list[float | None]] = [[None] * len(grid) for _ in range(width)]
    if not grid:
        return columns
    first, step = grid[0], (grid[1] - grid[0]) if len(grid) > 1 else 1
    for row in rows:
        index = (int(row[0]) - first) // step
        if 0 <= index < len(grid):
            for k in range(width):
                value = row[k + 1]
                columns[k][index] = None if value is None else float(value)
    return columns


def _with_gaps(rows: Sequence[Any], width: int, step: int) -> tuple[list[int], list[list[float | None]]]:
    """Raw points at their instants, with a null put in wherever two neighbours lie further apart than
    GAP_FACTOR times the usual spacing (the median): uPlot then breaks the line there."""
    instants = [int(r[0]) for r in rows]
    spacing = statistics.median(b - a for a, b in itertools.pairwise(instants)) if len(rows) > 2 else 0
    limit = max(spacing, step) * GAP_FACTOR
    t: list[int] = []
    columns: list[list[float | None]] = [[] for _ in range(width)]
    previous: int | None = None
    for ts, row in zip(instants, rows, strict=True):
        if previous is not None and ts - previous > limit:
            t.append(previous + int(max(spacing, step)))
            for column in columns:
                column.append(None)
        t.append(ts)
        for k, column in enumerate(columns):
            value = row[k + 1]
            column.append(None if value is None else float(value))
        previous = ts
    return t, columns


def _avg(total: Any, count: Any) -> ColumnElement[Any]:
    return cast(total, Float) / func.nullif(count, 0)


def _either(a: Any, b: Any) -> ColumnElement[Any]:
    """a + b, null when both are (an unmeasured counter is not zero errors)."""
    return case((and_(a.is_(None), b.is_(None)), null()), else_=func.coalesce(a, 0.0) + func.coalesce(b, 0.0))


@dataclass(frozen=True, slots=True)
class Found:
    source: Source
    step_s: int
    t: list[int]
    columns: list[list[float | None]]


async def _interface_rows(
    session: AsyncSession, device_id: int, if_name: str, metric: InterfaceMetric, window: Window
) -> Found:
    dialect = session.get_bind().dialect.name
    if window.span_s <= RAW_MAX_S:
        step = _step(window.span_s, 1)
        i = m.InterfaceMeasurement
        bucket = _bucket(i.ts, dialect, step).label("b")
        values: list[ColumnElement[Any]]
        if metric is InterfaceMetric.TRAFFIC:
            values = [func.avg(i.in_bps), func.avg(i.out_bps)]
        elif metric is InterfaceMetric.ERRORS:
            values = [
                func.avg(_either(i.in_errors_per_s, i.out_errors_per_s)),
                func.avg(_either(i.in_discards_per_s, i.out_discards_per_s)),
            ]
        else:
            values = [100.0 * func.avg(case((i.oper_status == "up", 1.0), else_=0.0))]
        query = (
            select(bucket, *values)
            .where(i.device_id == device_id, i.if_name == if_name, i.ts >= window.start, i.ts < window.end)
            .group_by(bucket)
            .order_by(bucket)
        )
        rows = (await session.execute(query)).all()
        t, columns = _with_gaps(rows, len(values), step)
        return Found("raw", step, t, columns)
    step = _step(window.span_s, ROLLUP_S)
    u = m.InterfaceRollup
    bucket = _bucket(u.bucket_start, dialect, step).label("b")
    if metric is InterfaceMetric.TRAFFIC:
        values = [_avg(func.sum(u.in_sum_bps), func.sum(u.rated_n)), _avg(func.sum(u.out_sum_bps), func.sum(u.rated_n))]
    elif metric is InterfaceMetric.ERRORS:
        values = [
            _avg(func.sum(u.errors_sum_per_s), func.sum(u.samples)),
            _avg(func.sum(u.discards_sum_per_s), func.sum(u.samples)),
        ]
    else:
        values = [100.0 * _avg(func.sum(u.oper_up_n), func.sum(u.samples))]
    query = (
        select(bucket, *values)
        .where(
            u.device_id == device_id, u.if_name == if_name, u.bucket_start >= window.start, u.bucket_start < window.end
        )
        .group_by(bucket)
    )
    grid = _grid(window.start, window.end, step)
    return Found("rollup_5m", step, grid, _on_grid(grid, (await session.execute(query)).all(), len(values)))


_INTERFACE_LINES = {
    InterfaceMetric.TRAFFIC: ("Traffic", "bit/s", (("in_bps", "in"), ("out_bps", "out"))),
    InterfaceMetric.ERRORS: ("Errors and discards", "/s", (("errors_per_s", "errors"), ("discards_per_s", "discards"))),
    InterfaceMetric.STATUS: ("Oper status", "%", (("oper_up_pct", "up"),)),
}


async def interface_graph(
    session: AsyncSession,
    device_id: int,
    if_name: str,
    metric: InterfaceMetric,
    window: Window,
    committed_rate_bps: Sequence[tuple[str, int]] = (),
) -> Graph:
    """One interface's graph. Traffic carries the interface's speed and each committed rate as thresholds."""
    found = await _interface_rows(session, device_id, if_name, metric, window)
    title, unit, lines = _INTERFACE_LINES[metric]
    thresholds: list[Threshold] = []
    if metric is InterfaceMetric.TRAFFIC:
        speed = await session.scalar(
            select(m.Interface.speed_bps).where(m.Interface.device_id == device_id, m.Interface.name == if_name)
        )
        if speed:
            thresholds.append(Threshold(key="speed_bps", label="speed", value=float(speed)))
        thresholds += [
            Threshold(key="committed_rate_bps", label=f"committed {name}", value=float(rate))
            for name, rate in committed_rate_bps
        ]
    return _graph(title, unit, window, found, lines, thresholds)


def _graph(
    title: str, unit: str, window: Window, found: Found, lines: Sequence[tuple[str, str]], thresholds: list[Threshold]
) -> Graph:
    """The answer for a window: its rows' times and one line per column, with the thresholds to draw."""
    return Graph(
        title=title,
        unit=unit,
        start=window.start,
        end=window.end,
        live=window.live,
        source=found.source,
        step_s=found.step_s,
        t=found.t,
        series=[Line(key=k, label=label, values=v) for (k, label), v in zip(lines, found.columns, strict=True)],
        thresholds=thresholds,
    )


async def _probe_rows(session: AsyncSession, circuit_id: int, metric: CircuitMetric, window: Window) -> Found:
    dialect = session.get_bind().dialect.name
    if window.span_s <= RAW_MAX_S:
        step = _step(window.span_s, 1)
        p = m.ProbeMeasurement
        bucket = _bucket(p.ts, dialect, step).label("b")
        values: list[ColumnElement[Any]]
        if metric is CircuitMetric.LATENCY:
            values = [func.avg(p.rtt_avg_ms), func.max(p.rtt_max_ms)]
        elif metric is CircuitMetric.LOSS:
            values = [100.0 * func.avg(p.loss_ratio)]
        else:
            values = [func.avg(p.jitter_ms)]
        query = (
            select(bucket, *values)
            .where(p.circuit_id == circuit_id, p.ts >= window.start, p.ts < window.end)
            .group_by(bucket)
            .order_by(bucket)
        )
        t, columns = _with_gaps((await session.execute(query)).all(), len(values), step)
        return Found("raw", step, t, columns)
    step = _step(window.span_s, HOUR_S)
    h = m.CircuitHourStats
    bucket = _bucket(h.hour_start, dialect, step).label("b")
    if metric is CircuitMetric.LATENCY:
        values = [_avg(func.sum(h.rtt_sum_ms), func.sum(h.rtt_n)), func.max(h.rtt_max_ms)]
    elif metric is CircuitMetric.LOSS:
        values = [100.0 * _avg(func.sum(h.loss_sum_ratio), func.sum(h.loss_n))]
    else:
        values = [_avg(func.sum(h.jitter_sum_ms), func.sum(h.jitter_n))]
    query = (
        select(bucket, *values)
        .where(h.circuit_id == circuit_id, h.hour_start >= window.start, h.hour_start < window.end)
        .group_by(bucket)
    )
    grid = _grid(window.start, window.end, step)
    return Found("hourly", step, grid, _on_grid(grid, (await session.execute(query)).all(), len(values)))


async def _availability(session: AsyncSession, circuit_id: int, window: Window) -> Found:
    """The share of each step's decided Δt that was available, from the stored state runs; null where every Δt
    of the step is unknown (not measured: never counted as down)."""
    step = _step(window.span_s, 60)
    r = m.SlaStateRun
    runs = (
        await session.execute(
            select(r.start_at, r.end_at, r.state)
            .where(r.circuit_id == circuit_id, r.end_at > window.start, r.start_at < window.end)
            .order_by(r.start_at)
        )
    ).all()
    grid = _grid(window.start, window.end, step)
    up = [0.0] * len(grid)
    decided = [0.0] * len(grid)
    if grid:
        first = grid[0]
        for start_at, end_at, state in runs:
            if state not in ("available", "unavailable"):
                continue
            a, b = max(start_at.timestamp(), first), min(end_at.timestamp(), grid[-1] + step)
            index = int((a - first) // step)
            while a < b and index < len(grid):
                cell_end = min(b, first + (index + 1) * step)
                decided[index] += cell_end - a
                if state == "available":
                    up[index] += cell_end - a
                a, index = cell_end, index + 1
    values: list[float | None] = [100.0 * u / d if d > 0 else None for u, d in zip(up, decided, strict=True)]
    return Found("state_runs", step, grid, [values])


@dataclass(frozen=True, slots=True)
class CircuitTerms:
    """What the circuit page graphs draw limits from: the circuit and its contract's ceilings."""

    circuit_id: int
    account_id: int
    device_id: int
    interface_name: str
    name: str
    committed_rate_bps: int | None
    latency_ceiling_ms: float | None
    loss_ceiling_pct: float | None
    jitter_ceiling_ms: float | None
    availability_target_pct: float


async def circuit_terms(session: AsyncSession, name: str) -> CircuitTerms | None:
    row = (
        await session.execute(
            select(m.Circuit, m.Contract)
            .join(m.Contract, m.Contract.id == m.Circuit.contract_id)
            .where(m.Circuit.name == name)
        )
    ).first()
    if row is None:
        return None
    circuit, contract = row
    return CircuitTerms(
        circuit.id,
        circuit.account_id,
        circuit.device_id,
        circuit.interface_name,
        circuit.name,
        circuit.committed_rate_bps,
        contract.latency_ceiling_ms,
        contract.loss_ceiling_pct,
        contract.jitter_ceiling_ms,
        float(contract.availability_target_pct),
    )


_CIRCUIT_LINES: dict[CircuitMetric, tuple[str, str, tuple[tuple[str, str], ...]]] = {
    CircuitMetric.LATENCY: ("Latency", "ms", (("rtt_avg_ms", "avg"), ("rtt_max_ms", "max"))),
    CircuitMetric.LOSS: ("Packet loss", "%", (("loss_pct", "loss"),)),
    CircuitMetric.JITTER: ("Jitter", "ms", (("jitter_ms", "jitter"),)),
    CircuitMetric.AVAILABILITY: ("Availability", "%", (("available_pct", "available"),)),
}


async def circuit_graph(session: AsyncSession, terms: CircuitTerms, metric: CircuitMetric, window: Window) -> Graph:
    """One circuit's graph with the contract's ceiling drawn; traffic is its interface's, against the committed
    rate."""
    if metric is CircuitMetric.TRAFFIC:
        committed = [(terms.name, terms.committed_rate_bps)] if terms.committed_rate_bps else []
        return await interface_graph(
            session, terms.device_id, terms.interface_name, InterfaceMetric.TRAFFIC, window, committed
        )
    if metric is CircuitMetric.AVAILABILITY:
        found = await _availability(session, terms.circuit_id, window)
    else:
        found = await _probe_rows(session, terms.circuit_id, metric, window)
    title, unit, lines = _CIRCUIT_LINES[metric]
    ceiling = {
        CircuitMetric.LATENCY: terms.latency_ceiling_ms,
        CircuitMetric.LOSS: terms.loss_ceiling_pct,
        CircuitMetric.JITTER: terms.jitter_ceiling_ms,
        CircuitMetric.AVAILABILITY: terms.availability_target_pct,
    }[metric]
    label = "target" if metric is CircuitMetric.AVAILABILITY else "contract ceiling"
    drawn = [] if ceiling is None else [Threshold(key=f"{metric.value}_ceiling", label=label, value=ceiling)]
    return _graph(title, unit, window, found, lines, drawn)


# --- who may see which graph, and the one entry point the API and the pages share ---------------------------------


class SeriesError(InputError):
    """A graph request that cannot be answered; ``field`` names the parameter at fault."""

    status = 400

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class SeriesNotFound(SeriesError):
    status = 404


DEVICE_GRAPH_ROLES = frozenset({"admin", "noc", "technician"})


def parse_window(query: Mapping[str, str], now: datetime) -> Window:
    try:
        return window_for(query.get("range"), query.get("start"), query.get("end"), now)
    except InputError as exc:
        raise SeriesError(str(exc), str(exc).split(":", 1)[0]) from exc


def parse_metric(text: str | None, kind: type[M], default: M) -> M:
    if text is None:
        return default
    try:
        return kind(text)
    except ValueError:
        raise SeriesError(f"metric: one of {', '.join(kind)}, not {text!r}", "metric") from None


async def interface_graph_for(
    session: AsyncSession, actor: Actor, device: str, interface: str, metric: InterfaceMetric, window: Window
) -> Graph:
    """An interface's graph for the network's people (NOC, admin, field): an account manager sees traffic on
    their own circuits' pages, not on any interface (it may carry other customers)."""
    if actor.role not in DEVICE_GRAPH_ROLES:
        raise Refused(f"{actor.username} ({actor.role}) may not see interface graphs: open the circuit's page")
    device_id = await session.scalar(select(m.Device.id).where(m.Device.name == device))
    if device_id is None:
        raise SeriesNotFound(f"no device named {device!r}", "name")
    known = await session.scalar(
        select(m.Interface.id).where(m.Interface.device_id == device_id, m.Interface.name == interface)
    ) or await session.scalar(
        select(m.Circuit.id).where(m.Circuit.device_id == device_id, m.Circuit.interface_name == interface).limit(1)
    )
    if known is None:
        raise SeriesNotFound(f"no interface {interface!r} on {device}", "interface")
    committed: list[tuple[str, int]] = []
    if metric is InterfaceMetric.TRAFFIC:
        for name, account_id, rate in await session.execute(
            select(m.Circuit.name, m.Circuit.account_id, m.Circuit.committed_rate_bps)
            .where(m.Circuit.device_id == device_id, m.Circuit.interface_name == interface)
            .order_by(m.Circuit.name)
        ):
            if rate and access.may_see_account(actor, account_id):
                committed.append((name, rate))
    return await interface_graph(session, device_id, interface, metric, window, committed)


async def circuit_graph_for(
    session: AsyncSession, actor: Actor, circuit: str, metric: CircuitMetric, window: Window
) -> Graph:
    """A circuit's graph, for whoever may see its account (the same rule as the account's pages)."""
    terms = await circuit_terms(session, circuit)
    if terms is None:
        raise SeriesNotFound(f"no circuit named {circuit!r}", "name")
    if not access.may_see_account(actor, terms.account_id):
        raise Refused(f"{actor.username} ({actor.role}) may not see circuit {circuit}")
    return await circuit_graph(session, terms, metric, window)
