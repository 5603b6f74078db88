"""The admin's users page (sign-in delays, unlock, activation) and the audit reader, every act and read audited;
security headers on every kind of answer; a form whose bytes are not text is a 400."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from noc import models as m
from tests.web.conftest import Site


async def _audit(site: Site) -> list[tuple[str, str, str, str]]:
    async with site.sessions() as session:
        rows = await session.scalars(select(m.AuditEvent).order_by(m.AuditEvent.id))
        return [(r.action, r.outcome, r.actor, r.subject) for r in rows if r.action != "password.set"]


async def test_admin_unlocks_a_name_and_deactivates_a_user_each_audited(site: Site) -> None:
    stranger = await site.visitor()
    for _ in range(2):
        await stranger.get("/login")
        await stranger.post("/login", {"username": "nina", "password": "wrong-wrong-wrong"})
    admin = await site.visitor("admin")
    response, html = await admin.get("/admin/users")
    assert response.status == 200 and "2 from 1 address" in html
    response, html = await admin.post("/admin/users/nina/unlock", {})
    assert response.status == 200 and "nina: 2 failed sign-in attempt(s) forgotten" in html
    response, html = await admin.post("/admin/users/tom/active", {"active": "false"})
    assert response.status == 200 and "tom is inactive" in html
    response, html = await admin.post("/admin/users/admin/active", {"active": "false"})
    assert response.status == 409  # not oneself
    nina = await site.visitor("nina")
    await nina.get("/board")  # a page of hers, for the form's token
    response, _ = await nina.post("/admin/users/tom/active", {"active": "true"})
    assert response.status == 403
    assert await _audit(site) == [
        ("signin.unlock", "allowed", "admin", "nina"),
        ("user.deactivate", "allowed", "admin", "tom"),
        ("user.activate", "refused", "nina", "tom"),
    ]


async def test_the_audit_page_filters_exports_and_refuses_others_on_record(site: Site) -> None:
    nina = await site.visitor("nina")
    response, _ = await nina.get("/admin/audit")
    assert response.status == 403
    response, _ = await nina.get("/admin/audit.csv")
    assert response.status == 403
    admin = await site.visitor("admin")
    response, html = await admin.get("/admin/audit?outcome=refused")
    assert response.status == 200 and html.count('<tr class="refused">') == 2
    response, html = await admin.get("/admin/audit?since=soon")
    assert response.status == 400 and "since:" in html
    response, _ = await admin.get("/admin/audit.csv?actor=nina")
    exported = list(csv.DictReader(io.StringIO(await response.text())))
    assert [(r["action"], r["outcome"]) for r in exported] == [("audit.export", "refused"), ("audit.read", "refused")]
    assert await _audit(site) == [
        ("audit.read", "refused", "nina", "audit"),
        ("audit.export", "refused", "nina", "audit"),
        ("audit.read", "allowed", "admin", "audit"),
        ("audit.export", "allowed", "admin", "audit"),
    ]


async def test_security_headers_on_every_kind_of_answer_and_no_version_in_server(site: Site) -> None:
    visitor = await site.visitor()
    for path in (
        "/login",
        "/board",
        "/no-such-page",
        "/static/noc.css",
        "/api/tickets",
        "/api/openapi.json",
        "/healthz",
    ):
        response, _ = await visitor.get(path, allow_redirects=False)
        assert response.headers["Server"] == "noc", path
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert response.headers["X-Frame-Options"] == "DENY", path


async def test_a_form_with_bytes_that_are_not_text_is_a_400(site: Site) -> None:
    visitor = await site.visitor("nina")
    await visitor.get("/board")
    csrf = visitor.last_html.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    body = f"csrf={csrf}&text=".encode() + b"\xff\xfe\xfa"
    response = await visitor.http.post(
        f"{site.base}/logout",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    assert response.status == 400 and "not text" in await response.text()
