"""The one interval algebra: table cases and set-identity properties."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sla.errors import SlaError
from sla.intervals import (
    Interval,
    Labelled,
    clip,
    difference,
    intersection,
    seconds,
    total,
    union,
    union_labelled,
)
from tests.sla.factories import utc

T0 = utc(2026, 1, 1)


def iv(a: int, b: int) -> Interval:
    """Minutes after T0."""
    return Interval(T0 + timedelta(minutes=a), T0 + timedelta(minutes=b))


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        pytest.param([], [], id="empty"),
        pytest.param([iv(0, 10), iv(5, 15)], [iv(0, 15)], id="overlap"),
        pytest.param([iv(0, 10), iv(10, 20)], [iv(0, 20)], id="touching"),
        pytest.param([iv(20, 30), iv(0, 10)], [iv(0, 10), iv(20, 30)], id="disjoint-unsorted"),
        pytest.param([iv(0, 30), iv(5, 10)], [iv(0, 30)], id="contained"),
    ],
)
def test_union(items: list[Interval], expected: list[Interval]) -> None:
    assert union(items) == tuple(expected)


@pytest.mark.parametrize(
    ("a", "b", "inter", "diff"),
    [
        pytest.param([iv(0, 60)], [iv(30, 90)], [iv(30, 60)], [iv(0, 30)], id="straddle-right"),
        pytest.param([iv(0, 60)], [iv(100, 200)], [], [iv(0, 60)], id="unrelated"),
        pytest.param(
            [iv(0, 60)],
            [iv(10, 20), iv(30, 40)],
            [iv(10, 20), iv(30, 40)],
            [iv(0, 10), iv(20, 30), iv(40, 60)],
            id="holes",
        ),
        pytest.param([iv(10, 20)], [iv(0, 60)], [iv(10, 20)], [], id="swallowed"),
        pytest.param(
            [iv(0, 10), iv(20, 30)], [iv(5, 25)], [iv(5, 10), iv(20, 25)], [iv(0, 5), iv(25, 30)], id="bridge"
        ),
    ],
)
def test_intersection_and_difference(
    a: list[Interval], b: list[Interval], inter: list[Interval], diff: list[Interval]
) -> None:
    assert intersection(a, b) == tuple(inter)
    assert difference(a, b) == tuple(diff)


def test_intervals_refuse_naive_and_empty() -> None:
    with pytest.raises(SlaError, match="no time zone"):
        Interval(T0.replace(tzinfo=None), T0 + timedelta(1))
    with pytest.raises(SlaError, match="not after"):
        Interval(T0, T0)


def test_union_labelled_keeps_every_cause_once() -> None:
    merged = union_labelled(
        [Labelled(iv(0, 30), "device"), Labelled(iv(10, 40), "measured"), Labelled(iv(50, 60), "x")]
    )
    assert merged == ((iv(0, 40), frozenset({"device", "measured"})), (iv(50, 60), frozenset({"x"})))


def test_seconds_is_exact() -> None:
    assert seconds(timedelta(minutes=44.64)) == Decimal("2678.4")
    assert total([iv(0, 30), iv(15, 45)]) == timedelta(minutes=45)


intervals = st.lists(
    st.tuples(st.integers(0, 1000), st.integers(1, 200)).map(lambda t: iv(t[0], t[0] + t[1])), max_size=8
)


@given(intervals, intervals)
def test_set_identities(a: list[Interval], b: list[Interval]) -> None:
    # |A or B| = |A| + |B| - |A and B|, and A = (A - B) plus (A and B), disjointly.
    assert total([*a, *b]) == total(a) + total(b) - total(intersection(a, b))
    assert union([*difference(a, b), *intersection(a, b)]) == union(a)
    assert total(difference(a, b)) + total(intersection(a, b)) == total(a)
    window = iv(100, 500)
    assert total(clip(a, window)) <= min(total(a), window.duration)
