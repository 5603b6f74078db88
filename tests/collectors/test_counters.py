"""Counter math: one table row per rule, plus hypothesis properties."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.counters import (
    COUNTER32_MODULUS,
    TIMETICKS_MODULUS,
    RateTracker,
    Verdict,
    compute_rates,
    counter_delta,
    delta_ticks,
    wall_ticks_between,
)
from collectors.model import DeviceSample, InterfaceSample

T0 = datetime(2026, 1, 1, tzinfo=UTC)
GBIT = 1_000_000_000


def iface(
    octets_in: int | None,
    octets_out: int | None = 0,
    *,
    bits: Literal[32, 64] = 64,
    speed: int | None = GBIT,
    disc: int | None = None,
    errors: int | None = 0,
    index: int = 1,
    ts: datetime = T0,
) -> InterfaceSample:
    return InterfaceSample(
        device="r1",
        ts=ts,
        if_index=index,
        if_name=f"eth{index}",
        oper_status="up",
        in_octets=octets_in,
        out_octets=octets_out,
        counter_bits=bits,
        speed_bps=speed,
        in_errors=errors,
        out_errors=0,
        in_discards=0,
        out_discards=0,
        discontinuity_ticks=disc,
    )


@pytest.mark.parametrize(
    ("prev", "cur", "wall", "expected"),
    [
        pytest.param(100, 6100, 6000, 6000, id="forward"),
        pytest.param(6100, 100, 6000, None, id="backwards-is-reboot"),
        pytest.param(TIMETICKS_MODULUS - 1000, 5000, 6000, 6000, id="497-day-wrap-matching-wall-clock"),
        pytest.param(TIMETICKS_MODULUS - 1000, 5000, 10**9, None, id="wrap-not-matching-wall-clock-is-reboot"),
        pytest.param(TIMETICKS_MODULUS - 1000, 5000, None, None, id="wrap-without-wall-clock-is-reboot"),
        pytest.param(5000, 5000, 0, 0, id="no-time"),
    ],
)
def test_delta_ticks(prev: int, cur: int, wall: int | None, expected: int | None) -> None:
    assert delta_ticks(prev, cur, wall) == expected


@pytest.mark.parametrize(
    ("prev", "cur", "bits", "interval", "limit", "verdict", "delta"),
    [
        pytest.param(1000, 2000, 64, 100, 10**6, Verdict.OK, 1000, id="plain-increase"),
        pytest.param(2000, 1000, 64, 100, 10**6, Verdict.RESET, None, id="counter64-decrease-is-reset-never-wrap"),
        pytest.param(COUNTER32_MODULUS - 100, 400, 32, 100, 10**6, Verdict.WRAPPED, 500, id="counter32-plausible-wrap"),
        pytest.param(1000, 400, 32, 100, 10**6, Verdict.RESET, None, id="counter32-implausible-wrap-is-reset"),
        pytest.param(COUNTER32_MODULUS - 100, 400, 32, 100, None, Verdict.RESET, None, id="counter32-no-speed"),
        pytest.param(0, 10**7, 64, 100, 10**6, Verdict.ABOVE_SPEED, None, id="above-speed-rejected"),
        pytest.param(0, 10**6, 64, 100, 10**6, Verdict.OK, 10**6, id="exactly-speed-accepted"),
        pytest.param(None, 5, 64, 100, 10**6, Verdict.MISSING, None, id="missing-previous"),
        pytest.param(5, None, 64, 100, 10**6, Verdict.MISSING, None, id="missing-current"),
        pytest.param(5, 6, 64, 0, 10**6, Verdict.NO_INTERVAL, None, id="zero-interval"),
    ],
)
def test_counter_delta(
    prev: int | None,
    cur: int | None,
    bits: Literal[32, 64],
    interval: int,
    limit: int | None,
    verdict: Verdict,
    delta: int | None,
) -> None:
    got = counter_delta(prev, cur, bits, interval, limit)
    assert (got.verdict, got.delta) == (verdict, delta)


def test_rates_exact_values() -> None:
    # 125,000,000 octets in 10 s = 100 Mbit/s = 0.1 of a gigabit link.
    rate = compute_rates(iface(0, 0, errors=0), iface(125_000_000, 12_500_000, errors=50), 1000)
    assert rate.in_bits_per_second == 100_000_000
    assert rate.out_bits_per_second == 10_000_000
    assert rate.in_utilisation_ratio == pytest.approx(0.1)
    assert rate.in_errors_per_second == 5
    assert rate.interval_s == 10


def test_discontinuity_change_discards() -> None:
    rate = compute_rates(iface(0, disc=10), iface(1000, disc=20), 1000)
    assert rate.in_bits_per_second is None
    assert rate.in_verdict is Verdict.DISCONTINUITY


def test_counter_width_change_discards() -> None:
    rate = compute_rates(iface(0, bits=64), iface(1000, bits=32), 1000)
    assert rate.in_bits_per_second is None


def test_huge_values_stay_exact_ints() -> None:
    # Near 2**64 a float would lose the low digits; ints keep them until the final division.
    base = 2**64 - 10**12
    rate = compute_rates(iface(base, speed=10**12), iface(base + 1_000_000_007, speed=10**12), 100)
    assert rate.in_bits_per_second == 8_000_000_056


def _dev(ts: datetime, uptime: int | None) -> DeviceSample:
    return DeviceSample(device="r1", ts=ts, reachable=True, uptime_ticks=uptime)


def test_tracker_first_poll_gives_no_rate_then_rates() -> None:
    tracker = RateTracker()
    t1 = T0 + timedelta(seconds=60)
    first = tracker.update(_dev(T0, 1000), [iface(0, ts=T0)])
    assert first.interfaces[0].in_verdict is Verdict.FIRST
    assert first.interfaces[0].in_bits_per_second is None
    second = tracker.update(_dev(t1, 7000), [iface(750_000, ts=t1)])
    assert second.interfaces[0].in_bits_per_second == 100_000


def test_tracker_reboot_discards_everything() -> None:
    tracker = RateTracker()
    tracker.update(_dev(T0, 10**8), [iface(10**12)])
    t1 = T0 + timedelta(seconds=60)
    # After a reboot the counter restarted from a small value: a naive wrap would draw a petabit spike.
    rates = tracker.update(_dev(t1, 500), [iface(1000, ts=t1)])
    assert rates.rebooted
    assert rates.interfaces[0].in_bits_per_second is None
    assert rates.interfaces[0].in_verdict is Verdict.REBOOT
    t2 = t1 + timedelta(seconds=60)
    after = tracker.update(_dev(t2, 6500), [iface(751_000, ts=t2)])
    assert after.interfaces[0].in_bits_per_second == 100_000


def test_tracker_uptime_wrap_is_not_a_reboot() -> None:
    tracker = RateTracker()
    tracker.update(_dev(T0, TIMETICKS_MODULUS - 3000), [iface(0)])
    t1 = T0 + timedelta(seconds=60)
    rates = tracker.update(_dev(t1, 3000), [iface(750_000, ts=t1)])
    assert not rates.rebooted
    assert rates.interfaces[0].in_bits_per_second == 100_000


def test_tracker_interface_missing_for_a_poll_gives_no_spike() -> None:
    tracker = RateTracker()
    t = [T0 + timedelta(seconds=60 * i) for i in range(3)]
    tracker.update(_dev(t[0], 0), [iface(10**9, index=1), iface(0, index=2)])
    tracker.update(_dev(t[1], 6000), [iface(0, index=2, ts=t[1])])
    back = tracker.update(_dev(t[2], 12000), [iface(5, index=1, ts=t[2]), iface(0, index=2, ts=t[2])])
    by_index = {r.if_index: r for r in back.interfaces}
    assert by_index[1].in_bits_per_second is None
    assert by_index[1].in_verdict is Verdict.GAP
    assert by_index[2].in_bits_per_second == 0


def test_tracker_without_uptime_uses_wall_clock() -> None:
    tracker = RateTracker()
    tracker.update(_dev(T0, None), [iface(0)])
    t1 = T0 + timedelta(seconds=10)
    rates = tracker.update(_dev(t1, None), [iface(1250, ts=t1)])
    assert rates.interfaces[0].in_bits_per_second == 1000


def test_tracker_keeps_a_value_beyond_64_bits_as_absent() -> None:
    tracker = RateTracker()
    tracker.update(_dev(T0, 0), [iface(10**25, 0)])  # no real counter: a CLI's garbled output
    t1 = T0 + timedelta(seconds=60)
    rates = tracker.update(_dev(t1, 6000), [iface(750_000, 750_000, ts=t1)])
    assert rates.interfaces[0].in_verdict is Verdict.MISSING
    assert rates.interfaces[0].out_bits_per_second == 100_000


def test_wall_ticks_is_integral() -> None:
    assert wall_ticks_between(T0, T0 + timedelta(seconds=1, microseconds=999_999)) == 199


counter64 = st.integers(min_value=0, max_value=2**64 - 1)
maybe_counter = st.one_of(st.none(), counter64)
counter32 = st.integers(min_value=0, max_value=COUNTER32_MODULUS - 1)
speeds = st.one_of(st.none(), st.integers(min_value=1, max_value=400 * GBIT))
intervals = st.integers(min_value=-10, max_value=10**6)


@settings(max_examples=400, deadline=None)
@given(prev=counter64, cur=counter64, interval=intervals, speed=speeds, bits=st.sampled_from([32, 64]))
def test_property_no_negative_rate_and_none_above_speed(
    prev: int, cur: int, interval: int, speed: int | None, bits: Literal[32, 64]
) -> None:
    if bits == 32:
        prev, cur = prev % COUNTER32_MODULUS, cur % COUNTER32_MODULUS
    rate = compute_rates(iface(prev, bits=bits, speed=speed), iface(cur, bits=bits, speed=speed), interval)
    for bps in (rate.in_bits_per_second, rate.out_bits_per_second):
        if bps is None:
            continue
        assert bps >= 0
        if speed:
            assert bps <= speed * (1 + 1e-12)
    if rate.in_utilisation_ratio is not None:
        assert 0 <= rate.in_utilisation_ratio <= 1 + 1e-12


@settings(max_examples=300, deadline=None)
@given(
    prev_up=st.integers(min_value=1, max_value=TIMETICKS_MODULUS - 1),
    back=st.integers(min_value=1, max_value=TIMETICKS_MODULUS - 1),
    elapsed_s=st.integers(min_value=1, max_value=3600),
    prev=counter32,
    cur=counter32,
    bits=st.sampled_from([32, 64]),
)
def test_property_reboot_never_yields_a_rate(
    prev_up: int, back: int, elapsed_s: int, prev: int, cur: int, bits: Literal[32, 64]
) -> None:
    cur_up = prev_up - back
    if cur_up < 0:
        return
    wall = elapsed_s * 100
    wrapped = cur_up + TIMETICKS_MODULUS - prev_up
    if abs(wrapped - wall) <= 6000:
        return  # that is the 497-day wrap, not a reboot
    tracker = RateTracker()
    t1 = T0 + timedelta(seconds=elapsed_s)
    tracker.update(_dev(T0, prev_up), [iface(prev, bits=bits)])
    rates = tracker.update(_dev(t1, cur_up), [iface(cur, bits=bits, ts=t1)])
    assert rates.rebooted
    assert all(r.in_bits_per_second is None and r.out_bits_per_second is None for r in rates.interfaces)


@settings(max_examples=200, deadline=None)
@given(prev=counter32, cur=counter32, interval=st.integers(min_value=1, max_value=10**6), speed=speeds)
def test_property_counter32_wrap_only_when_plausible(prev: int, cur: int, interval: int, speed: int | None) -> None:
    got = counter_delta(prev, cur, 32, interval, None if speed is None else speed // 8)
    if got.verdict is Verdict.WRAPPED:
        assert cur < prev
        assert speed is not None
        assert got.delta is not None
        assert got.delta * 100 * 8 <= speed * interval + 8 * interval


@settings(max_examples=300, deadline=None)
@given(
    before=st.tuples(*[maybe_counter] * 7),
    after=st.tuples(*[maybe_counter] * 7),
    bits=st.sampled_from([32, 64]),
    speed=speeds,
)
def test_property_the_tracker_rates_as_compute_rates_on_the_two_samples(
    before: tuple[int | None, ...], after: tuple[int | None, ...], bits: Literal[32, 64], speed: int | None
) -> None:
    """The tracker keeps the previous poll compactly (absent counters and the counter size included): its rates
    are those of compute_rates on the two samples themselves."""
    names = ("in_octets", "out_octets", "in_errors", "out_errors", "in_discards", "out_discards", "discontinuity_ticks")
    t1 = T0 + timedelta(seconds=60)
    prev = replace(iface(0, bits=bits, speed=speed), **dict(zip(names, before, strict=True)))
    cur = replace(iface(0, bits=bits, speed=speed, ts=t1), **dict(zip(names, after, strict=True)))
    tracker = RateTracker()
    tracker.update(_dev(T0, 0), [prev])
    (rate,) = tracker.update(_dev(t1, 6000), [cur]).interfaces
    assert rate == compute_rates(prev, cur, 6000)
