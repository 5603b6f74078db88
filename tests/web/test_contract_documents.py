"""Contract documents on the account page: each with its SHA-256, a download that verifies it, and a tampered one
shown flagged and refused; the account's rules decide who may see or fetch them."""

from __future__ import annotations

import hashlib

from sqlalchemy import update

from noc import audit
from noc.records import documents
from noc.records.models import ContractDocument
from noc.settings import RecordsSettings
from tests.records.test_documents import PDF
from tests.web.conftest import Site

ADMIN = audit.Origin("admin", "admin", "cli", "admin")


async def test_the_account_page_lists_documents_with_their_hash_and_serves_them_verified(site: Site) -> None:
    await documents.attach(site.sessions, ADMIN, "ACME-2026-01", "signed.pdf", PDF, RecordsSettings(), "ARCH-42")
    karl = await site.visitor("karl")
    response, html = await karl.get("/accounts/acme-bank")
    assert response.status == 200
    assert hashlib.sha256(PDF).hexdigest() in html and "ARCH-42" in html
    response, _ = await karl.get("/contracts/ACME-2026-01/documents/1")
    assert response.status == 200 and await response.read() == PDF
    assert response.content_type == "application/pdf"

    mei = await site.visitor("mei")  # city-gov's manager
    response, _ = await mei.get("/contracts/ACME-2026-01/documents/1")
    assert response.status == 403
    response, _ = await karl.get("/contracts/ACME-2026-01/documents/2")
    assert response.status == 404

    async with site.sessions() as session:
        await session.execute(update(ContractDocument).values(content=PDF.replace(b"signed", b"forged")))
        await session.commit()
    response, html = await karl.get("/contracts/ACME-2026-01/documents/1")
    assert response.status == 409 and "refused, and flagged for the administrators" in html
    response, html = await karl.get("/accounts/acme-bank")
    assert "tampered: refused since" in html and 'href="/contracts/ACME-2026-01/documents/1"' not in html
