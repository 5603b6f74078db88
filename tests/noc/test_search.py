"""The search read model on SQLite and PostgreSQL: case-insensitive partial matches of each kind, ticket numbers in
their forms, the bound per kind, wildcards taken literally, and each role seeing only what its pages show."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from noc import models as m
from noc.crypto import SecretBox
from noc.errors import InputError
from noc.inventory import service as inventory
from noc.settings import TicketSettings
from noc.store import search
from noc.store.search import Kind, SearchResult
from tests.api.conftest import open_manual_ticket
from tests.conftest import EXAMPLE_INVENTORY
from tickets.service import TicketService


@pytest.fixture
async def service(sessions: async_sessionmaker[AsyncSession], box: SecretBox) -> TicketService:
    """The example operator; pe-fra-01 at 192.0.2.17; two interfaces on pe-bj-01 whose aliases name customers."""
    await inventory.import_file(sessions, box, EXAMPLE_INVENTORY, "test")
    async with sessions() as session:
        await session.execute(update(m.Device).where(m.Device.name == "pe-fra-01").values(address="192.0.2.17"))
        device_id = await session.scalar(select(m.Device.id).where(m.Device.name == "pe-bj-01"))
        assert device_id is not None
        session.add(m.Interface(device_id=device_id, if_index=1, name="GigabitEthernet0/0/1", alias="ACME HQ uplink"))
        session.add(m.Interface(device_id=device_id, if_index=9, name="GigabitEthernet0/0/9", alias="ACME spare"))
        await session.commit()
    return TicketService(sessions, TicketSettings(), box=box)


async def found(service: TicketService, username: str, text: str) -> dict[Kind, list[str]]:
    async with service.sessions() as session:
        result: SearchResult = await search.search(session, await service.actor(session, username), text)
    return {g.kind: [hit.name for hit in g.items] for g in result.groups}


async def test_each_kind_by_part_of_its_name_any_case(service: TicketService) -> None:
    assert (await found(service, "nina", "192.0.2"))[Kind.DEVICE] == ["pe-fra-01"]
    assert (await found(service, "nina", "PE-BJ"))[Kind.DEVICE] == ["pe-bj-01", "pe-bj-02"]
    assert (await found(service, "nina", "city-sh"))[Kind.CIRCUIT] == ["CITY-SH-001", "CITY-SH-002"]
    assert (await found(service, "nina", "RHEIN"))[Kind.ACCOUNT] == ["rhein-logistik"]
    assert (await found(service, "nina", "data office"))[Kind.ACCOUNT] == ["city-gov"]  # the legal name
    assert (await found(service, "nina", "ethernet0/0/9"))[Kind.INTERFACE] == ["GigabitEthernet0/0/9"]
    assert (await found(service, "nina", "hq uplink"))[Kind.INTERFACE] == ["GigabitEthernet0/0/1"]
    assert await found(service, "nina", "nothing-like-this") == {}
    # LIKE's wildcards are letters here: "_" and "%" match only themselves
    assert await found(service, "nina", "pe_bj") == {}
    assert await found(service, "nina", "%") == {}


async def test_a_ticket_by_its_number_in_each_form(service: TicketService) -> None:
    number = await open_manual_ticket(service, "ACME-BJ-001", "loss above contract", "manual")
    for text in (f"T-{number}", f"t{number}", str(number), f" T-{number} "):
        assert (await found(service, "nina", text))[Kind.TICKET] == [f"T-{number}"], text
    async with service.sessions() as session:
        result = await search.search(session, await service.actor(session, "nina"), str(number))
    (hit,) = next(g.items for g in result.groups if g.kind is Kind.TICKET)
    assert hit.path == f"/tickets/{number}" and "loss above contract" in hit.detail
    assert Kind.TICKET not in await found(service, "nina", f"T-{number + 1000}")


async def test_paths_lead_to_each_page(service: TicketService) -> None:
    async with service.sessions() as session:
        result = await search.search(session, await service.actor(session, "nina"), "0/0/1")
    paths = {hit.path for g in result.groups for hit in g.items}
    assert "/devices/pe-bj-01/interface?name=GigabitEthernet0%2F0%2F1" in paths
    async with service.sessions() as session:
        result = await search.search(session, await service.actor(session, "nina"), "acme-bank")
    assert [hit.path for g in result.groups for hit in g.items] == ["/accounts/acme-bank"]


async def test_each_kind_is_bounded_and_says_there_is_more(service: TicketService) -> None:
    async with service.sessions() as session:
        device_id = await session.scalar(select(m.Device.id).where(m.Device.name == "pe-bj-02"))
        assert device_id is not None
        for index in range(search.PER_KIND + 5):
            session.add(m.Interface(device_id=device_id, if_index=100 + index, name=f"xe-1/0/{index}"))
        await session.commit()
        result = await search.search(session, await service.actor(session, "nina"), "XE-1/0/")
    (group,) = result.groups
    assert len(group.items) == search.PER_KIND and group.more


@pytest.mark.parametrize("text", ["", "   ", "x" * (search.MAX_QUERY + 1)])
async def test_an_empty_or_overlong_query_is_refused_naming_q(service: TicketService, text: str) -> None:
    async with service.sessions() as session:
        actor = await service.actor(session, "nina")
        with pytest.raises(InputError, match=r"^q: "):
            await search.search(session, actor, text)


async def test_each_role_finds_only_what_its_pages_show(service: TicketService) -> None:
    acme = await open_manual_ticket(service, "ACME-BJ-001", "loss above contract", "manual")  # north, karl's
    city = await open_manual_ticket(service, "CITY-SH-001", "data office down", "manual")  # south, mei's
    # karl (acme-bank's and rhein-logistik's manager): his circuits and accounts; no network; his tickets only
    mine = ["ACME-BJ-001", "ACME-BJ-002", "ACME-SH-003", "RHEIN-FRA-001"]
    assert await found(service, "karl", "-00") == {Kind.CIRCUIT: mine}
    assert await found(service, "karl", "city") == {}
    assert await found(service, "karl", "pe-bj") == {}
    assert await found(service, "karl", "acme") == {
        Kind.CIRCUIT: ["ACME-BJ-001", "ACME-BJ-002", "ACME-SH-003"],
        Kind.ACCOUNT: ["acme-bank"],
    }
    assert (await found(service, "karl", str(acme)))[Kind.TICKET] == [f"T-{acme}"]
    assert Kind.TICKET not in await found(service, "karl", f"T-{city}")
    # tom (technician, north): the network, a ticket in his region, no account pages, no circuit of an account
    # none of his tickets is on, and an interface's alias only where he may see every customer on the port
    assert (await found(service, "tom", str(acme)))[Kind.TICKET] == [f"T-{acme}"]
    assert Kind.TICKET not in await found(service, "tom", f"T-{city}")
    assert await found(service, "tom", "acme") == {}  # not assigned: no circuit, no alias
    assert (await found(service, "tom", "pe-sh"))[Kind.DEVICE] == ["pe-sh-01"]
    await service.assign("nina", acme, "tom-north")
    tom = await found(service, "tom", "acme")
    acme_circuits = ["ACME-BJ-001", "ACME-BJ-002", "ACME-SH-003"]
    assert tom == {Kind.INTERFACE: ["GigabitEthernet0/0/1"], Kind.CIRCUIT: acme_circuits}
    # ...but not the spare port's alias, which carries no circuit (the alias may name anyone)
    assert "GigabitEthernet0/0/9" not in tom[Kind.INTERFACE]
    # the NOC: everything
    assert set(await found(service, "nina", "acme")) == {Kind.INTERFACE, Kind.CIRCUIT, Kind.ACCOUNT}
