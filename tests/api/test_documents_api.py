"""Contract documents through the API: stored by admins, listed and fetched by whoever may see the account, every
answer checked against the OpenAPI document; a tampered document answers 409 and is flagged."""

from __future__ import annotations

import hashlib

from tests.api.conftest import Api
from tests.records.test_documents import PDF, tamper


async def test_documents_through_the_api(api: Api) -> None:
    path = "/api/contracts/ACME-2026-01/documents"
    headers = {"Content-Type": "application/pdf"}
    response, body = await api.call("POST", f"{path}?filename=signed.pdf&archive_ref=ARCH-1", data=PDF, headers=headers)
    assert response.status == 200, body
    assert (body["version"], body["sha256"], body["archive_ref"]) == (1, hashlib.sha256(PDF).hexdigest(), "ARCH-1")
    for role, status in (("noc", 403), ("account_manager", 403)):  # storing is the admin's
        response, _ = await api.call("POST", f"{path}?filename=x.pdf", role, data=PDF, headers=headers)
        assert response.status == status
    response, body = await api.call("POST", f"{path}?filename=x.pdf", data=PDF, headers={"Content-Type": "image/png"})
    assert response.status == 422 and body["field"] == "Content-Type"
    response, body = await api.call("POST", f"{path}?filename=x.pdf", data=b"hello", headers=headers)
    assert response.status == 422 and body["field"] == "content"
    response, body = await api.call("POST", "/api/contracts/NOPE/documents?filename=x.pdf", data=PDF, headers=headers)
    assert response.status == 404

    response, body = await api.call("GET", path, "account_manager")  # karl manages acme-bank
    assert response.status == 200 and [d["version"] for d in body["items"]] == [1]
    response, _ = await api.call("GET", path, "other_manager")
    assert response.status == 403
    response, _ = await api.call("GET", f"{path}/1", "noc")
    assert response.status == 200 and await response.read() == PDF
    assert response.headers["X-Content-SHA256"] == hashlib.sha256(PDF).hexdigest()
    response, _ = await api.call("GET", f"{path}/2", "noc")
    assert response.status == 404

    await tamper(api.sessions, 1)
    response, body = await api.call("GET", f"{path}/1", "noc")
    assert response.status == 409 and "refused, and flagged" in body["error"]
    response, body = await api.call("GET", path)
    assert body["items"][0]["tampered_at"] is not None
    response, body = await api.call("GET", "/api/audit?action=document.tampered")
    assert [(e["actor"], e["outcome"]) for e in body["items"]] == [("nina", "refused")]
