"""The ticket lifecycle: which status may follow which, and what closing needs. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from tickets.errors import CloseRefused, IllegalTransition, InvalidRequest


class Status(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    DISPATCHED = "dispatched"
    IN_PROGRESS = "in_progress"
    PENDING_CUSTOMER = "pending_customer"  # stop-clock: restoration time does not run
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"


_WORKING = {Status.DISPATCHED, Status.IN_PROGRESS, Status.PENDING_CUSTOMER, Status.RESOLVED}
ALLOWED: dict[Status, frozenset[Status]] = {
    # Dispatching or resolving straight from new also answers the fault (the response timer stops).
    Status.NEW: frozenset({Status.ACKNOWLEDGED, Status.DISPATCHED, Status.IN_PROGRESS, Status.RESOLVED}),
    Status.ACKNOWLEDGED: frozenset(_WORKING),
    Status.DISPATCHED: frozenset(_WORKING),  # dispatched -> dispatched is a reassignment
    Status.IN_PROGRESS: frozenset({Status.DISPATCHED, Status.PENDING_CUSTOMER, Status.RESOLVED}),
    Status.PENDING_CUSTOMER: frozenset({Status.IN_PROGRESS, Status.DISPATCHED, Status.RESOLVED}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.REOPENED}),
    Status.CLOSED: frozenset({Status.REOPENED}),
    Status.REOPENED: frozenset({Status.ACKNOWLEDGED, *_WORKING}),
}
OPEN_STATUSES = frozenset(set(Status) - {Status.RESOLVED, Status.CLOSED})
# The first move out of these by a person is the response the response timer waits for.
UNANSWERED = frozenset({Status.NEW})


def check_transition(ref: str, current: Status, target: Status) -> None:
    """Raise ``IllegalTransition`` naming what is possible instead."""
    allowed = ALLOWED[current]
    if target not in allowed:
        options = ", ".join(sorted(allowed)) or "nothing"
        raise IllegalTransition(f"{ref} is {current}: it cannot become {target} (possible: {options})")


def check_close(
    ref: str,
    account: str,
    tier: str,
    cause_category: str | None,
    resolution: str | None,
    categories: Sequence[str],
) -> None:
    """Key accounts of tier A close only with a cause and a resolution; a cause given must be a known category."""
    if cause_category is not None and cause_category not in categories:
        raise InvalidRequest(f"{ref}: unknown cause category {cause_category!r} (known: {', '.join(categories)})")
    if tier == "A" and (not cause_category or not (resolution or "").strip()):
        raise CloseRefused(
            f"{ref} is on tier-A account {account}: it closes only with a cause category (--cause) "
            f"and resolution text (--resolution)"
        )
