"""Whatever an agent sends is stored, on SQLite and PostgreSQL: 3,000 interfaces with 2,000-character aliases,
names longer than the key column and a 64-octet physical address."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from collectors.snmp import ifmib
from collectors.snmp.client import Oid, SnmpType, VarBind
from collectors.snmp.discovery import DeviceDiscovery, SystemInfo, build_interfaces
from noc import models as m
from noc.store.measurements import store_discovery

ROWS = 3000
ALIAS = "customer circuit " * 117 + "end"  # 2,000 characters


def _columns() -> dict[Oid, dict[Oid, VarBind]]:
    def column(col: Oid, kind: SnmpType, value: object) -> dict[Oid, VarBind]:
        return {(i,): VarBind((*col, i), kind, value(i) if callable(value) else value) for i in range(1, ROWS + 1)}  # type: ignore[arg-type]

    return {
        ifmib.IF_DESCR: column(ifmib.IF_DESCR, SnmpType.OCTET_STRING, lambda i: f"port {i} ".encode() * 40),
        ifmib.IF_NAME: column(ifmib.IF_NAME, SnmpType.OCTET_STRING, lambda i: f"{i}:".encode() + b"n" * 400),
        ifmib.IF_ALIAS: column(ifmib.IF_ALIAS, SnmpType.OCTET_STRING, ALIAS.encode()),
        ifmib.IF_PHYS_ADDRESS: column(ifmib.IF_PHYS_ADDRESS, SnmpType.OCTET_STRING, bytes(range(64))),
        ifmib.IF_TYPE: column(ifmib.IF_TYPE, SnmpType.INTEGER, 6),
    }


async def test_long_device_text_is_stored_on_both_databases(sessions: async_sessionmaker[AsyncSession]) -> None:
    interfaces = build_interfaces("big", _columns())
    assert len({i.if_name for i in interfaces}) == ROWS  # cut names stay distinct: the index leads
    async with sessions() as session:
        device = m.Device(name="big", address="192.0.2.1", platform="linux")
        session.add(device)
        await session.flush()
        system = SystemInfo("a long sysDescr", None, 1, None, "s" * 1000, None)
        await store_discovery(session, device.id, DeviceDiscovery("big", datetime.now(UTC), system, interfaces))
        await session.commit()
        stored = await session.scalar(select(func.count()).select_from(m.Interface))
        aliases = set((await session.scalars(select(m.Interface.alias))).all())
        macs = set((await session.scalars(select(m.Interface.mac))).all())
        names = (await session.scalars(select(m.Interface.name))).all()
    assert stored == ROWS
    assert aliases == {ALIAS}
    assert macs == {bytes(range(64)).hex()}
    assert max(len(n) for n in names) == ifmib.NAME_MAX_CHARS
    assert all(n.endswith(ifmib.NAME_CUT_MARKER) for n in names)
