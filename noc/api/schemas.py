"""Request and response bodies of the REST API. The OpenAPI document's component schemas are generated from these
models, and every handler serialises through them, so the document and the wire cannot drift apart."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, RootModel

from tickets.records import HealthArchive


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class _In(BaseModel):
    # An unknown field is a mistake worth naming (a typo in "expected_version" would silently skip the check).
    model_config = ConfigDict(extra="forbid")


class Error(_Out):
    error: str = Field(description="what is wrong, in words")
    field: str | None = Field(default=None, description="the query parameter or body field at fault, if one is")


# --- inventory -----------------------------------------------------------------------------------------------


class InterfaceOut(_Out):
    name: str
    if_index: int
    descr: str
    alias: str | None = Field(description="null when the user's role may not see it: an alias names the customer")
    speed_bps: int | None
    admin_status: str
    oper_status: str
    present: bool


class DeviceState(_Out):
    """The poller's latest view; ``available`` is None until the device was polled once."""

    available: bool | None
    since: datetime | None
    last_poll_at: datetime | None
    last_ok_at: datetime | None
    uptime_s: int | None
    consecutive_failures: int
    last_error: str | None
    sys_name: str | None


class DeviceOut(_Out):
    name: str
    address: str
    platform: str
    role: str
    region: str
    site: str
    enabled: bool
    state: DeviceState | None
    interfaces: list[InterfaceOut]


class DeviceList(_Out):
    items: list[DeviceOut]


class ProbeOut(_Out):
    ts: datetime
    method: str
    sent: int
    received: int
    loss_ratio: float | None
    rtt_min_ms: float | None
    rtt_avg_ms: float | None
    rtt_max_ms: float | None
    jitter_ms: float | None
    error: str | None


class InterfaceMeasurementOut(_Out):
    ts: datetime
    interval_s: float | None
    oper_status: str
    speed_bps: int | None
    in_bps: float | None
    out_bps: float | None
    in_utilisation_ratio: float | None
    out_utilisation_ratio: float | None
    in_errors_per_s: float | None
    out_errors_per_s: float | None
    verdict: str


class CircuitOut(_Out):
    name: str
    account: str
    contract: str
    device: str
    interface: str
    far_end_address: str | None
    committed_rate_bps: int | None
    probe: str
    service: str
    latest_probe: ProbeOut | None
    latest_interface: InterfaceMeasurementOut | None


class CircuitList(_Out):
    items: list[CircuitOut]


class AccountOut(_Out):
    name: str
    legal_name: str
    tier: str
    region: str
    account_manager: str | None


class AccountList(_Out):
    items: list[AccountOut]


class ChangeOut(_Out):
    kind: str
    name: str
    action: str
    changed_fields: list[str]


class ImportOut(_Out):
    dry_run: bool
    changes: list[ChangeOut]


class HealthOut(RootModel[HealthArchive]):
    """The key account's record (``tickets.records.HealthArchive``); contacts are never included here."""


# --- tickets -------------------------------------------------------------------------------------------------


class RestoreVerdictOut(_Out):
    """Restoration against the contract's limit, net of stop-clock, taken when the ticket was resolved."""

    net_s: float = Field(description="restoration time that counted, in seconds (stop-clock intervals left out)")
    limit_s: int
    met: bool
    breached_by_s: float = Field(description="seconds past the limit; 0 when met")


class TicketOut(_Out):
    id: int
    ref: str
    kind: str
    parent_id: int | None
    status: str
    priority: str
    impact: str
    account: str | None
    circuit: str | None
    device: str | None
    cause: str
    title: str
    technician: str | None
    detected_at: datetime
    acknowledged_at: datetime | None
    response_due_at: datetime | None
    restore_due_at: datetime | None
    escalation_level: int
    recurrences: int
    version: int = Field(description="send it back as expected_version to acknowledge only what you saw")
    restore_verdict: RestoreVerdictOut | None = Field(
        description="taken at resolution (null while unresolved); a reopened ticket's clock runs on"
    )
    ack_until: datetime | None = Field(
        default=None, description="acknowledged until then: still only acknowledged, it is new again (re-alerts)"
    )


class TicketPage(_Out):
    items: list[TicketOut]
    limit: int
    offset: int
    next_offset: int | None = Field(description="offset of the next page; null on the last one")


class TransitionOut(_Out):
    at: datetime
    actor: str
    from_status: str | None
    to_status: str


class WorklogOut(_Out):
    at: datetime
    author: str
    text: str


class NotificationOut(_Out):
    """One message about the ticket to one recipient (by label) through one channel, and how it went."""

    event: str = Field(description="opened, reopened, warning:0, escalation:1, escalation:2, cleared, resolved")
    recipient: str
    channel: str
    channel_kind: str
    subject: str
    status: Literal["pending", "delivered", "failed"] = Field(description="pending with attempts > 0: retrying")
    attempts: int
    created_at: datetime
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    next_attempt_at: datetime | None
    error: str | None


class RatingOut(_Out):
    score: int
    comment: str
    recorded_by: str
    at: datetime


class CaseOut(_Out):
    case_id: int
    ticket_id: int
    cause_category: str
    platform: str
    symptoms: str
    resolution: str
    score: float


class TicketDetailOut(_Out):
    ticket: TicketOut
    symptoms: str
    causes: list[str] = Field(description="every cause of the fault (the ticket's first, then those that joined)")
    children: list[str]
    transitions: list[TransitionOut]
    worklog: list[WorklogOut]
    cause_category: str | None
    resolution: str | None
    rating: RatingOut | None
    suggestions: list[CaseOut]
    notifications: list[NotificationOut]


class ReportIn(_In):
    """A fault reported by a person: a customer's complaint, or a ticket opened by hand. Deduplicated like any
    fault: the same circuit and cause while a ticket is open appends to it."""

    circuit: str = Field(min_length=1, max_length=100)
    summary: str = Field(min_length=1, max_length=2_000, description="the symptoms as reported")
    impact: Literal["service_down", "degraded", "at_risk"] = "degraded"
    kind: Literal["complaint", "manual"] = "complaint"
    cause: str | None = Field(default=None, min_length=1, max_length=100, description="deduplication key")


class FaultOut(_Out):
    ticket_id: int
    ref: str
    action: str = Field(description="opened, appended, reopened or duplicate")
    priority: str


class AcknowledgeIn(_In):
    expected_version: int | None = Field(default=None, description="refuse with 409 if the ticket changed since")
    note: str | None = Field(default=None, max_length=10_000, description="kept in the worklog")
    until: AwareDatetime | None = Field(
        default=None, description="still only acknowledged at this instant, the ticket is new again (re-alerts)"
    )


class PendingIn(_In):
    reason: str = Field(min_length=1, max_length=2000, description="what the customer owes us (required)")


class ResolveIn(_In):
    confirmed_on_site: bool = Field(
        default=False,
        description="needed (with a note) while the system still sees the fault: device down, breach open",
    )
    note: str | None = Field(default=None, max_length=10_000, description="what was found and done on site")


class AssignIn(_In):
    technician: str | None = Field(default=None, max_length=100)
    auto: bool = Field(default=False, description="dispatch to the least loaded technician covering the region")


class NoteIn(_In):
    text: str = Field(min_length=1, max_length=10_000)


class CloseIn(_In):
    cause_category: str | None = Field(default=None, max_length=100)
    resolution: str | None = Field(default=None, max_length=10_000)


class RateIn(_In):
    score: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=2_000)


# --- SLA -----------------------------------------------------------------------------------------------------


class BreachOut(_Out):
    circuit: str
    account: str
    objective: str
    measured: float
    limit: float
    since: datetime


class BreachList(_Out):
    items: list[BreachOut]


# --- the Alertmanager webhook --------------------------------------------------------------------------------


class IgnoredOut(_Out):
    fingerprint: str
    reason: str


class WebhookOut(_Out):
    tickets: list[str] = Field(description="tickets opened, updated or resolved")
    unconfirmed: list[str] = Field(
        description="tickets a 'resolved' alert spoke of that stay open: the system still sees the fault"
    )
    ignored: list[IgnoredOut]


# --- the audit -----------------------------------------------------------------------------------------------


class AuditEventOut(_Out):
    id: int
    at: datetime
    action: str
    outcome: Literal["allowed", "refused"]
    actor: str = Field(description="who the act was for (a command line's claimed user)")
    role: str
    via: str = Field(description="cli, api, web, system; empty for a service's own record")
    os_user: str = Field(description="the OS account that ran a command")
    client: str = Field(description="a web or API caller's network address")
    subject: str = Field(description="the user, account ... acted on")
    detail: dict[str, Any]


class AuditPage(_Out):
    items: list[AuditEventOut]
    limit: int
    offset: int
    next_offset: int | None


# --- contract documents --------------------------------------------------------------------------------------


class DocumentOut(_Out):
    contract: str
    version: int = Field(description="1 for the first document stored for the contract, then 2, 3 ...")
    filename: str
    media_type: str
    size_bytes: int
    sha256: str = Field(description="the SHA-256 of the content, taken when it was stored, checked on every read")
    archive_ref: str = Field(description="where the paper original is registered")
    stored_at: datetime
    stored_by: str
    tampered_at: datetime | None = Field(description="when a read first found the content changed (refused)")


class DocumentList(_Out):
    items: list[DocumentOut]
