"""schemathesis against the served OpenAPI document, as an admin: every operation, a few generated requests each
(bounded: the whole module runs in well under two minutes), no 5xx and no answer the document does not allow
(status, media type, headers, body schema)."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from pydantic import SecretStr
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from noc.api.openapi import build_document
from noc.api.table import ROUTES
from noc.app import create_app
from noc.crypto import generate_key
from noc.settings import Settings
from tests.api.conftest import stock_database
from tests.threaded import serve_in_thread

# The document depends on code only (built once per app from the same table), so it is loaded without a server.
schema = schemathesis.openapi.from_dict(build_document(ROUTES))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    url = f"sqlite+aiosqlite:///{Path(tmp_path_factory.mktemp('schemathesis')) / 'noc.db'}"
    key = generate_key()
    token = asyncio.run(stock_database(url, key, "schemathesis"))["admin"]
    app = create_app(Settings(database_url=url, secret_key=SecretStr(key)), service=False)
    with serve_in_thread(app) as base:
        with urllib.request.urlopen(f"{base}/api/openapi.json", timeout=10) as served:
            assert json.load(served) == schema.raw_schema  # what was generated from is what is served
        yield base, token


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_to_its_document(case: schemathesis.Case, live: tuple[str, str]) -> None:
    base, token = live
    case.call_and_validate(base_url=base, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
