"""Every route of the REST API, one module per resource: what ``setup_api`` serves and the OpenAPI document
describes."""

from __future__ import annotations

from collections.abc import Sequence

from noc.api import documents, routes, search, series
from noc.api.routes import Route

ROUTES: Sequence[Route] = (*routes.ROUTES, *series.ROUTES, *search.ROUTES, *documents.ROUTES)
