"""One search over the network and the tickets: device names and addresses, interface names and aliases, circuit
names, account names, ticket numbers (``T-123``, ``I-7`` or ``123``), grouped by kind, each hit with its page.

Case-insensitive partial matches, each kind its own bounded query (``PER_KIND`` rows, one more to tell that there
are more): no table is read whole. Who sees what is ``tickets.access``, as on the pages each hit links to:

* devices and interfaces: the network's roles (NOC, admin, technicians); an interface's alias is matched and shown
  only under ``may_see_interface_alias`` (it names the customer on the port);
* circuits: those of the accounts the viewer may see; accounts likewise, for the roles with account pages;
* a ticket by its number, if the viewer may see it.

The SQL is narrowed by the same rules so the bound counts what the viewer may see; the rule still decides each row.
The API (``GET /api/search``) and the page (``/search``) answer with this one model.
"""

from __future__ import annotations

import re
from enum import StrEnum
from urllib.parse import quote, urlencode

from pydantic import BaseModel, Field
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from noc import models as m
from noc.db import contains
from noc.errors import InputError
from tickets import access
from tickets.access import Actor, TicketScope
from tickets.models import Ticket

PER_KIND = 10
MAX_QUERY = 100
_TICKET_NUMBER = re.compile(r"(?:[TI]-?)?(\d{1,9})", re.IGNORECASE)


class Kind(StrEnum):
    DEVICE = "device"
    INTERFACE = "interface"
    CIRCUIT = "circuit"
    ACCOUNT = "account"
    TICKET = "ticket"


class Hit(BaseModel):
    name: str = Field(description="the device, interface, circuit or account name, or the ticket's reference")
    detail: str = Field(description="what tells it apart: an address, the device, the account, the title")
    path: str = Field(description="its page in the web app")


class Group(BaseModel):
    kind: Kind
    items: list[Hit]
    more: bool = Field(description=f"more than {PER_KIND} match: narrow the search")


class SearchResult(BaseModel):
    q: str
    groups: list[Group] = Field(description="one per kind with a match, in the order of Kind")


def search_text(raw: str | None) -> str:
    """The query as searched: stripped, 1 to ``MAX_QUERY`` characters; else an ``InputError`` naming ``q``."""
    text = (raw or "").strip()
    if not text:
        raise InputError("q: type something to search for (a name, an address, a ticket number)")
    if len(text) > MAX_QUERY:
        raise InputError(f"q: at most {MAX_QUERY} characters, not {len(text)}")
    return text


def _segment(name: str) -> str:
    return quote(name, safe="")


async def _devices(session: AsyncSession, text: str) -> list[Hit]:
    d = m.Device
    rows = await session.execute(
        select(d.name, d.address)
        .where(or_(contains(d.name, text), contains(d.address, text)))
        .order_by(d.name)
        .limit(PER_KIND + 1)
    )
    return [Hit(name=name, detail=address, path=f"/devices/{_segment(name)}") for name, address in rows]


async def _interfaces(session: AsyncSession, actor: Actor, text: str) -> list[Hit]:
    i, c = m.Interface, m.Circuit
    by_alias = contains(i.alias, text)
    visible = access.visible_account_ids(actor)
    if visible is not None:  # only an alias every circuit on the port lets the viewer see
        carried = select(c.id).where(c.device_id == i.device_id, c.interface_name == i.name)
        by_alias = and_(by_alias, carried.exists(), ~carried.where(c.account_id.not_in(visible)).exists())
    rows = (
        await session.execute(
            select(m.Device.name, i.device_id, i.name, i.alias)
            .join(m.Device, m.Device.id == i.device_id)
            .where(or_(contains(i.name, text), by_alias))
            .order_by(m.Device.name, i.if_index)
            .limit(PER_KIND + 1)
        )
    ).all()
    carried_by: dict[tuple[int, str], set[int]] = {}
    for device_id, if_name, account_id in await session.execute(
        select(c.device_id, c.interface_name, c.account_id).where(c.device_id.in_({row[1] for row in rows}))
    ):
        carried_by.setdefault((device_id, if_name), set()).add(account_id)
    hits = []
    for device, device_id, name, alias in rows:
        shown = access.may_see_interface_alias(actor, frozenset(carried_by.get((device_id, name), ())))
        detail = f"{device} · {alias}" if shown and alias else device
        path = f"/devices/{_segment(device)}/interface?{urlencode({'name': name})}"
        hits.append(Hit(name=name, detail=detail, path=path))
    return hits


async def _circuits(session: AsyncSession, actor: Actor, text: str) -> list[Hit]:
    c = m.Circuit
    query = (
        select(c.name, c.account_id, m.KeyAccount.name, m.Device.name, c.interface_name)
        .join(m.KeyAccount, m.KeyAccount.id == c.account_id)
        .join(m.Device, m.Device.id == c.device_id)
        .where(contains(c.name, text))
        .order_by(c.name)
        .limit(PER_KIND + 1)
    )
    visible = access.visible_account_ids(actor)
    if visible is not None:
        query = query.where(c.account_id.in_(visible))
    return [
        Hit(name=name, detail=f"{account} · {device} {interface}", path=f"/circuits/{_segment(name)}")
        for name, account_id, account, device, interface in await session.execute(query)
        if access.may_see_account(actor, account_id)
    ]


async def _accounts(session: AsyncSession, actor: Actor, text: str) -> list[Hit]:
    a = m.KeyAccount
    query = (
        select(a.id, a.name, a.legal_name)
        .where(or_(contains(a.name, text), contains(a.legal_name, text)))
        .order_by(a.name)
        .limit(PER_KIND + 1)
    )
    visible = access.visible_account_ids(actor)
    if visible is not None:
        query = query.where(a.id.in_(visible))
    return [
        Hit(name=name, detail=legal_name, path=f"/accounts/{_segment(name)}")
        for account_id, name, legal_name in await session.execute(query)
        if access.may_see_account(actor, account_id)
    ]


async def _tickets(session: AsyncSession, actor: Actor, text: str) -> list[Hit]:
    number = _TICKET_NUMBER.fullmatch(text)
    if number is None:
        return []
    row = (
        await session.execute(
            select(Ticket, m.Device.region)
            .outerjoin(m.Device, m.Device.id == Ticket.device_id)
            .where(Ticket.id == int(number.group(1)))
        )
    ).first()
    if row is None:
        return []
    ticket, region = row
    scope = TicketScope(ticket.ref, ticket.account_id, region or "", ticket.technician_id)
    if not access.may_see_ticket(actor, scope):
        return []
    detail = f"{ticket.status.replace('_', ' ')} · {ticket.title}"
    return [Hit(name=ticket.ref, detail=detail, path=f"/tickets/{ticket.id}")]


async def search(session: AsyncSession, actor: Actor, raw: str | None) -> SearchResult:
    """What ``raw`` finds that ``actor`` may see, grouped by kind; an ``InputError`` naming ``q`` if it is empty
    or too long."""
    text = search_text(raw)
    found: dict[Kind, list[Hit]] = {}
    if access.may_see_network(actor):
        found[Kind.DEVICE] = await _devices(session, text)
        found[Kind.INTERFACE] = await _interfaces(session, actor, text)
    found[Kind.CIRCUIT] = await _circuits(session, actor, text)
    if actor.role in access.ACCOUNT_PAGE_ROLES:
        found[Kind.ACCOUNT] = await _accounts(session, actor, text)
    found[Kind.TICKET] = await _tickets(session, actor, text)
    groups = [Group(kind=k, items=hits[:PER_KIND], more=len(hits) > PER_KIND) for k, hits in found.items() if hits]
    return SearchResult(q=text, groups=groups)
