"""Real-time breach detection: events within one evaluation, hysteresis, recovery, burn rate, bad input."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla.breach import ActiveBreach, Breach, BreachDetector, DetectorSettings, Recovery
from sla.errors import SlaError
from sla.report import CircuitMonthInput, monthly_report
from sla.states import Cause, DeltaInput, DeltaState, StateRun, merge_runs
from sla.terms import WEEKDAYS, RecurringWindow, SlaTerms
from tests.sla.factories import terms, utc

T0 = utc(2026, 1, 10, 12)
QUALITY = terms(latency_ceiling_ms=20.0, loss_ceiling_pct=1.0, jitter_ceiling_ms=5.0, utilisation_ceiling_pct=80.0)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def detector(t: SlaTerms = QUALITY, committed_rate_bps: float | None = None, **settings: float) -> BreachDetector:
    # A one-minute window so each evaluation sees exactly the last sample (hand-checkable means).
    values: dict[str, float] = {"window_s": 60.0, **settings}
    d = BreachDetector(DetectorSettings(**values))  # type: ignore[arg-type]
    d.add_circuit("c1", t, committed_rate_bps=committed_rate_bps)
    return d


def feed(d: BreachDetector, minute: float, **values: float | bool) -> list[Breach | Recovery]:
    """One sample at ``minute`` and an evaluation at the same instant."""
    now = at(minute)
    assert d.observe("c1", DeltaInput(now, **values), now=now)  # type: ignore[arg-type]
    return d.evaluate(now)


@pytest.mark.parametrize(
    ("objective", "values", "measured", "limit"),
    [
        pytest.param("latency", {"rtt_ms": 25.0}, 25.0, 20.0, id="latency"),
        pytest.param("loss", {"loss_ratio": 0.02}, 0.02, 0.01, id="loss"),
        pytest.param("jitter", {"jitter_ms": 6.0}, 6.0, 5.0, id="jitter"),
        pytest.param("utilisation", {"in_bps": 90e6, "speed_bps": 100e6}, 0.9, 0.8, id="utilisation"),
    ],
)
def test_breach_within_one_evaluation(objective: str, values: dict[str, float], measured: float, limit: float) -> None:
    d = detector()
    assert feed(d, 0, rtt_ms=10.0, loss_ratio=0.0, jitter_ms=1.0) == []
    events = feed(d, 1, **values)
    assert events == [Breach("c1", objective, pytest.approx(measured), pytest.approx(limit), at(1))]  # type: ignore[arg-type]
    assert d.active() == [ActiveBreach("c1", objective, pytest.approx(measured), pytest.approx(limit), at(1))]  # type: ignore[arg-type]


def test_committed_rate_shortfall_is_a_floor() -> None:
    d = detector(committed_rate_bps=20e6)
    assert feed(d, 0, speed_bps=100e6) == []
    assert feed(d, 1, speed_bps=10e6) == [Breach("c1", "committed_rate", 10e6, 20e6, at(1))]
    assert feed(d, 2, speed_bps=20e6) == [Recovery("c1", "committed_rate", at(1), at(2))]


HOVER = [20.5, 19.5, 20.4, 19.6, 20.1, 19.9, 21.0, 18.5, 20.0, 19.0] * 3


def test_hovering_at_the_limit_does_not_flap() -> None:
    d = detector()
    events = [e for i, rtt in enumerate(HOVER) for e in feed(d, i, rtt_ms=rtt)]
    assert events == [Breach("c1", "latency", 20.5, 20.0, at(0))]  # one breach, never a recovery


def test_without_a_margin_the_same_series_flaps() -> None:
    # The control for the test above: the hysteresis is what stops the flapping.
    d = detector(margin_ratio=0.0)
    events = [e for i, rtt in enumerate(HOVER) for e in feed(d, i, rtt_ms=rtt)]
    assert len(events) > 10


def test_recovery_below_the_clear_level() -> None:
    d = detector()
    assert feed(d, 0, rtt_ms=30.0) == [Breach("c1", "latency", 30.0, 20.0, at(0))]
    assert feed(d, 1, rtt_ms=18.5) == []  # below the limit, not below 20 x 0.9 = 18
    assert feed(d, 2, rtt_ms=18.0) == [Recovery("c1", "latency", at(0), at(2))]
    assert d.active() == []


def test_clear_after_k_evaluations() -> None:
    d = detector(clear_after=3)
    feed(d, 0, rtt_ms=30.0)
    assert feed(d, 1, rtt_ms=10.0) == []
    assert feed(d, 2, rtt_ms=10.0) == []
    assert feed(d, 3, rtt_ms=19.0) == []  # one not-clear evaluation resets the count
    assert feed(d, 4, rtt_ms=10.0) == []
    assert feed(d, 5, rtt_ms=10.0) == []
    assert feed(d, 6, rtt_ms=10.0) == [Recovery("c1", "latency", at(0), at(6))]


def test_rolling_window_mean() -> None:
    d = detector(window_s=300.0)
    for minute, rtt in enumerate([10.0, 10.0, 10.0, 10.0]):
        assert feed(d, minute, rtt_ms=rtt) == []
    # (10 + 10 + 10 + 10 + 65) / 5 = 21 > 20.
    assert feed(d, 4, rtt_ms=65.0) == [Breach("c1", "latency", 21.0, 20.0, at(4))]


def test_missing_data_holds_the_state() -> None:
    d = detector()
    feed(d, 0, rtt_ms=30.0)
    # Ten minutes without any sample: no recovery is invented, the breach stays open.
    assert [d.evaluate(at(m)) for m in range(1, 11)] == [[]] * 10
    assert [b.objective for b in d.active()] == ["latency"]


def test_absurd_timestamps_and_values_are_counted_not_fatal() -> None:
    d = detector()
    now = at(0)
    assert not d.observe("c1", DeltaInput(utc(1970, 1, 1), rtt_ms=500.0), now=now)
    assert not d.observe("c1", DeltaInput(utc(2999, 1, 1), rtt_ms=500.0), now=now)
    assert not d.observe("c1", DeltaInput(now.replace(tzinfo=None), rtt_ms=500.0), now=now)
    assert not d.observe("nobody", DeltaInput(now, rtt_ms=500.0), now=now)
    assert d.observe("c1", DeltaInput(now, rtt_ms=float("nan"), jitter_ms=float("inf")), now=now)
    assert d.evaluate(now) == []  # none of it reached an objective
    assert d.ignored == {"too_old": 1, "future": 1, "naive_timestamp": 1, "unknown_circuit": 1, "invalid_value": 2}
    # Evaluation carries on normally afterwards.
    assert feed(d, 1, rtt_ms=25.0) == [Breach("c1", "latency", 25.0, 20.0, at(1))]


def test_naive_now_is_refused() -> None:
    with pytest.raises(SlaError):
        detector().evaluate(T0.replace(tzinfo=None))


# --- availability and burn rate ----------------------------------------------------------------------------------


def avail(n: int, **overrides: object) -> BreachDetector:
    return detector(terms(sliding_window_n=n, **overrides))


def tick(d: BreachDetector, minute: int, reachable: bool | None) -> list[Breach | Recovery]:
    """A device poll inside Δt ``minute`` and an evaluation once that Δt has ended."""
    if reachable is not None:
        d.observe("c1", DeltaInput(at(minute) + timedelta(seconds=5), device_reachable=reachable), now=at(minute + 1))
    return [e for e in d.evaluate(at(minute + 1)) if e.objective == "availability"]


def test_availability_breach_dated_from_the_first_bad_delta_and_recovery() -> None:
    d = avail(3)
    assert tick(d, 0, True) == []
    assert tick(d, 1, False) == []
    assert tick(d, 2, False) == []
    assert tick(d, 3, False) == [Breach("c1", "availability", 0.0, 1.0, at(1))]
    assert tick(d, 4, True) == []
    assert tick(d, 5, None) == []  # no data: transparent, neither extends nor breaks the run
    assert tick(d, 6, True) == []
    assert tick(d, 7, True) == [Recovery("c1", "availability", at(1), at(4))]


def test_fewer_than_n_bad_deltas_raise_nothing() -> None:
    d = avail(10)
    events = [e for m in range(30) for e in tick(d, m, not 5 <= m < 14)]  # nine bad
    assert events == []


def test_late_poll_for_a_decided_delta_is_counted() -> None:
    d = avail(1)
    tick(d, 0, True)
    assert d.observe("c1", DeltaInput(at(0) + timedelta(seconds=30), device_reachable=False), now=at(2))
    assert d.ignored == {"late": 1}
    assert tick(d, 1, True) == []


def burn_events(d: BreachDetector, now: datetime) -> list[Breach | Recovery]:
    return [e for e in d.evaluate(now) if e.objective == "burn_rate"]


def down_for(d: BreachDetector, start: datetime, minutes: int) -> None:
    for i in range(minutes + 1):
        ts = start + timedelta(minutes=i)
        d.observe("c1", DeltaInput(ts, device_reachable=i == minutes), now=ts)
        d.evaluate(ts + timedelta(minutes=1))


def test_burn_rate_breach_and_recovery() -> None:
    # 99.9 % of a 31-day January: budget 44.64 minutes. 10 minutes down on Jan 1, 23:40-23:50.
    # On Jan 2 00:00 (1/31 of the month elapsed): burn = (10 / 44.64) / (1440 / 44640) = 6.94 > 1.
    d = avail(1)
    down_for(d, utc(2026, 1, 1, 23, 40), 10)
    (breach,) = [b for b in d.active() if b.objective == "burn_rate"]
    assert breach.measured == pytest.approx((10 / 44.64) / (1440 / 44640), rel=0.01)
    # Jan 20: (10 / 44.64) / (19 x 1440 / 44640) = 0.365 <= 0.9: cleared.
    (recovery,) = burn_events(d, utc(2026, 1, 20))
    assert isinstance(recovery, Recovery) and recovery.until == utc(2026, 1, 20)
    # February starts a new budget.
    assert burn_events(d, utc(2026, 2, 1, 0, 1)) == []


@pytest.mark.parametrize(("in_base", "base_min"), [("exclude", 44_640 - 31 * 120), ("include", 44_640)])
def test_burn_rate_budget_follows_the_contracts_maintenance_base(in_base: str, base_min: int) -> None:
    """The budget is the target's share of the same base as the monthly report's: with daily two-hour windows out
    of the base (31 x 120 min in January) it is (1 - 0.999) x 40,920 = 40.92 minutes, not 44.64."""
    window = RecurringWindow("nightly", frozenset(WEEKDAYS), time(1, 0), 120)
    d = avail(1, maintenance=(window,), maintenance_in_base=in_base)
    down_for(d, utc(2026, 1, 1, 23, 40), 10)
    (breach,) = [b for b in d.active() if b.objective == "burn_rate"]
    assert breach.measured == pytest.approx((10 / (0.001 * base_min)) / (1440 / 44640), rel=0.01)


def test_burn_rate_ignores_downtime_in_maintenance() -> None:
    # Thursday 2026-01-01 23:00 for two hours is maintenance: the same 10 minutes burn nothing.
    window = RecurringWindow("nightly", frozenset({"thu"}), time(23, 0), 120)
    d = avail(1, maintenance=(window,))
    down_for(d, utc(2026, 1, 1, 23, 40), 10)
    assert [b.objective for b in d.active()] == []


def test_full_target_has_no_budget() -> None:
    d = avail(1, availability_target_pct=Decimal(100))
    down_for(d, utc(2026, 1, 5), 1)
    (breach,) = [b for b in d.active() if b.objective == "burn_rate"]
    assert breach.measured == float("inf")


def test_settings_are_checked() -> None:
    with pytest.raises(SlaError):
        DetectorSettings(window_s=600, max_age_s=60)
    with pytest.raises(SlaError):
        DetectorSettings(margin_ratio=1.0)


def test_drained_runs_give_the_same_month_as_the_batch_evaluation() -> None:
    # The real-time machine and the monthly report share the sliding window: storing the detector's decided runs
    # and reporting from them must give exactly what the report computes from the raw samples.
    t = terms(sliding_window_n=3, loss_ceiling_pct=1.0)
    d = detector(t)
    pattern = "aaauuaauuuuaauaaaxxxuuuaaa" * 4  # a: good, u: bad (loss), x: no data
    samples = []
    start = utc(2026, 1, 10)
    runs: list[StateRun] = []
    for i, ch in enumerate(pattern):
        ts = start + timedelta(minutes=i)
        if ch != "x":
            sample = DeltaInput(ts, device_reachable=True, loss_ratio=0.5 if ch == "u" else 0.0)
            samples.append(sample)
            d.observe("c1", sample, now=ts)
        d.evaluate(ts + timedelta(minutes=1))
        runs.extend(d.drain_runs().get("c1", []))
    # The pattern ends on three good Δt, so real time has decided every measured Δt by the last evaluation.
    batch = monthly_report(t, 2026, 1, [CircuitMonthInput("c1", samples=samples)])
    stored = monthly_report(t, 2026, 1, [CircuitMonthInput("c1", states=merge_runs(runs))])
    b, s = batch.circuits[0].availability, stored.circuits[0].availability
    assert b.downtime_min == s.downtime_min > 0
    assert [(o.start, o.end, o.causes) for o in b.outages] == [(o.start, o.end, o.causes) for o in s.outages]
    assert b.availability_pct == s.availability_pct
    assert b.unknown == s.unknown  # the gaps: no decided run covers them


def test_merge_runs() -> None:
    up, down = DeltaState.AVAILABLE, DeltaState.UNAVAILABLE
    loss, dev = Cause.LOSS_ABOVE_THRESHOLD, Cause.DEVICE_UNREACHABLE
    runs = [
        StateRun(at(2), at(3), down, frozenset({dev})),
        StateRun(at(0), at(1), up),
        StateRun(at(1), at(2), down, frozenset({loss})),
        StateRun(at(4), at(5), down),  # a gap before it: not merged
    ]
    assert merge_runs(runs) == [
        StateRun(at(0), at(1), up),
        StateRun(at(1), at(3), down, frozenset({loss, dev})),
        StateRun(at(4), at(5), down),
    ]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.floats(0, 60)), max_size=40), st.sampled_from([0.0, 0.1, 0.3]), st.integers(1, 3)
)
def test_events_alternate_and_recoveries_close_their_breach(
    values: list[float | None], margin: float, clear_after: int
) -> None:
    d = detector(margin_ratio=margin, clear_after=clear_after)
    events: list[Breach | Recovery] = []
    for minute, rtt in enumerate(values):
        if rtt is not None:
            d.observe("c1", DeltaInput(at(minute), rtt_ms=rtt), now=at(minute))
        events.extend(d.evaluate(at(minute)))
    open_since = None
    for event in events:
        assert event.objective == "latency"
        if isinstance(event, Breach):
            assert open_since is None and event.measured > event.limit
            open_since = event.since
        else:
            assert open_since == event.since and event.until > event.since
            open_since = None
    assert (open_since is not None) == bool(d.active())


def test_settle_waits_for_late_polls() -> None:
    d = detector(terms(sliding_window_n=1), settle_s=20.0)
    d.observe("c1", DeltaInput(at(0), device_reachable=False), now=at(0))
    assert d.evaluate(at(1)) == []  # Δt 0 ended at 1 min, but settles only 20 s later
    d.observe("c1", DeltaInput(at(0) + timedelta(seconds=59), device_reachable=True), now=at(1) + timedelta(seconds=10))
    events = d.evaluate(at(1) + timedelta(seconds=20))
    assert [e.objective for e in events if isinstance(e, Breach)] == ["availability"]  # worst of the two polls


def test_replacing_terms_keeps_state_and_applies_new_limits() -> None:
    d = detector()
    assert feed(d, 0, rtt_ms=25.0) == [Breach("c1", "latency", 25.0, 20.0, at(0))]
    d.add_circuit("c1", terms(latency_ceiling_ms=50.0))
    assert feed(d, 1, rtt_ms=25.0) == [Recovery("c1", "latency", at(0), at(1))]  # 25 <= 50 x 0.9
    d.remove_circuit("c1")
    assert d.evaluate(at(2)) == [] and d.active() == []
