"""Notices for the pure tests: a device-down incident and a ticket on a tier-A circuit."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from noc.notify.events import Notice, NoticeKind, TicketFacts

AT = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)

INCIDENT = TicketFacts(
    ticket_id=7,
    ref="I-7",
    incident=True,
    child=False,
    title="pe-bj-01 down: 3 circuit(s) affected",
    priority="P1",
    source="device_down",
    tier="A",
    region="north",
    accounts=("acme-bank", "city-gov"),
    device="pe-bj-01",
    circuit=None,
    detected_at=AT,
)
TICKET = replace(
    INCIDENT,
    ticket_id=8,
    ref="T-8",
    incident=False,
    child=True,
    title="ACME-BJ-001: device pe-bj-01 down",
    accounts=("acme-bank",),
    circuit="ACME-BJ-001",
)


def notice(kind: NoticeKind = NoticeKind.OPENED, ticket: TicketFacts = INCIDENT, **kw: Any) -> Notice:
    return Notice(kw.pop("source", "transition:1"), kind, AT, ticket, **kw)
