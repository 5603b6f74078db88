"""Who may see and do what. Pure: the service resolves the actor and the ticket's scope, these rules decide.

* admin and noc: every ticket and account, every action, customer contacts (the NOC informs the customer).
* technician: tickets assigned to them or in one of their regions; takes an unassigned ticket of one of their
  regions (self-dispatch); works (start, wait on the customer, resolve, close) the tickets assigned to them, writes
  notes and reports faults where they see; reads an account, and its contacts, only while one of their tickets is
  on it.
* account_manager: tickets and records of their own accounts only; notes, ratings and complaints there.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tickets.errors import Refused


class Action(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    ASSIGN = "assign"
    WORK = "work"  # start, wait on the customer, resume, resolve, close
    REOPEN = "reopen"
    NOTE = "note"
    RATE = "rate"
    REPORT = "report"  # a complaint or a manual fault on a circuit
    TAKE = "take"  # a technician dispatches an unassigned ticket of their region to themselves


ALL_ACTIONS = frozenset(Action)
_ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    "admin": ALL_ACTIONS,
    "noc": ALL_ACTIONS,
    "technician": frozenset({Action.WORK, Action.NOTE, Action.REPORT, Action.TAKE}),
    "account_manager": frozenset({Action.NOTE, Action.RATE, Action.REPORT}),
}
SEE_ALL = frozenset({"admin", "noc"})
# Devices and interfaces are the network's state: the engineers see it, an account manager their accounts only.
NETWORK_ROLES = frozenset({"admin", "noc", "technician"})
# The account pages (health archive, reports): a technician reads an account through their tickets instead.
ACCOUNT_PAGE_ROLES = frozenset({"admin", "noc", "account_manager"})


@dataclass(frozen=True, slots=True)
class Actor:
    username: str
    role: str
    technician_id: int | None = None
    regions: frozenset[str] = frozenset()
    managed_account_ids: frozenset[int] = frozenset()
    # accounts of the tickets currently assigned to this technician
    assigned_account_ids: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class TicketScope:
    ref: str
    account_id: int | None  # None for a parent incident (the NOC's)
    region: str
    technician_id: int | None


def may_read_case_library(actor: Actor) -> bool:
    """The case library holds every account's symptoms and resolutions: it is for the engineers (NOC, field), not
    for an account manager, who sees their own accounts only."""
    return actor.role != "account_manager"


def may_see_ticket(actor: Actor, scope: TicketScope) -> bool:
    if actor.role in SEE_ALL:
        return True
    if actor.role == "account_manager":
        return scope.account_id is not None and scope.account_id in actor.managed_account_ids
    if actor.role == "technician":
        assigned = actor.technician_id is not None and scope.technician_id == actor.technician_id
        return assigned or (scope.account_id is not None and scope.region in actor.regions)
    return False


def role_may(role: str, action: Action) -> bool:
    """Whether the role takes this action on some tickets (which ones: ``may_act``); pages offer it by this."""
    return action in _ROLE_ACTIONS.get(role, frozenset())


def take_refusal(actor: Actor, scope: TicketScope) -> str | None:
    """Why this actor may not take the ticket for themselves (None: they may): only a technician, only a ticket
    (not an incident) nobody has yet, only in one of their regions."""
    if actor.technician_id is None:
        return "only a technician takes a ticket for themselves (the NOC dispatches)"
    if scope.account_id is None:
        return "it is an incident: take one of its tickets"
    if scope.technician_id == actor.technician_id:
        return "it is assigned to them already"
    if scope.technician_id is not None:
        return "it is assigned to another technician already (the NOC reassigns)"
    if scope.region not in actor.regions:
        theirs = ", ".join(sorted(actor.regions)) or "none"
        return f"it is in region {scope.region or '(none)'}, not one of theirs ({theirs})"
    return None


def may_act(actor: Actor, action: Action, scope: TicketScope) -> bool:
    if action is Action.TAKE:
        return role_may(actor.role, action) and take_refusal(actor, scope) is None
    if not may_see_ticket(actor, scope) or not role_may(actor.role, action):
        return False
    if actor.role == "technician" and action is Action.WORK:
        return actor.technician_id is not None and scope.technician_id == actor.technician_id
    return True


def visible_account_ids(actor: Actor) -> frozenset[int] | None:
    """The accounts this actor may see: None for every one (the NOC's), else the ids (a query narrows by them)."""
    if actor.role in SEE_ALL:
        return None
    if actor.role == "account_manager":
        return actor.managed_account_ids
    if actor.role == "technician":
        return actor.assigned_account_ids
    return frozenset()


def may_see_account(actor: Actor, account_id: int) -> bool:
    visible = visible_account_ids(actor)
    return visible is None or account_id in visible


def may_see_network(actor: Actor) -> bool:
    return actor.role in NETWORK_ROLES


def may_see_interface_alias(actor: Actor, carried_account_ids: frozenset[int]) -> bool:
    """An interface's alias (ifAlias) is free text that names the customer on it: the NOC sees every one; anyone
    else only an alias of an interface whose circuits all belong to accounts they may see (none carried: the
    alias may name a customer outside the inventory, so it stays hidden)."""
    if actor.role in SEE_ALL:
        return True
    return bool(carried_account_ids) and all(may_see_account(actor, a) for a in carried_account_ids)


def may_read_contacts(actor: Actor, account_id: int) -> bool:
    # The same rule as the record today; kept apart because personal data is where it would tighten first.
    return may_see_account(actor, account_id)


def require_ticket(actor: Actor, action: Action | None, scope: TicketScope) -> None:
    """Raise ``Refused`` with a message saying who may not do what."""
    if action is Action.TAKE and not may_act(actor, action, scope):
        # Said before visibility: a ticket of another region is refused for that reason, by name.
        why = take_refusal(actor, scope) or f"the {actor.role} role does not take tickets"
        raise Refused(f"{actor.username} ({actor.role}) may not take {scope.ref}: {why}")
    if not may_see_ticket(actor, scope):
        raise Refused(f"{actor.username} ({actor.role}) may not see {scope.ref}")
    if action is not None and not may_act(actor, action, scope):
        why = " (it is not assigned to them)" if actor.role == "technician" and action is Action.WORK else ""
        raise Refused(f"{actor.username} ({actor.role}) may not {action} {scope.ref}{why}")


def require_account(actor: Actor, account_id: int, account: str) -> None:
    if not may_see_account(actor, account_id):
        raise Refused(f"{actor.username} ({actor.role}) may not see account {account}")
