"""Half-open UTC intervals ``[start, end)`` and the set algebra every SLA figure is built on.

This is the only place that unions, intersects or subtracts time: outages, unknown time, maintenance and
stop-clock all go through these functions, so an unrelated maintenance window can never hide an outage (the
intersection is exact, never a subtraction of totals) and overlapping outage sources are counted once.

A "set" here is a tuple of intervals that is sorted, non-overlapping and non-touching (what :func:`union`
returns). Functions accept any iterable and normalise it first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sla.errors import SlaError

ZERO = timedelta(0)


def as_utc(value: datetime, what: str = "datetime") -> datetime:
    """An aware datetime converted to UTC; a naive one is a bug upstream and is refused, never guessed."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise SlaError(f"{what} {value.isoformat()} has no time zone; the SLA engine takes aware UTC datetimes")
    return value.astimezone(UTC)


@dataclass(frozen=True, slots=True, order=True)
class Interval:
    """``[start, end)`` in UTC, never empty."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        start, end = as_utc(self.start, "interval start"), as_utc(self.end, "interval end")
        if end <= start:
            raise SlaError(f"interval end {end.isoformat()} is not after its start {start.isoformat()}")
        # Normalise to UTC so equal instants compare and hash equal whatever offset they were given in.
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def contains(self, instant: datetime) -> bool:
        return self.start <= instant < self.end


@dataclass(frozen=True, slots=True)
class Labelled:
    """An interval with what it is: an outage cause, a maintenance window's name, a stop-clock reason."""

    interval: Interval
    label: str


def make(start: datetime, end: datetime) -> Interval | None:
    """An interval, or None when ``end <= start`` (an empty result of clipping)."""
    return Interval(start, end) if end > start else None


def union(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    """Sorted, merged intervals; overlapping or touching ones become one."""
    ordered = sorted(intervals)
    merged: list[Interval] = []
    for iv in ordered:
        if merged and iv.start <= merged[-1].end:
            if iv.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, iv.end)
        else:
            merged.append(iv)
    return tuple(merged)


def intersection(a: Iterable[Interval], b: Iterable[Interval]) -> tuple[Interval, ...]:
    """Time that is in both ``a`` and ``b`` (two-pointer sweep over the normalised sets)."""
    left, right = union(a), union(b)
    out: list[Interval] = []
    i = j = 0
    while i < len(left) and j < len(right):
        part = make(max(left[i].start, right[j].start), min(left[i].end, right[j].end))
        if part is not None:
            out.append(part)
        if left[i].end <= right[j].end:
            i += 1
        else:
            j += 1
    return tuple(out)


def difference(a: Iterable[Interval], b: Iterable[Interval]) -> tuple[Interval, ...]:
    """Time in ``a`` that is not in ``b``."""
    left, right = union(a), union(b)
    out: list[Interval] = []
    j = 0
    for iv in left:
        cursor = iv.start
        while j < len(right) and right[j].end <= cursor:
            j += 1
        k = j
        while k < len(right) and right[k].start < iv.end:
            piece = make(cursor, right[k].start)
            if piece is not None:
                out.append(piece)
            cursor = max(cursor, right[k].end)
            k += 1
        tail = make(cursor, iv.end)
        if tail is not None:
            out.append(tail)
    return tuple(out)


def clip(intervals: Iterable[Interval], window: Interval) -> tuple[Interval, ...]:
    """The parts of ``intervals`` inside ``window``."""
    return intersection(intervals, (window,))


def total(intervals: Iterable[Interval]) -> timedelta:
    """Length of the union (so overlaps are counted once)."""
    return sum((iv.duration for iv in union(intervals)), ZERO)


def seconds(span: timedelta) -> Decimal:
    """Exact seconds of a timedelta as a Decimal (no float rounding on the way to a percentage)."""
    whole = span.days * 86_400 + span.seconds
    return Decimal(whole) + Decimal(span.microseconds) / Decimal(1_000_000)


def minutes(span: timedelta) -> Decimal:
    return seconds(span) / Decimal(60)


def union_labelled(items: Iterable[Labelled]) -> tuple[tuple[Interval, frozenset[str]], ...]:
    """Merge labelled intervals; each merged interval carries every label that touched it.

    Two outage sources (a device outage record and the circuit's own Δt states) overlapping become one outage
    with both causes, counted once.
    """
    ordered = sorted(items, key=lambda x: (x.interval.start, x.interval.end))
    merged: list[tuple[Interval, set[str]]] = []
    for item in ordered:
        iv = item.interval
        if merged and iv.start <= merged[-1][0].end:
            last, labels = merged[-1]
            labels.add(item.label)
            if iv.end > last.end:
                merged[-1] = (Interval(last.start, iv.end), labels)
        else:
            merged.append((iv, {item.label}))
    return tuple((iv, frozenset(labels)) for iv, labels in merged)
