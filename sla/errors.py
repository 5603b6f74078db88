"""The one exception root of the SLA engine."""

from __future__ import annotations


class SlaError(Exception):
    """Anything the SLA engine refuses: bad terms, naive datetimes, an impossible period."""


class TermsError(SlaError):
    """Contract SLA terms that cannot be evaluated; the message names the field."""
