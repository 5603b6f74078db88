"""Monthly reports per circuit and contract: DST months in Berlin, Shanghai boundaries, statistics, credits."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest

from sla.errors import SlaError
from sla.intervals import Interval, Labelled
from sla.report import CircuitMonthInput, CircuitStats, ObjectiveResult, OutageSource, monthly_report, to_plain
from sla.states import DeltaInput
from sla.stats import MetricSummary, percentile, summarise
from sla.terms import CreditBand, CreditSchedule, RecurringWindow, terms_from_contract
from tests.sla.factories import pct, terms, utc
from tests.sla.test_terms_period import ROW


def every_minute(start: datetime, end: datetime, down: Interval | None = None, **extra: float) -> list[DeltaInput]:
    out = []
    at = start
    while at < end:
        bad = down is not None and down.contains(at)
        out.append(DeltaInput(at, device_reachable=not bad, oper_up=True, **extra))
        at += timedelta(minutes=1)
    return out


def test_berlin_march_with_the_spring_forward_from_per_minute_samples() -> None:
    # Berlin, March 2026: 2026-02-28T23:00Z .. 2026-03-31T22:00Z, 44,580 minutes (the 29th has 23 hours).
    # 30 minutes down across the switch: 00:45Z-01:15Z on the 29th (01:45 CET .. 03:15 CEST).
    berlin = terms(contract="RHEIN", timezone="Europe/Berlin")
    down = Interval(utc(2026, 3, 29, 0, 45), utc(2026, 3, 29, 1, 15))
    samples = every_minute(utc(2026, 2, 28, 22, 58), utc(2026, 3, 31, 22, 2), down)
    report = monthly_report(berlin, 2026, 3, [CircuitMonthInput("rhein-1", samples=samples)])
    assert (report.period.start, report.period.end) == (utc(2026, 2, 28, 23), utc(2026, 3, 31, 22))
    assert report.period.calendar_min == report.period.basis_min == 44_580
    (circuit,) = report.circuits
    assert circuit.availability.measurable_min == 44_580  # every minute measured, none unknown
    assert circuit.availability_pct == report.availability_pct == pct(44_580 - 30, 44_580)
    assert [(o.start, o.end, o.causes) for o in circuit.availability.outages] == [
        (down.start, down.end, ("measured:device_unreachable",))
    ]
    # n = 1: no margin, so the two samples on each side of the month are outside the grid and counted.
    assert circuit.ignored == {"before_period": 2, "after_period": 2}
    assert report.availability_steps[0].startswith(
        "month 2026-03 in Europe/Berlin: 2026-02-28T23:00:00+00:00 .. 2026-03-31T22:00:00+00:00 "
        "= 44580 calendar minutes"
    )


def test_berlin_october_has_44700_minutes_and_fixed_rule_ignores_it() -> None:
    outage = OutageSource(utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30), "device:pe1")  # over the fall-back
    for rule, basis in (("calendar", 44_700), ("fixed_43200", 43_200)):
        report = monthly_report(
            terms(timezone="Europe/Berlin", month_length=rule),
            2026,
            10,
            [CircuitMonthInput("c", samples=None, outages=[outage])],
        )
        assert (report.period.start, report.period.end) == (utc(2026, 9, 30, 22), utc(2026, 10, 31, 23))
        assert report.period.calendar_min == 44_700
        assert report.availability_pct == pct(basis - 60, basis)


def test_shanghai_month_starts_at_1600z_and_clips_a_straddling_outage() -> None:
    # Asia/Shanghai (UTC+8, no DST): March 2026 is 2026-02-28T16:00Z .. 2026-03-31T16:00Z, fixed 43,200 basis.
    shanghai = terms(contract="CITYGOV", timezone="Asia/Shanghai", month_length="fixed_43200")
    straddling = OutageSource(utc(2026, 2, 28, 15, 30), utc(2026, 2, 28, 16, 30), "device:pe1")
    report = monthly_report(shanghai, 2026, 3, [CircuitMonthInput("gov-1", outages=[straddling])])
    assert (report.period.start, report.period.end) == (utc(2026, 2, 28, 16), utc(2026, 3, 31, 16))
    assert report.period.calendar_min == 44_640
    (record,) = report.circuits[0].availability.outages
    assert (record.start, record.duration_min, record.continues_before) == (utc(2026, 2, 28, 16), Decimal(30), True)
    assert report.availability_pct == pct(43_200 - 30, 43_200)
    february = monthly_report(shanghai, 2026, 2, [CircuitMonthInput("gov-1", outages=[straddling])])
    assert february.circuits[0].availability.downtime_min == 30


@pytest.mark.parametrize(
    ("rule", "downtime_min", "measurable_min"),
    [("available", 40, 44_640), ("unavailable", 60, 44_640), ("excluded", 40, 44_640 - 20)],
)
def test_a_monitoring_gap_inside_an_outage_is_unknown_time_under_the_contracts_rule(
    rule: str, downtime_min: int, measurable_min: int
) -> None:
    """Down at 10:00 and at 11:00, but nobody polled the device from 10:20 to 10:40 (its poller dead): those 20
    minutes are unknown, not down; the contract's unknown-time rule decides what they count as."""
    outage = OutageSource(utc(2026, 1, 10, 10), utc(2026, 1, 10, 11), "device down: timeout")
    gap = Interval(utc(2026, 1, 10, 10, 20), utc(2026, 1, 10, 10, 40))
    item = CircuitMonthInput("c", outages=[outage], unmonitored=[gap])
    result = monthly_report(terms(timezone="UTC", unknown_time=rule), 2026, 1, [item]).circuits[0].availability
    assert (result.downtime_min, result.measurable_min, result.unknown_min) == (downtime_min, measurable_min, 20)
    assert [(o.start, o.end) for o in result.outages] == [
        (utc(2026, 1, 10, 10), utc(2026, 1, 10, 10, 20)),
        (utc(2026, 1, 10, 10, 40), utc(2026, 1, 10, 11)),
    ]


def test_same_instant_different_months() -> None:
    # 2026-03-31T16:30Z is April in Shanghai and March in Berlin.
    outage = OutageSource(utc(2026, 3, 31, 16, 30), utc(2026, 3, 31, 17), "device")
    item = CircuitMonthInput("c", outages=[outage])
    assert monthly_report(terms(timezone="Asia/Shanghai"), 2026, 3, [item]).availability_pct == 100
    assert monthly_report(terms(timezone="Europe/Berlin"), 2026, 3, [item]).availability_pct == pct(44_580 - 30, 44_580)


@pytest.mark.parametrize(("bad", "downtime_min"), [(9, 0), (10, 10)])
def test_sliding_window_n10_through_the_report(bad: int, downtime_min: int) -> None:
    t = terms(sliding_window_n=10, unknown_time="available")
    down = Interval(utc(2026, 1, 10, 12), utc(2026, 1, 10, 12) + timedelta(minutes=bad))
    samples = every_minute(utc(2026, 1, 10, 11), utc(2026, 1, 10, 14), down)
    report = monthly_report(t, 2026, 1, [CircuitMonthInput("c", samples=samples)])
    result = report.circuits[0].availability
    assert result.downtime_min == downtime_min
    if downtime_min:
        assert result.outages[0].start == utc(2026, 1, 10, 12)  # from the first bad Δt


@pytest.mark.parametrize(("with_neighbour", "downtime_min"), [(True, 2), (False, 0)])
def test_window_decisions_at_the_month_boundary_use_the_previous_month(with_neighbour: bool, downtime_min: int) -> None:
    # n = 3: bad at 23:59 on Dec 31 and the first two minutes of January. With the December minute given, the run
    # reaches 3 and January loses 2 minutes; without it, two bad Δt are not enough.
    t = terms(sliding_window_n=3, unknown_time="available")
    start = utc(2025, 12, 31, 23, 59) if with_neighbour else utc(2026, 1, 1)
    down = Interval(utc(2025, 12, 31, 23, 59), utc(2026, 1, 1, 0, 2))
    samples = every_minute(start, utc(2026, 1, 1, 1), down)
    report = monthly_report(t, 2026, 1, [CircuitMonthInput("c", samples=samples)])
    assert report.circuits[0].availability.downtime_min == downtime_min


@pytest.mark.parametrize(
    ("in_base", "expected"),
    [
        # the default, as carriers compute it: W = 5 Sundays x 120 min = 600 min leave the base
        (None, pct(44_640 - 600 - 30, 44_640 - 600)),  # 100 x 44,010 / 44,040 = 99.93188 %
        ("exclude", pct(44_640 - 600 - 30, 44_640 - 600)),
        ("include", pct(44_640 - 30, 44_640)),  # 100 x 44,610 / 44,640 = 99.93280 %
    ],
)
def test_contract_row_with_recurring_maintenance_in_shanghai(in_base: str | None, expected: Decimal) -> None:
    # ACME (Shanghai, n = 5): Sunday 02:00-04:00 local maintenance = Saturday 18:00-20:00Z. Outage 19:00-20:30Z on
    # Saturday 2026-03-07: 60 minutes inside the window, 30 counted. No samples: rollup shape, the rest is up.
    # March 2026 in Shanghai has five Sunday windows (1, 8, 15, 22, 29 March local).
    acme = terms_from_contract(ROW if in_base is None else {**ROW, "maintenance_in_base": in_base})
    outage = OutageSource(utc(2026, 3, 7, 19), utc(2026, 3, 7, 20, 30), "device:pe1")
    report = monthly_report(acme, 2026, 3, [CircuitMonthInput("acme-1", outages=[outage])])
    (record,) = report.circuits[0].availability.outages
    assert record.excluded == (Labelled(Interval(utc(2026, 3, 7, 19), utc(2026, 3, 7, 20)), "maintenance:weekly core"),)
    assert record.counted_min == 30
    assert report.availability_pct == expected  # < 99.95 either way: 5 % band, 2,400.00 CNY
    assert report.circuits[0].availability.maintenance_out_of_base_min == (0 if in_base == "include" else 600)
    assert report.credit.amount == Decimal("2400.00")
    assert report.credit.currency == "CNY"
    assert report.objectives[0].met is False


def test_stop_clock_and_unknown_from_rollups() -> None:
    t = terms(unknown_time="unavailable")
    outage = OutageSource(utc(2026, 1, 5), utc(2026, 1, 5, 2), "ticket:T-17")
    stop = Labelled(Interval(utc(2026, 1, 5, 1), utc(2026, 1, 5, 3)), "stop_clock:waiting for customer")
    gap = Interval(utc(2026, 1, 6), utc(2026, 1, 6, 0, 20))
    report = monthly_report(t, 2026, 1, [CircuitMonthInput("c", outages=[outage], unknown=[gap], stop_clock=[stop])])
    # 60 min outage counted (the other 60 stopped), plus 20 min unknown counted as down.
    assert report.circuits[0].availability.downtime_min == 80


def test_contract_availability_and_objectives_over_two_circuits() -> None:
    t = terms(latency_ceiling_ms=20.0, loss_ceiling_pct=1.0, jitter_ceiling_ms=5.0, utilisation_ceiling_pct=80.0)
    day = utc(2026, 1, 10)
    # Circuit a: 100 minutes, RTT 1..100 ms, 50 Mbit/s on a 100 Mbit/s port, one 30-minute device outage.
    a_samples = [
        DeltaInput(
            day + timedelta(minutes=i),
            device_reachable=True,
            rtt_ms=float(i + 1),
            loss_ratio=0.0,
            jitter_ms=1.0,
            in_bps=50e6,
            out_bps=float(i) * 1e6,
            speed_bps=100e6,
        )
        for i in range(100)
    ]
    # Circuit b: the port negotiated 10 Mbit/s for a 20 Mbit/s committed rate, quality fine.
    b_samples = [
        DeltaInput(
            day + timedelta(minutes=i), device_reachable=True, rtt_ms=5.0, loss_ratio=0.0, in_bps=9e6, speed_bps=10e6
        )
        for i in range(100)
    ]
    outage = OutageSource(utc(2026, 1, 20), utc(2026, 1, 20, 0, 30), "device")
    report = monthly_report(
        t,
        2026,
        1,
        [
            CircuitMonthInput("a", samples=a_samples, outages=[outage], committed_rate_bps=40e6),
            CircuitMonthInput("b", samples=b_samples, committed_rate_bps=20e6),
        ],
    )
    a, b = report.circuits
    assert a.stats.latency_ms == MetricSummary(count=100, avg=50.5, p95=95.0, max=100.0, min=1.0)
    assert (a.stats.in_bps.p95, a.stats.out_bps.p95, a.stats.out_bps.max) == (50e6, 94e6, 99e6)
    assert a.stats.p95_of_committed_ratio == pytest.approx(94e6 / 40e6)
    assert a.stats.utilisation_ratio.p95 == pytest.approx(0.94)
    # unknown_time "excluded": only the 100 measured minutes (plus the 30 explicit outage ones) are measurable.
    assert a.availability.measurable_min == 130 and a.availability_pct == pct(100, 130)
    assert b.availability_pct == 100
    assert report.availability_pct == pct(100 + 100, 130 + 100)

    def met(objectives: tuple[ObjectiveResult, ...]) -> dict[str, bool | None]:
        return {o.objective: o.met for o in objectives}

    assert met(a.objectives) == {
        "availability": False,
        "latency": False,
        "loss": True,
        "jitter": True,
        "utilisation": False,
        "committed_rate": True,
    }
    assert met(b.objectives)["committed_rate"] is False and met(b.objectives)["latency"] is True
    contract = {o.objective: o for o in report.objectives}
    assert contract["latency"].met is False and contract["latency"].measured == 50.5  # the worst circuit
    assert contract["committed_rate"].met is False and contract["committed_rate"].measured == 10e6
    assert report.credit.band == CreditBand(Decimal(99), Decimal(25))


def test_month_in_progress_is_cut_at_as_of() -> None:
    t = terms(month_length="fixed_43200")
    outage = OutageSource(utc(2026, 1, 2), None, "device")  # still open
    report = monthly_report(t, 2026, 1, [CircuitMonthInput("c", outages=[outage])], as_of=utc(2026, 1, 3))
    assert not report.complete and report.span == Interval(utc(2026, 1, 1), utc(2026, 1, 3))
    # Basis pro-rated: 43,200 x 2 days / 31 days; one day down.
    basis = Decimal(43_200) * Decimal(2 * 86_400) / Decimal(31 * 86_400)
    assert report.circuits[0].availability.basis_min == basis
    assert report.availability_pct == Decimal(100) * (basis * 60 - 1440 * 60) / (basis * 60)
    with pytest.raises(SlaError, match="before the month"):
        monthly_report(t, 2026, 1, [], as_of=utc(2025, 12, 31))


def test_no_data_at_all_is_not_evaluated_and_owes_nothing() -> None:
    report = monthly_report(terms(), 2026, 1, [CircuitMonthInput("c", samples=[])])
    assert report.availability_pct is None
    assert report.objectives[0].met is None
    assert report.credit.amount == 0


def test_given_stats_override_samples() -> None:
    stats = CircuitStats(latency_ms=MetricSummary(count=1, avg=99.0, p95=99.0, max=99.0, min=99.0))
    report = monthly_report(terms(latency_ceiling_ms=20.0), 2026, 1, [CircuitMonthInput("c", stats=stats)])
    assert {o.objective: o.met for o in report.circuits[0].objectives}["latency"] is False


@pytest.mark.parametrize(
    ("values", "p95"),
    [([], None), ([7.0], 7.0), ([float(v) for v in range(1, 21)], 19.0), ([float(v) for v in range(100, 0, -1)], 95.0)],
)
def test_nearest_rank_percentile(values: list[float], p95: float | None) -> None:
    assert percentile(values, 95) == p95


def test_summarise_skips_non_finite() -> None:
    assert summarise([1.0, float("nan"), 3.0]) == MetricSummary(count=2, avg=2.0, p95=3.0, max=3.0, min=1.0)


def test_credit_cap_in_a_report() -> None:
    schedule = CreditSchedule((CreditBand(Decimal("99.9"), Decimal(50)),), Decimal(10), Decimal("2000.00"))
    window = RecurringWindow("unused", frozenset({"mon"}), time(3, 0), 60)
    t = terms(credits=schedule, maintenance=(window,))
    outage = OutageSource(utc(2026, 1, 3), utc(2026, 1, 3, 2), "device")  # a Saturday: the window forgives none
    report = monthly_report(t, 2026, 1, [CircuitMonthInput("c", outages=[outage])])
    assert report.availability_pct == pct(44_640 - 240 - 120, 44_640 - 240)  # four Monday windows leave the base
    assert (report.credit.uncapped_amount, report.credit.amount, report.credit.capped) == (
        Decimal("1000.00"),
        Decimal("200.00"),
        True,
    )


@pytest.mark.parametrize(
    ("source", "downtime_min", "ignored"),
    [
        pytest.param(OutageSource(utc(1970, 1, 1), utc(1970, 1, 1, 1), "device"), 0, {}, id="1970-clipped-away"),
        pytest.param(OutageSource(utc(2999, 1, 1), None, "device"), 0, {}, id="far-future-clipped-away"),
        pytest.param(
            OutageSource(utc(2026, 1, 5, 1), utc(2026, 1, 5), "device"), 0, {"outage_empty": 1}, id="reversed"
        ),
        pytest.param(
            OutageSource(utc(2026, 1, 5).replace(tzinfo=None), None, "device"),
            0,
            {"outage_naive_timestamp": 1},
            id="naive",
        ),
        # An outage open since a reset clock is still an open outage: the whole month is down.
        pytest.param(OutageSource(utc(1970, 1, 1), None, "device"), 44_640, {}, id="open-since-1970"),
    ],
)
def test_absurd_outage_sources(source: OutageSource, downtime_min: int, ignored: dict[str, int]) -> None:
    report = monthly_report(terms(), 2026, 1, [CircuitMonthInput("c", outages=[source])])
    assert report.circuits[0].availability.downtime_min == downtime_min
    assert report.circuits[0].ignored == ignored


def test_samples_and_states_together_are_refused() -> None:
    with pytest.raises(SlaError, match="not both"):
        monthly_report(terms(), 2026, 1, [CircuitMonthInput("c", samples=[], states=[])])


def test_report_as_plain_data_round_trips_through_json() -> None:
    import json

    t = terms_from_contract(ROW)
    outage = OutageSource(utc(2026, 3, 7, 19), utc(2026, 3, 7, 20, 30), "device:pe1")
    samples = [DeltaInput(utc(2026, 3, 2, 1, i), device_reachable=True, rtt_ms=3.0) for i in range(10)]
    report = monthly_report(t, 2026, 3, [CircuitMonthInput("acme-1", samples=samples, outages=[outage])])
    plain = json.loads(json.dumps(to_plain(report)))
    assert plain["contract"] == "ACME-2026-01"
    assert plain["period"]["start"] == "2026-02-28T16:00:00+00:00"
    assert Decimal(plain["availability_pct"]) == report.availability_pct
    # Unknown time is excluded, and the five Sunday windows of 120 min (W = 600, 60 of them under the outage) leave
    # the base: M = 10 measured + 30 outage outside the window = 40; D = 90 - 60 = 30. 100 x 10 / 40 = 25 %.
    assert report.availability_pct == pct(10, 40)
    assert report.circuits[0].availability.steps[4] == "agreed maintenance out of the base W = 600 min"
    # With the windows kept in the base they count as service time: M = 10 + 90 + 540 = 640, 100 x 610 / 640.
    kept = monthly_report(
        terms_from_contract({**ROW, "maintenance_in_base": "include"}),
        2026,
        3,
        [CircuitMonthInput("acme-1", samples=samples, outages=[outage])],
    )
    assert kept.availability_pct == pct(610, 640)
    assert plain["credit"]["amount"] == "14400.00"
    assert plain["circuits"][0]["stats"]["latency_ms"]["avg"] == 3.0
    assert plain["circuits"][0]["availability"]["outages"][0]["excluded"][0]["label"] == "maintenance:weekly core"
    assert plain["terms"]["maintenance"][0]["start_local"] == "02:00:00"


def test_contract_committed_rate_worst_is_relative_to_each_circuit() -> None:
    def speed(low: float, committed: float) -> CircuitStats:
        return CircuitStats(
            speed_bps=MetricSummary(count=1, avg=low, p95=low, max=low, min=low), committed_rate_bps=committed
        )

    report = monthly_report(
        terms(),
        2026,
        1,
        [
            CircuitMonthInput("small", stats=speed(15e6, 20e6), committed_rate_bps=20e6),  # 75 % of committed
            CircuitMonthInput("big", stats=speed(50e6, 100e6), committed_rate_bps=100e6),  # 50 %: the worst
        ],
    )
    contract = {o.objective: o for o in report.objectives}["committed_rate"]
    assert (contract.measured, contract.limit, contract.met) == (50e6, 100e6, False)
