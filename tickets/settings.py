"""The tickets slice of the settings (hung on ``noc.settings.Settings`` as ``tickets``): every figure of the
operator's fault-handling standard is a setting here or a contract field, never a constant in the rules."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

TIERS = ("A", "B", "C")
IMPACTS = ("service_down", "degraded", "at_risk")

DEFAULT_PRIORITY_MATRIX: dict[str, dict[str, str]] = {
    "A": {"service_down": "P1", "degraded": "P2", "at_risk": "P3"},
    "B": {"service_down": "P2", "degraded": "P3", "at_risk": "P4"},
    "C": {"service_down": "P3", "degraded": "P4", "at_risk": "P4"},
}
# How bad an SLA breach is, by objective: down is down; a missed ceiling degrades; a trend puts the service at risk.
DEFAULT_IMPACT_BY_OBJECTIVE = {
    "availability": "service_down",
    "latency": "degraded",
    "loss": "degraded",
    "jitter": "degraded",
    "committed_rate": "degraded",
    "utilisation": "at_risk",
    "burn_rate": "at_risk",
}
DEFAULT_CAUSE_CATEGORIES = (
    "fibre_cut",
    "hardware",
    "software",
    "configuration",
    "power",
    "capacity",
    "third_party",
    "customer_side",
    "unknown",
)


class TicketSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # A fault that comes back within this long after its ticket was resolved reopens that ticket.
    reopen_window_s: float = Field(default=24 * 3600.0, ge=0)
    # Used when a circuit's contract does not state its own limits.
    response_time_s: int = Field(default=45 * 60, gt=0)
    restore_time_s_by_tier: dict[str, int] = Field(default_factory=lambda: {"A": 4 * 3600, "B": 86400, "C": 86400})
    warn_at_ratio: float = Field(default=0.75, gt=0, lt=1)
    # Expiry escalates to level 1 (NOC lead); still unmet at this share of the limit, to level 2 (account manager).
    second_escalation_at_ratio: float = Field(default=1.5, gt=1)
    priority_matrix: dict[str, dict[str, str]] = Field(default_factory=lambda: dict(DEFAULT_PRIORITY_MATRIX))
    impact_by_objective: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_IMPACT_BY_OBJECTIVE))
    cause_categories: tuple[str, ...] = DEFAULT_CAUSE_CATEGORIES
    contract_expiry_notice_days: int = Field(default=30, ge=0)
    case_suggestions: int = Field(default=5, ge=0, le=50)

    @model_validator(mode="after")
    def _complete(self) -> TicketSettings:
        for tier in TIERS:
            row = self.priority_matrix.get(tier)
            if row is None or any(impact not in row for impact in IMPACTS):
                raise ValueError(f"priority_matrix: tier {tier} needs a priority for each of {', '.join(IMPACTS)}")
            if tier not in self.restore_time_s_by_tier:
                raise ValueError(f"restore_time_s_by_tier: no default for tier {tier}")
        for objective, impact in self.impact_by_objective.items():
            if impact not in IMPACTS:
                raise ValueError(f"impact_by_objective.{objective}: {impact!r} is not one of {', '.join(IMPACTS)}")
        return self
