"""Contract documents: list a contract's documents with their hashes (whoever may see its account), store the next
version (admins; the body is the file itself, its media type in Content-Type), fetch one verified (a tampered
document answers 409 and is flagged for the administrators)."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from aiohttp import web

from noc import audit
from noc.api import schemas as s
from noc.api.errors import ApiError
from noc.api.routes import JSON, MAX_ID, Call, Param, Route, readable_contract
from noc.keys import SETTINGS
from noc.records import documents
from tickets.access import Actor

CHUNK = 64 * 1024


def _origin(call: Call) -> audit.Origin:
    return audit.Origin(call.user.username, call.user.role, "api", client=call.request.remote or "")


async def _visible_contract(call: Call) -> str:
    """The path's contract, if the user may see its account (404 / 403 otherwise)."""
    name = call.request.match_info["contract"]
    async with call.sessions() as session:
        actor: Actor = await call.tickets.actor(session, call.user.username)
        await readable_contract(session, actor, name)
    return name


def _out(info: documents.DocumentInfo) -> s.DocumentOut:
    return s.DocumentOut.model_validate(info)


async def list_documents(call: Call) -> web.Response:
    name = await _visible_contract(call)
    async with call.sessions() as session:
        found = await documents.list_documents(session, name)
    return web.Response(text=s.DocumentList(items=[_out(d) for d in found]).model_dump_json(), content_type=JSON)


async def _content(request: web.Request, limit: int) -> bytes:
    """The body, read up to ``limit`` bytes (the app's own body limit is for JSON and forms, not documents)."""
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, f"body: {request.content_length} bytes is more than records.document_max_bytes ({limit})")
    data = bytearray()
    async for chunk in request.content.iter_chunked(CHUNK):
        data += chunk
        if len(data) > limit:
            raise ApiError(413, f"body: more than records.document_max_bytes ({limit})")
    return bytes(data)


async def attach_document(call: Call) -> web.Response:
    name = await _visible_contract(call)
    settings = call.request.app[SETTINGS].records
    filename = call.request.query.get("filename", "")
    if not filename:
        raise ApiError(400, "filename: required (the document's file name)", "filename")
    content = await _content(call.request, settings.document_max_bytes)
    declared = call.request.content_type
    kind = documents.checked_kind(content, filename, settings)
    if declared != documents.MEDIA_TYPES[kind]:
        raise ApiError(422, f"Content-Type: {declared} says otherwise than the content ({kind})", "Content-Type")
    info = await documents.attach(
        call.sessions, _origin(call), name, filename, content, settings, call.request.query.get("archive_ref", "")
    )
    return web.Response(text=_out(info).model_dump_json(), content_type=JSON)


async def fetch_document(call: Call) -> web.Response:
    name = await _visible_contract(call)
    text = call.request.match_info["version"]
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_ID:
        raise ApiError(404, f"no document version {text!r}", "version")
    info, content = await documents.fetch(call.sessions, _origin(call), name, int(text))
    return web.Response(
        body=content,
        content_type=info.media_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(info.filename)}",
            "X-Content-SHA256": info.sha256,
        },
    )


_CONTRACT = Param("contract", "path", {"type": "string"}, "the contract's name", required=True)
MEDIA = tuple(documents.MEDIA_TYPES.values())

ROUTES: Sequence[Route] = (
    Route(
        "GET",
        "/api/contracts/{contract}/documents",
        list_documents,
        "A contract's documents, newest version first, with their SHA-256 (and when one was found tampered)",
        "contracts",
        s.DocumentList,
        (_CONTRACT,),
        errors=(401, 403, 404),
    ),
    Route(
        "POST",
        "/api/contracts/{contract}/documents",
        attach_document,
        "Store the contract's document as its next version (admin): the body is the file (PDF, PNG, JPEG or TIFF)",
        "contracts",
        s.DocumentOut,
        (
            _CONTRACT,
            Param("filename", "query", {"type": "string", "minLength": 1, "maxLength": 200}, required=True),
            Param("archive_ref", "query", {"type": "string", "maxLength": 200}, "where the paper original is"),
        ),
        errors=(400, 401, 403, 404, 413, 422),
        admin_only=True,
        upload=MEDIA,
    ),
    Route(
        "GET",
        "/api/contracts/{contract}/documents/{version}",
        fetch_document,
        "One version of the contract's document, its SHA-256 verified (409: the content was changed; flagged)",
        "contracts",
        None,
        (_CONTRACT, Param("version", "path", {"type": "integer", "minimum": 1}, required=True)),
        errors=(401, 403, 404, 409),
        media=MEDIA,
    ),
)
