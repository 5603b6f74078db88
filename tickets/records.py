"""Key-account records ("health archive"): what the archive view holds, and contract expiry reminders (pure).

SLA compliance history comes from the SLA storage, which this package does not read: the service takes an
``SlaComplianceSource`` (the assembly provides one) and the archive carries what it returns in
``sla_compliance``; without a source that list is empty and ``sla_compliance_available`` is False.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from tickets.timers import RestoreVerdict


@dataclass(frozen=True, slots=True)
class ContractTerm:
    contract: str
    account: str
    valid_to: date
    account_manager: str | None


@dataclass(frozen=True, slots=True)
class ContractExpiryReminder:
    """Tell the account manager ahead of expiry so the renewal happens before service lapses."""

    contract: str
    account: str
    valid_to: date
    days_left: int
    notify: str | None  # the account manager's username


def contract_expiry_reminders(
    contracts: Sequence[ContractTerm], today: date, notice_days: int
) -> list[ContractExpiryReminder]:
    """Contracts ending within ``notice_days`` from ``today`` (today and the last day included), soonest first."""
    out = [
        ContractExpiryReminder(c.contract, c.account, c.valid_to, (c.valid_to - today).days, c.account_manager)
        for c in contracts
        if 0 <= (c.valid_to - today).days <= notice_days
    ]
    return sorted(out, key=lambda r: (r.days_left, r.contract))


@dataclass(frozen=True, slots=True)
class ObjectiveCompliance:
    """One objective of one month: met, missed, or None when nothing measured it."""

    objective: str  # availability | latency | loss | jitter | utilisation | committed_rate
    met: bool | None


@dataclass(frozen=True, slots=True)
class SlaComplianceEntry:
    """One month of one contract's compliance, as the SLA storage reports it."""

    contract: str
    month: str  # "2026-10"
    availability_pct: float | None
    target_pct: float
    met: bool  # every objective measured was met
    credit: str | None = None  # money as text, in the contract's currency; None when nothing is owed
    objectives: tuple[ObjectiveCompliance, ...] = ()


class SlaComplianceSource(Protocol):
    async def compliance_history(self, account: str) -> Sequence[SlaComplianceEntry]: ...


@dataclass(frozen=True, slots=True)
class ContractView:
    name: str
    valid_from: date
    valid_to: date
    timezone: str
    availability_target_pct: str
    response_time_s: int
    restore_time_s: int
    archive_ref: str


@dataclass(frozen=True, slots=True)
class CircuitView:
    name: str
    contract: str
    device: str
    platform: str
    region: str
    interface: str
    far_end_address: str | None
    service: str


@dataclass(frozen=True, slots=True)
class ChangeView:
    at: datetime
    actor: str
    entity: str
    name: str
    action: str
    changed_fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ContactView:
    """Decrypted personal data: only ever built for an allowed actor, and each build is audited."""

    role: str
    purpose: str
    name: str
    phone: str | None
    email: str | None
    verified_on: date | None


@dataclass(frozen=True, slots=True)
class FaultRecord:
    ticket: str
    circuit: str | None
    status: str
    priority: str
    cause: str
    cause_category: str | None
    detected_at: datetime
    closed_at: datetime | None
    recurrences: int
    restore_verdict: RestoreVerdict | None = None  # taken at resolution


@dataclass(frozen=True, slots=True)
class HealthArchive:
    account: str
    legal_name: str
    tier: str
    region: str
    account_manager: str | None
    auto_resolve: bool
    services: tuple[str, ...]
    contracts: tuple[ContractView, ...]
    circuits: tuple[CircuitView, ...]
    fault_history: tuple[FaultRecord, ...]
    change_history: tuple[ChangeView, ...]
    reminders: tuple[ContractExpiryReminder, ...]
    satisfaction_avg: float | None
    satisfaction_count: int
    contact_count: int
    sla_compliance: tuple[SlaComplianceEntry, ...] = ()
    sla_compliance_available: bool = False
    contacts: tuple[ContactView, ...] | None = None  # None unless asked for (and allowed, and audited)
    open_tickets: int = field(default=0)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
