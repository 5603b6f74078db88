"""Access held everywhere, table-driven: for each account manager, every API route, page, export and live stream
they can open shows nothing of the other manager's customers (interface alias, circuit, account, contact,
contract); interface aliases reach a technician only for the accounts of their tickets; /metrics needs
credentials."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from noc import auth
from noc import models as m
from tests.web.conftest import Site

# Discovered interfaces, with the free-text aliases operators write on them (naming the customer).
ALIASES = {
    ("pe-bj-01", "GigabitEthernet0/0/1"): "ACME-ALIAS hq to dc1",
    ("pe-bj-01", "GigabitEthernet0/0/5"): "CITYGOV-ALIAS backup site",
    ("pe-bj-01", "GigabitEthernet0/0/9"): "CITYGOV-ALIAS spare, not in the inventory",
    ("pe-sh-01", "ge-0/0/3"): "ACME-ALIAS shanghai branch",
    ("pe-sh-01", "ge-0/0/4"): "CITYGOV-ALIAS data office",
}
# What belongs to each manager's customers: karl has acme-bank and rhein-logistik, mei has city-gov.
OWN = {
    "karl": {"account": "acme-bank", "contract": "ACME-2026-01", "circuit": "ACME-BJ-001"},
    "mei": {"account": "city-gov", "contract": "CITYGOV-2025-07", "circuit": "CITY-SH-001"},
}
FOREIGN = {
    "karl": ("CITYGOV", "city-gov", "City Government", "CITY-SH", "Zhang Wei", "5555 0202"),
    "mei": ("ACME", "acme-bank", "Wang Fang", "5555 0101", "RHEIN", "rhein-logistik", "Rhein Logistik"),
}
API_ROUTES = (
    "/api/devices",
    "/api/devices/pe-bj-01",
    "/api/devices/pe-sh-01",
    "/api/circuits",
    "/api/circuits/{circuit}",
    "/api/circuits?account={account}",
    "/api/accounts",
    "/api/accounts/{account}/health",
    "/api/tickets",
    "/api/tickets?account={account}",
    "/api/tickets/{ticket}",
    "/api/sla/breaches",
    "/api/sla/reports/{contract}?month=2026-11&format=json",
    "/api/sla/reports/{contract}?month=2026-11&format=csv",  # an export
    "/api/audit",
    "/api/audit?format=csv",
    "/api/inventory",  # the export: admin only
    "/api/search?q=e",  # letters in every account's names and in the aliases
    "/api/search?q=i",
)
PAGES = (
    "/accounts",
    "/accounts/{account}",
    "/accounts/{account}/weekly",
    "/reports/{contract}?month=2026-11",
    "/reports/{contract}/sla.csv?month=2026-11",  # an export
    "/tickets",
    "/tickets/{ticket}",
    "/board",
    "/queue",
    "/board/events",  # live streams: not theirs
    "/queue/events",
    "/admin/inventory/export",
    "/admin/audit",
    "/admin/audit.csv",
    "/search?q=e",
    "/search?q=i",
)


async def _stock(site: Site) -> dict[str, int]:
    async with site.sessions() as session:
        devices = {d.name: d.id for d in await session.scalars(select(m.Device))}
        for index, ((device, name), alias) in enumerate(ALIASES.items(), start=1):
            session.add(m.Interface(device_id=devices[device], if_index=index, name=name, alias=alias))
        await session.commit()
    return {
        "karl": await site.open_ticket("ACME-BJ-001", "loss on the HQ link"),
        "mei": await site.open_ticket("CITY-SH-001", "data office down"),
        "other": await site.open_ticket("CITY-SH-002", "backup site flapping"),
    }


def _fill(path: str, manager: str, tickets: dict[str, int]) -> str:
    return path.format(ticket=tickets[manager], **OWN[manager])


@pytest.mark.parametrize("manager", ["karl", "mei"])
async def test_no_route_page_export_or_stream_shows_another_managers_customer(site: Site, manager: str) -> None:
    tickets = await _stock(site)
    token = await auth.issue_token(site.sessions, manager, "confidentiality")
    visitor = await site.visitor(manager)
    seen: list[tuple[str, int]] = []
    for path in API_ROUTES:
        response = await visitor.http.get(
            site.base + _fill(path, manager, tickets), headers={"Authorization": f"Bearer {token}"}
        )
        body = await response.text()
        seen.append((path, response.status))
        leaked = [word for word in FOREIGN[manager] if word in body]
        assert not leaked, (manager, path, response.status, leaked)
    for path in PAGES:
        response, body = await visitor.get(_fill(path, manager, tickets))  # a stream is refused before it starts
        seen.append((path, response.status))
        leaked = [word for word in FOREIGN[manager] if word in body]
        assert not leaked, (manager, path, response.status, leaked)
    statuses = dict(seen)
    # what is theirs opens; what is not theirs is refused (the check above would pass on an empty error page)
    assert all(
        statuses[p] == 200 for p in ("/api/devices", "/api/circuits", "/api/tickets/{ticket}", "/tickets/{ticket}")
    )
    assert statuses["/accounts/{account}"] == 200 and statuses["/reports/{contract}/sla.csv?month=2026-11"] == 200
    assert all(statuses[p] == 403 for p in ("/board/events", "/queue/events", "/api/audit", "/api/inventory"))


async def _aliases(site: Site, user: str) -> dict[tuple[str, str], Any]:
    token = await auth.issue_token(site.sessions, user, "aliases")
    visitor = await site.visitor()
    response = await visitor.http.get(f"{site.base}/api/devices", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 200
    return {
        (d["name"], i["name"]): i["alias"]
        for d in (await response.json())["items"]
        for i in d["interfaces"]
        if (d["name"], i["name"]) in ALIASES
    }


async def test_interface_aliases_by_role(site: Site) -> None:
    tickets = await _stock(site)
    await site.tickets.assign("nina", tickets["karl"], "tom-north")  # tom now works an acme-bank ticket
    everything = dict(ALIASES)
    assert await _aliases(site, "nina") == everything  # the NOC sees the network as it is
    assert await _aliases(site, "admin") == everything
    hidden = dict.fromkeys(ALIASES)
    acme = {key: alias if alias.startswith("ACME") else None for key, alias in ALIASES.items()}
    assert await _aliases(site, "karl") == acme  # his customer's, none of mei's, not the uncarried one
    assert await _aliases(site, "tom") == acme  # what his ticket needs: the acme-bank interfaces
    assert await _aliases(site, "li") == hidden  # no ticket of his: no alias
    mei = {
        key: alias if alias.startswith("CITYGOV") and key[1] != "GigabitEthernet0/0/9" else None
        for key, alias in ALIASES.items()
    }
    assert await _aliases(site, "mei") == mei


async def test_metrics_need_credentials_by_default(site: Site) -> None:
    visitor = await site.visitor("admin")  # not even a signed-in admin's cookie opens it
    response, _ = await visitor.get("/metrics")
    assert response.status == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
