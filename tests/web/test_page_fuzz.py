"""Property-based fuzzing of every page (hypothesis): whatever the path values, query and form fields, and
whoever is signed in, a page answers without a 500 and shows no secret. The server runs in its own thread and
loop so hypothesis can drive it with plain blocking requests, one signed-in cookie jar per user."""

from __future__ import annotations

import asyncio
import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from noc import auth
from noc.app import create_app
from noc.crypto import generate_key
from noc.settings import Settings
from tests import conftest as shared
from tests.api.conftest import SECRETS, stock_database
from tests.threaded import serve_in_thread
from tests.web.conftest import ALL_USERS, password_of

db_url = shared.db_url  # both databases here, not only the pages' SQLite
Opener = urllib.request.OpenerDirector
PERSONAL = ("Wang Fang", "+86 10 5555 0101")  # the example's contact, among the SECRETS


@dataclass
class Signed:
    opener: Opener
    csrf: str


@dataclass
class Pages:
    base: str
    users: dict[str, Signed]


async def _passwords(url: str) -> None:
    from noc.db import create_engine, session_factory

    engine = create_engine(url)
    try:
        for username in ALL_USERS:
            await auth.set_password(session_factory(engine), username, password_of(username))
    finally:
        await engine.dispose()


def _sign_in(base: str, username: str) -> Signed:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(f"{base}/login", timeout=10) as r:
        token = re.search(r'name="csrf" value="([^"]+)"', r.read().decode())
    assert token is not None
    form = {"csrf": token.group(1), "username": username, "password": password_of(username)}
    with opener.open(urllib.request.Request(f"{base}/login", data=urllib.parse.urlencode(form).encode())) as r:
        page = r.read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)  # the session's token, in the sign-out form
    assert csrf is not None, f"{username} could not sign in"
    return Signed(opener, csrf.group(1))


@pytest.fixture
def pages(db_url: str) -> Iterator[Pages]:
    key = generate_key()
    asyncio.run(stock_database(db_url, key, "fuzz"))
    asyncio.run(_passwords(db_url))
    app = create_app(Settings(database_url=db_url, secret_key=SecretStr(key)), service=False)
    with serve_in_thread(app) as base:
        users = {u: _sign_in(base, u) for u in ALL_USERS}
        # The forms the fuzz posts are accepted as forms (the CSRF token is right), so it reaches the handlers.
        admin = users["admin"]
        status, raw = _send(admin.opener, "POST", f"{base}/tickets/1/note", {"csrf": admin.csrf, "text": "fuzz"})
        assert status == 200 and b"fuzz" in raw, raw[:300]
        yield Pages(base, users)


# Every page but the ones that would end the fuzzing session (/logout), never answer (/board/events, a stream)
# or only draw what /reports/{contract} already loads and checks (the chart and the PDF).
OPERATIONS = [
    ("GET", "/"),
    ("GET", "/board"),
    ("GET", "/queue"),
    ("GET", "/tickets"),
    ("POST", "/tickets"),
    ("GET", "/tickets/{ticket_id}"),
    ("POST", "/tickets/{ticket_id}/{step}"),
    ("POST", "/tickets/{ticket_id}/contacts"),
    ("GET", "/accounts"),
    ("GET", "/accounts/{name}"),
    ("GET", "/accounts/{name}/weekly"),
    ("GET", "/reports/{contract}"),
    ("GET", "/reports/{contract}/sla.csv"),
    ("GET", "/contracts/{contract}/documents/{version}"),
    ("GET", "/admin/inventory"),
    ("GET", "/admin/inventory/import"),
    ("GET", "/admin/inventory/export"),
    ("POST", "/admin/inventory/import"),
    ("GET", "/devices"),
    ("GET", "/devices/{name}"),
    ("GET", "/devices/{name}/interface"),
    ("GET", "/circuits/{name}"),
    ("GET", "/graphs/interface"),
    ("GET", "/graphs/circuit"),
]
KNOWN = [
    "1", "2", "99999999999", "acme-bank", "ACME-2026-01", "ACME-BJ-001", "tom-north", "2026-10", "2026-W44", "new",
    "closed", "a\x00b", "pe-bj-01", "GigabitEthernet0/0/1", "30d", "1h", "2026-11-30T10:00:00Z", "traffic", "loss",
]  # fmt: skip
STEPS = ["ack", "start", "pending", "resolve", "reopen", "assign", "note", "close", "rate", "nope"]
texts = st.one_of(
    st.sampled_from(KNOWN),
    st.text(max_size=40),
    st.integers(-(2**70), 2**70).map(str),
    st.from_regex(r"\d{4}-W?\d{2}", fullmatch=True),
)
QUERY = ["month", "week", "status", "account", "technician", "offset", "notice", "next"]
QUERY += ["q", "state", "region", "sort", "name", "range", "start", "end", "metric", "device", "interface", "circuit"]
FORM = [
    "text", "cause_category", "resolution", "score", "comment", "technician", "auto", "version", "circuit",
    "summary", "impact", "kind", "dry_run",
]  # fmt: skip


def _send(opener: Opener, method: str, url: str, form: dict[str, str] | None) -> tuple[int, bytes]:
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    try:
        with opener.open(request, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    operation=st.sampled_from(OPERATIONS),
    path_value=texts,
    step=st.sampled_from(STEPS),
    query=st.dictionaries(st.sampled_from(QUERY), texts, max_size=3),
    form=st.dictionaries(st.sampled_from(FORM), texts, max_size=4),
    username=st.sampled_from(ALL_USERS),
)
def test_no_page_input_makes_a_500(
    pages: Pages,
    operation: tuple[str, str],
    path_value: str,
    step: str,
    query: dict[str, str],
    form: dict[str, str],
    username: str,
) -> None:
    method, template = operation
    value = urllib.parse.quote(path_value, safe="")
    path = template.format(name=value, contract=value, ticket_id=value, step=step, version=value)
    url = pages.base + path + ("?" + urllib.parse.urlencode(query) if query else "")
    signed = pages.users[username]
    body = {"csrf": signed.csrf, **form} if method == "POST" else None
    status, raw = _send(signed.opener, method, url, body)
    assert status < 500, (method, url, form, username, status, raw[:300])
    # The contacts form shows the customer's contacts on purpose (to those allowed, audited); nothing else may.
    shown = PERSONAL if template.endswith("/contacts") else ()
    for secret in SECRETS:
        assert secret in shown or secret.encode() not in raw, (method, url, secret)
