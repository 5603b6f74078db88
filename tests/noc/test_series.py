"""The graph read model on SQLite and PostgreSQL: raw rows for short windows, rollups for long ones (never more than
MAX_POINTS points), gaps as nulls, the contract's limits as thresholds, availability from the Δt state runs, and
who may see which graph."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from noc import models as m
from noc.crypto import SecretBox
from noc.errors import InputError
from noc.inventory import service as inventory
from noc.store import network, series
from tests.conftest import EXAMPLE_INVENTORY
from tests.graphdata import instants, seed_interface, seed_probes, traffic_bps
from tickets.access import Actor
from tickets.errors import Refused

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
NOC = Actor("nina", "noc")
IFACE = "GigabitEthernet0/0/1"


@pytest.fixture
async def stocked(sessions: async_sessionmaker[AsyncSession], box: SecretBox) -> async_sessionmaker[AsyncSession]:
    await inventory.import_file(sessions, box, EXAMPLE_INVENTORY, "test")
    return sessions


def nulls_between(graph: series.Graph, a: datetime, b: datetime) -> int:
    return sum(
        1
        for t, v in zip(graph.t, graph.series[0].values, strict=True)
        if a.timestamp() <= t < b.timestamp() and v is None
    )


async def test_a_short_window_reads_raw_rows_and_breaks_the_line_at_a_gap(
    stocked: async_sessionmaker[AsyncSession],
) -> None:
    gap = (NOW - timedelta(minutes=40), NOW - timedelta(minutes=25))
    await seed_interface(stocked, "pe-bj-01", IFACE, instants(NOW - timedelta(hours=2), NOW, 60, [gap]))
    window = series.window_for("1h", None, None, NOW)
    async with stocked() as session:
        graph = await series.interface_graph_for(
            session, NOC, "pe-bj-01", IFACE, series.InterfaceMetric.TRAFFIC, window
        )
    assert graph.source == "raw" and graph.unit == "bit/s" and graph.live
    assert [s.key for s in graph.series] == ["in_bps", "out_bps"]
    assert graph.t == sorted(graph.t)
    measured = [v for v in graph.series[0].values if v is not None]
    assert len(measured) == 60 - 15  # one point per poll, none in the gap
    # one null inside the gap, so the line is not drawn across it; none elsewhere
    assert nulls_between(graph, *gap) == 1
    assert graph.series[0].values.count(None) == 1
    first = datetime.fromtimestamp(graph.t[0], UTC)
    assert graph.series[0].values[0] == pytest.approx(traffic_bps(first, 40e6))
    assert {t.key: t.value for t in graph.thresholds} == {
        "speed_bps": 1e9,
        "committed_rate_bps": pytest.approx(next(iter(await committed(stocked, "ACME-BJ-001")))),
    }


async def committed(sessions: async_sessionmaker[AsyncSession], circuit: str) -> list[float]:
    async with sessions() as session:
        rate = await session.scalar(select(m.Circuit.committed_rate_bps).where(m.Circuit.name == circuit))
    return [float(rate or 0)]


async def test_thirty_days_read_the_rollups_at_most_max_points_and_gaps_stay_null(
    stocked: async_sessionmaker[AsyncSession],
) -> None:
    outage = (NOW - timedelta(days=10), NOW - timedelta(days=9))
    # 35 days at a 5-minute poll (the rollups are the same as at 60 s, with fewer rows to write in a test)
    await seed_interface(stocked, "pe-bj-01", IFACE, instants(NOW - timedelta(days=35), NOW, 300, [outage]))
    window = series.window_for("30d", None, None, NOW)
    async with stocked() as session:
        graph = await series.interface_graph_for(
            session, NOC, "pe-bj-01", IFACE, series.InterfaceMetric.TRAFFIC, window
        )
        errors = await series.interface_graph_for(
            session, NOC, "pe-bj-01", IFACE, series.InterfaceMetric.ERRORS, window
        )
    assert graph.source == "rollup_5m"
    assert graph.step_s == 600  # 8,640 five-minute buckets would be too many: two per point
    assert len(graph.t) <= series.MAX_POINTS
    assert all(len(s.values) == len(graph.t) for s in graph.series)
    assert all(b - a == 600 for a, b in zip(graph.t, graph.t[1:], strict=False))  # a regular grid
    assert nulls_between(graph, outage[0] + timedelta(minutes=10), outage[1]) == (24 * 3600 - 600) // 600
    # a point is the mean of the samples of its two buckets (the rollups' sums over their counts)
    index = len(graph.t) // 2
    at = datetime.fromtimestamp(graph.t[index], UTC)
    expected = (traffic_bps(at, 40e6) + traffic_bps(at + timedelta(minutes=5), 40e6)) / 2
    assert graph.series[0].values[index] == pytest.approx(expected)
    assert errors.unit == "/s" and errors.series[0].values[index] == pytest.approx(0.5)


async def test_a_zoomed_window_of_ten_minutes_reads_each_sample(stocked: async_sessionmaker[AsyncSession]) -> None:
    await seed_interface(stocked, "pe-bj-01", IFACE, instants(NOW - timedelta(hours=1), NOW, 60))
    start = NOW - timedelta(minutes=30)
    window = series.window_for(None, start.isoformat(), (start + timedelta(minutes=10)).isoformat(), NOW)
    assert not window.live
    async with stocked() as session:
        graph = await series.interface_graph_for(session, NOC, "pe-bj-01", IFACE, series.InterfaceMetric.STATUS, window)
    assert graph.source == "raw" and graph.step_s == 1
    assert graph.series[0].values == [100.0] * 10


async def test_circuit_graphs_carry_the_contracts_ceilings_and_availability_comes_from_states(
    stocked: async_sessionmaker[AsyncSession],
) -> None:
    circuit_id = await seed_probes(stocked, "ACME-BJ-001", instants(NOW - timedelta(hours=1), NOW, 60), loss_ratio=0.02)
    async with stocked() as session:
        for minutes, state in ((60, "available"), (30, "unavailable"), (20, "unknown")):
            start = NOW - timedelta(minutes=minutes)
            end = start + timedelta(minutes=30 if state == "available" else 10)
            session.add(m.SlaStateRun(circuit_id=circuit_id, start_at=start, end_at=end, state=state))
        await session.commit()
        contract = await session.scalar(select(m.Contract).where(m.Contract.name == "ACME-2026-01"))
        assert contract is not None
        window = series.window_for("1h", None, None, NOW)
        loss = await series.circuit_graph_for(session, NOC, "ACME-BJ-001", series.CircuitMetric.LOSS, window)
        latency = await series.circuit_graph_for(session, NOC, "ACME-BJ-001", series.CircuitMetric.LATENCY, window)
        available = await series.circuit_graph_for(
            session, NOC, "ACME-BJ-001", series.CircuitMetric.AVAILABILITY, window
        )
        long = await series.circuit_graph_for(
            session, NOC, "ACME-BJ-001", series.CircuitMetric.LOSS, series.window_for("7d", None, None, NOW)
        )
    assert loss.unit == "%" and [v for v in loss.series[0].values if v is not None] == pytest.approx([2.0] * 60)
    assert [(t.key, t.value) for t in loss.thresholds] == [("loss_ceiling", contract.loss_ceiling_pct)]
    assert [s.key for s in latency.series] == ["rtt_avg_ms", "rtt_max_ms"]
    assert latency.series[1].values[0] == pytest.approx(15.5)
    assert latency.thresholds[0].value == contract.latency_ceiling_ms
    values = dict(zip(available.t, available.series[0].values, strict=True))
    at = lambda minutes: int((NOW - timedelta(minutes=minutes)).timestamp())  # noqa: E731
    assert values[at(45)] == 100.0 and values[at(25)] == 0.0
    assert values[at(15)] is None and values[at(5)] is None  # unknown and unmeasured are not downtime
    assert available.thresholds[0].value == float(contract.availability_target_pct)
    assert long.source == "hourly" and len(long.t) == 7 * 24


async def test_who_may_see_which_graph(stocked: async_sessionmaker[AsyncSession]) -> None:
    window = series.window_for("1h", None, None, NOW)
    async with stocked() as session:
        karl = Actor("karl", "account_manager", managed_account_ids=frozenset(await account_ids(session, "acme-bank")))
        await series.circuit_graph_for(session, karl, "ACME-BJ-001", series.CircuitMetric.LOSS, window)
        with pytest.raises(Refused):
            await series.circuit_graph_for(session, karl, "CITY-SH-001", series.CircuitMetric.LOSS, window)
        with pytest.raises(Refused):
            await series.interface_graph_for(session, karl, "pe-bj-01", IFACE, series.InterfaceMetric.TRAFFIC, window)
        with pytest.raises(series.SeriesNotFound):
            await series.interface_graph_for(
                session, NOC, "pe-bj-01", "no-such-port", series.InterfaceMetric.TRAFFIC, window
            )
        with pytest.raises(series.SeriesNotFound):
            await series.circuit_graph_for(session, NOC, "NO-SUCH", series.CircuitMetric.LOSS, window)


async def account_ids(session: AsyncSession, *names: str) -> list[int]:
    return list(await session.scalars(select(m.KeyAccount.id).where(m.KeyAccount.name.in_(names))))


@pytest.mark.parametrize(
    ("range_name", "start", "end", "field"),
    [
        ("2h", None, None, "range"),
        ("1h", "2026-11-30T10:00:00+00:00", None, "range"),
        (None, "2026-11-30T10:00:00", None, "start"),
        (None, "yesterday", None, "start"),
        (None, "2026-11-30T10:00:00Z", "2026-11-30T09:00:00Z", "end"),
        (None, "2025-01-01T00:00:00Z", "2026-11-30T09:00:00Z", "start"),
        (None, None, "2026-11-30T09:00:00Z", "start"),
    ],
)
def test_a_bad_window_is_named(range_name: str | None, start: str | None, end: str | None, field: str) -> None:
    with pytest.raises(InputError, match=f"^{field}:"):
        series.window_for(range_name, start, end, NOW)


async def test_device_rows_filter_and_sort_in_sql(stocked: async_sessionmaker[AsyncSession]) -> None:
    async with stocked() as session:
        ids = {d.name: d.id for d in await session.scalars(select(m.Device))}
        session.add(m.DeviceStatus(device_id=ids["pe-sh-01"], available=False, since=NOW, consecutive_failures=3))
        session.add(m.DeviceStatus(device_id=ids["pe-bj-01"], available=True, since=NOW, last_poll_at=NOW))
        await session.commit()
        by_state = await network.device_rows(session, sort=network.DeviceSort.STATE)
        down = await network.device_rows(session, state=network.DeviceState.DOWN)
        found = await network.device_rows(session, text="BJ")
        literal = await network.device_rows(session, text="%")
    assert by_state[0].name == "pe-sh-01" and by_state[0].state is network.DeviceState.DOWN
    assert [r.name for r in down] == ["pe-sh-01"]
    assert [r.name for r in found] == ["pe-bj-01", "pe-bj-02"]
    assert literal == []  # a % typed in the box is a character, not a wildcard
