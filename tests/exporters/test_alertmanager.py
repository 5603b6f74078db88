"""Alertmanager v4 notifications → ticket inputs (pure mapping); malformed payloads are refused with the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from exporters.alertmanager import OutOfWindow, WebhookError, Window, map_alerts
from tickets.rules import DeviceDown, DeviceUp, FaultCleared, FaultEvent, FaultKind, Impact

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
WINDOW = Window.around(NOW, timedelta(days=90), timedelta(minutes=5))


def alert(status: str, **labels: str) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": "NocCircuitLossAboveContract", **labels},
        "annotations": {"summary": "Circuit ACME-1 loses 2% of probes"},
        "startsAt": "2026-11-22T10:00:00Z",
        "endsAt": "2026-11-22T10:30:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "fingerprint": "abc123",
    }


def note(*alerts: dict[str, Any], status: str = "firing") -> dict[str, Any]:
    return {"version": "4", "status": status, "receiver": "noc", "groupKey": "{}", "alerts": list(alerts)}


def test_circuit_alert_opens_and_clears_by_alert_name() -> None:
    decisions, ignored = map_alerts(note(alert("firing", circuit="ACME-1", impact="degraded")), WINDOW)
    assert ignored == []
    assert decisions == [
        FaultEvent(
            FaultKind.ALERTMANAGER,
            "ACME-1",
            "alert:NocCircuitLossAboveContract",
            Impact.DEGRADED,
            datetime(2026, 11, 22, 10, tzinfo=UTC),
            "Circuit ACME-1 loses 2% of probes",
        )
    ]
    decisions, _ = map_alerts(note(alert("resolved", circuit="ACME-1"), status="resolved"), WINDOW)
    assert decisions == [
        FaultCleared("ACME-1", "alert:NocCircuitLossAboveContract", datetime(2026, 11, 22, 10, 30, tzinfo=UTC))
    ]


def test_device_alert_is_a_device_down() -> None:
    down = alert("firing", device="pe-1", impact="service_down") | {
        "labels": {"alertname": "NocDeviceDown", "device": "pe-1", "impact": "service_down"}
    }
    decisions, _ = map_alerts(note(down), WINDOW)
    assert decisions == [
        DeviceDown(
            "pe-1", datetime(2026, 11, 22, 10, tzinfo=UTC), Impact.SERVICE_DOWN, "Circuit ACME-1 loses 2% of probes"
        )
    ]
    up = down | {"status": "resolved", "endsAt": "2026-11-22T10:30:00Z"}
    assert map_alerts(note(up, status="resolved"), WINDOW)[0] == [
        DeviceUp("pe-1", datetime(2026, 11, 22, 10, 30, tzinfo=UTC))
    ]


def test_alerts_about_nothing_we_ticket_are_reported_back() -> None:
    _, ignored = map_alerts(note(alert("firing")), WINDOW)
    assert [(i.fingerprint, i.reason) for i in ignored] == [
        ("abc123", "NocCircuitLossAboveContract: neither a circuit nor a device label")
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"version": "3", "status": "firing", "alerts": []}, "version: Input should be '4'"),
        ({"version": "4", "status": "firing", "alerts": [{"status": "firing"}]}, "alerts.0.labels: Field required"),
        (note(alert("firing", circuit="A") | {"startsAt": "yesterday"}), "alerts.0.startsAt: Input should be a valid"),
        (
            note(alert("firing", circuit="A") | {"startsAt": "2026-11-22T10:00:00"}),
            "alerts.0.startsAt: Input should have timezone info",
        ),
        ([1, 2], "body: Input should be a valid dictionary"),
    ],
)
def test_malformed_payloads_name_the_field(body: Any, message: str) -> None:
    with pytest.raises(WebhookError) as info:
        map_alerts(body, WINDOW)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        ("startsAt", "1990-01-01T00:00:00Z", "too old"),
        ("startsAt", "0001-01-01T00:00:00+23:59", "too old"),
        ("startsAt", "2126-11-22T10:00:00Z", "in the future"),
        ("startsAt", "9999-12-31T23:59:59-23:59", "in the future"),
        ("endsAt", "2026-11-22T12:10:00Z", "in the future"),
        ("endsAt", "1970-01-01T00:00:00Z", "too old"),
    ],
)
def test_instants_outside_the_window_refuse_the_whole_notification(field: str, value: str, why: str) -> None:
    good = alert("firing", circuit="ACME-1")
    bad = alert("resolved", circuit="ACME-2") | {field: value}
    with pytest.raises(OutOfWindow) as info:
        map_alerts(note(good, bad), WINDOW)
    assert info.value.field == f"alerts.1.{field}"
    assert why in str(info.value)


def test_a_firing_alert_s_ends_at_is_not_used_so_not_checked() -> None:
    decisions, _ = map_alerts(note(alert("firing", circuit="ACME-1") | {"endsAt": "9999-01-01T00:00:00Z"}), WINDOW)
    assert len(decisions) == 1
