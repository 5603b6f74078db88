"""Response and restoration timers with stop-clock, warnings and two-level escalation. Pure: ``now`` is passed in.

The response timer runs from the fault until a person first answers the ticket. The restoration timer runs from
the fault until it is resolved, except inside stop-clock intervals (waiting on the customer; resolved until
reopened). At ``warn_at_ratio`` of a limit a warning is due; at the limit, escalation level 1 (NOC lead); still
unmet at ``second_escalation_at_ratio``, level 2 (the account manager). Each event is reported once: the ticket
keeps the marks of the events already raised. The restoration verdict (met, or breached by how much, net of
stop-clock) is taken at the moment of resolution (``restore_verdict``), not at the next timer pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from noc.settings import TicketSettings


class TimerName(StrEnum):
    RESPONSE = "response"
    RESTORATION = "restoration"


class TimerEventKind(StrEnum):
    WARNING = "warning"
    ESCALATION = "escalation"


ESCALATE_TO = {1: "noc_lead", 2: "account_manager"}


@dataclass(frozen=True, slots=True)
class StopInterval:
    start: datetime
    end: datetime | None  # None: the clock is stopped now


@dataclass(frozen=True, slots=True)
class TimerView:
    ticket_id: int
    detected_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    response_time_s: int
    restore_time_s: int
    stop_clock: tuple[StopInterval, ...] = ()
    marks: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class TimerEvent:
    ticket_id: int
    timer: TimerName
    kind: TimerEventKind
    level: int  # 0 for a warning, 1 or 2 for an escalation
    at: datetime  # when the threshold was crossed (not when it was noticed)
    limit_s: int

    @property
    def mark(self) -> str:
        return f"{self.timer}:{self.kind}:{self.level}"

    @property
    def escalate_to(self) -> str:
        """Who is told: the NOC board for a warning, then the NOC lead, then the account manager."""
        return ESCALATE_TO.get(self.level, "noc") if self.kind is TimerEventKind.ESCALATION else "noc"


def _stopped_s(stops: Sequence[StopInterval], start: datetime, until: datetime) -> float:
    """Seconds of [start, until) covered by the stop intervals (which never overlap each other)."""
    total = 0.0
    for stop in stops:
        lo = max(stop.start, start)
        hi = min(stop.end or until, until)
        if hi > lo:
            total += (hi - lo).total_seconds()
    return total


def running_s(start: datetime, until: datetime, stops: Sequence[StopInterval] = ()) -> float:
    if until <= start:
        return 0.0
    return (until - start).total_seconds() - _stopped_s(stops, start, until)


def instant_after_running(start: datetime, running: float, stops: Sequence[StopInterval]) -> datetime | None:
    """When the clock started at ``start`` has run ``running`` seconds; None if it is stopped before then."""
    at, left = start, running
    for stop in sorted(stops, key=lambda s: s.start):
        end = stop.end
        if end is not None and end <= at:
            continue
        gap = max((stop.start - at).total_seconds(), 0.0)
        if left <= gap:
            break
        left -= gap
        if end is None:
            return None
        at = max(at, end)
    return at + timedelta(seconds=left)


@dataclass(frozen=True, slots=True)
class RestoreVerdict:
    """Restoration against its limit, net of stop-clock, as it stood when the ticket was resolved."""

    net_s: float  # restoration time that counted
    limit_s: int
    met: bool
    breached_by_s: float  # 0 when met

    @classmethod
    def of(cls, net_s: float, limit_s: int) -> RestoreVerdict:
        return cls(net_s, limit_s, net_s <= limit_s, max(net_s - limit_s, 0.0))


def response_elapsed_s(view: TimerView, now: datetime) -> float:
    return running_s(view.detected_at, view.acknowledged_at or now)


def restoration_elapsed_s(view: TimerView, now: datetime) -> float:
    return running_s(view.detected_at, view.resolved_at or now, view.stop_clock)


def restore_verdict(view: TimerView) -> RestoreVerdict | None:
    """The restoration verdict of a resolved ticket; None while it is not resolved."""
    if view.resolved_at is None:
        return None
    return RestoreVerdict.of(restoration_elapsed_s(view, view.resolved_at), view.restore_time_s)


def restoration_due_at(view: TimerView) -> datetime | None:
    """The restoration deadline with stop-clock time added; None while the clock is stopped."""
    return instant_after_running(view.detected_at, view.restore_time_s, view.stop_clock)


def _thresholds(settings: TicketSettings) -> tuple[tuple[TimerEventKind, int, float], ...]:
    return (
        (TimerEventKind.WARNING, 0, settings.warn_at_ratio),
        (TimerEventKind.ESCALATION, 1, 1.0),
        (TimerEventKind.ESCALATION, 2, settings.second_escalation_at_ratio),
    )


def evaluate_timers(view: TimerView, now: datetime, settings: TicketSettings) -> list[TimerEvent]:
    """The warnings and escalations due by ``now`` and not raised before, in the order they fell due."""
    events: list[TimerEvent] = []
    timers = (
        (TimerName.RESPONSE, view.response_time_s, response_elapsed_s(view, now), ()),
        (TimerName.RESTORATION, view.restore_time_s, restoration_elapsed_s(view, now), view.stop_clock),
    )
    for timer, limit_s, elapsed_s, stops in timers:
        for kind, level, ratio in _thresholds(settings):
            threshold_s = limit_s * ratio
            event = TimerEvent(view.ticket_id, timer, kind, level, view.detected_at, limit_s)
            if elapsed_s < threshold_s or event.mark in view.marks:
                continue
            at = instant_after_running(view.detected_at, threshold_s, stops) or now
            events.append(TimerEvent(view.ticket_id, timer, kind, level, at, limit_s))
    return sorted(events, key=lambda e: (e.at, e.timer, e.level))
