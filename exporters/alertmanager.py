"""Alertmanager webhook (payload version 4) → ticket inputs. Pure: parse, validate, map; the web route applies them.

An alert with a ``circuit`` label is a fault on that circuit, deduplicated by alert name (``alert:<alertname>``),
so repeated notifications of one alert append to its ticket instead of opening new ones. An alert with only a
``device`` label is a device down: it takes every circuit of the device and shares its key with the poller's own
device-down, so one incident results whichever source saw it first. Anything else is reported back as ignored.

Every instant used must lie inside the ``Window`` the caller gives (the fault history's reach back, a small clock
skew ahead): a notification with one outside is refused whole (``OutOfWindow``), before any decision is made. A
firing alert's ``endsAt`` is not used (Alertmanager puts its zero time or a guess there), so it is not checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from tickets.rules import DeviceDown, DeviceUp, FaultCleared, FaultEvent, FaultKind, Impact


class WebhookError(Exception):
    """The payload is not a version-4 Alertmanager notification; ``str()`` and ``field`` name the field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field


class OutOfWindow(WebhookError):
    """A well-formed notification with an instant outside the window the system accepts."""


@dataclass(frozen=True, slots=True)
class Window:
    earliest: datetime
    latest: datetime

    @classmethod
    def around(cls, now: datetime, max_age: timedelta, max_skew: timedelta) -> Window:
        return cls(now - max_age, now + max_skew)

    def check(self, field: str, at: datetime) -> datetime:
        # Aware datetimes compare by their UTC instant without converting (which overflows near year 1 or 9999).
        if at < self.earliest:
            raise OutOfWindow(field, f"{at.isoformat()} is before {self.earliest.isoformat()} (too old)")
        if at > self.latest:
            raise OutOfWindow(field, f"{at.isoformat()} is after {self.latest.isoformat()} (in the future)")
        return at


class _Alert(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = {}
    startsAt: AwareDatetime  # Alertmanager's field names
    endsAt: AwareDatetime | None = None
    fingerprint: str = ""


class Notification(BaseModel):
    """Alertmanager's webhook payload, version 4 (the fields used; others are ignored)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    version: Literal["4"]
    status: Literal["firing", "resolved"]
    alerts: list[_Alert] = Field(max_length=10_000)


Decision = FaultEvent | FaultCleared | DeviceDown | DeviceUp


@dataclass(frozen=True, slots=True)
class Ignored:
    fingerprint: str
    reason: str


def parse(body: Any) -> Notification:
    try:
        return Notification.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise WebhookError(".".join(str(p) for p in first["loc"]) or "body", first["msg"]) from exc


def _impact(labels: dict[str, str]) -> Impact:
    try:
        return Impact(labels.get("impact", Impact.DEGRADED.value))
    except ValueError:
        return Impact.DEGRADED


def map_alerts(body: Any, window: Window) -> tuple[list[Decision], list[Ignored]]:
    """The ticket inputs of one notification, in the order the alerts came, and the alerts that map to none."""
    notification = parse(body)
    decisions: list[Decision] = []
    ignored: list[Ignored] = []
    for index, alert in enumerate(notification.alerts):
        started_at = window.check(f"alerts.{index}.startsAt", alert.startsAt)
        resolved_at = started_at
        if alert.status == "resolved" and alert.endsAt is not None:
            resolved_at = window.check(f"alerts.{index}.endsAt", alert.endsAt)
        name = alert.labels.get("alertname", "")
        if not name:
            ignored.append(Ignored(alert.fingerprint, "no alertname label"))
            continue
        summary = alert.annotations.get("summary") or name
        if circuit := alert.labels.get("circuit"):
            cause = f"alert:{name}"
            if alert.status == "firing":
                decisions.append(
                    FaultEvent(FaultKind.ALERTMANAGER, circuit, cause, _impact(alert.labels), started_at, summary)
                )
            else:
                decisions.append(FaultCleared(circuit, cause, resolved_at))
        elif device := alert.labels.get("device"):
            if alert.status == "firing":
                decisions.append(DeviceDown(device, started_at, _impact(alert.labels), summary))
            else:
                decisions.append(DeviceUp(device, resolved_at))
        else:
            ignored.append(Ignored(alert.fingerprint, f"{name}: neither a circuit nor a device label"))
    return decisions, ignored
