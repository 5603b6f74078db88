"""How failures become HTTP answers: one JSON body ``{"error": ..., "field": ...}`` naming the problem.

The tickets package's errors carry the role rules' and the lifecycle's verdicts; they map one to one onto status
codes here so a refusal reads the same from the CLI and from the API."""

from __future__ import annotations

from aiohttp import web
from pydantic import ValidationError

from noc.errors import InputError
from noc.records.errors import NotFound as RecordNotFound
from noc.records.errors import RecordsInputError, TamperedDocument
from tickets.errors import Conflict, IllegalTransition, InvalidRequest, NoTechnician, NotFound, Refused, TicketError


class ApiError(Exception):
    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


def error_response(status: int, message: str, field: str | None = None) -> web.Response:
    return web.json_response({"error": message, "field": field}, status=status)


def ticket_status(exc: TicketError) -> int:
    # NotFound is an InvalidRequest (the CLI's exit 2), so it is tested first.
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Refused):
        return 403
    if isinstance(exc, InvalidRequest):
        return 422
    if isinstance(exc, Conflict | IllegalTransition | NoTechnician):
        return 409
    return 409


def records_status(exc: Exception) -> int | None:
    """The status of a records error: an unknown contract or document, a refused document or backup, a document
    whose content no longer matches its hash (a conflict between the record and what is stored)."""
    if isinstance(exc, RecordNotFound):
        return 404
    if isinstance(exc, RecordsInputError):
        return 422
    if isinstance(exc, TamperedDocument):
        return 409
    return None


def from_exception(exc: Exception) -> web.Response | None:
    """The answer for an error we expect, or None to let it propagate (a bug: aiohttp logs it and answers 500)."""
    if isinstance(exc, ApiError):
        return error_response(exc.status, exc.message, exc.field)
    if isinstance(exc, TicketError):
        return error_response(ticket_status(exc), str(exc))
    status = records_status(exc)
    if status is not None:
        return error_response(status, str(exc), exc.field if isinstance(exc, RecordsInputError) else None)
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        return error_response(422, f"{field or 'body'}: {first['msg']}", field)
    if isinstance(exc, InputError):
        return error_response(422, str(exc))
    return None
