"""The records' errors: bad input (exit 2, nothing changed) or a stored record that fails its check (exit 1)."""

from __future__ import annotations

from noc.errors import InputError, OperationalError


class RecordsInputError(InputError):
    """A document, a backup file or a target database the caller gave is not acceptable; ``field`` names what."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field


class NotFound(RecordsInputError):
    """No such contract or document."""


class TamperedDocument(OperationalError):
    """A stored document's bytes no longer match the SHA-256 recorded when it was stored: refused and flagged."""
