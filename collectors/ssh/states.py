"""Per-device and per-circuit states, and a pure tracker that reports only transitions (logged once each)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from collectors.errors import BadAnswer, CollectorError, CredentialsRejected, DeviceUnreachable
from collectors.ssh.errors import (
    CommandRejected,
    ConnectionRefused,
    HostKeyChanged,
    HostKeyUnknown,
    OutputParseError,
    SessionTimeout,
    UnsupportedPlatform,
)

ProbeState = Literal[
    "ok",
    "auth_failed",
    "timeout",
    "refused",
    "unreachable",
    "host_key_changed",
    "host_key_unknown",
    "command_rejected",
    "parse_error",
    "unsupported_platform",
    "error",
]

# Most specific first: several classes share a parent (ConnectionRefused is a DeviceUnreachable).
_STATE_OF: tuple[tuple[type[CollectorError], ProbeState], ...] = (
    (CredentialsRejected, "auth_failed"),
    (SessionTimeout, "timeout"),
    (ConnectionRefused, "refused"),
    (DeviceUnreachable, "unreachable"),
    (HostKeyChanged, "host_key_changed"),
    (HostKeyUnknown, "host_key_unknown"),
    (CommandRejected, "command_rejected"),
    (OutputParseError, "parse_error"),
    (BadAnswer, "parse_error"),
    (UnsupportedPlatform, "unsupported_platform"),
)


def state_of(exc: CollectorError) -> ProbeState:
    for cls, state in _STATE_OF:
        if isinstance(exc, cls):
            return state
    return "error"


@dataclass(frozen=True, slots=True)
class Transition:
    key: str
    previous: ProbeState | None
    current: ProbeState
    reason: str | None

    @property
    def is_recovery(self) -> bool:
        return self.current == "ok" and self.previous not in (None, "ok")

    @property
    def is_failure(self) -> bool:
        return self.current != "ok"


class TransitionTracker:
    """Remembers the last state per key; :meth:`observe` returns a Transition only when the state changes.

    The first observation of "ok" is not a transition worth a log line; the first failure is. A change of reason
    within the same state (a timeout at login, then a timeout in a command) is not a transition either: the
    operator cares that the device is in trouble, not about each variation.
    """

    def __init__(self) -> None:
        self._states: dict[str, ProbeState] = {}

    def observe(self, key: str, state: ProbeState, reason: str | None = None) -> Transition | None:
        previous = self._states.get(key)
        self._states[key] = state
        if previous == state or (previous is None and state == "ok"):
            return None
        return Transition(key, previous, state, reason)

    def state(self, key: str) -> ProbeState | None:
        return self._states.get(key)
