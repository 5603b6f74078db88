"""Timers as pure functions of a ticket's view and an instant: warnings, escalations, stop-clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from noc.settings import TicketSettings
from tickets.timers import (
    StopInterval,
    TimerEventKind,
    TimerName,
    TimerView,
    evaluate_timers,
    instant_after_running,
    restoration_due_at,
    restoration_elapsed_s,
    restore_verdict,
    running_s,
)

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
S = TicketSettings()


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def view(**kw: object) -> TimerView:
    base: dict[str, object] = {
        "ticket_id": 1,
        "detected_at": T0,
        "acknowledged_at": None,
        "resolved_at": None,
        "response_time_s": 45 * 60,
        "restore_time_s": 4 * 3600,
    }
    return TimerView(**(base | kw))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("at_min", "expected"),
    [
        (33.74, []),
        (33.75, [("response", "warning", 0, 33.75)]),  # 75 % of 45 minutes
        (45, [("response", "warning", 0, 33.75), ("response", "escalation", 1, 45)]),
        (
            67.5,
            [("response", "warning", 0, 33.75), ("response", "escalation", 1, 45), ("response", "escalation", 2, 67.5)],
        ),
    ],
)
def test_response_timer_warns_then_escalates(at_min: float, expected: list[tuple[str, str, int, float]]) -> None:
    events = evaluate_timers(view(), minutes(at_min), S)
    assert [(e.timer.value, e.kind.value, e.level, e.at) for e in events] == [
        (t, k, lvl, minutes(m)) for t, k, lvl, m in expected
    ]


def test_each_event_is_raised_once() -> None:
    first = evaluate_timers(view(), minutes(45), S)
    again = evaluate_timers(view(marks=frozenset(e.mark for e in first)), minutes(50), S)
    assert again == []


def test_an_answered_ticket_does_not_escalate_its_response() -> None:
    events = evaluate_timers(view(acknowledged_at=minutes(20)), minutes(300), S)
    assert events and all(e.timer is TimerName.RESTORATION for e in events)


def test_warning_share_is_a_setting() -> None:
    events = evaluate_timers(view(), minutes(22.5), TicketSettings(warn_at_ratio=0.5))
    assert [(e.kind, e.at) for e in events] == [(TimerEventKind.WARNING, minutes(22.5))]


def test_stop_clock_time_is_excluded_from_restoration() -> None:
    # waiting on the customer from 1 h to 3 h: the 4 h restoration limit falls at 6 h, not 4 h
    stops = (StopInterval(minutes(60), minutes(180)),)
    v = view(acknowledged_at=minutes(5), stop_clock=stops)
    assert restoration_elapsed_s(v, minutes(240)) == 2 * 3600
    assert restoration_due_at(v) == minutes(360)
    assert not [e for e in evaluate_timers(v, minutes(359), S) if e.kind is TimerEventKind.ESCALATION]
    (escalation,) = [e for e in evaluate_timers(v, minutes(360), S) if e.kind is TimerEventKind.ESCALATION]
    assert (escalation.timer, escalation.level, escalation.at) == (TimerName.RESTORATION, 1, minutes(360))
    assert escalation.escalate_to == "noc_lead"


def test_an_open_stop_freezes_restoration() -> None:
    v = view(acknowledged_at=minutes(5), stop_clock=(StopInterval(minutes(60), None),))
    assert restoration_due_at(v) is None
    assert restoration_elapsed_s(v, minutes(10_000)) == 3600
    assert [e.timer for e in evaluate_timers(v, minutes(10_000), S)] == []


stop_lists = st.lists(st.tuples(st.integers(0, 600), st.integers(1, 300)), max_size=6).map(
    lambda pairs: _disjoint(pairs)
)


def _disjoint(pairs: list[tuple[int, int]]) -> tuple[StopInterval, ...]:
    out, cursor = [], 0
    for gap, length in pairs:
        start = cursor + gap
        out.append(StopInterval(minutes(start), minutes(start + length)))
        cursor = start + length
    return tuple(out)


@given(stops=stop_lists, run_min=st.integers(0, 2000))
def test_instant_after_running_inverts_running(stops: tuple[StopInterval, ...], run_min: int) -> None:
    at = instant_after_running(T0, run_min * 60.0, stops)
    assert at is not None
    assert running_s(T0, at, stops) == pytest.approx(run_min * 60.0)


@given(stops=stop_lists, now_min=st.integers(0, 3000))
def test_running_plus_stopped_is_wall_time(stops: tuple[StopInterval, ...], now_min: int) -> None:
    now = minutes(now_min)
    stopped = sum(max(0.0, (min(s.end or now, now) - max(s.start, T0)).total_seconds()) for s in stops if s.start < now)
    assert running_s(T0, now, stops) + stopped == pytest.approx(now_min * 60.0)


@pytest.mark.parametrize(
    ("resolved_min", "stops", "met", "breached_by_s"),
    [
        (240, (), True, 0.0),  # at the limit exactly: met
        (240 + 14 / 60, (), False, 14.0),
        (300 + 14 / 60, (StopInterval(minutes(60), minutes(120)),), False, 14.0),  # an hour off the clock
        (300, (StopInterval(minutes(60), minutes(120)),), True, 0.0),
    ],
)
def test_restore_verdict_is_net_of_stop_clock(
    resolved_min: float, stops: tuple[StopInterval, ...], met: bool, breached_by_s: float
) -> None:
    verdict = restore_verdict(view(resolved_at=minutes(resolved_min), stop_clock=stops))
    assert verdict is not None
    assert (verdict.met, verdict.limit_s) == (met, 4 * 3600)
    assert verdict.breached_by_s == pytest.approx(breached_by_s)
    assert restore_verdict(view(stop_clock=stops)) is None  # unresolved: no verdict yet
