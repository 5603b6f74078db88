"""The OpenAPI 3.1 document, built from the route table and the pydantic models (JSON Schema 2020-12, which
OpenAPI 3.1 uses as is), so it describes exactly what is served."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

import noc
from exporters.alertmanager import Notification
from noc.api import webhook
from noc.api.routes import JSON, Route
from noc.api.schemas import Error, WebhookOut

REF = "#/components/schemas/{model}"
_REASONS = {
    400: "Malformed request: a query parameter or the body is not what it must be",
    401: "No valid bearer token",
    403: "The user's role does not allow this",
    404: "No such thing",
    409: "Conflict: someone changed it first, or the lifecycle does not allow this step now",
    413: "The body is larger than the server accepts",
    415: "The body must be application/json",
    422: "The request is well-formed but its content is refused",
}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _operation(route: Route) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": route.handler.__name__,
        "summary": route.summary,
        "tags": [route.tag],
        "security": [{"bearer": []}],
    }
    if route.params:
        op["parameters"] = [
            {"name": p.name, "in": p.where, "required": p.required, "schema": p.schema}
            | ({"description": p.description} if p.description else {})
            for p in route.params
        ]
    if route.body is not None:
        op["requestBody"] = {"required": False, "content": {JSON: {"schema": _ref(route.body)}}}
    elif route.upload:  # bytes stored as they are (a contract document)
        op["requestBody"] = {
            "required": True,
            "content": {media: {"schema": {"type": "string", "contentMediaType": media}} for media in route.upload},
        }
    elif route.method == "PUT":  # the inventory document
        # YAML is structured: the schema describes the document it parses to (the inventory's sections)
        op["requestBody"] = {"required": True, "content": {"application/yaml": {"schema": {"type": "object"}}}}
    content: dict[str, Any] = {}
    for media in route.media:
        if media == JSON:
            content[media] = {"schema": _ref(route.response) if route.response else {"type": "object"}}
        elif media == "application/pdf" or media.startswith("image/"):
            content[media] = {"schema": {"type": "string", "contentMediaType": media}}
        elif media == "application/yaml":
            content[media] = {"schema": {"type": "object"}}
        else:
            content[media] = {"schema": {"type": "string"}}
    responses: dict[str, Any] = {"200": {"description": "OK", "content": content}}
    # Any route may answer 400 (a NUL in a parameter) and 401 (no valid token): the wrapper does that for all.
    op["responses"] = responses | _errors(set(route.errors) | {400, 401})
    return op


def _errors(statuses: set[int]) -> dict[str, Any]:
    return {
        str(status): {"description": _REASONS[status], "content": {JSON: {"schema": _ref(Error)}}}
        for status in sorted(statuses)
    }


def _webhook() -> dict[str, Any]:
    return {
        "post": {
            "operationId": "alertmanager_webhook",
            "summary": "Alertmanager notifications (payload version 4) in: faults open and update tickets; a "
            "'resolved' alert resolves only what the system itself sees recovered. The whole notification is "
            "refused (nothing written) when malformed (400) or when an instant lies outside the accepted window "
            "(422).",
            "tags": ["alerts"],
            "security": [{"alertmanager": []}],
            "requestBody": {"required": True, "content": {JSON: {"schema": _ref(Notification)}}},
            "responses": {"200": {"description": "OK", "content": {JSON: {"schema": _ref(WebhookOut)}}}}
            | _errors({400, 401, 413, 415, 422}),
        }
    }


def build_document(routes: Sequence[Route]) -> dict[str, Any]:
    models: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = [
        (Error, "serialization"),
        (WebhookOut, "serialization"),
        (Notification, "validation"),
    ]
    for route in routes:
        if route.response is not None:
            models.append((route.response, "serialization"))
        if route.body is not None:
            models.append((route.body, "validation"))
    _, schemas = models_json_schema(models, ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    paths[webhook.PATH] = _webhook()
    paths["/api/openapi.json"] = {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "tags": ["meta"],
            "security": [],
            "responses": {"200": {"description": "OK", "content": {JSON: {"schema": {"type": "object"}}}}},
        }
    }
    paths["/api/docs"] = {
        "get": {
            "operationId": "docs",
            "summary": "This document as a page (Swagger UI)",
            "tags": ["meta"],
            "security": [],
            "responses": {
                "200": {"description": "OK", "content": {"text/html": {"schema": {"type": "string"}}}},
                "503": {
                    "description": "Swagger UI is not installed (`npm ci`)",
                    "content": {JSON: {"schema": _ref(Error)}},
                },
            },
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "NOC API",
            "version": noc.__version__,
            "description": "Inventory, live state, tickets, SLA and key accounts. Every route but this document "
            "needs `Authorization: Bearer <token>` (`noc users token USER`); the user's role decides what they see "
            'and may do. Errors answer `{"error": ..., "field": ...}`.',
        },
        "paths": paths,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "a user's API token"},
                "alertmanager": {"type": "http", "scheme": "bearer", "description": "web.alertmanager_token"},
            },
        },
    }
