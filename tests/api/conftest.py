"""API fixtures: the example operator imported, a token per role, the app in-process (no poller), and a checker
that validates every response against the served OpenAPI document."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from jsonschema import Draft202012Validator
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from noc import auth, dbadmin
from noc.app import create_app
from noc.crypto import SecretBox
from noc.db import create_engine, session_factory
from noc.inventory import service as inventory
from noc.settings import Settings
from tests.conftest import EXAMPLE_INVENTORY
from tickets.rules import FaultEvent, FaultKind, Impact
from tickets.service import TicketService

# Who the example operator has in each role (technicians: tom covers the north, li the south).
USERS = {"admin": "admin", "noc": "nina", "technician": "tom", "account_manager": "karl"}
# Values from the example inventory that must never leave the server: secrets and contacts' personal data.
SECRETS = (
    "v3-auth-Kq8pZr2mX4",
    "v3-priv-Tn5wYb7cV1",
    "ro-Hx92mPq7Lz",
    "ssh-Pw4Rt8Ks2Dm",
    "ssh-Jn3Bv6Qx9Wa",
    "Wang Fang",
    "+86 10 5555 0101",
)


@dataclass
class Api:
    """A client that knows the tokens and checks each JSON answer against the OpenAPI document."""

    client: TestClient[Any, Any]
    tokens: dict[str, str]
    sessions: async_sessionmaker[AsyncSession]
    service: TicketService
    secret_key: str
    doc: dict[str, Any] = field(default_factory=dict)
    checked: int = 0

    async def call(
        self, method: str, path: str, role: str | None = "admin", *, json: Any = None, **kw: Any
    ) -> tuple[ClientResponse, Any]:
        headers = dict(kw.pop("headers", {}))
        if role is not None:
            headers["Authorization"] = f"Bearer {self.tokens[role]}"
        response = await self.client.request(method, path, json=json, headers=headers, **kw)
        body = await response.read()
        self.check(method, path, response, body)
        data: Any = None
        if response.content_type == "application/json":
            data = await response.json()
        return response, data

    def check(self, method: str, path: str, response: ClientResponse, body: bytes) -> None:
        """The answer's status and media type are documented for the route, and a JSON body matches its schema;
        no secret appears in any answer."""
        for secret in SECRETS + tuple(self.tokens.values()):
            assert secret.encode() not in body, f"{method} {path} leaked {secret!r}"
        operation = self.operation(method, path.split("?")[0])
        documented = operation["responses"].get(str(response.status))
        assert documented is not None, f"{method} {path}: {response.status} is not documented"
        content = documented["content"]
        assert response.content_type in content, f"{method} {path}: {response.content_type} not documented"
        if response.content_type == "application/json":
            import json

            schema = {**content["application/json"]["schema"], "components": self.doc["components"]}
            Draft202012Validator(schema).validate(json.loads(body))
        self.checked += 1

    def template(self, method: str, path: str) -> str:
        """The documented path template a concrete path answers to."""
        for template, ops in self.doc["paths"].items():
            pattern = "^" + re.sub(r"\{[^/]+\}", "[^/]+", template) + "$"
            if re.match(pattern, path) and method.lower() in ops:
                return str(template)
        raise AssertionError(f"{method} {path} is not in the OpenAPI document")

    def operation(self, method: str, path: str) -> dict[str, Any]:
        return dict(self.doc["paths"][self.template(method, path)][method.lower()])

    async def open_ticket(
        self, circuit: str = "ACME-BJ-001", summary: str = "latency above contract", cause: str = "manual"
    ) -> int:
        return await open_manual_ticket(self.service, circuit, summary, cause)


async def open_manual_ticket(service: TicketService, circuit: str, summary: str, cause: str) -> int:
    """A new degraded-impact ticket opened by hand (a distinct ``cause`` on the same circuit is a distinct ticket,
    not a recurrence)."""
    event = FaultEvent(FaultKind.MANUAL, circuit, cause, Impact.DEGRADED, datetime.now(UTC), summary)
    return (await service.handle_fault(event)).ticket_id


async def stock_database(url: str, key: str, token_name: str) -> dict[str, str]:
    """A migrated database with the example operator, a manual ticket on an acme-bank and a city-gov circuit, and
    an API token per role (for servers a test runs in another thread)."""
    engine = create_engine(url)
    try:
        await dbadmin.upgrade(engine)
        sessions = session_factory(engine)
        box = SecretBox.from_text(key)
        await inventory.import_file(sessions, box, EXAMPLE_INVENTORY, "test")
        service = TicketService(sessions, Settings().tickets, box=box)
        for circuit in ("ACME-BJ-001", "CITY-SH-001"):
            await open_manual_ticket(service, circuit, "latency above contract", "manual")
        return {role: await auth.issue_token(sessions, user, token_name) for role, user in USERS.items()}
    finally:
        await engine.dispose()


@pytest.fixture
async def api(
    engine: object, sessions: async_sessionmaker[AsyncSession], box: SecretBox, secret_key: str, db_url: str
) -> AsyncIterator[Api]:
    await inventory.import_file(sessions, box, EXAMPLE_INVENTORY, "test")
    tokens = {role: await auth.issue_token(sessions, user, "tests") for role, user in USERS.items()}
    tokens["other_manager"] = await auth.issue_token(sessions, "mei", "tests")
    tokens["other_technician"] = await auth.issue_token(sessions, "li", "tests")
    settings = Settings(database_url=db_url, secret_key=SecretStr(secret_key))
    async with TestClient(TestServer(create_app(settings, service=False))) as client:
        doc = await (await client.get("/api/openapi.json")).json()
        api = Api(client, tokens, sessions, TicketService(sessions, settings.tickets, box=box), secret_key, doc)
        yield api
