"""The ticket list's filters and sort orders: one vocabulary for the pages (``/tickets?...``), the API
(``GET /api/tickets?...``) and the CLI (``noc tickets list --...``).

=========  ==================================================================================================
status     statuses, several separated by commas; ``open`` stands for every open status, ``all`` for any
priority   priorities (``P1``, ...), several separated by commas
account    part of the key account's name, any case
circuit    part of the circuit's name, any case
device     part of the device's name, any case
since      detected at or after: ``YYYY-MM-DD`` (from that day's start, UTC) or an ISO instant with its zone
until      detected before: ``YYYY-MM-DD`` (through that whole day, UTC) or an ISO instant with its zone
text       part of the title or the reported symptoms, any case
sort       ``newest`` (the default), ``oldest``, ``priority`` (most urgent first), ``due`` (restoration due first)
=========  ==================================================================================================

A filter narrows what the reader may see (the role rules come first): an account they may not see matches nothing.
A bad value is a ``FilterError`` naming its field; each face words it (the API a 400, a page its message).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, or_

from noc import models as m
from noc.db import contains
from tickets.errors import InvalidRequest
from tickets.lifecycle import OPEN_STATUSES, Status
from tickets.models import Ticket

MAX_TEXT = 200
STATUS_GROUPS: dict[str, frozenset[Status]] = {"open": OPEN_STATUSES, "all": frozenset()}
STATUS_WORDS = (*STATUS_GROUPS, *Status)
_PRIORITY = re.compile(r"[A-Z0-9]{1,4}")
FIELDS = ("status", "priority", "account", "circuit", "device", "since", "until", "text", "sort")


class TicketSort(StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    PRIORITY = "priority"
    DUE = "due"


class FilterError(InvalidRequest):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.field = name


@dataclass(frozen=True, slots=True)
class TicketFilter:
    statuses: frozenset[Status] = field(default_factory=frozenset)  # empty: any status
    priorities: frozenset[str] = field(default_factory=frozenset)
    account: str = ""
    circuit: str = ""
    device: str = ""
    since: datetime | None = None
    until: datetime | None = None
    text: str = ""
    sort: TicketSort = TicketSort.NEWEST


EVERY = TicketFilter()
OPEN = TicketFilter(statuses=OPEN_STATUSES)


def _words(raw: str) -> list[str]:
    return [w.strip() for w in raw.split(",") if w.strip()]


def parse_statuses(raw: str) -> frozenset[Status]:
    chosen: set[Status] = set()
    for word in _words(raw):
        if word in STATUS_GROUPS:
            chosen |= STATUS_GROUPS[word]
        elif word in set(Status):
            chosen.add(Status(word))
        else:
            raise FilterError("status", f"{word!r} is not a status (known: {', '.join(STATUS_WORDS)})")
    return frozenset(chosen)


def parse_priorities(raw: str) -> frozenset[str]:
    chosen = {w.upper() for w in _words(raw)}
    for word in chosen:
        if not _PRIORITY.fullmatch(word):
            raise FilterError("priority", f"{word!r} is not a priority (such as P1 or P2)")
    return frozenset(chosen)


def parse_instant(name: str, raw: str) -> datetime:
    """An instant from ``YYYY-MM-DD`` (``until``: the end of that day) or an ISO instant with its zone."""
    text = raw.strip()
    try:
        if len(text) == len("YYYY-MM-DD"):
            day = date.fromisoformat(text)
            start = datetime.combine(day, time(), UTC)
            return start + timedelta(days=1) if name == "until" else start
        instant = datetime.fromisoformat(text)
        if instant.tzinfo is None:
            raise FilterError(name, f"{raw!r} has no time zone (add Z or +08:00)")
        return instant.astimezone(UTC)
    except ValueError:
        raise FilterError(name, f"{raw!r} is not a date (YYYY-MM-DD) nor an instant (ISO 8601 with zone)") from None
    except OverflowError:  # a day after 9999-12-31, or an instant whose UTC is outside the calendar
        raise FilterError(name, f"{raw!r} is out of range") from None


def _part(name: str, raw: str) -> str:
    text = raw.strip()
    if len(text) > MAX_TEXT:
        raise FilterError(name, f"at most {MAX_TEXT} characters, not {len(text)}")
    if "\x00" in text:
        raise FilterError(name, "may not contain NUL characters")
    return text


def parse_sort(raw: str) -> TicketSort:
    try:
        return TicketSort(raw.strip() or TicketSort.NEWEST)
    except ValueError:
        raise FilterError("sort", f"{raw!r} is not a sort order (known: {', '.join(TicketSort)})") from None


def filter_from(values: Mapping[str, str], default_status: str = "") -> TicketFilter:
    """A filter from the vocabulary's fields as text (a query string, a form, the CLI's options); an absent or
    empty field does not filter. ``default_status`` is what an absent ``status`` means (the page: ``open``)."""
    since = parse_instant("since", values["since"]) if values.get("since", "").strip() else None
    until = parse_instant("until", values["until"]) if values.get("until", "").strip() else None
    if since is not None and until is not None and until <= since:
        raise FilterError("until", "must be after since")
    return TicketFilter(
        statuses=parse_statuses(values.get("status", default_status)),
        priorities=parse_priorities(values.get("priority", "")),
        account=_part("account", values.get("account", "")),
        circuit=_part("circuit", values.get("circuit", "")),
        device=_part("device", values.get("device", "")),
        since=since,
        until=until,
        text=_part("text", values.get("text", "")),
        sort=parse_sort(values.get("sort", "")),
    )


def where_clauses(f: TicketFilter) -> list[ColumnElement[bool]]:
    """The filter in SQL, over the ticket list's query (tickets outer-joined with their account, circuit, device)."""
    clauses: list[ColumnElement[bool]] = []
    if f.statuses:
        clauses.append(Ticket.status.in_(sorted(f.statuses)))
    if f.priorities:
        clauses.append(Ticket.priority.in_(sorted(f.priorities)))
    for column, text in ((m.KeyAccount.name, f.account), (m.Circuit.name, f.circuit), (m.Device.name, f.device)):
        if text:
            clauses.append(contains(column, text))
    if f.since is not None:
        clauses.append(Ticket.detected_at >= f.since)
    if f.until is not None:
        clauses.append(Ticket.detected_at < f.until)
    if f.text:
        clauses.append(or_(contains(Ticket.title, f.text), contains(Ticket.symptoms, f.text)))
    return clauses


def order_of(sort: TicketSort) -> tuple[ColumnElement[Any], ...]:
    newest = Ticket.id.desc()
    return {
        TicketSort.NEWEST: (newest,),
        TicketSort.OLDEST: (Ticket.id.asc(),),
        TicketSort.PRIORITY: (Ticket.priority.asc(), newest),  # "P1" < "P2"
        TicketSort.DUE: (Ticket.restore_due_at.asc().nulls_last(), newest),
    }[sort]
