"""A technician's day and an acknowledgement that means something, as pure rules. No database, no clock.

* ``check_ack_until`` - an acknowledgement may be given "until" an instant (aware, in the future, within the
  settings' longest); ``ack_lapsed`` - past it, a ticket still only acknowledged is new again (it re-alerts).
* ``reason_text`` - waiting on the customer says why (required, kept).
* ``FaultSeen`` / ``check_resolve`` - resolving while the system still sees the fault (its device down, an SLA
  breach of one of its causes open) needs an explicit "confirmed restored on site" with a note; without it a refusal
  that says what the system sees.
* ``recheck`` - such a resolution is looked at again after ``onsite_recheck_s``: the fault still seen reopens the
  ticket (as a recurrence within the reopen window would), else the confirmation stands.

Who may take an unassigned ticket (self-dispatch) is a role rule: ``tickets.access.take_refusal``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from tickets.errors import InvalidRequest, OnSiteConfirmationNeeded
from tickets.lifecycle import Status

MAX_REASON = 2000
MAX_NOTE = 10_000
ONSITE_ASK = "say what was found and done on site"


def check_ack_until(until: datetime | None, now: datetime, max_s: float) -> None:
    if until is None:
        return
    if until.tzinfo is None:
        raise InvalidRequest("until: a timezone-aware instant is required")
    if until <= now:
        raise InvalidRequest(f"until: {until.isoformat()} has passed; acknowledge until a later time")
    if until - now > timedelta(seconds=max_s):
        raise InvalidRequest(f"until: at most {timedelta(seconds=max_s)} ahead")


def ack_lapsed(status: Status, ack_until: datetime | None, now: datetime) -> bool:
    """Acknowledged "until" an instant that has come, and nobody has taken the ticket further meanwhile."""
    return status is Status.ACKNOWLEDGED and ack_until is not None and ack_until <= now


def reason_text(field: str, text: str | None, limit: int = MAX_REASON, ask: str = "say why") -> str:
    """A required free text, stripped; bad input names the field."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise InvalidRequest(f"{field}: {ask} (required)")
    if len(cleaned) > limit:
        raise InvalidRequest(f"{field}: at most {limit} characters")
    return cleaned


@dataclass(frozen=True, slots=True)
class FaultSeen:
    """What the system sees of a ticket's fault now: its device down, the SLA objectives breached (open)."""

    device_down: str | None = None  # the device's name while it is down
    open_breaches: tuple[str, ...] = ()

    @property
    def down(self) -> bool:
        return self.device_down is not None or bool(self.open_breaches)

    @property
    def words(self) -> str:
        said = [f"device {self.device_down} is down"] if self.device_down else []
        said += [f"SLA {objective} breach open" for objective in self.open_breaches]
        return "; ".join(said) or "nothing down"


def check_resolve(ref: str, seen: FaultSeen, confirmed_on_site: bool, note: str | None) -> str | None:
    """The on-site note to record with the resolution, None when none is needed; refused while the fault is seen
    without the confirmation, or with it but without a note."""
    if not seen.down:
        return reason_text("note", note, MAX_NOTE, ONSITE_ASK) if confirmed_on_site else None
    if not confirmed_on_site:
        raise OnSiteConfirmationNeeded(
            f"{ref}: the system still sees the fault ({seen.words}); resolve it only as confirmed restored on site, "
            f"with a note of what was found and done"
        )
    return reason_text("note", note, MAX_NOTE, ONSITE_ASK)


class Recheck(StrEnum):
    WAIT = "wait"  # not due yet
    REOPEN = "reopen"  # the fault is still seen: the resolution did not hold
    CONFIRMED = "confirmed"  # the system agrees now


def recheck(check_at: datetime | None, now: datetime, seen: FaultSeen) -> Recheck | None:
    """None for a ticket without an on-site check pending."""
    if check_at is None:
        return None
    if now < check_at:
        return Recheck.WAIT
    return Recheck.REOPEN if seen.down else Recheck.CONFIRMED
