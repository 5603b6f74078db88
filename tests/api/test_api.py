"""The REST API in-process on SQLite and PostgreSQL: every answer checked against the OpenAPI document, the role
rules on every route, the ticket flow, conflicts, reports, and bad input answered as such (never 500)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from noc import auth
from noc import models as m
from noc.crypto import SecretBox
from noc.store import partitions
from noc.store.compliance import months_before
from tests.api.conftest import Api
from tests.conftest import EXAMPLE_INVENTORY
from tests.noc.test_compliance import available_throughout
from tests.tickets.conftest import restored_late
from tickets.rules import FaultEvent, FaultKind, Impact


async def test_the_document_describes_every_api_route(api: Api) -> None:
    doc = api.doc
    assert doc["openapi"].startswith("3.1")
    for schema in doc["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    served = {
        (r.method.lower(), r.resource.canonical)
        for r in api.client.app.router.routes()
        if r.resource is not None and r.resource.canonical.startswith("/api/") and r.method != "HEAD"
    }
    documented = {(method, path) for path, ops in doc["paths"].items() for method in ops}
    assert served == documented  # the Alertmanager webhook included, with its own token and payload
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if path not in ("/api/openapi.json", "/api/docs"):  # public: the document and its page
                assert "401" in op["responses"], (method, path)


async def test_a_token_is_required_and_must_be_valid(api: Api) -> None:
    response, body = await api.call("GET", "/api/tickets", role=None)
    assert response.status == 401
    assert "bearer token" in body["error"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    for header in ("Bearer noc_not-a-token", "Basic YWRtaW46YWRtaW4=", "Bearer "):
        response, body = await api.call("GET", "/api/tickets", role=None, headers={"Authorization": header})
        assert response.status == 401, header
    assert await auth.revoke_tokens(api.sessions, "nina", "tests") == 1
    response, _ = await api.call("GET", "/api/tickets", role="noc")
    assert response.status == 401


async def test_tokens_are_stored_hashed_and_listed_without_the_token(api: Api) -> None:
    async with api.sessions() as session:
        stored = {t.token_sha256 for t in (await session.scalars(select(m.ApiToken)))}
    for token in api.tokens.values():
        assert token not in stored
        assert auth.token_digest(token) in stored
    assert (await auth.list_tokens(api.sessions, "admin"))[0].last_used_at is None
    await api.call("GET", "/api/accounts", "admin")
    listed = await auth.list_tokens(api.sessions, "admin")
    assert [t.name for t in listed] == ["tests"]
    assert listed[0].last_used_at is not None
    assert api.tokens["admin"] not in repr(listed)


ALL = ("admin", "noc", "technician", "account_manager", None)


def expect(*statuses: int, **others: int) -> dict[str | None, int]:
    """Statuses for admin, noc, technician (tom, north), account manager (karl, acme-bank), no token; then the
    other technician (li, south) and manager (mei, city-gov) by name where they differ from their colleague."""
    table: dict[str | None, int] = dict(zip(ALL, statuses, strict=True))
    table.update(others)
    return table


# Path (with {t} for a ticket), body, expected statuses. Reading routes share one ticket; each call on a
# ticket-changing route gets a new ticket, NEW, on ACME-BJ-001 (acme-bank, karl's; pe-bj-01, north, tom's).
READS: list[tuple[str, str, dict[str | None, int]]] = [
    ("GET", "/api/docs", expect(200, 200, 200, 200, 200)),  # public, like the document it shows
    ("GET", "/api/devices", expect(200, 200, 200, 200, 401)),
    ("GET", "/api/devices/pe-bj-01", expect(200, 200, 200, 200, 401)),
    ("GET", "/api/circuits", expect(200, 200, 200, 200, 401)),
    ("GET", "/api/circuits/ACME-BJ-001", expect(200, 200, 403, 200, 401, other_manager=403)),
    ("GET", "/api/circuits?account=acme-bank", expect(200, 200, 403, 200, 401, other_manager=403)),
    ("GET", "/api/accounts", expect(200, 200, 200, 200, 401)),
    ("GET", "/api/accounts/acme-bank/health", expect(200, 200, 403, 200, 401, other_manager=403)),
    ("GET", "/api/inventory", expect(200, 403, 403, 403, 401)),
    ("GET", "/api/tickets", expect(200, 200, 200, 200, 401)),
    # a filter narrows what the user may see: another's account matches nothing (an empty page, not a refusal)
    ("GET", "/api/tickets?account=acme-bank", expect(200, 200, 200, 200, 401)),
    ("GET", "/api/tickets/{t}", expect(200, 200, 200, 200, 401, other_technician=403, other_manager=403)),
    ("GET", "/api/sla/breaches", expect(200, 200, 200, 200, 401)),
    # Graphs: an interface's for the network's people; a circuit's for whoever may see its account.
    ("GET", "/api/devices/pe-bj-01/series?interface=GigabitEthernet0/0/1", expect(200, 200, 200, 403, 401)),
    ("GET", "/api/circuits/ACME-BJ-001/series?metric=loss", expect(200, 200, 403, 200, 401, other_manager=403)),
    ("GET", "/api/audit", expect(200, 403, 403, 403, 401)),
    ("GET", "/api/search?q=acme", expect(200, 200, 200, 200, 401)),  # each sees what they may (the read model)
    (
        "GET",
        "/api/sla/reports/ACME-2026-01?month=2026-11&format=csv",
        expect(200, 200, 403, 200, 401, other_manager=403),
    ),
    # Contract documents: for whoever may see the contract's account (none stored yet: version 1 is a 404).
    ("GET", "/api/contracts/ACME-2026-01/documents", expect(200, 200, 403, 200, 401, other_manager=403)),
    ("GET", "/api/contracts/ACME-2026-01/documents/1", expect(404, 404, 403, 404, 401, other_manager=403)),
]
WRITES: list[tuple[str, str, dict[str, object] | None, dict[str | None, int]]] = [
    ("POST", "/api/tickets/{t}/ack", {}, expect(200, 200, 403, 403, 401)),
    ("POST", "/api/tickets/{t}/assign", {"technician": "tom-north"}, expect(200, 200, 403, 403, 401)),
    # Working a ticket is for the NOC or the technician it is assigned to (nobody yet).
    ("POST", "/api/tickets/{t}/resolve", None, expect(200, 200, 403, 403, 401)),
    ("POST", "/api/tickets/{t}/start", None, expect(200, 200, 403, 403, 401)),
    # Start and resume are one move in the lifecycle (to in progress), which a new ticket may make.
    ("POST", "/api/tickets/{t}/resume", None, expect(200, 200, 403, 403, 401)),
    # Self-dispatch: only a technician, only an unassigned ticket of their region (tom's north, not li's south).
    ("POST", "/api/tickets/{t}/take", None, expect(403, 403, 200, 403, 401, other_technician=403)),
    # A new ticket does not wait on the customer: nobody has answered it yet.
    ("POST", "/api/tickets/{t}/pending", {"reason": "no access"}, expect(409, 409, 403, 403, 401)),
    # Allowed roles, refused by the lifecycle: a new ticket neither closes, reopens nor is rated.
    ("POST", "/api/tickets/{t}/close", {}, expect(409, 409, 403, 403, 401)),
    ("POST", "/api/tickets/{t}/reopen", None, expect(409, 409, 403, 403, 401)),
    ("POST", "/api/tickets/{t}/rating", {"score": 5}, expect(409, 409, 403, 409, 401, other_manager=403)),
    (
        "POST",
        "/api/tickets/{t}/notes",
        {"text": "called the customer"},
        expect(200, 200, 200, 200, 401, other_technician=403, other_manager=403),
    ),
    ("PUT", "/api/inventory?dry_run=true", None, expect(200, 403, 403, 403, 401)),
    (
        "POST",
        "/api/tickets",
        {"circuit": "ACME-BJ-001", "summary": "slow since nine"},
        expect(200, 200, 200, 200, 401, other_technician=403, other_manager=403),
    ),
    # Storing a contract document is the admin's (a JSON body is no document: 422).
    ("POST", "/api/contracts/ACME-2026-01/documents?filename=a.pdf", {}, expect(422, 403, 403, 403, 401)),
    # The webhook takes Alertmanager's own token (none configured here: closed), never a user's.
    ("POST", "/api/alertmanager", {"version": "4", "status": "firing", "alerts": []}, expect(401, 401, 401, 401, 401)),
]


async def test_roles_on_every_route(api: Api) -> None:
    """Role x route x expected status, on every route. The refusals are the tickets service's rules
    (tickets.access); inventory writes and the export are the admin's alone."""
    documented = {(method.upper(), path) for path, ops in api.doc["paths"].items() for method in ops}
    tabled = {(m_, api.template(m_, p.split("?")[0])) for m_, p, *_ in [*READS, *WRITES]}
    assert documented - {("GET", "/api/openapi.json")} == tabled  # every route is in the table
    shared = await api.open_ticket(cause="shared")
    inventory_text = EXAMPLE_INVENTORY.read_text()
    wrong = []
    count = 0
    for method, path, expected in READS:
        for role, status in expected.items():
            response, body = await api.call(method, path.format(t=shared), role)
            count += 1
            if response.status != status or not (status == 200 or body["error"]):
                wrong.append((method, path, role, status, response.status, body))
    for method, path, payload, expected in WRITES:
        for role, status in expected.items():
            ticket = await api.open_ticket(cause=f"role-{count}")
            kwargs: dict[str, object] = {"json": payload} if payload is not None else {}
            if method == "PUT":
                kwargs = {"data": inventory_text}
            response, body = await api.call(method, path.format(t=ticket), role, **kwargs)
            count += 1
            if response.status != status or not (status == 200 or body["error"]):
                wrong.append((method, path, role, status, response.status, body))
    assert not wrong, "\n".join(map(str, wrong))
    assert count >= 5 * (len(READS) + len(WRITES))


async def test_ticket_flow_through_the_api(api: Api) -> None:
    response, opened = await api.call(
        "POST",
        "/api/tickets",
        "account_manager",
        json={"circuit": "ACME-BJ-001", "summary": "packet loss towards the branch", "impact": "service_down"},
    )
    assert (response.status, opened["action"]) == (200, "opened")
    ticket = opened["ticket_id"]
    t = f"/api/tickets/{ticket}"
    response, again = await api.call(
        "POST", "/api/tickets", "noc", json={"circuit": "ACME-BJ-001", "summary": "customer calls again"}
    )
    assert (again["ticket_id"], again["action"]) == (ticket, "appended")
    _, listed = await api.call("GET", "/api/tickets?status=new", "noc")
    assert [i["id"] for i in listed["items"]] == [ticket]
    _, shown = await api.call("GET", t, "noc")
    version = shown["ticket"]["version"]
    response, acked = await api.call("POST", f"{t}/ack", "noc", json={"expected_version": version})
    assert response.status == 200
    assert acked["status"] == "acknowledged"
    response, assigned = await api.call("POST", f"{t}/assign", "noc", json={"technician": "tom-north"})
    assert (response.status, assigned["technician"], assigned["status"]) == (200, "tom-north", "dispatched")
    response, _ = await api.call("POST", f"{t}/notes", "technician", json={"text": "splice replaced at the cabinet"})
    assert response.status == 200
    response, resolved = await api.call("POST", f"{t}/resolve", "technician")
    assert (response.status, resolved["status"]) == (200, "resolved")
    # Tier A (acme-bank): closing needs a cause category and a resolution.
    response, body = await api.call("POST", f"{t}/close", "technician", json={})
    assert response.status == 409
    assert "cause" in body["error"]
    response, closed = await api.call(
        "POST", f"{t}/close", "technician", json={"cause_category": "fibre_cut", "resolution": "splice replaced"}
    )
    assert (response.status, closed["status"]) == (200, "closed")
    response, _ = await api.call("POST", f"{t}/rating", "account_manager", json={"score": 4, "comment": "quick"})
    assert response.status == 200
    response, body = await api.call("POST", f"{t}/rating", "account_manager", json={"score": 5})
    assert response.status == 409
    assert "already rated" in body["error"]
    _, detail = await api.call("GET", t, "account_manager")
    assert [w["text"] for w in detail["worklog"]] == ["splice replaced at the cabinet"]
    assert [x["to_status"] for x in detail["transitions"]][-1] == "closed"
    assert detail["rating"]["score"] == 4
    assert (detail["cause_category"], detail["resolution"]) == ("fibre_cut", "splice replaced")
    response, reopened = await api.call("POST", f"{t}/reopen", "noc")
    assert (response.status, reopened["status"]) == (200, "reopened")
    response, body = await api.call(
        "POST", f"{t}/close", "noc", json={"cause_category": "fibre_cut", "resolution": "x"}
    )
    assert response.status == 409  # a reopened ticket is worked and resolved again before it closes
    _, health = await api.call("GET", "/api/accounts/acme-bank/health", "account_manager")
    assert health["account"] == "acme-bank"
    assert health["contacts"] is None
    assert [f["ticket"] for f in health["fault_history"]] == [closed["ref"]]


async def test_a_stale_version_is_a_conflict(api: Api) -> None:
    ticket = await api.open_ticket()
    _, shown = await api.call("GET", f"/api/tickets/{ticket}", "noc")
    version = shown["ticket"]["version"]
    # Meanwhile the fault gets worse: the service raises the ticket's impact (a new version).
    worse = FaultEvent(FaultKind.MANUAL, "ACME-BJ-001", "manual", Impact.SERVICE_DOWN, datetime.now(UTC), "down now")
    assert (await api.service.handle_fault(worse)).ticket_id == ticket
    response, body = await api.call("POST", f"/api/tickets/{ticket}/ack", "noc", json={"expected_version": version})
    assert response.status == 409
    assert "changed since you read it" in body["error"]


async def test_working_steps_through_the_api(api: Api) -> None:
    """Start, wait on the customer and resume, as the page and the CLI take them: the technician the ticket is
    dispatched to may, the other may not; a step the status does not allow is a 409 saying what is possible."""
    ticket = await api.open_ticket()
    t = f"/api/tickets/{ticket}"
    await api.call("POST", f"{t}/assign", "noc", json={"technician": "tom-north"})
    response, body = await api.call("POST", f"{t}/resume", "noc")  # dispatched -> in progress is allowed
    assert response.status == 200 and body["status"] == "in_progress"
    response, body = await api.call("POST", f"{t}/start", "technician")
    assert response.status == 409
    possible = "possible: dispatched, pending_customer, resolved"
    assert body["error"] == f"T-{ticket} is in_progress: it cannot become in_progress ({possible})"
    response, body = await api.call("POST", f"{t}/pending", "technician", json={"reason": "site closed"})
    assert (response.status, body["status"], body["restore_due_at"]) == (200, "pending_customer", None)
    response, body = await api.call("POST", f"{t}/resume", "other_technician")
    assert response.status == 403 and "li (technician) may not see" in body["error"]
    response, body = await api.call("POST", f"{t}/resume", "technician")
    assert (response.status, body["status"]) == (200, "in_progress")
    assert body["restore_due_at"] is not None  # the restoration clock runs again
    response, _ = await api.call("POST", f"{t}/resolve", "technician")
    for step in ("start", "pending", "resume"):
        response, body = await api.call(
            "POST", f"{t}/{step}", "technician", json={"reason": "x"} if step == "pending" else None
        )
        assert response.status == 409 and "is resolved: it cannot become" in body["error"], step
    response, body = await api.call("POST", "/api/tickets/999999/start", "noc")
    assert response.status == 404
    _, detail = await api.call("GET", t, "noc")
    assert [x["to_status"] for x in detail["transitions"]] == [
        "new",
        "dispatched",
        "in_progress",
        "pending_customer",
        "in_progress",
        "resolved",
    ]


async def test_concurrent_acknowledgements_one_wins(api: Api) -> None:
    ticket = await api.open_ticket()
    _, shown = await api.call("GET", f"/api/tickets/{ticket}", "noc")
    version = shown["ticket"]["version"]
    results = await asyncio.gather(
        *(
            api.call("POST", f"/api/tickets/{ticket}/ack", role, json={"expected_version": version})
            for role in ("noc", "admin")
        )
    )
    assert sorted(r.status for r, _ in results) == [200, 409]


async def test_concurrent_working_steps_one_wins(api: Api) -> None:
    """No version to send for the working steps: two at once still change the ticket once, the other is a 409."""
    ticket = await api.open_ticket()
    await api.call("POST", f"/api/tickets/{ticket}/start", "noc")
    results = await asyncio.gather(
        *(
            api.call("POST", f"/api/tickets/{ticket}/pending", role, json={"reason": "customer's site closed"})
            for role in ("noc", "admin")
        )
    )
    assert sorted(r.status for r, _ in results) == [200, 409]
    _, detail = await api.call("GET", f"/api/tickets/{ticket}", "noc")
    assert [x["to_status"] for x in detail["transitions"]].count("pending_customer") == 1


async def test_list_filters_and_paging(api: Api) -> None:
    ids = [await api.open_ticket(c) for c in ("ACME-BJ-001", "ACME-BJ-002", "CITY-SH-001")]
    _, first = await api.call("GET", "/api/tickets?limit=2", "noc")
    assert [i["id"] for i in first["items"]] == ids[::-1][:2]
    assert first["next_offset"] == 2
    _, second = await api.call("GET", "/api/tickets?limit=2&offset=2", "noc")
    assert [i["id"] for i in second["items"]] == [ids[0]]
    assert second["next_offset"] is None
    _, acme = await api.call("GET", "/api/tickets?account=acme-bank", "noc")
    assert {i["account"] for i in acme["items"]} == {"acme-bank"}
    _, karl = await api.call("GET", "/api/tickets", "account_manager")
    assert {i["account"] for i in karl["items"]} == {"acme-bank"}  # city-gov is mei's
    _, karl = await api.call("GET", "/api/tickets?account=city", "account_manager")
    assert karl["items"] == []  # mei's account: a filter narrows what karl may see
    # the page's vocabulary: the open group, repeated or comma-separated statuses, parts of names, sorting
    await api.call("POST", f"/api/tickets/{ids[0]}/resolve", "noc")
    for query in ("status=open", "status=new,acknowledged&status=reopened"):
        _, open_ = await api.call("GET", f"/api/tickets?{query}", "noc")
        assert [i["id"] for i in open_["items"]] == ids[:0:-1], query
    _, oldest = await api.call("GET", "/api/tickets?status=all&sort=oldest&circuit=acme-bj", "noc")
    assert [i["id"] for i in oldest["items"]] == ids[:2]
    _, by_device = await api.call("GET", "/api/tickets?device=PE-SH&text=latency", "noc")
    assert [i["id"] for i in by_device["items"]] == [ids[2]]


async def test_search_groups_by_kind_under_the_role_rules(api: Api) -> None:
    ticket = await api.open_ticket("ACME-BJ-001")
    _, body = await api.call("GET", f"/api/search?q=T-{ticket}", "noc")
    assert body["groups"] == [
        {
            "kind": "ticket",
            "items": [
                {"name": f"T-{ticket}", "detail": body["groups"][0]["items"][0]["detail"], "path": f"/tickets/{ticket}"}
            ],
            "more": False,
        }
    ]
    _, body = await api.call("GET", "/api/search?q=acme-bj", "noc")
    assert [(g["kind"], [i["name"] for i in g["items"]]) for g in body["groups"]] == [
        ("circuit", ["ACME-BJ-001", "ACME-BJ-002"])
    ]
    _, body = await api.call("GET", "/api/search?q=city", "account_manager")  # karl: not his account
    assert body == {"q": "city", "groups": []}


async def test_live_state_and_latest_measurements(api: Api) -> None:
    now = datetime.now(UTC)
    async with api.sessions() as session:
        device = await session.scalar(select(m.Device).where(m.Device.name == "pe-bj-01"))
        circuit = await session.scalar(select(m.Circuit).where(m.Circuit.name == "ACME-BJ-001"))
        assert device is not None
        assert circuit is not None
        session.add(m.DeviceStatus(device_id=device.id, available=False, since=now, consecutive_failures=3))
        await partitions.ensure_for(session, "interface_measurements", [now])
        await partitions.ensure_for(session, "probe_measurements", [now - timedelta(minutes=2), now])
        session.add(m.Interface(device_id=device.id, if_index=1, name=circuit.interface_name, oper_status="down"))
        for minutes, loss in ((2, 0.0), (1, 0.25)):
            session.add(
                m.ProbeMeasurement(
                    circuit_id=circuit.id,
                    ts=now.replace(microsecond=0) - timedelta(minutes=minutes),
                    method="ssh",
                    sent=4,
                    received=3,
                    loss_ratio=loss,
                    rtt_avg_ms=12.5,
                )
            )
        session.add(
            m.InterfaceMeasurement(
                device_id=device.id,
                if_name=circuit.interface_name,
                if_index=1,
                ts=now,
                oper_status="down",
                verdict="ok",
            )
        )
        session.add(m.SlaBreachRecord(circuit_id=circuit.id, objective="loss", measured=25.0, limit=1.0, since=now))
        await session.commit()
    _, dev = await api.call("GET", "/api/devices/pe-bj-01", "technician")
    assert dev["state"]["available"] is False
    assert dev["interfaces"][0]["oper_status"] == "down"
    _, ckt = await api.call("GET", "/api/circuits/ACME-BJ-001", "account_manager")
    assert ckt["latest_probe"]["loss_ratio"] == 0.25
    assert ckt["latest_interface"]["oper_status"] == "down"
    _, mine = await api.call("GET", "/api/sla/breaches", "account_manager")
    assert [(b["circuit"], b["objective"]) for b in mine["items"]] == [("ACME-BJ-001", "loss")]
    _, theirs = await api.call("GET", "/api/sla/breaches", "other_manager")
    assert theirs["items"] == []
    _, circuits = await api.call("GET", "/api/circuits", "other_manager")
    assert {c["account"] for c in circuits["items"]} == {"city-gov"}


async def test_monthly_report_as_json_csv_and_pdf(api: Api) -> None:
    base = "/api/sla/reports/ACME-2026-01?month=2026-10"
    response, body = await api.call("GET", base, "account_manager")
    assert response.status == 200
    assert body["contract"] == "ACME-2026-01"
    response, _ = await api.call("GET", base, "account_manager", headers={"Accept": "text/csv"})
    assert response.content_type == "text/csv"
    assert (await response.text()).startswith("row,circuit,")
    response, _ = await api.call("GET", base + "&format=pdf", "account_manager")
    assert response.status == 200
    assert response.content_type == "application/pdf"
    assert (await response.read()).startswith(b"%PDF")
    assert "sla-ACME-2026-01-2026-10.pdf" in response.headers["Content-Disposition"]
    # the customer's copy: a PDF, whatever the Accept header asks (its text: tests/web/test_customer_report.py)
    response, _ = await api.call("GET", base + "&audience=customer", "account_manager")
    assert response.status == 200 and response.content_type == "application/pdf"
    assert (await response.read()).startswith(b"%PDF")
    assert "sla-ACME-2026-01-2026-10-customer.pdf" in response.headers["Content-Disposition"]
    _, body = await api.call("GET", base, "account_manager")
    assert body["status"]["standing"] == "provisional"  # nothing stored for October: 0 % measured


async def test_bad_input_is_named_never_a_500(api: Api) -> None:
    ticket = await api.open_ticket()
    t = f"/api/tickets/{ticket}"
    cases: list[tuple[str, str, dict[str, object], int, str | None]] = [
        ("GET", "/api/tickets?limit=abc", {}, 400, "limit"),
        ("GET", "/api/tickets?limit=0", {}, 400, "limit"),
        ("GET", "/api/tickets?offset=-1", {}, 400, "offset"),
        ("GET", "/api/tickets?status=bogus", {}, 400, "status"),
        ("GET", "/api/tickets?status=open,bogus", {}, 400, "status"),
        ("GET", "/api/tickets?priority=P-1", {}, 400, "priority"),
        ("GET", "/api/tickets?since=2026-13-01", {}, 400, "since"),
        ("GET", "/api/tickets?since=2026-11-01T10:00", {}, 400, "since"),  # no zone
        ("GET", "/api/tickets?until=9999-12-31", {}, 400, "until"),
        ("GET", "/api/tickets?since=2026-11-02&until=2026-11-01", {}, 400, "until"),
        ("GET", "/api/tickets?sort=sideways", {}, 400, "sort"),
        ("GET", f"/api/tickets?text={'x' * 201}", {}, 400, "text"),
        ("GET", "/api/tickets/abc", {}, 404, "ticket_id"),
        ("GET", "/api/tickets/99999999999999999999", {}, 404, "ticket_id"),
        ("GET", "/api/tickets/%C2%B2", {}, 404, "ticket_id"),  # "²" is a digit to str.isdigit(), not to int()
        ("GET", "/api/tickets?limit=%C2%B2", {}, 400, "limit"),
        ("GET", "/api/tickets/424242", {}, 404, None),
        ("GET", "/api/tickets?account=a%00b", {}, 400, "account"),
        ("POST", f"{t}/notes", {"data": b"{not json"}, 400, "body"),
        ("POST", f"{t}/notes", {"json": [1, 2]}, 422, "body"),
        ("POST", f"{t}/notes", {"json": {"text": ""}}, 422, "text"),
        ("POST", f"{t}/notes", {"json": {"text": "a\x00b"}}, 422, "body"),
        ("POST", f"{t}/notes", {"json": {"txt": "typo"}}, 422, "text"),
        ("POST", f"{t}/ack", {"json": {"expected_version": "one"}}, 422, "expected_version"),
        ("POST", f"{t}/ack", {"json": {"expected_version": 2**70}}, 422, "expected_version"),
        ("POST", f"{t}/rating", {"json": {"score": 9}}, 422, "score"),
        ("POST", f"{t}/assign", {"json": {}}, 422, None),
        ("POST", f"{t}/assign", {"json": {"technician": "nobody"}}, 404, None),
        ("GET", "/api/devices/nope", {}, 404, "name"),
        ("GET", "/api/search", {}, 400, "q"),
        ("GET", "/api/search?q=%20", {}, 400, "q"),
        ("GET", f"/api/search?q={'x' * 101}", {}, 400, "q"),
        ("GET", "/api/circuits/nope", {}, 404, "name"),
        ("GET", "/api/accounts/nope/health", {}, 404, None),
        ("GET", "/api/sla/reports/ACME-2026-01", {}, 400, "month"),
        ("GET", "/api/sla/reports/ACME-2026-01?month=2026-13", {}, 400, "month"),
        ("GET", "/api/sla/reports/ACME-2026-01?month=0001-01", {}, 400, "month"),
        ("GET", "/api/sla/reports/ACME-2026-01?month=9999-12", {}, 400, "month"),
        ("GET", "/api/sla/reports/ACME-2026-01?month=2026-11&format=xls", {}, 400, "format"),
        ("GET", "/api/sla/reports/ACME-2026-01?month=2026-11&audience=boss", {}, 400, "audience"),
        ("GET", "/api/sla/reports/ACME-2026-01?month=2026-11&audience=customer&format=json", {}, 400, "format"),
        ("GET", "/api/sla/reports/NOPE?month=2026-11", {}, 404, "contract"),
        ("PUT", "/api/inventory", {"data": b"devices: [{name: x}]"}, 422, None),
        ("PUT", "/api/inventory", {"data": b"\xff\xfe"}, 400, "body"),
        ("PUT", "/api/inventory?dry_run=maybe", {"data": b""}, 400, "dry_run"),
        # the loader locates these like any other problem (file:line: field: reason in the error)
        ("PUT", "/api/inventory?dry_run=true", {"data": b"a: &a [*a]"}, 422, None),
        ("PUT", "/api/inventory?dry_run=true", {"data": b"x: " + b"[" * 5000 + b"]" * 5000}, 422, None),
        ("PUT", "/api/inventory?dry_run=true", {"data": b"!!python/object/apply:os.system ['true']"}, 422, None),
        ("POST", "/api/tickets", {"json": {"circuit": "NOPE", "summary": "x"}}, 404, None),
        ("POST", "/api/tickets", {"json": {"circuit": "ACME-BJ-001", "summary": "x", "impact": "bad"}}, 422, "impact"),
        ("POST", "/api/tickets", {"json": {"circuit": "ACME-BJ-001"}}, 422, "summary"),
    ]
    for method, path, kwargs, status, field in cases:
        response, body = await api.call(method, path, "admin", **kwargs)
        assert response.status == status, (method, path, kwargs, response.status, body)
        assert body["error"]
        if field is not None:
            assert body["field"] == field, (path, body)


async def test_inventory_import_is_admin_only_and_all_or_nothing(api: Api) -> None:
    text = EXAMPLE_INVENTORY.read_text().replace("Ada Admin", "Ada Lovelace")
    response, body = await api.call("PUT", "/api/inventory?dry_run=true", "admin", data=text)
    assert response.status == 200
    assert body["dry_run"] is True
    assert [c["name"] for c in body["changes"] if c["action"] == "updated"] == ["admin"]
    response, _ = await api.call("GET", "/api/inventory", "admin")
    assert "Ada Admin" in await response.text()  # the dry run wrote nothing
    response, body = await api.call("PUT", "/api/inventory", "admin", data=text)
    assert response.status == 200
    response, _ = await api.call("GET", "/api/inventory", "admin")
    assert "Ada Lovelace" in await response.text()


async def test_a_failed_last_used_write_does_not_fail_authentication(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    async def busy(self: AsyncSession) -> None:
        raise OperationalError("UPDATE api_tokens", None, Exception("database is locked"))

    monkeypatch.setattr(AsyncSession, "commit", busy)
    assert await auth.principal_for_token(api.sessions, api.tokens["noc"]) == auth.Principal("nina", "noc")


async def test_a_ticket_s_restore_verdict_is_in_its_json(api: Api) -> None:
    ticket = await restored_late(api.sessions, SecretBox.from_text(api.secret_key))
    verdict = {"net_s": 4 * 3600 + 14, "limit_s": 4 * 3600, "met": False, "breached_by_s": 14}
    _, shown = await api.call("GET", f"/api/tickets/{ticket}", "noc")
    assert shown["ticket"]["restore_verdict"] == verdict
    _, listed = await api.call("GET", "/api/tickets", "noc")
    assert [t["restore_verdict"] for t in listed["items"] if t["id"] == ticket] == [verdict]
    _, health = await api.call("GET", "/api/accounts/acme-bank/health", "account_manager")
    assert [f["restore_verdict"] for f in health["fault_history"]] == [verdict]


async def test_the_health_archive_shows_last_month_s_sla_compliance(api: Api) -> None:
    now = datetime.now(UTC)
    await available_throughout(api.sessions, "ACME-2026-01", now - timedelta(days=75), now)
    ((year, month),) = months_before(now.astimezone(ZoneInfo("Asia/Shanghai")).date(), 1)  # the contract's zone
    _, health = await api.call("GET", "/api/accounts/acme-bank/health", "account_manager")
    assert health["sla_compliance_available"] is True
    last = health["sla_compliance"][0]
    assert (last["contract"], last["month"], last["availability_pct"], last["met"]) == (
        "ACME-2026-01",
        f"{year:04d}-{month:02d}",
        100.0,
        True,
    )
    assert {o["objective"]: o["met"] for o in last["objectives"]}["availability"] is True


async def test_a_technicians_steps_through_the_api(api: Api) -> None:
    """Take, acknowledge with a note and until, wait on the customer for a reason, resolve while the device is down
    only as confirmed restored on site."""
    ticket = await api.open_ticket()
    t = f"/api/tickets/{ticket}"
    until = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    response, body = await api.call("POST", f"{t}/ack", "noc", json={"note": "looking", "until": "2026-11-30T10:00"})
    assert (response.status, body["field"]) == (422, "until")  # no zone
    response, acked = await api.call("POST", f"{t}/ack", "noc", json={"note": "looking", "until": until.isoformat()})
    assert (response.status, acked["status"]) == (200, "acknowledged")
    assert datetime.fromisoformat(acked["ack_until"]) == until
    response, body = await api.call("POST", f"{t}/take", "technician")
    assert (response.status, body["status"], body["technician"]) == (200, "dispatched", "tom-north")
    await api.call("POST", f"/api/tickets/{ticket}/notes", "technician", json={"text": "on my way"})
    response, body = await api.call("POST", f"{t}/pending", "technician", json={})
    assert (response.status, body["field"]) == (422, "reason")
    response, body = await api.call("POST", f"{t}/pending", "technician", json={"reason": "customer's room locked"})
    assert (response.status, body["status"]) == (200, "pending_customer")
    async with api.sessions() as session:
        device_id = await session.scalar(select(m.Device.id).where(m.Device.name == "pe-bj-01"))
        assert device_id is not None
        session.add(m.DeviceStatus(device_id=device_id, available=False, since=datetime.now(UTC)))
        await session.commit()
    response, body = await api.call("POST", f"{t}/resolve", "technician")
    assert response.status == 409 and "confirmed restored on site" in body["error"]
    response, body = await api.call("POST", f"{t}/resolve", "technician", json={"confirmed_on_site": True})
    assert (response.status, body["error"]) == (422, "note: say what was found and done on site (required)")
    response, body = await api.call(
        "POST", f"{t}/resolve", "technician", json={"confirmed_on_site": True, "note": "PSU replaced"}
    )
    assert (response.status, body["status"]) == (200, "resolved")
