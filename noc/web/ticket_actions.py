"""Acting on tickets from lists: acknowledge and assign from a board row (``board``), and on many tickets at once
from the ticket list (``ticket_pages``).

Each ticket is one step through the tickets service (its own transaction, its role and lifecycle rules), exactly
as the ticket page takes it (``ticket_pages.RUNS``), so a bulk action is many independent steps: one refused
ticket undoes nothing done to the others, and the page says, ticket by ticket, what was done and what was refused
and why. Which lists offer the actions is the role rules' ``role_may``; which rows offer them is the lifecycle.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from noc.api.errors import ApiError
from noc.web.core import error_status
from tickets.access import Action, role_may
from tickets.errors import TicketError
from tickets.lifecycle import ALLOWED, Status
from tickets.models import INCIDENT
from tickets.service import TicketService, TicketSummary

# The steps a list offers, and the action the role rules must allow for each.
LIST_STEPS: Mapping[str, Action] = {"ack": Action.ACKNOWLEDGE, "assign": Action.ASSIGN}
MAX_BULK = 200  # tickets in one bulk action: more than a page of the list is a mistake, not a plan
# One step on one ticket as the pages take it: (service, user, ticket, form) -> the notice saying what was done.
Run = Callable[[TicketService, str, int, dict[str, str]], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one step did to one ticket: ``status`` 200 when done, else the code the API would answer."""

    ticket_id: int
    status: int
    message: str

    @property
    def done(self) -> bool:
        return self.status == 200


def may_ack(t: TicketSummary) -> bool:
    return Status.ACKNOWLEDGED in ALLOWED[Status(t.status)]


def may_assign(t: TicketSummary) -> bool:
    return t.kind != INCIDENT and Status.DISPATCHED in ALLOWED[Status(t.status)]


def list_steps_for(role: str) -> tuple[str, ...]:
    """The list steps a role may take at all (the service still decides ticket by ticket)."""
    return tuple(name for name, action in LIST_STEPS.items() if role_may(role, action))


async def act(run: Run, service: TicketService, user: str, ticket_id: int, form: dict[str, str]) -> Outcome:
    """One step on one ticket; a refusal is an outcome, not an exception."""
    try:
        return Outcome(ticket_id, 200, await run(service, user, ticket_id, form))
    except (TicketError, ValidationError) as exc:
        found = error_status(exc)
        assert found is not None
        return Outcome(ticket_id, *found)


def chosen_tickets(values: Sequence[str]) -> list[int]:
    """The ticket numbers a bulk form checked, each once, in the list's order; bad input names the field."""
    if not values:
        raise ApiError(422, "ticket: choose at least one ticket", "ticket")
    if len(values) > MAX_BULK:
        raise ApiError(422, f"ticket: at most {MAX_BULK} tickets at once", "ticket")
    ids: list[int] = []
    for value in values:
        if not (value.isascii() and value.isdigit()) or len(value) > 12:
            raise ApiError(422, f"ticket: {value[:20]!r} is not a ticket number", "ticket")
        if int(value) not in ids:
            ids.append(int(value))
    return ids
