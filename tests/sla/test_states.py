"""Δt classification, the MEF 10.3 sliding window, gridding of samples with bad clocks and missing data."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sla.intervals import Interval
from sla.states import Cause, DeltaInput, DeltaState, SlidingWindow, classify, evaluate_deltas
from tests.sla.factories import utc

A, U, X = DeltaState.AVAILABLE, DeltaState.UNAVAILABLE, DeltaState.UNKNOWN
T0 = utc(2026, 1, 10)
LOSS_THRESHOLD = 0.01  # a 1 % loss ceiling


@pytest.mark.parametrize(
    ("sample", "state", "causes"),
    [
        pytest.param(DeltaInput(T0), X, set(), id="nothing-measured"),
        pytest.param(DeltaInput(T0, rtt_ms=5.0, in_bps=1e6), X, set(), id="quality-only-is-no-verdict"),
        pytest.param(DeltaInput(T0, device_reachable=True), A, set(), id="reachable"),
        pytest.param(DeltaInput(T0, device_reachable=False), U, {Cause.DEVICE_UNREACHABLE}, id="unreachable"),
        pytest.param(DeltaInput(T0, device_reachable=True, oper_up=False), U, {Cause.INTERFACE_DOWN}, id="if-down"),
        pytest.param(DeltaInput(T0, loss_ratio=0.01), A, set(), id="loss-at-threshold"),
        pytest.param(DeltaInput(T0, loss_ratio=0.011), U, {Cause.LOSS_ABOVE_THRESHOLD}, id="loss-above"),
        pytest.param(
            DeltaInput(T0, device_reachable=False, oper_up=False, loss_ratio=1.0),
            U,
            {Cause.DEVICE_UNREACHABLE, Cause.INTERFACE_DOWN, Cause.LOSS_ABOVE_THRESHOLD},
            id="all-bad",
        ),
    ],
)
def test_classify(sample: DeltaInput, state: DeltaState, causes: set[Cause]) -> None:
    assert classify(sample, LOSS_THRESHOLD) == (state, frozenset(causes))


def test_total_loss_is_unavailable_even_without_a_ceiling() -> None:
    assert classify(DeltaInput(T0, loss_ratio=0.5), 1.0)[0] is A
    assert classify(DeltaInput(T0, loss_ratio=1.0), 1.0)[0] is U


def run(raw: str, n: int, *, available: bool = True) -> str:
    """Feed raw states given as letters (a/u/x) and return the decided states as letters."""
    letters = {"a": A, "u": U, "x": X}
    window: SlidingWindow[int] = SlidingWindow(n, available=available)
    out: dict[int, DeltaState] = {}
    for i, ch in enumerate(raw):
        out.update(window.feed(i, letters[ch]))
    out.update(window.flush())
    back = {A: "a", U: "u", X: "x"}
    return "".join(back[out[i]] for i in range(len(raw)))


@pytest.mark.parametrize(
    ("raw", "n", "expected"),
    [
        pytest.param("a" * 3 + "u" * 9 + "a" * 3, 10, "a" * 15, id="n10-nine-bad-stay-available"),
        pytest.param("a" * 3 + "u" * 10 + "a" * 3, 10, "aaa" + "u" * 10 + "uuu", id="n10-ten-bad-from-the-first"),
        pytest.param("u" * 10 + "a" * 9 + "u", 10, "u" * 20, id="n10-nine-good-stay-unavailable"),
        pytest.param("u" * 10 + "a" * 10, 10, "u" * 10 + "a" * 10, id="n10-recovery-from-the-first-good"),
        pytest.param("uuauu", 3, "aaaaa", id="broken-run"),
        pytest.param("uxuxu", 3, "uxuxu", id="unknown-is-transparent"),
        pytest.param("uau", 1, "uau", id="n1-each-on-its-own"),
        pytest.param("uu", 3, "aa", id="trailing-run-too-short"),
    ],
)
def test_sliding_window(raw: str, n: int, expected: str) -> None:
    assert run(raw, n) == expected


def test_sliding_window_starting_down() -> None:
    assert run("aau", 3, available=False) == "uuu"


def minute(i: int) -> datetime:
    return T0 + timedelta(minutes=i)


def test_evaluate_deltas_grids_samples_and_counts_what_it_ignores() -> None:
    window = Interval(T0, minute(10))
    samples = [
        DeltaInput(minute(0), device_reachable=True),
        DeltaInput(minute(1) + timedelta(seconds=30), device_reachable=False),  # inside slot 1
        DeltaInput(minute(1) + timedelta(seconds=40), device_reachable=True, rtt_ms=9.0),  # duplicate: worst kept
        DeltaInput(minute(3), oper_up=True, rtt_ms=float("nan")),
        DeltaInput(utc(1970, 1, 1), device_reachable=False),  # a reset clock
        DeltaInput(utc(2099, 1, 1), device_reachable=False),  # a clock far ahead
        DeltaInput(T0.replace(tzinfo=None), device_reachable=False),
    ]
    ev = evaluate_deltas(samples, window, delta_s=60, sliding_window_n=1, unavailable_loss_ratio=0.01)
    assert ev.states[:4] == (A, U, X, A)
    assert set(ev.states[4:]) == {X}
    assert ev.inputs[1] is not None and ev.inputs[1].device_reachable is False and ev.inputs[1].rtt_ms == 9.0
    assert ev.inputs[3] is not None and ev.inputs[3].rtt_ms is None
    assert ev.ignored == {
        "duplicate": 1,
        "invalid_value": 1,
        "before_period": 1,
        "after_period": 1,
        "naive_timestamp": 1,
    }
    assert [r.interval for r in ev.runs(DeltaState.UNAVAILABLE)] == [Interval(minute(1), minute(2))]
    assert [r.label for r in ev.runs(DeltaState.UNAVAILABLE)] == ["measured:device_unreachable"]
    assert [r.interval for r in ev.runs(DeltaState.UNKNOWN)] == [
        Interval(minute(2), minute(3)),
        Interval(minute(4), minute(10)),
    ]


@pytest.mark.parametrize(("bad_minutes", "down"), [(9, None), (10, (2, 12))])
def test_n10_over_a_grid(bad_minutes: int, down: tuple[int, int] | None) -> None:
    # Acceptance: with n = 10, nine bad Δt leave the circuit available; ten make it unavailable from the first.
    samples = [DeltaInput(minute(i), device_reachable=not (2 <= i < 2 + bad_minutes)) for i in range(30)]
    ev = evaluate_deltas(samples, Interval(T0, minute(30)), delta_s=60, sliding_window_n=10, unavailable_loss_ratio=0.0)
    runs = [r.interval for r in ev.runs(DeltaState.UNAVAILABLE)]
    assert runs == ([] if down is None else [Interval(minute(down[0]), minute(down[1]))])


def test_partial_last_slot_is_clipped() -> None:
    ev = evaluate_deltas(
        [DeltaInput(minute(1), device_reachable=False)],
        Interval(T0, minute(1) + timedelta(seconds=30)),
        delta_s=60,
        sliding_window_n=1,
        unavailable_loss_ratio=0.0,
    )
    assert [r.interval for r in ev.runs(DeltaState.UNAVAILABLE)] == [
        Interval(minute(1), minute(1) + timedelta(seconds=30))
    ]


@given(st.text(alphabet="aux", max_size=60), st.integers(1, 6))
def test_sliding_window_matches_the_mef_definition(raw: str, n: int) -> None:
    # Over measured Δt only: the state flips at Δt k exactly when the n measured Δt from k all disagree with the
    # state before k; unknown Δt stay unknown.
    decided = run(raw, n)
    measured = [i for i, ch in enumerate(raw) if ch != "x"]
    assert all(decided[i] == "x" for i, ch in enumerate(raw) if ch == "x")
    state = "a"
    for pos, i in enumerate(measured):
        ahead = [raw[j] for j in measured[pos : pos + n]]
        flips = len(ahead) == n and all(ch != state for ch in ahead)
        if flips:
            state = "u" if state == "a" else "a"
        assert decided[i] == state, (raw, n, i)
