"""Import an inventory document into the database, and read the database back as a document.

Import is one transaction: every entity is compared with what is stored (secrets by value, decrypted) and created,
updated or left unchanged; each create and update leaves a history row (secrets shown as a mask or reference).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from noc import audit
from noc import models as m
from noc.audit import Action, Origin
from noc.crypto import SecretBox
from noc.db import Base
from noc.errors import Problem, ValidationFailed
from noc.inventory import schema as s
from noc.inventory.secrets import Secret
from noc.yamlsrc import Located, format_path

E = TypeVar("E", bound=BaseModel)
M = TypeVar("M", bound=Base)

KINDS = ("users", "snmp_profiles", "ssh_profiles", "technicians", "devices", "accounts", "contracts", "circuits")
DEFAULT_RESTORE_MIN = {"A": 4 * 60, "B": 24 * 60, "C": 24 * 60}


@dataclass(frozen=True, slots=True)
class Change:
    kind: str
    name: str
    action: str  # created | updated | unchanged
    changed_fields: tuple[str, ...] = ()


@dataclass
class ImportReport:
    changes: list[Change] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for c in self.changes if c.action == action)

    def by_kind(self) -> dict[str, Counter[str]]:
        out: dict[str, Counter[str]] = {k: Counter() for k in KINDS}
        for c in self.changes:
            out[c.kind][c.action] += 1
        return out


class _Ctx:
    """Name ↔ id maps and the secret box, shared by the adapters of one import or export."""

    def __init__(self, box: SecretBox) -> None:
        self.box = box
        self.ids: dict[str, dict[str, int]] = {k: {} for k in KINDS}
        self.names: dict[str, dict[int, str]] = {k: {} for k in KINDS}

    def remember(self, kind: str, name: str, ident: int) -> None:
        self.ids[kind][name] = ident
        self.names[kind][ident] = name

    def name(self, kind: str, ident: int | None) -> str | None:
        return None if ident is None else self.names[kind][ident]

    def read(self, token: str | None, ref: str | None = None) -> Secret | None:
        return None if token is None else Secret(self.box.decrypt(token), ref)

    def write(self, obj: Any, attr: str, value: Secret | None, with_ref: bool = True) -> None:
        if value is None:
            setattr(obj, f"{attr}_enc", None)
        else:
            assert value.plain is not None, "masks are filled before apply"
            setattr(obj, f"{attr}_enc", self.box.encrypt(value.plain))
        if with_ref:
            setattr(obj, f"{attr}_ref", None if value is None else value.ref)


class Adapter(Generic[E, M]):
    def __init__(
        self,
        kind: str,
        model: type[M],
        entry: type[E],
        key: str,
        to_entry: Callable[[M, _Ctx], dict[str, Any]],
        apply: Callable[[M, E, _Ctx], None],
        load_options: Iterable[Any] = (),
    ) -> None:
        self.kind, self.model, self.entry, self.key = kind, model, entry, key
        self._to_entry, self._apply, self.load_options = to_entry, apply, tuple(load_options)

    def current(self, obj: M, ctx: _Ctx) -> E:
        return self.entry.model_validate(self._to_entry(obj, ctx))

    def apply(self, obj: M, entry: E, ctx: _Ctx) -> None:
        self._apply(obj, entry, ctx)


# --- per-entity mapping -------------------------------------------------------------------------------------


def _user_doc(u: m.User, ctx: _Ctx) -> dict[str, Any]:
    return {"username": u.username, "display_name": u.display_name, "role": u.role}


def _user_apply(u: m.User, e: s.UserIn, ctx: _Ctx) -> None:
    u.username, u.display_name, u.role = e.username, e.display_name, e.role


def _snmp_doc(p: m.SnmpProfile, ctx: _Ctx) -> dict[str, Any]:
    return {
        "name": p.name,
        "version": p.version,
        "community": ctx.read(p.community_enc, p.community_ref),
        "user": p.user,
        "auth_protocol": p.auth_protocol,
        "auth_key": ctx.read(p.auth_key_enc, p.auth_key_ref),
        "priv_protocol": p.priv_protocol,
        "priv_key": ctx.read(p.priv_key_enc, p.priv_key_ref),
        "allow_weak_crypto": p.allow_weak_crypto,
    }


def _snmp_apply(p: m.SnmpProfile, e: s.SnmpProfileIn, ctx: _Ctx) -> None:
    p.name, p.version, p.user = e.name, e.version, e.user
    p.auth_protocol, p.priv_protocol, p.allow_weak_crypto = e.auth_protocol, e.priv_protocol, e.allow_weak_crypto
    ctx.write(p, "community", e.community)
    ctx.write(p, "auth_key", e.auth_key)
    ctx.write(p, "priv_key", e.priv_key)


def _ssh_doc(p: m.SshProfile, ctx: _Ctx) -> dict[str, Any]:
    return {
        "name": p.name,
        "username": p.username,
        "password": ctx.read(p.password_enc, p.password_ref),
        "private_key": ctx.read(p.private_key_enc, p.private_key_ref),
        "enable_secret": ctx.read(p.enable_secret_enc, p.enable_secret_ref),
    }


def _ssh_apply(p: m.SshProfile, e: s.SshProfileIn, ctx: _Ctx) -> None:
    p.name, p.username = e.name, e.username
    ctx.write(p, "password", e.password)
    ctx.write(p, "private_key", e.private_key)
    ctx.write(p, "enable_secret", e.enable_secret)


def _tech_doc(t: m.Technician, ctx: _Ctx) -> dict[str, Any]:
    return {"name": t.name, "user": ctx.name("users", t.user_id), "regions": t.regions, "skills": t.skills}


def _tech_apply(t: m.Technician, e: s.TechnicianIn, ctx: _Ctx) -> None:
    t.name, t.regions, t.skills = e.name, list(e.regions), list(e.skills)
    t.user_id = None if e.user is None else ctx.ids["users"][e.user]


def _device_doc(d: m.Device, ctx: _Ctx) -> dict[str, Any]:
    return {
        "name": d.name,
        "address": d.address,
        "platform": d.platform,
        "role": d.role,
        "region": d.region,
        "site": d.site,
        "site_address": d.site_address,
        "access_notes": d.access_notes,
        "snmp_profile": ctx.name("snmp_profiles", d.snmp_profile_id),
        "snmp_port": d.snmp_port,
        "ssh_profile": ctx.name("ssh_profiles", d.ssh_profile_id),
        "ssh_port": d.ssh_port,
        "poll_interval_s": d.poll_interval_s,
        "enabled": d.enabled,
        "poller_group": d.poller_group,
    }


def _device_apply(d: m.Device, e: s.DeviceIn, ctx: _Ctx) -> None:
    d.name, d.address, d.platform, d.role, d.region, d.site = e.name, e.address, e.platform, e.role, e.region, e.site
    d.snmp_profile_id = None if e.snmp_profile is None else ctx.ids["snmp_profiles"][e.snmp_profile]
    d.ssh_profile_id = None if e.ssh_profile is None else ctx.ids["ssh_profiles"][e.ssh_profile]
    d.snmp_port, d.ssh_port, d.poll_interval_s, d.enabled = e.snmp_port, e.ssh_port, e.poll_interval_s, e.enabled
    d.poller_group = e.poller_group
    d.site_address, d.access_notes = e.site_address, e.access_notes


def _account_doc(a: m.KeyAccount, ctx: _Ctx) -> dict[str, Any]:
    return {
        "name": a.name,
        "legal_name": a.legal_name,
        "tier": a.tier,
        "account_manager": ctx.name("users", a.account_manager_id),
        "region": a.region,
        "auto_resolve": a.auto_resolve,
        "services": a.services,
        "contacts": [
            {
                "role": c.role,
                "purpose": c.purpose,
                "name": ctx.read(c.name_enc),
                "phone": ctx.read(c.phone_enc),
                "email": ctx.read(c.email_enc),
                "verified_on": c.verified_on,
            }
            for c in a.contacts
        ],
    }


def _account_apply(a: m.KeyAccount, e: s.AccountIn, ctx: _Ctx) -> None:
    a.name, a.legal_name, a.tier, a.region = e.name, e.legal_name, e.tier, e.region
    a.account_manager_id = None if e.account_manager is None else ctx.ids["users"][e.account_manager]
    a.auto_resolve, a.services = e.auto_resolve, list(e.services)
    stored = {c.role: c for c in a.contacts}
    kept: list[m.Contact] = []
    for ce in e.contacts:
        contact = stored.get(ce.role) or m.Contact(role=ce.role)
        contact.purpose, contact.verified_on = ce.purpose, ce.verified_on
        ctx.write(contact, "name", ce.name, with_ref=False)
        ctx.write(contact, "phone", ce.phone, with_ref=False)
        ctx.write(contact, "email", ce.email, with_ref=False)
        kept.append(contact)
    a.contacts = kept  # contacts no longer listed are removed (delete-orphan): their personal data goes with them


def _contract_doc(c: m.Contract, ctx: _Ctx) -> dict[str, Any]:
    return {
        "name": c.name,
        "account": ctx.name("accounts", c.account_id),
        "valid_from": c.valid_from,
        "valid_to": c.valid_to,
        "timezone": c.timezone,
        "month_length": c.month_length,
        "monthly_fee": c.monthly_fee,
        "currency": c.currency,
        "sla": {
            "availability_target_pct": c.availability_target_pct,
            "latency_ceiling_ms": c.latency_ceiling_ms,
            "loss_ceiling_pct": c.loss_ceiling_pct,
            "jitter_ceiling_ms": c.jitter_ceiling_ms,
            "utilisation_ceiling_pct": c.utilisation_ceiling_pct,
            "response_time_min": c.response_time_s // 60,
            "restore_time_min": c.restore_time_s // 60,
            "sliding_window_n": c.sliding_window_n,
            "unknown_time": c.unknown_time,
            "maintenance_in_base": c.maintenance_in_base,
            "min_measured_pct": c.min_measured_pct,
            "availability_places": c.availability_places,
        },
        "maintenance_windows": c.maintenance_windows,
        "credits": {"bands": c.credit_bands, "cap_pct": c.credit_cap_pct},
        "archive_ref": c.archive_ref,
    }


def _contract_apply(c: m.Contract, e: s.ContractIn, ctx: _Ctx) -> None:
    c.name, c.account_id = e.name, ctx.ids["accounts"][e.account]
    c.valid_from, c.valid_to, c.timezone, c.month_length = e.valid_from, e.valid_to, e.timezone, e.month_length
    c.monthly_fee, c.currency, c.archive_ref = e.monthly_fee, e.currency, e.archive_ref
    c.availability_target_pct = e.sla.availability_target_pct
    c.latency_ceiling_ms, c.loss_ceiling_pct = e.sla.latency_ceiling_ms, e.sla.loss_ceiling_pct
    c.jitter_ceiling_ms, c.utilisation_ceiling_pct = e.sla.jitter_ceiling_ms, e.sla.utilisation_ceiling_pct
    c.response_time_s = e.sla.response_time_min * 60
    assert e.sla.restore_time_min is not None, "filled from the tier before apply"
    c.restore_time_s = e.sla.restore_time_min * 60
    c.sliding_window_n, c.unknown_time = e.sla.sliding_window_n, e.sla.unknown_time
    c.maintenance_in_base = e.sla.maintenance_in_base
    c.min_measured_pct, c.availability_places = e.sla.min_measured_pct, e.sla.availability_places
    c.maintenance_windows = [w.model_dump(mode="json") for w in e.maintenance_windows]
    c.credit_bands = [b.model_dump(mode="json") for b in e.credits.bands]
    c.credit_cap_pct = e.credits.cap_pct


def _circuit_doc(c: m.Circuit, ctx: _Ctx) -> dict[str, Any]:
    return {
        "name": c.name,
        "account": ctx.name("accounts", c.account_id),
        "contract": ctx.name("contracts", c.contract_id),
        "device": ctx.name("devices", c.device_id),
        "interface": c.interface_name,
        "far_end": c.far_end_address,
        "committed_rate_bps": c.committed_rate_bps,
        "probe": c.probe,
        "vrf": c.vrf,
        "source_interface": c.source_interface,
        "service": c.service,
        "description": c.description,
    }


def _circuit_apply(c: m.Circuit, e: s.CircuitIn, ctx: _Ctx) -> None:
    c.name, c.interface_name, c.far_end_address = e.name, e.interface, e.far_end
    c.account_id, c.contract_id = ctx.ids["accounts"][e.account], ctx.ids["contracts"][e.contract]
    c.device_id = ctx.ids["devices"][e.device]
    c.committed_rate_bps, c.probe, c.vrf, c.source_interface = e.committed_rate_bps, e.probe, e.vrf, e.source_interface
    c.service, c.description = e.service, e.description


ADAPTERS: tuple[Adapter[Any, Any], ...] = (
    Adapter("users", m.User, s.UserIn, "username", _user_doc, _user_apply),
    Adapter("snmp_profiles", m.SnmpProfile, s.SnmpProfileIn, "name", _snmp_doc, _snmp_apply),
    Adapter("ssh_profiles", m.SshProfile, s.SshProfileIn, "name", _ssh_doc, _ssh_apply),
    Adapter("technicians", m.Technician, s.TechnicianIn, "name", _tech_doc, _tech_apply),
    Adapter("devices", m.Device, s.DeviceIn, "name", _device_doc, _device_apply),
    Adapter(
        "accounts",
        m.KeyAccount,
        s.AccountIn,
        "name",
        _account_doc,
        _account_apply,
        (selectinload(m.KeyAccount.contacts),),
    ),
    Adapter("contracts", m.Contract, s.ContractIn, "name", _contract_doc, _contract_apply),
    Adapter("circuits", m.Circuit, s.CircuitIn, "name", _circuit_doc, _circuit_apply),
)


# --- import and export ---------------------------------------------------------------------------------------


def _normalise(doc: s.InventoryDoc) -> s.InventoryDoc:
    """Fill defaults that depend on other entries, so a file and its export compare equal."""
    tiers = {a.name: a.tier for a in doc.accounts}
    contracts = []
    for c in doc.contracts:
        if c.sla.restore_time_min is None:
            sla = c.sla.model_copy(update={"restore_time_min": DEFAULT_RESTORE_MIN[tiers[c.account]]})
            c = c.model_copy(update={"sla": sla})
        contracts.append(c)
    accounts = [
        a.model_copy(
            update={
                "contacts": [
                    ct.model_copy(
                        update={
                            k: Secret(v.plain) for k in ("name", "phone", "email") if (v := getattr(ct, k)) is not None
                        }
                    )
                    for ct in a.contacts
                ]
            }
        )
        for a in doc.accounts
    ]
    return doc.model_copy(update={"contracts": contracts, "accounts": accounts})


def _fill_masks(
    desired: E, current: E | None, located: Located | None, path: tuple[str | int, ...], problems: list[Problem]
) -> E:
    """Replace each masked secret (``***``) with the stored value, or report that nothing is stored to keep."""
    update: dict[str, Any] = {}
    for name in type(desired).model_fields:
        value = getattr(desired, name)
        if isinstance(value, Secret) and value.masked and value.ref is None:
            stored = None if current is None else getattr(current, name)
            if isinstance(stored, Secret):
                update[name] = stored
            else:
                reason = "masked value *** but nothing is stored to keep; give the value or a ${ENV_VAR}"
                where = (*path, name)
                problems.append(
                    located.problem(where, reason)
                    if located
                    else Problem("inventory", None, format_path(where), reason)
                )
        elif isinstance(desired, s.AccountIn) and name == "contacts":
            stored_contacts = {c.role: c for c in current.contacts} if isinstance(current, s.AccountIn) else {}
            update[name] = [
                _fill_masks(c, stored_contacts.get(c.role), located, (*path, "contacts", i), problems)
                for i, c in enumerate(value)
            ]
    return desired.model_copy(update=update) if update else desired


def _changed(before: dict[str, Any], after: dict[str, Any], prefix: str = "") -> tuple[str, ...]:
    """Dotted paths of what differs, descending into mappings (``sla.availability_target_pct``)."""
    out: list[str] = []
    for key in after.keys() | before.keys():
        b, a = before.get(key), after.get(key)
        if b == a:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            out.extend(_changed(b, a, f"{prefix}{key}."))
        else:
            out.append(f"{prefix}{key}")
    return tuple(sorted(out))


async def _load(session: AsyncSession, ctx: _Ctx) -> dict[str, dict[str, Any]]:
    stored: dict[str, dict[str, Any]] = {}
    for adapter in ADAPTERS:
        rows = (await session.scalars(select(adapter.model).options(*adapter.load_options))).all()
        stored[adapter.kind] = {getattr(r, adapter.key): r for r in rows}
        for name, row in stored[adapter.kind].items():
            ctx.remember(adapter.kind, name, row.id)
    return stored


async def import_doc(
    session: AsyncSession, box: SecretBox, doc: s.InventoryDoc, actor: str, located: Located | None = None
) -> ImportReport:
    """Apply ``doc`` inside the caller's transaction; raise ValidationFailed (changing nothing) on a bad mask."""
    doc = _normalise(doc)
    ctx = _Ctx(box)
    stored = await _load(session, ctx)
    report = ImportReport()
    problems: list[Problem] = []
    for adapter in ADAPTERS:
        for i, entry in enumerate(getattr(doc, adapter.kind)):
            key = getattr(entry, adapter.key)
            row = stored[adapter.kind].get(key)
            current = adapter.current(row, ctx) if row is not None else None
            desired = _fill_masks(entry, current, located, (adapter.kind, i), problems)
            if problems:
                continue
            after_py = desired.model_dump()
            if current is not None and current.model_dump() == after_py:
                report.changes.append(Change(adapter.kind, key, "unchanged"))
                continue
            if row is None:
                row = adapter.model()
                if adapter.kind == "accounts":
                    row.contacts = []
                session.add(row)
            adapter.apply(row, desired, ctx)
            await session.flush()
            ctx.remember(adapter.kind, key, row.id)
            fields = _changed(current.model_dump() if current else {}, after_py)
            action = "updated" if current is not None else "created"
            report.changes.append(Change(adapter.kind, key, action, fields))
            if adapter.kind == "users" and current is not None and "role" in fields:
                before, after = current.model_dump()["role"], after_py["role"]
                audit.record(session, Origin(actor, "", ""), Action.ROLE_CHANGE, key, before=before, after=after)
            session.add(
                m.ChangeRecord(
                    actor=actor,
                    entity=adapter.kind,
                    entity_name=key,
                    action=action,
                    before=None if current is None else current.model_dump(mode="json"),
                    after=desired.model_dump(mode="json"),
                    changed_fields=list(fields),
                )
            )
    if problems:
        raise ValidationFailed(problems)
    await session.flush()
    return report


async def export_doc(session: AsyncSession, box: SecretBox) -> s.InventoryDoc:
    ctx = _Ctx(box)
    stored = await _load(session, ctx)
    sections = {a.kind: [a.current(row, ctx) for row in stored[a.kind].values()] for a in ADAPTERS}
    return s.InventoryDoc.model_validate(sections)
