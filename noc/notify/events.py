"""What a ticket's history says that people should be told. Pure: stored rows' fields go in, a notice comes out.

A notice comes from one stored row, a status transition or a ticket event, and ``source`` names that row: the
same row never makes a second notice (deduplication is by source, recipient and channel). A child ticket of an
incident is not announced when it opens or its fault clears: the incident says it once for all its circuits
("one incident, not a storm"); its timers, escalations and resolution are its own and are told.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class NoticeKind(StrEnum):
    OPENED = "opened"
    REOPENED = "reopened"
    WARNING = "warning"
    ESCALATION = "escalation"
    CLEARED = "cleared"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class TicketFacts:
    """What routing and messages may use of a ticket: no contact, no personal data, no credential."""

    ticket_id: int
    ref: str
    incident: bool
    child: bool
    title: str
    priority: str
    source: str  # the fault kind that opened it: sla_breach, device_down, alertmanager, complaint, manual
    tier: str | None  # the account's; an incident's: its most important child's
    region: str | None
    accounts: tuple[str, ...]
    device: str | None
    circuit: str | None
    detected_at: datetime


@dataclass(frozen=True, slots=True)
class Notice:
    source: str  # the row it comes from: ``transition:<id>`` or ``event:<id>``
    kind: NoticeKind
    at: datetime
    ticket: TicketFacts
    level: int | None = None  # 0 for a warning, 1 or 2 for an escalation
    timer: str | None = None  # response or restoration


_BY_STATUS = {"new": NoticeKind.OPENED, "reopened": NoticeKind.REOPENED, "resolved": NoticeKind.RESOLVED}
_BY_EVENT = {
    "timer_warning": NoticeKind.WARNING,
    "escalation": NoticeKind.ESCALATION,
    "fault_cleared": NoticeKind.CLEARED,
}
_SAID_BY_THE_INCIDENT = frozenset({NoticeKind.OPENED, NoticeKind.CLEARED})


def _told(kind: NoticeKind | None, ticket: TicketFacts) -> bool:
    return kind is not None and not (ticket.child and kind in _SAID_BY_THE_INCIDENT)


def from_transition(row_id: int, to_status: str, at: datetime, ticket: TicketFacts) -> Notice | None:
    kind = _BY_STATUS.get(to_status)
    if kind is None or not _told(kind, ticket):
        return None
    return Notice(f"transition:{row_id}", kind, at, ticket)


def from_event(
    row_id: int, event_kind: str, detail: dict[str, Any], at: datetime, ticket: TicketFacts
) -> Notice | None:
    kind = _BY_EVENT.get(event_kind)
    if kind is None or not _told(kind, ticket):
        return None
    level = detail.get("level")
    timer = detail.get("timer")
    return Notice(
        f"event:{row_id}",
        kind,
        at,
        ticket,
        level=level if isinstance(level, int) else None,
        timer=timer if isinstance(timer, str) else None,
    )
