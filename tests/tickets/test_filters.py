"""The ticket list's vocabulary: each field parsed (table-driven), a bad value named; and each filter and sort order
in SQL through the service on SQLite and PostgreSQL, within what the reader may see."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.tickets.conftest import T0, DrivenClock
from tickets import filters
from tickets.filters import FilterError, TicketFilter, TicketSort, filter_from
from tickets.lifecycle import OPEN_STATUSES, Status
from tickets.rules import FaultEvent, FaultKind, Impact
from tickets.service import TicketService

NOV_1 = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, TicketFilter()),
        ({"status": "open"}, TicketFilter(statuses=OPEN_STATUSES)),
        ({"status": "all"}, TicketFilter()),
        ({"status": "new, resolved"}, TicketFilter(statuses=frozenset({Status.NEW, Status.RESOLVED}))),
        ({"status": "open,closed"}, TicketFilter(statuses=OPEN_STATUSES | {Status.CLOSED})),
        ({"priority": "p1,P2"}, TicketFilter(priorities=frozenset({"P1", "P2"}))),
        (
            {"account": " acme ", "circuit": "BJ", "device": "pe-", "text": "loss"},
            TicketFilter(account="acme", circuit="BJ", device="pe-", text="loss"),
        ),
        ({"since": "2026-11-01"}, TicketFilter(since=NOV_1)),
        ({"until": "2026-11-01"}, TicketFilter(until=NOV_1 + timedelta(days=1))),  # through that day
        ({"since": "2026-11-01T08:00:00+08:00"}, TicketFilter(since=NOV_1)),
        ({"sort": "due"}, TicketFilter(sort=TicketSort.DUE)),
        ({"sort": ""}, TicketFilter()),
    ],
)
def test_the_vocabulary(values: dict[str, str], expected: TicketFilter) -> None:
    assert filter_from(values) == expected


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"status": "opened"}, "status"),
        ({"priority": "P 1"}, "priority"),
        ({"priority": "URGENT"}, "priority"),
        ({"since": "2026-02-30"}, "since"),
        ({"since": "last week"}, "since"),
        ({"since": "2026-11-01T08:00:00"}, "since"),  # no zone
        ({"until": "9999-12-31"}, "until"),
        ({"since": "0001-01-01T00:00:00+14:00"}, "since"),
        ({"since": "2026-11-02", "until": "2026-11-01"}, "until"),
        ({"sort": "random"}, "sort"),
        ({"text": "x" * (filters.MAX_TEXT + 1)}, "text"),
        ({"account": "a\x00b"}, "account"),
    ],
)
def test_a_bad_value_is_named(values: dict[str, str], field: str) -> None:
    with pytest.raises(FilterError, match=rf"^{field}: ") as caught:
        filter_from(values)
    assert caught.value.field == field


async def _open(svc: TicketService, circuit: str, impact: Impact, summary: str, at: datetime) -> int:
    event = FaultEvent(FaultKind.MANUAL, circuit, f"manual:{summary}", impact, at, summary)
    return (await svc.handle_fault(event)).ticket_id


async def test_each_filter_and_order_in_sql(svc: TicketService, clock: DrivenClock) -> None:
    day = timedelta(days=1)
    bj1 = await _open(svc, "ACME-BJ-001", Impact.SERVICE_DOWN, "HQ link down", T0 - 3 * day)
    bj2 = await _open(svc, "ACME-BJ-002", Impact.DEGRADED, "Branch slow", T0 - 2 * day)
    city = await _open(svc, "CITY-SH-001", Impact.DEGRADED, "data office: loss", T0 - day)
    rhein = await _open(svc, "RHEIN-FRA-001", Impact.SERVICE_DOWN, "Frankfurt hub unreachable", T0)
    await svc.resolve("nina", bj2)

    async def ids(username: str = "nina", **kw: str) -> list[int]:
        return [t.id for t in await svc.list_tickets(username, filter_from(kw))]

    assert await ids() == [rhein, city, bj2, bj1]  # newest first
    assert await ids(sort="oldest") == [bj1, bj2, city, rhein]
    assert await ids(status="open") == [rhein, city, bj1]
    assert await ids(status="resolved") == [bj2]
    priorities = {t.id: t.priority for t in await svc.list_tickets("nina")}
    urgent = priorities[bj1]
    assert await ids(priority=urgent.lower()) == [t for t in (rhein, city, bj2, bj1) if priorities[t] == urgent]
    by_priority = await ids(sort="priority")
    assert [priorities[t] for t in by_priority] == sorted(priorities[t] for t in by_priority)
    assert await ids(account="ACME") == [bj2, bj1]  # part of the name, any case
    assert await ids(circuit="-bj-") == [bj2, bj1]
    assert await ids(device="pe-sh") == [city]
    assert await ids(text="LOSS") == [city]  # title or symptoms
    assert await ids(text="%") == []  # a wildcard is a character here
    since = (T0 - 2 * day).date().isoformat()
    assert await ids(since=since) == [rhein, city, bj2]
    assert await ids(since=since, until=since) == [bj2]  # a one-day range
    # a filter narrows what the reader may see: karl manages acme-bank and rhein-logistik, not city-gov
    assert await ids("karl", account="city") == []
    assert await ids("karl", text="loss") == []
    assert await ids("karl", status="open") == [rhein, bj1]
