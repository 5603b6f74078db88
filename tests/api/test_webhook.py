"""``POST /api/alertmanager`` against a hostile network: closed without a token, JSON only, a forged "resolved"
cannot close a ticket the system still sees failing, and no body or instant (any nesting depth, any shape, the
whole datetime range in ``startsAt`` and ``endsAt``) gets a 500 or leaves anything written when refused."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from noc import dbadmin
from noc import models as m
from noc.app import create_app, open_endpoints
from noc.crypto import SecretBox, generate_key
from noc.db import Base, create_engine, session_factory
from noc.inventory import service as inventory
from noc.settings import Settings, WebSettings
from noc.timeutil import utcnow
from tests.conftest import EXAMPLE_INVENTORY
from tests.threaded import serve_in_thread
from tickets.models import Ticket, WorklogEntry

TOKEN = "am-token-for-the-test"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _settings(url: str, key: str, **web: Any) -> Settings:
    return Settings(database_url=url, secret_key=SecretStr(key), web=WebSettings(**web))


def web_app(settings: Settings) -> web.Application:
    return create_app(settings, service=False)


def _alert(status: str, starts: str, ends: str | None = None, **labels: str) -> dict[str, Any]:
    found: dict[str, Any] = {"status": status, "labels": {"alertname": "NocCircuitLossAboveContract", **labels}}
    found["startsAt"] = starts
    if ends is not None:
        found["endsAt"] = ends
    return found


def _note(*alerts: dict[str, Any], status: str = "firing") -> dict[str, Any]:
    return {"version": "4", "status": status, "alerts": list(alerts)}


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


@pytest.fixture
async def client(
    engine: object, sessions: async_sessionmaker[AsyncSession], box: SecretBox, secret_key: str, db_url: str
) -> AsyncIterator[TestClient[Any, Any]]:
    await inventory.import_file(sessions, box, EXAMPLE_INVENTORY, "test")
    app = web_app(_settings(db_url, secret_key, alertmanager_token=SecretStr(TOKEN)))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def test_closed_by_default_and_json_only(engine: object, db_url: str, secret_key: str) -> None:
    body = _note(_alert("firing", _iso(utcnow()), circuit="ACME-BJ-001"))
    async with TestClient(TestServer(web_app(_settings(db_url, secret_key)))) as unset:
        answer = await unset.post("/api/alertmanager", json=body)  # no token configured, not opened: closed
        assert answer.status == 401
        assert (await answer.json())["field"] == "Authorization"
    opened = web_app(_settings(db_url, secret_key, alertmanager_open=True))
    async with TestClient(TestServer(opened)) as open_client:
        # text/plain is what a cross-site form or fetch can send without asking first: refused
        answer = await open_client.post(
            "/api/alertmanager", data=json.dumps(body), headers={"Content-Type": "text/plain"}
        )
        assert answer.status == 415
        assert (await answer.json())["field"] == "Content-Type"


async def test_token_required_when_configured(client: TestClient[Any, Any]) -> None:
    body = _note(_alert("firing", _iso(utcnow()), circuit="ACME-BJ-001"))
    assert (await client.post("/api/alertmanager", json=body)).status == 401
    wrong = {"Authorization": "Bearer nope"}
    assert (await client.post("/api/alertmanager", json=body, headers=wrong)).status == 401
    answer = await client.post("/api/alertmanager", json=body, headers=AUTH)
    assert answer.status == 200
    assert len((await answer.json())["tickets"]) == 1


async def _open_ticket_of(sessions: async_sessionmaker[AsyncSession]) -> Ticket:
    async with sessions() as session:
        ticket = await session.scalar(select(Ticket).where(Ticket.cause_key == "alert:NocCircuitLossAboveContract"))
        assert ticket is not None
        return ticket


async def test_forged_resolved_for_a_down_device_leaves_the_ticket_open_with_a_worklog_line(
    client: TestClient[Any, Any], sessions: async_sessionmaker[AsyncSession]
) -> None:
    started = utcnow() - timedelta(minutes=10)
    firing = _note(_alert("firing", _iso(started), circuit="ACME-BJ-001"))
    assert (await client.post("/api/alertmanager", json=firing, headers=AUTH)).status == 200
    async with sessions() as session:  # the poller sees pe-bj-01 (ACME-BJ-001's PE) down
        device_id = await session.scalar(select(m.Device.id).where(m.Device.name == "pe-bj-01"))
        session.add(m.DeviceStatus(device_id=device_id, available=False, since=started))
        await session.commit()
    resolved = _note(_alert("resolved", _iso(started), _iso(utcnow()), circuit="ACME-BJ-001"), status="resolved")
    answer = await client.post("/api/alertmanager", json=resolved, headers=AUTH)
    assert answer.status == 200
    ticket = await _open_ticket_of(sessions)
    assert (await answer.json())["unconfirmed"] == [ticket.ref]
    assert ticket.status == "new" and ticket.fault_cleared_at is None
    async with sessions() as session:
        lines = list(await session.scalars(select(WorklogEntry).where(WorklogEntry.ticket_id == ticket.id)))
    assert [(w.author, "pe-bj-01 does not answer" in w.text) for w in lines] == [("system:alertmanager", True)]

    async with sessions() as session:  # the device answers again: the same claim now resolves the fault
        await session.execute(
            update(m.DeviceStatus).where(m.DeviceStatus.device_id == device_id).values(available=True)
        )
        await session.commit()
    answer = await client.post("/api/alertmanager", json=resolved, headers=AUTH)
    assert (await answer.json())["unconfirmed"] == []
    assert (await _open_ticket_of(sessions)).fault_cleared_at is not None


# --- the property: never a 500, a refusal names the field and writes nothing ---------------------------------


@dataclass
class Live:
    base: str
    url: str


async def _stock(url: str, key: str) -> None:
    engine = create_engine(url)
    try:
        await dbadmin.upgrade(engine)
        await inventory.import_file(session_factory(engine), SecretBox.from_text(key), EXAMPLE_INVENTORY, "test")
    finally:
        await engine.dispose()


async def _row_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return {
                table.name: int(await conn.scalar(select(func.count()).select_from(table)) or 0)
                for table in Base.metadata.sorted_tables
            }
    finally:
        await engine.dispose()


@pytest.fixture
def live(db_url: str) -> Iterator[Live]:
    key = generate_key()
    asyncio.run(_stock(db_url, key))
    with serve_in_thread(web_app(_settings(db_url, key, alertmanager_token=SecretStr(TOKEN)))) as base:
        yield Live(base, db_url)


def _post(base: str, raw: bytes) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json", **AUTH}
    request = urllib.request.Request(f"{base}/api/alertmanager", data=raw, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read()
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body  # not JSON: the assertion shows it


OFFSETS = st.sampled_from([UTC, timezone(timedelta(hours=23, minutes=59)), timezone(-timedelta(hours=23, minutes=59))])
INSTANTS = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59), timezones=OFFSETS).map(
        lambda at: at.isoformat()
    ),
    # the window's edges, where a real notification lives
    st.integers(min_value=-200 * 86400, max_value=86400).map(lambda s: _iso(utcnow() + timedelta(seconds=s))),
    st.text(max_size=30),
)
LABELS = st.fixed_dictionaries(
    {"alertname": st.sampled_from(["NocCircuitLossAboveContract", "NocDeviceDown", ""])},
    optional={
        "circuit": st.sampled_from(["ACME-BJ-001", "CITY-SH-001", "no-such-circuit"]),
        "device": st.sampled_from(["pe-bj-01", "nope"]),
        "impact": st.sampled_from(["service_down", "degraded", "bogus"]),
    },
)
ALERTS = st.builds(
    lambda status, labels, starts, ends: (
        {"status": status, "labels": labels, "startsAt": starts} | ({} if ends is None else {"endsAt": ends})
    ),
    st.sampled_from(["firing", "resolved", "other"]),
    LABELS,
    INSTANTS,
    st.none() | INSTANTS,
)
NOTIFICATIONS = st.builds(
    lambda status, alerts: json.dumps({"version": "4", "status": status, "alerts": alerts}).encode(),
    st.sampled_from(["firing", "resolved"]),
    st.lists(ALERTS, max_size=3),
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=20,
).map(lambda value: json.dumps(value).encode())
DEEP = st.builds(
    lambda depth, as_list: b"[" * depth + b"]" * depth if as_list else b'{"a":' * depth + b"1" + b"}" * depth,
    st.integers(min_value=1, max_value=200_000),
    st.booleans(),
)
BODIES = st.one_of(NOTIFICATIONS, JSON_VALUES, DEEP, st.binary(max_size=200))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=BODIES)
def test_any_body_is_answered_2xx_or_a_4xx_naming_the_field_and_a_refusal_writes_nothing(
    live: Live, raw: bytes
) -> None:
    before = asyncio.run(_row_counts(live.url))
    status, body = _post(live.base, raw)
    assert status == 200 or 400 <= status < 500, (status, body)
    if status != 200:
        assert isinstance(body, dict) and body["field"], (status, body)
        assert asyncio.run(_row_counts(live.url)) == before


def test_serve_says_at_start_what_the_settings_leave_open() -> None:
    assert open_endpoints(Settings()) == []
    assert open_endpoints(Settings(web=WebSettings(metrics_token=SecretStr("t"), metrics_open=True))) == []
    opened = Settings(web=WebSettings(alertmanager_open=True, metrics_open=True))
    assert open_endpoints(opened) == [
        "POST /api/alertmanager accepts notifications without a token (web.alertmanager_open)",
        "/metrics answers without credentials (web.metrics_open)",
    ]
