"""The field-work rules, pure: acknowledged until, reasons, resolving while the fault is seen, the on-site recheck,
and who may take a ticket for themselves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tickets import fieldwork
from tickets.access import Action, Actor, TicketScope, may_act, require_ticket, take_refusal
from tickets.errors import InvalidRequest, OnSiteConfirmationNeeded, Refused
from tickets.fieldwork import FaultSeen, Recheck
from tickets.lifecycle import Status

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
WEEK_S = 7 * 86400.0
TOM = Actor("tom", "technician", technician_id=1, regions=frozenset({"north"}))


def scope(region: str = "north", technician_id: int | None = None, account_id: int | None = 7) -> TicketScope:
    return TicketScope("T-5", account_id, region, technician_id)


@pytest.mark.parametrize(
    ("until", "error"),
    [
        (None, None),
        (NOW + timedelta(hours=2), None),
        (NOW + timedelta(seconds=WEEK_S), None),
        (NOW, "has passed"),
        (NOW - timedelta(minutes=1), "has passed"),
        (NOW + timedelta(seconds=WEEK_S + 1), "at most 7 days"),
        (datetime(2026, 11, 30, 12, 0), "timezone-aware"),  # naive: the input tested
    ],
)
def test_acknowledged_until_must_be_a_later_aware_instant_within_the_longest(
    until: datetime | None, error: str | None
) -> None:
    if error is None:
        fieldwork.check_ack_until(until, NOW, WEEK_S)
        return
    with pytest.raises(InvalidRequest, match=error) as caught:
        fieldwork.check_ack_until(until, NOW, WEEK_S)
    assert str(caught.value).startswith("until:")


@pytest.mark.parametrize(
    ("status", "until", "lapsed"),
    [
        (Status.ACKNOWLEDGED, NOW, True),
        (Status.ACKNOWLEDGED, NOW - timedelta(seconds=1), True),
        (Status.ACKNOWLEDGED, NOW + timedelta(seconds=1), False),
        (Status.ACKNOWLEDGED, None, False),  # acknowledged without "until": it stays acknowledged
        (Status.DISPATCHED, NOW - timedelta(hours=1), False),  # someone took it further: nothing re-alerts
        (Status.IN_PROGRESS, NOW - timedelta(hours=1), False),
    ],
)
def test_an_acknowledgement_lapses_only_while_nobody_took_the_ticket_further(
    status: Status, until: datetime | None, lapsed: bool
) -> None:
    assert fieldwork.ack_lapsed(status, until, NOW) is lapsed


@pytest.mark.parametrize("text", [None, "", "   \n "])
def test_a_reason_is_required_and_named(text: str | None) -> None:
    with pytest.raises(InvalidRequest, match=r"^reason: say why"):
        fieldwork.reason_text("reason", text)


def test_a_reason_is_kept_stripped_and_bounded() -> None:
    assert fieldwork.reason_text("reason", "  customer's site closed until 14:00 \n") == (
        "customer's site closed until 14:00"
    )
    with pytest.raises(InvalidRequest, match=r"^reason: at most 2000"):
        fieldwork.reason_text("reason", "x" * 2001)


DOWN = FaultSeen(device_down="pe-bj-01")
BREACHED = FaultSeen(open_breaches=("availability", "loss"))


def test_what_the_system_sees_in_words() -> None:
    assert not FaultSeen().down and FaultSeen().words == "nothing down"
    assert DOWN.down and DOWN.words == "device pe-bj-01 is down"
    assert BREACHED.down and BREACHED.words == "SLA availability breach open; SLA loss breach open"


@pytest.mark.parametrize("seen", [DOWN, BREACHED])
def test_resolving_while_the_fault_is_seen_needs_the_on_site_confirmation_with_a_note(seen: FaultSeen) -> None:
    with pytest.raises(OnSiteConfirmationNeeded, match="confirmed restored on site") as caught:
        fieldwork.check_resolve("T-5", seen, False, "anything")
    assert seen.words in str(caught.value)
    with pytest.raises(InvalidRequest, match=r"^note: say what was found and done on site \(required\)"):
        fieldwork.check_resolve("T-5", seen, True, "  ")
    assert fieldwork.check_resolve("T-5", seen, True, " replaced the SFP ") == "replaced the SFP"


def test_resolving_what_the_system_sees_restored_needs_nothing_more() -> None:
    assert fieldwork.check_resolve("T-5", FaultSeen(), False, None) is None
    # A confirmation given anyway is kept with its note.
    assert fieldwork.check_resolve("T-5", FaultSeen(), True, "power restored") == "power restored"


def test_the_on_site_recheck_waits_then_reopens_or_confirms() -> None:
    due = NOW + timedelta(minutes=15)
    assert fieldwork.recheck(None, NOW, DOWN) is None
    assert fieldwork.recheck(due, NOW, DOWN) is Recheck.WAIT
    assert fieldwork.recheck(due, due, DOWN) is Recheck.REOPEN
    assert fieldwork.recheck(due, due, BREACHED) is Recheck.REOPEN
    assert fieldwork.recheck(due, due + timedelta(hours=1), FaultSeen()) is Recheck.CONFIRMED


@pytest.mark.parametrize(
    ("actor", "where", "why"),
    [
        (TOM, scope(), None),
        (TOM, scope(region="south"), "it is in region south, not one of theirs (north)"),
        (TOM, scope(technician_id=2), "assigned to another technician already"),
        (TOM, scope(technician_id=1), "assigned to them already"),
        (TOM, scope(account_id=None), "it is an incident"),
        (Actor("nina", "noc"), scope(), "only a technician"),
    ],
)
def test_who_may_take_a_ticket_for_themselves(actor: Actor, where: TicketScope, why: str | None) -> None:
    assert (take_refusal(actor, where) is None) is (why is None)
    assert may_act(actor, Action.TAKE, where) is (why is None)
    if why is None:
        require_ticket(actor, Action.TAKE, where)
        return
    refusal = take_refusal(actor, where)
    assert refusal is not None and why in refusal
    # Said by name, before "may not see" (tom does not see a ticket of the south at all).
    with pytest.raises(Refused) as caught:
        require_ticket(actor, Action.TAKE, where)
    assert f"may not take T-5: {refusal}" in str(caught.value)


def test_an_account_manager_never_takes_a_ticket() -> None:
    karl = Actor("karl", "account_manager", managed_account_ids=frozenset({7}))
    assert not may_act(karl, Action.TAKE, scope())
