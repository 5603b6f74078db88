"""The SLA engine in the system: observations → stored runs, hourly statistics, breaches; reports from rollups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from collectors.counters import InterfaceRate, Verdict
from collectors.model import ProbeSample
from noc import models as m
from noc.crypto import SecretBox
from noc.flow.sla import SlaEngine
from noc.inventory import service
from noc.messages import DevicePolled, ProbeResult, ProbeRound
from noc.store.reports import build_report
from noc.store.sla import empty_hour, load_engine_inputs
from noc.store.weekly import account_week
from sla.breach import Breach, DetectorSettings, Recovery
from sla.hours import HourBucket, stats_from_hours
from sla.states import DeltaInput
from sla.weekly import IsoWeek

Sessions = async_sessionmaker[AsyncSession]

INVENTORY = """
devices:
  - {name: pe-1, address: 10.0.0.1, platform: linux}
accounts:
  - {name: acme, legal_name: ACME, tier: A}
contracts:
  - name: c1
    account: acme
    valid_from: 2026-01-01
    valid_to: 2026-12-31
    timezone: UTC
    monthly_fee: "1000.00"
    sla: {availability_target_pct: "99.9", latency_ceiling_ms: 20, loss_ceiling_pct: 5}
    credits: {bands: [{below_pct: "99.9", credit_pct: 10}], cap_pct: 30}
circuits:
  - {name: ckt-1, account: acme, contract: c1, device: pe-1, interface: eth1, far_end: 10.9.0.1, probe: icmp}
"""


async def seeded(sessions: Sessions, box: SecretBox, tmp_path: Path) -> None:
    path = tmp_path / "inv.yaml"
    path.write_text(INVENTORY)
    await service.import_file(sessions, box, path, "test")


def test_hourly_statistics_are_exact_for_mean_min_max() -> None:
    bucket, other = HourBucket(), HourBucket()
    t = datetime(2026, 5, 1, tzinfo=UTC)
    for i, rtt in enumerate([10.0, 20.0, 30.0]):
        bucket.add(DeltaInput(at=t + timedelta(minutes=i), rtt_ms=rtt, in_bps=100.0, speed_bps=1000.0))
    other.add(DeltaInput(at=t + timedelta(hours=1), rtt_ms=100.0, in_bps=float("nan")))
    rows = [empty_hour(1, t), empty_hour(1, t + timedelta(hours=1))]
    bucket.merge_into(rows[0])
    other.merge_into(rows[1])
    stats = stats_from_hours(rows, committed_rate_bps=200.0)
    assert (stats.latency_ms.count, stats.latency_ms.avg, stats.latency_ms.min, stats.latency_ms.max) == (
        4,
        40.0,
        10.0,
        100.0,
    )
    assert stats.latency_ms.p95 == 100.0  # over the hourly means 20 and 100
    assert stats.in_bps.count == 3 and stats.in_bps.avg == 100.0  # NaN left out
    assert stats.utilisation_ratio.max == 0.1
    assert stats.p95_of_committed_ratio == 0.5


async def test_engine_stores_runs_statistics_and_breaches(sessions: Sessions, box: SecretBox, tmp_path: Path) -> None:
    await seeded(sessions, box, tmp_path)
    start = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
    now = [start]
    async with sessions() as session:
        inputs = await load_engine_inputs(session)
    engine = SlaEngine(sessions, inputs, DetectorSettings(window_s=120), clock=lambda: now[0])
    events: list[object] = []
    engine.listeners.append(events.append)

    def minute(i: int, up: bool, rtt_ms: float) -> None:
        now[0] = start + timedelta(minutes=i)
        at = now[0]
        engine.observe(
            DevicePolled(
                "pe-1",
                at,
                ok=True,
                up=True,
                consecutive_failures=0,
                uptime_s=100.0,
                interfaces=(
                    InterfaceRate(
                        "pe-1",
                        2,
                        "eth1",
                        at,
                        "up" if up else "down",
                        60.0,
                        1_000_000,
                        1000.0,
                        2000.0,
                        in_verdict=Verdict.OK,
                        out_verdict=Verdict.OK,
                    ),
                ),
            )
        )
        sample = ProbeSample("ckt-1", "pe-1", "10.9.0.1", at, 5, 5, rtt_ms, rtt_ms, rtt_ms, 0.1)
        engine.observe(ProbeRound(at, (ProbeResult(sample, "icmp"),)))

    for i in range(5):
        minute(i, True, 5.0)
        await engine.tick(now[0] + timedelta(seconds=59))
    for i in range(5, 8):  # interface down and latency high
        minute(i, False, 50.0)
        await engine.tick(now[0] + timedelta(seconds=59))
    assert {(type(e).__name__, e.objective) for e in events if isinstance(e, Breach)} >= {
        ("Breach", "availability"),
        ("Breach", "latency"),
    }
    for i in range(8, 15):
        minute(i, True, 5.0)
        await engine.tick(now[0] + timedelta(seconds=59))
    assert any(isinstance(e, Recovery) and e.objective == "availability" for e in events)

    async with sessions() as session:
        runs = (await session.scalars(select(m.SlaStateRun).order_by(m.SlaStateRun.start_at))).all()
        breaches = (await session.scalars(select(m.SlaBreachRecord).order_by(m.SlaBreachRecord.id))).all()
        hour = (await session.scalars(select(m.CircuitHourStats))).one()
    # merged across ticks: available, unavailable (3 Δt, interface down), available
    assert [(r.state, r.start_at - start, r.end_at - start) for r in runs][:2] == [
        ("available", timedelta(0), timedelta(minutes=5)),
        ("unavailable", timedelta(minutes=5), timedelta(minutes=8)),
    ]
    assert runs[1].causes == ["interface_down"]
    availability = next(b for b in breaches if b.objective == "availability")
    assert availability.since == start + timedelta(minutes=5) and availability.until == start + timedelta(minutes=8)
    assert hour.rtt_n == 15 and hour.rtt_max_ms == 50.0 and hour.in_n == 15


async def test_report_from_rollups_counts_overlaps_once(sessions: Sessions, box: SecretBox, tmp_path: Path) -> None:
    await seeded(sessions, box, tmp_path)
    may = datetime(2026, 5, 1, tzinfo=UTC)
    outage_start = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
    async with sessions() as session:
        circuit = (await session.scalars(select(m.Circuit))).one()
        device = (await session.scalars(select(m.Device))).one()
        session.add_all(
            [
                m.SlaStateRun(circuit_id=circuit.id, start_at=may, end_at=outage_start, state="available", causes=[]),
                m.SlaStateRun(
                    circuit_id=circuit.id,
                    start_at=outage_start,
                    end_at=outage_start + timedelta(minutes=60),
                    state="unavailable",
                    causes=["interface_down"],
                ),
                m.SlaStateRun(
                    circuit_id=circuit.id,
                    start_at=outage_start + timedelta(minutes=60),
                    end_at=datetime(2026, 6, 1, tzinfo=UTC),
                    state="available",
                    causes=[],
                ),
                # the device outage overlaps the measured hour by 20 minutes and adds 10 before it
                m.DeviceOutage(
                    device_id=device.id,
                    start_at=outage_start - timedelta(minutes=10),
                    end_at=outage_start + timedelta(minutes=20),
                    reason="timeout",
                ),
            ]
        )
        await session.commit()
        report, _ = await build_report(session, "c1", 2026, 5)
    # 70 distinct minutes down in a 31-day month: 100 x (44,640 - 70) / 44,640 = 99.8432 %
    expected = Decimal(100) * (Decimal(44640) - 70) / Decimal(44640)
    assert abs(report.availability_pct - expected) < Decimal("0.000001")
    assert report.credit.amount == Decimal("100.00")  # below 99.9 % -> 10 % of 1,000.00


@pytest.mark.parametrize(
    ("in_base", "base_min", "credit"),
    [("exclude", 44_640 - 120, Decimal("100.00")), ("include", 44_640, Decimal("0.00"))],
)
async def test_maintenance_in_the_base_is_a_contract_term_the_month_week_and_credit_agree_on(
    sessions: Sessions, box: SecretBox, tmp_path: Path, in_base: str, base_min: int, credit: Decimal
) -> None:
    """A 2-hour maintenance window (11:00-13:00 on Sunday 10 May) and an outage from 12:00 to 13:44:36: 60 minutes
    forgiven, D = 44.6 min. Out of the base (the default): 100 x (44,520 - 44.6) / 44,520 = 99.89982 %, below the
    99.9 % band, 10 % of 1,000.00 owed; in it: 100 x (44,640 - 44.6) / 44,640 = 99.90009 %, nothing owed. The week
    (10,080 min) follows the same rule."""
    window = "[{kind: one_off, name: core upgrade, start_at: '2026-05-10T11:00:00Z', end_at: '2026-05-10T13:00:00Z'}]"
    text = INVENTORY.replace("    credits:", f"    maintenance_windows: {window}\n    credits:").replace(
        "loss_ceiling_pct: 5}", f"loss_ceiling_pct: 5, maintenance_in_base: {in_base}}}"
    )
    path = tmp_path / "inventory.yaml"
    path.write_text(text)
    await service.import_file(sessions, box, path, "test")
    may, june = datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)
    down = (datetime(2026, 5, 10, 12, tzinfo=UTC), datetime(2026, 5, 10, 13, 44, 36, tzinfo=UTC))
    async with sessions() as session:
        circuit = (await session.scalars(select(m.Circuit))).one()
        session.add_all(
            [
                m.SlaStateRun(circuit_id=circuit.id, start_at=may, end_at=down[0], state="available", causes=[]),
                m.SlaStateRun(
                    circuit_id=circuit.id,
                    start_at=down[0],
                    end_at=down[1],
                    state="unavailable",
                    causes=["device_unreachable"],
                ),
                m.SlaStateRun(circuit_id=circuit.id, start_at=down[1], end_at=june, state="available", causes=[]),
            ]
        )
        await session.commit()
        report, _ = await build_report(session, "c1", 2026, 5)
        account = (await session.scalars(select(m.KeyAccount))).one()
        (week,) = await account_week(session, account.id, IsoWeek(2026, 19))
    d = Decimal("44.6")
    assert report.availability_pct == Decimal(100) * (base_min - d) / base_min
    assert report.credit.amount == credit
    week_base = 10_080 - (120 if in_base == "exclude" else 0)
    assert week.report.availability_pct == Decimal(100) * (week_base - d) / week_base
    assert week.report.availability.downtime_min == report.circuits[0].availability.downtime_min == d


async def test_a_recorded_monitoring_gap_is_unknown_time_in_the_report_not_downtime(
    sessions: Sessions, box: SecretBox, tmp_path: Path
) -> None:
    """The device was down from 12:00 to 13:00 by its outage record, but nobody polled it from 12:20 to 12:40 (a
    monitoring gap; the engine decided no state then): 40 minutes down, 20 unknown."""
    await seeded(sessions, box, tmp_path)
    may, june = datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)
    noon = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
    gap = (noon + timedelta(minutes=20), noon + timedelta(minutes=40))
    async with sessions() as session:
        circuit = (await session.scalars(select(m.Circuit))).one()
        device = (await session.scalars(select(m.Device))).one()
        session.add_all(
            [
                m.SlaStateRun(circuit_id=circuit.id, start_at=may, end_at=gap[0], state="available", causes=[]),
                m.SlaStateRun(circuit_id=circuit.id, start_at=gap[1], end_at=june, state="available", causes=[]),
                m.DeviceOutage(device_id=device.id, start_at=noon, end_at=noon + timedelta(hours=1), reason="timeout"),
                m.MonitoringGap(device_id=device.id, started_at=gap[0], ended_at=gap[1]),
            ]
        )
        await session.commit()
        report, _ = await build_report(session, "c1", 2026, 5)
    result = report.circuits[0].availability
    assert (result.downtime_min, result.unknown_min) == (40, 20)
    assert [(o.start, o.end) for o in result.outages] == [(noon, gap[0]), (gap[1], noon + timedelta(hours=1))]


async def test_database_statistics_agree_with_the_python_rule(
    sessions: Sessions, box: SecretBox, tmp_path: Path
) -> None:
    """The report's SQL aggregation (both databases) and ``stats_from_hours`` give the same figures."""
    import random

    from noc.store.reports import month_stats

    await seeded(sessions, box, tmp_path)
    rng = random.Random(7)
    start = datetime(2026, 5, 1, tzinfo=UTC)
    async with sessions() as session:
        circuit = (await session.scalars(select(m.Circuit))).one()
        rows = []
        for hour in range(97):  # an odd count, so the nearest rank is not a round number
            bucket = HourBucket()
            for minute in range(rng.randint(0, 3)):
                bucket.add(
                    DeltaInput(
                        at=start + timedelta(hours=hour, minutes=minute),
                        rtt_ms=rng.uniform(1, 50),
                        loss_ratio=rng.choice([0.0, 0.0, 0.2]),
                        in_bps=rng.uniform(0, 1e6),
                        out_bps=rng.uniform(0, 1e6),
                        speed_bps=1e7,
                    )
                )
            row = empty_hour(circuit.id, start + timedelta(hours=hour))
            bucket.merge_into(row)
            rows.append(row)
        session.add_all(rows)
        await session.commit()
        in_db = await month_stats(session, [circuit.id], start, start + timedelta(days=31))
    in_python = stats_from_hours(rows, None)
    for name, summary in in_db[circuit.id].items():
        expected = getattr(in_python, name)
        assert summary.count == expected.count, name
        if name in ("latency_ms", "in_bps", "out_bps", "utilisation_ratio"):
            assert summary.p95 == pytest.approx(expected.p95), name
        assert summary.avg == pytest.approx(expected.avg), name
        assert (summary.min, summary.max) == pytest.approx((expected.min, expected.max)), name


async def test_all_reports_at_once_equal_one_by_one(sessions: Sessions, box: SecretBox, tmp_path: Path) -> None:
    """The bulk path (every contract, grouped by time zone) gives each contract the report it gets alone."""
    from noc.store.reports import build_reports

    await seeded(sessions, box, tmp_path)
    may = datetime(2026, 5, 1, tzinfo=UTC)
    async with sessions() as session:
        circuit = (await session.scalars(select(m.Circuit))).one()
        session.add(
            m.SlaStateRun(
                circuit_id=circuit.id,
                start_at=may,
                end_at=may + timedelta(days=3),
                state="unavailable",
                causes=["device_unreachable"],
            )
        )
        await session.commit()
        together = await build_reports(session, 2026, 5)
        alone, _ = await build_report(session, "c1", 2026, 5)
    assert [r.contract for r, _ in together] == ["c1"]
    assert together[0][0].availability_pct == alone.availability_pct
    assert together[0][0].credit == alone.credit
