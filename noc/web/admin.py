"""The admin's inventory pages: what is stored (devices with their live state, circuits, accounts, contracts), the
export as a YAML download, and an import form (pasted text or an uploaded file, with a dry run).

The import goes through ``noc.inventory.service.import_text`` exactly as the API's ``PUT /api/inventory`` does: all
or nothing, and ``${VAR}`` references are not resolved from the server's environment (a browser must not be able to
copy the server's variables into the inventory). A refused import shows every located problem in the page, keeps
the submitted text in the form, and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from noc import models as m
from noc.auth import BrowserSession
from noc.crypto import secret_box_for
from noc.errors import InputError, ValidationFailed
from noc.inventory.service import accounts_with_managers, export_yaml, import_text
from noc.inventory.sync import ImportReport
from noc.keys import SESSIONS, SETTINGS
from noc.timeutil import utcnow
from noc.web.core import page, render
from noc.web.units import size_text

ADMIN = "admin"
# aiohttp refuses any request body above its client_max_size (1 MiB by default) before a handler runs; the page
# states this bound and static/admin.js checks it before uploading, so the admin gets a clear message.
MAX_UPLOAD_BYTES = 1024 * 1024
PASTED = "pasted text"
MAX_SOURCE_CHARS = 200
routes = web.RouteTableDef()


@dataclass(frozen=True, slots=True)
class DeviceRow:
    name: str
    address: str
    platform: str
    role: str
    region: str
    site: str
    enabled: bool
    state: str  # up | down | never polled
    since: datetime | None


@dataclass(frozen=True, slots=True)
class CircuitRow:
    name: str
    account: str
    contract: str
    device: str
    interface: str
    committed_rate: str


@dataclass(frozen=True, slots=True)
class AccountRow:
    name: str
    tier: str
    region: str
    account_manager: str


@dataclass(frozen=True, slots=True)
class ContractRow:
    name: str
    account: str
    availability_target_pct: Decimal
    valid_to: date


@dataclass(frozen=True, slots=True)
class Inventory:
    devices: list[DeviceRow]
    circuits: list[CircuitRow]
    accounts: list[AccountRow]
    contracts: list[ContractRow]
    counts: dict[str, int]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the last import did (``report``) or why it was refused (``problems``, one located problem a line)."""

    source: str
    dry_run: bool
    report: ImportReport | None = None
    problems: tuple[str, ...] = ()


@dataclass(slots=True)
class ImportForm:
    """The form as the page shows it again: the text stays in the box, the dry-run box as it was."""

    text: str = ""
    dry_run: bool = False
    open: bool = False
    notes: list[str] = field(default_factory=list)


def rate_text(bits_per_second: int | None) -> str:
    """A committed rate as people write it: ``200 Mbit/s``, ``1.5 Gbit/s``."""
    if bits_per_second is None:
        return "—"
    for unit, size in (("Tbit/s", 10**12), ("Gbit/s", 10**9), ("Mbit/s", 10**6), ("kbit/s", 10**3)):
        if bits_per_second >= size:
            return f"{bits_per_second / size:g} {unit}"
    return f"{bits_per_second} bit/s"


def state_of(status: m.DeviceStatus | None) -> str:
    if status is None or status.available is None:
        return "never polled"
    return "up" if status.available else "down"


async def _count(session: AsyncSession, model: type[Any]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def inventory_of(sessions: async_sessionmaker[AsyncSession]) -> Inventory:
    """Only names, addresses and figures: no secret or personal field is read."""
    account, contract, device = aliased(m.KeyAccount), aliased(m.Contract), aliased(m.Device)
    async with sessions() as session:
        devices = (
            await session.execute(
                select(m.Device, m.DeviceStatus)
                .outerjoin(m.DeviceStatus, m.DeviceStatus.device_id == m.Device.id)
                .order_by(m.Device.name)
            )
        ).all()
        circuits = (
            await session.execute(
                select(m.Circuit, account.name, contract.name, device.name)
                .join(account, account.id == m.Circuit.account_id)
                .join(contract, contract.id == m.Circuit.contract_id)
                .join(device, device.id == m.Circuit.device_id)
                .order_by(m.Circuit.name)
            )
        ).all()
        accounts = await accounts_with_managers(session)
        contracts = (
            await session.execute(
                select(m.Contract, account.name)
                .join(account, account.id == m.Contract.account_id)
                .order_by(m.Contract.name)
            )
        ).all()
        others = {
            "users": await _count(session, m.User),
            "technicians": await _count(session, m.Technician),
            "SNMP profiles": await _count(session, m.SnmpProfile),
            "SSH profiles": await _count(session, m.SshProfile),
        }
    return Inventory(
        devices=[
            DeviceRow(
                d.name,
                d.address,
                d.platform,
                d.role,
                d.region,
                d.site,
                d.enabled,
                state_of(st),
                st.since if st else None,
            )
            for d, st in devices
        ],
        circuits=[
            CircuitRow(c.name, acc, con, dev, c.interface_name, rate_text(c.committed_rate_bps))
            for c, acc, con, dev in circuits
        ],
        accounts=[AccountRow(a.name, a.tier, a.region, manager or "—") for a, manager in accounts],
        contracts=[ContractRow(c.name, acc, c.availability_target_pct, c.valid_to) for c, acc in contracts],
        counts={
            "devices": len(devices),
            "circuits": len(circuits),
            "key accounts": len(accounts),
            "contracts": len(contracts),
            **others,
        },
    )


async def _page(
    request: web.Request, form: ImportForm, outcome: Outcome | None = None, status: int = 200
) -> web.Response:
    return render(
        request,
        "admin_inventory.html",
        status=status,
        inventory=await inventory_of(request.app[SESSIONS]),
        form=form,
        outcome=outcome,
        max_upload_bytes=MAX_UPLOAD_BYTES,
        max_upload_text=size_text(MAX_UPLOAD_BYTES),
    )


@routes.get("/admin/inventory")
@page(ADMIN)
async def inventory_page(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    return await _page(request, ImportForm())


@routes.get("/admin/inventory/import")
@page(ADMIN)
async def import_page(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    return await _page(request, ImportForm(open=True))


@routes.get("/admin/inventory/export")
@page(ADMIN)
async def export_page(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    text = await export_yaml(request.app[SESSIONS], secret_box_for(request.app[SETTINGS]))
    filename = f"inventory-{utcnow():%Y-%m-%d}.yaml"
    return web.Response(
        text=text,
        content_type="application/yaml",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _source_name(filename: str) -> str:
    """The uploaded file's own name (some browsers send a whole path), as it will appear in each problem."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return "".join(ch for ch in name if ch.isprintable())[:MAX_SOURCE_CHARS] or "uploaded file"


def _upload(form: MultiDictProxy[Any]) -> tuple[str, bytes] | None:
    """The uploaded file as (name, content), or None when no file was chosen (browsers still send an empty part)."""
    value = form.get("file")
    if isinstance(value, web.FileField):
        content = value.file.read(MAX_UPLOAD_BYTES + 1)
        return (_source_name(value.filename), content) if content or value.filename else None
    if isinstance(value, bytes | str) and value:
        return "uploaded file", value.encode() if isinstance(value, str) else value
    return None


def _text_of(source: str, content: bytes) -> str:
    if len(content) > MAX_UPLOAD_BYTES:
        raise InputError(f"{source}: file: larger than {size_text(MAX_UPLOAD_BYTES)}: split the inventory")
    try:
        text = content.decode("utf-8-sig")  # a BOM (Windows editors) is not part of the text
    except UnicodeDecodeError as exc:
        raise InputError(f"{source}: file: not UTF-8 text (byte {exc.start}): save it as UTF-8 and try again") from exc
    return text


def _checked(source: str, field_name: str, text: str) -> str:
    if "\x00" in text:
        raise InputError(f"{source}: {field_name}: may not contain NUL characters")
    if not text.strip():
        raise InputError(f"{source}: {field_name}: is empty")
    return text


@routes.post("/admin/inventory/import")
@page(ADMIN)
async def import_submit(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    posted = await request.post()  # cached: the CSRF middleware parsed it already
    pasted = posted.get("text")
    form = ImportForm(
        text=pasted.replace("\r\n", "\n") if isinstance(pasted, str) else "",
        dry_run=posted.get("dry_run") == "yes",
        open=True,
    )
    source = PASTED
    try:
        upload = _upload(posted)
        if upload is not None and form.text.strip():
            raise InputError("text, file: give either pasted text or a file, not both (clear one and try again)")
        if upload is not None:
            source = upload[0]
            text = _text_of(source, upload[1])
            form.text = text  # shown again if refused: the admin can correct it here and import the text
            form.notes.append(f"The box holds the text of {source}.")
        elif form.text.strip():
            text = form.text
        else:
            raise InputError("text, file: paste an inventory or choose a file")
        text = _checked(source, "file" if upload is not None else "text", text)
        # {} as the environment, as the API: ${VAR} references must not be filled from the server's environment
        report = await import_text(
            request.app[SESSIONS],
            secret_box_for(request.app[SETTINGS]),
            text,
            source,
            f"web:{viewer.user.username}",
            form.dry_run,
            {},
        )
    except ValidationFailed as exc:
        problems = tuple(str(p) for p in exc.problems)
        return await _page(request, form, Outcome(source, form.dry_run, problems=problems), status=422)
    except InputError as exc:
        return await _page(request, form, Outcome(source, form.dry_run, problems=(str(exc),)), status=422)
    if not form.dry_run:
        form.text, form.notes, form.open = "", [], False  # done: the outcome and the tables are what matter now
    return await _page(request, form, Outcome(source, form.dry_run, report=report))
