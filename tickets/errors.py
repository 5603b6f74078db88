"""The one exception root of the tickets package. Each class carries the CLI exit code it maps to:
2 for bad input (nothing changed), 1 for a refusal, a conflict or an illegal step."""

from __future__ import annotations


class TicketError(Exception):
    """Root of every error the tickets package raises on purpose."""

    exit_code = 1


class InvalidRequest(TicketError):
    """The caller's input is wrong: unknown user, bad score, missing option. Nothing was changed."""

    exit_code = 2


class NotFound(InvalidRequest):
    """No such ticket, account, circuit or technician."""


class Refused(TicketError):
    """The actor's role does not allow this (the CLI's 403)."""


class IllegalTransition(TicketError):
    """The ticket's lifecycle does not allow this step from its current status."""


class CloseRefused(IllegalTransition):
    """A ticket cannot be closed yet: a tier-A ticket needs a cause category and resolution text."""


class Conflict(TicketError):
    """Someone else changed the ticket first (optimistic locking); reload and try again."""


class NoTechnician(TicketError):
    """Automatic dispatch found nobody covering the circuit's region."""


class OnSiteConfirmationNeeded(IllegalTransition):
    """Resolving while the system still sees the fault needs "confirmed restored on site" with a note."""
