"""Personal-data reads in the audit: every time a customer's contacts are decrypted for someone (or refused to
them), one row of the kernel's append-only audit (``noc.models.AuditEvent``) says who, what, when and why."""

from __future__ import annotations

from datetime import datetime

from noc.models import AuditEvent

ALLOWED = "allowed"
REFUSED = "refused"
PERSONAL_DATA_READ = "personal_data.read"


def read_row(
    at: datetime, actor: str, role: str, account: str, fields: list[str], purpose: str, outcome: str
) -> AuditEvent:
    # The account by name, not by key: the audit outlives the record it speaks of.
    return AuditEvent(
        at=at,
        action=PERSONAL_DATA_READ,
        outcome=outcome,
        actor=actor,
        role=role,
        via="",
        subject=account,
        detail={"data": "contacts", "fields": fields, "purpose": purpose},
    )
