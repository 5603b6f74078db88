"""Device availability from poll outcomes: a pure state machine, no clock, no I/O.

A device is down after ``threshold`` consecutive failed polls (default 3) and its downtime is dated from the
first of those failures, not from the poll that crossed the threshold. One successful poll brings it up.

Public API::

    state = AvailabilityState()                                   # unknown until the first outcome
    state, transition = observe(state, ok=True|False, at=ts, threshold=3)
    # transition is None, or Transition(kind="down"|"recovered", at, down_since)
    interface_available(oper_status) -> bool                      # only ifOperStatus up(1) carries traffic
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

DEFAULT_FAILURE_THRESHOLD = 3


@dataclass(frozen=True, slots=True)
class AvailabilityState:
    up: bool | None = None  # None: not known yet (no success, fewer than threshold failures)
    consecutive_failures: int = 0
    first_failure_at: datetime | None = None
    down_since: datetime | None = None  # set while down: the first failure of the run that took it down


@dataclass(frozen=True, slots=True)
class Transition:
    kind: Literal["down", "recovered"]
    at: datetime  # the poll that caused the transition
    down_since: datetime  # for "down": start of downtime; for "recovered": the downtime that ended


def observe(
    state: AvailabilityState, *, ok: bool, at: datetime, threshold: int = DEFAULT_FAILURE_THRESHOLD
) -> tuple[AvailabilityState, Transition | None]:
    """Fold one poll outcome into the state; return the new state and the transition it caused, if any."""
    if threshold < 1:
        raise ValueError("threshold must be >= 1")
    if ok:
        if state.up is False and state.down_since is not None:
            return AvailabilityState(up=True), Transition("recovered", at, state.down_since)
        return AvailabilityState(up=True), None
    first = state.first_failure_at if state.consecutive_failures > 0 and state.first_failure_at else at
    failures = state.consecutive_failures + 1
    if state.up is not False and failures >= threshold:
        new = AvailabilityState(up=False, consecutive_failures=failures, first_failure_at=first, down_since=first)
        return new, Transition("down", at, first)
    return replace(state, consecutive_failures=failures, first_failure_at=first), None


def interface_available(oper_status: str | None) -> bool:
    """An interface (and later its circuits) is available only when ifOperStatus is ``up``.

    dormant, testing, lowerLayerDown, notPresent and unknown all mean it does not pass traffic for the customer.
    """
    return oper_status == "up"
