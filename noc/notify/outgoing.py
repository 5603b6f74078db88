"""What a channel is given to send, and what a channel is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to one recipient. ``address`` is the e-mail address or phone number (None for a robot)."""

    address: str | None
    subject: str
    text: str
    event: str  # the notice: opened, escalation:1, ..., contract_expiry
    ticket_id: int | None  # None: a key account's reminder
    link: str
    language: str


class Sender(Protocol):
    async def send(self, message: Outgoing) -> None:
        """Deliver or raise :class:`noc.notify.errors.DeliveryFailed` (its text carries no secret)."""
