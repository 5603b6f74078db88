"""Who is told: routes by event, priority, level, tier, region and source; recipients by name or role, narrowed
by their regions and accounts. And which ticket-history rows are notices at all."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from noc.notify.events import NoticeKind, from_event, from_transition
from noc.notify.routing import recipients_for
from noc.settings import NotifySettings
from tests.notify.facts import AT, INCIDENT, TICKET, notice

SETTINGS = NotifySettings.model_validate(
    {
        "channels": {
            "mail": {"kind": "email", "host": "127.0.0.1", "sender": "noc@example.net"},
            "ding": {"kind": "dingtalk", "url": "http://127.0.0.1:1/robot/send?access_token=t"},
        },
        "recipients": [
            {"name": "noc-duty", "channel": "mail", "address": "duty@example.net"},
            {"name": "noc-group", "channel": "ding"},
            {"name": "lead", "channel": "mail", "address": "lead@example.net", "role": "noc_lead"},
            {"name": "north-lead", "channel": "ding", "role": "noc_lead", "regions": ["north"]},
            {"name": "south-lead", "channel": "ding", "role": "noc_lead", "regions": ["south"]},
            {
                "name": "karl",
                "channel": "mail",
                "address": "karl@example.net",
                "role": "account_manager",
                "accounts": ["acme-bank"],
            },
            {
                "name": "mei",
                "channel": "mail",
                "address": "mei@example.net",
                "role": "account_manager",
                "accounts": ["city-gov"],
            },
        ],
        "routes": [
            {"events": ["opened"], "priorities": ["P1"], "recipients": ["noc-duty", "noc-group"]},
            {"events": ["escalation"], "levels": [1], "roles": ["noc_lead"]},
            {"events": ["escalation"], "levels": [2], "roles": ["account_manager"]},
            {"events": ["opened", "cleared"], "sources": ["sla_breach"], "tiers": ["A"], "recipients": ["noc-group"]},
            {"events": ["resolved"], "regions": ["south"], "roles": ["noc"]},
        ],
    }
)


def told(**kw: Any) -> list[str]:
    return [r.name for r in recipients_for(notice(**kw), SETTINGS)]


def test_a_p1_incident_goes_to_the_duty_mailbox_and_the_group_once_each() -> None:
    assert told() == ["noc-duty", "noc-group"]
    assert told(ticket=replace(INCIDENT, priority="P2")) == []


def test_escalations_go_up_by_level_and_stay_in_the_region_and_the_account() -> None:
    assert told(kind=NoticeKind.ESCALATION, ticket=TICKET, level=1) == ["lead", "north-lead"]
    assert told(kind=NoticeKind.ESCALATION, ticket=TICKET, level=2) == ["karl"]
    assert told(kind=NoticeKind.ESCALATION, ticket=INCIDENT, level=2) == ["karl", "mei"]  # both accounts affected
    assert told(kind=NoticeKind.WARNING, ticket=TICKET, level=0) == []


@pytest.mark.parametrize(
    ("source", "tier", "kind", "expected"),
    [
        ("sla_breach", "A", NoticeKind.OPENED, ["noc-duty", "noc-group"]),  # two routes, still once each
        ("sla_breach", "B", NoticeKind.CLEARED, []),
        ("sla_breach", "A", NoticeKind.CLEARED, ["noc-group"]),
        ("complaint", "A", NoticeKind.CLEARED, []),
    ],
)
def test_breaches_opened_and_cleared_by_tier(source: str, tier: str, kind: NoticeKind, expected: list[str]) -> None:
    assert told(kind=kind, ticket=replace(TICKET, child=False, source=source, tier=tier)) == expected


def test_a_route_by_region_tells_nobody_elsewhere() -> None:
    assert told(kind=NoticeKind.RESOLVED, ticket=TICKET) == []
    assert told(kind=NoticeKind.RESOLVED, ticket=replace(TICKET, region="south")) == ["noc-duty", "noc-group"]


@pytest.mark.parametrize(
    ("status", "ticket", "kind"),
    [
        ("new", INCIDENT, NoticeKind.OPENED),
        ("new", TICKET, None),  # a child opens under its incident, which speaks for it
        ("new", replace(TICKET, child=False), NoticeKind.OPENED),
        ("reopened", TICKET, NoticeKind.REOPENED),
        ("resolved", TICKET, NoticeKind.RESOLVED),
        ("acknowledged", INCIDENT, None),
        ("closed", TICKET, None),
    ],
)
def test_which_transitions_are_notices(status: str, ticket: Any, kind: NoticeKind | None) -> None:
    found = from_transition(12, status, AT, ticket)
    assert (found.kind if found else None) == kind
    assert found is None or found.source == "transition:12"


def test_which_events_are_notices() -> None:
    escalation = from_event(5, "escalation", {"timer": "response", "level": 1}, AT, TICKET)
    assert escalation is not None and (escalation.kind, escalation.level, escalation.timer) == (
        NoticeKind.ESCALATION,
        1,
        "response",
    )
    assert escalation.source == "event:5"
    assert from_event(6, "assigned", {"technician": "tom"}, AT, TICKET) is None
    assert from_event(7, "fault_cleared", {}, AT, TICKET) is None  # the incident clears for its children
    cleared = from_event(8, "fault_cleared", {}, AT, INCIDENT)
    assert cleared is not None and cleared.kind is NoticeKind.CLEARED
