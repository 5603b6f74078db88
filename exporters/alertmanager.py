"""Alertmanager webhook (payload version 4) → ticket inputs. Pure: parse, validate, map; the web route applies them.

An alert with a ``circuit`` label is a fault on that circuit, deduplicated by alert name (``alert:<alertname>``),
so repeated notifications of one alert append to its ticket instead of opening new ones. An alert with only a
``device`` label is a device down: it takes every circuit of the device and shares its key with the poller's own
device-down, so one incident results whichever source saw it first. Anything else is reported back as ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from tickets.rules import DeviceDown, DeviceUp, FaultCleared, FaultEvent, FaultKind, Impact


class WebhookError(Exception):
    """The payload is not a version-4 Alertmanager notification; ``str()`` names the field."""


class _Alert(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = {}
    startsAt: AwareDatetime  # Alertmanager's field names
    endsAt: AwareDatetime | None = None
    fingerprint: str = ""


class _Notification(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    version: Literal["4"]
    status: Literal["firing", "resolved"]
    alerts: list[_Alert] = Field(max_length=10_000)


Decision = FaultEvent | FaultCleared | DeviceDown | DeviceUp


@dataclass(frozen=True, slots=True)
class Ignored:
    fingerprint: str
    reason: str


def parse(body: Any) -> _Notification:
    try:
        return _Notification.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise WebhookError(f"{where}: {first['msg']}") from exc


def _impact(labels: dict[str, str]) -> Impact:
    try:
        return Impact(labels.get("impact", Impact.DEGRADED.value))
    except ValueError:
        return Impact.DEGRADED


def map_alerts(body: Any) -> tuple[list[Decision], list[Ignored]]:
    """The ticket inputs of one notification, in the order the alerts came, and the alerts that map to none."""
    notification = parse(body)
    decisions: list[Decision] = []
    ignored: list[Ignored] = []
    for alert in notification.alerts:
        name = alert.labels.get("alertname", "")
        if not name:
            ignored.append(Ignored(alert.fingerprint, "no alertname label"))
            continue
        summary = alert.annotations.get("summary") or name
        resolved_at: datetime = alert.endsAt or alert.startsAt
        if circuit := alert.labels.get("circuit"):
            cause = f"alert:{name}"
            if alert.status == "firing":
                decisions.append(
                    FaultEvent(FaultKind.ALERTMANAGER, circuit, cause, _impact(alert.labels), alert.startsAt, summary)
                )
            else:
                decisions.append(FaultCleared(circuit, cause, resolved_at))
        elif device := alert.labels.get("device"):
            if alert.status == "firing":
                decisions.append(DeviceDown(device, alert.startsAt, _impact(alert.labels), summary))
            else:
                decisions.append(DeviceUp(device, resolved_at))
        else:
            ignored.append(Ignored(alert.fingerprint, f"{name}: neither a circuit nor a device label"))
    return decisions, ignored
