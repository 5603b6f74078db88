"""The network as the operator's pages show it: devices with their live state, a device's interfaces with their
latest rates, its outages and circuits, one interface, one circuit with its contract's levels.

Read models only; who may see a circuit's account is decided by the caller with ``tickets.access`` (the rows carry
the account's id for that).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from noc import models as m
from noc.db import contains

LIVE_WITHIN = timedelta(days=1)  # "live" rates: the newest sample of the last day (older is not live)
OUTAGES_SHOWN = 20


class DeviceState(StrEnum):
    UP = "up"
    DOWN = "down"
    UNKNOWN = "unknown"  # never polled
    DISABLED = "disabled"


class DeviceSort(StrEnum):
    NAME = "name"
    STATE = "state"
    REGION = "region"
    LAST_POLL = "last_poll"


@dataclass(frozen=True, slots=True)
class DeviceRow:
    name: str
    address: str
    platform: str
    role: str
    region: str
    site: str
    state: DeviceState
    since: datetime | None
    last_poll_at: datetime | None
    uptime_s: int | None
    last_error: str | None


def _state(enabled: bool, status: m.DeviceStatus | None) -> DeviceState:
    if not enabled:
        return DeviceState.DISABLED
    if status is None or status.available is None:
        return DeviceState.UNKNOWN
    return DeviceState.UP if status.available else DeviceState.DOWN


def _row(device: m.Device, status: m.DeviceStatus | None) -> DeviceRow:
    return DeviceRow(
        device.name,
        device.address,
        device.platform,
        device.role,
        device.region,
        device.site,
        _state(device.enabled, status),
        status.since if status else None,
        status.last_poll_at if status else None,
        status.uptime_s if status else None,
        status.last_error if status else None,
    )


async def device_rows(
    session: AsyncSession,
    text: str = "",
    state: DeviceState | None = None,
    region: str = "",
    sort: DeviceSort = DeviceSort.NAME,
) -> list[DeviceRow]:
    """Devices filtered (name or address containing ``text``, a state, a region) and sorted in SQL; down first
    when sorted by state."""
    d, st = m.Device, m.DeviceStatus
    query = select(d, st).outerjoin(st, st.device_id == d.id)
    if text:
        query = query.where(or_(contains(d.name, text), contains(d.address, text)))
    if region:
        query = query.where(d.region == region)
    if state is DeviceState.DISABLED:
        query = query.where(d.enabled.is_(False))
    elif state is DeviceState.UP:
        query = query.where(d.enabled.is_(True), st.available.is_(True))
    elif state is DeviceState.DOWN:
        query = query.where(d.enabled.is_(True), st.available.is_(False))
    elif state is DeviceState.UNKNOWN:
        query = query.where(d.enabled.is_(True), st.available.is_(None))
    order = {
        DeviceSort.NAME: (d.name,),
        DeviceSort.STATE: (d.enabled.desc(), func.coalesce(st.available, True), st.since, d.name),
        DeviceSort.REGION: (d.region, d.site, d.name),
        DeviceSort.LAST_POLL: (st.last_poll_at.desc().nulls_last(), d.name),
    }[sort]
    return [_row(device, status) for device, status in (await session.execute(query.order_by(*order))).all()]


async def regions(session: AsyncSession) -> list[str]:
    return [r for r in await session.scalars(select(m.Device.region).distinct().order_by(m.Device.region)) if r]


@dataclass(frozen=True, slots=True)
class InterfaceNow:
    """An interface as discovered, with its newest sample of the last day (None: no recent sample)."""

    interface: m.Interface
    latest: m.InterfaceMeasurement | None

    @property
    def utilisation_ratio(self) -> float | None:
        if self.latest is None:
            return None
        ratios = [r for r in (self.latest.in_utilisation_ratio, self.latest.out_utilisation_ratio) if r is not None]
        return max(ratios) if ratios else None


@dataclass(frozen=True, slots=True)
class CircuitOnDevice:
    name: str
    interface_name: str
    account_id: int
    account: str
    committed_rate_bps: int | None
    service: str


@dataclass(frozen=True, slots=True)
class DeviceDetail:
    device: m.Device
    row: DeviceRow
    status: m.DeviceStatus | None
    interfaces: list[InterfaceNow]
    outages: list[m.DeviceOutage]
    circuits: list[CircuitOnDevice]


async def _latest_samples(
    session: AsyncSession, device_id: int, now: datetime, if_name: str | None = None
) -> dict[str, m.InterfaceMeasurement]:
    i = m.InterfaceMeasurement
    where = [i.device_id == device_id, i.ts >= now - LIVE_WITHIN]
    if if_name is not None:
        where.append(i.if_name == if_name)
    newest = select(i.if_name, func.max(i.ts).label("ts")).where(*where).group_by(i.if_name).subquery()
    rows = await session.scalars(
        select(i).join(newest, (i.if_name == newest.c.if_name) & (i.ts == newest.c.ts)).where(*where)
    )
    return {row.if_name: row for row in rows}


async def circuits_on(session: AsyncSession, device_id: int, if_name: str | None = None) -> list[CircuitOnDevice]:
    c = m.Circuit
    query = (
        select(c.name, c.interface_name, c.account_id, m.KeyAccount.name, c.committed_rate_bps, c.service)
        .join(m.KeyAccount, m.KeyAccount.id == c.account_id)
        .where(c.device_id == device_id)
        .order_by(c.interface_name, c.name)
    )
    if if_name is not None:
        query = query.where(c.interface_name == if_name)
    return [CircuitOnDevice(*row) for row in (await session.execute(query)).all()]


async def device_detail(session: AsyncSession, name: str, now: datetime) -> DeviceDetail | None:
    device = await session.scalar(select(m.Device).where(m.Device.name == name))
    if device is None:
        return None
    status = await session.get(m.DeviceStatus, device.id)
    latest = await _latest_samples(session, device.id, now)
    interfaces = [
        InterfaceNow(i, latest.get(i.name))
        for i in await session.scalars(
            select(m.Interface).where(m.Interface.device_id == device.id).order_by(m.Interface.if_index)
        )
    ]
    outages = list(
        await session.scalars(
            select(m.DeviceOutage)
            .where(m.DeviceOutage.device_id == device.id)
            .order_by(m.DeviceOutage.start_at.desc())
            .limit(OUTAGES_SHOWN)
        )
    )
    return DeviceDetail(
        device, _row(device, status), status, interfaces, outages, await circuits_on(session, device.id)
    )


@dataclass(frozen=True, slots=True)
class InterfaceDetail:
    device: m.Device
    now: InterfaceNow
    circuits: list[CircuitOnDevice]


async def interface_detail(session: AsyncSession, device: str, if_name: str, now: datetime) -> InterfaceDetail | None:
    row = (
        await session.execute(
            select(m.Device, m.Interface)
            .join(m.Interface, m.Interface.device_id == m.Device.id)
            .where(m.Device.name == device, m.Interface.name == if_name)
        )
    ).first()
    if row is None:
        return None
    found_device, interface = row
    latest = await _latest_samples(session, found_device.id, now, if_name)
    return InterfaceDetail(
        found_device,
        InterfaceNow(interface, latest.get(if_name)),
        await circuits_on(session, found_device.id, if_name),
    )


@dataclass(frozen=True, slots=True)
class CircuitDetail:
    circuit: m.Circuit
    account: m.KeyAccount
    contract: m.Contract
    device: m.Device
    latest_probe: m.ProbeMeasurement | None
    breaches: list[m.SlaBreachRecord]


async def circuit_detail(session: AsyncSession, name: str) -> CircuitDetail | None:
    row = (
        await session.execute(
            select(m.Circuit, m.KeyAccount, m.Contract, m.Device)
            .join(m.KeyAccount, m.KeyAccount.id == m.Circuit.account_id)
            .join(m.Contract, m.Contract.id == m.Circuit.contract_id)
            .join(m.Device, m.Device.id == m.Circuit.device_id)
            .where(m.Circuit.name == name)
        )
    ).first()
    if row is None:
        return None
    circuit, account, contract, device = row
    p = m.ProbeMeasurement
    probe = await session.scalar(select(p).where(p.circuit_id == circuit.id).order_by(p.ts.desc()).limit(1))
    b = m.SlaBreachRecord
    breaches = list(
        await session.scalars(select(b).where(b.circuit_id == circuit.id).order_by(b.since.desc()).limit(OUTAGES_SHOWN))
    )
    return CircuitDetail(circuit, account, contract, device, probe, breaches)
