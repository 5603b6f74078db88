"""The plan: what to poll, built from the inventory (targets with credentials decrypted last, intervals, probes)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from collectors.model import DeviceTarget, ProbeTarget, SnmpCredentials
from collectors.model import SshCredentials as SshCreds
from noc import models as m
from noc.crypto import SecretBox
from noc.settings import PollerSettings


@dataclass(frozen=True, slots=True)
class DevicePlan:
    device_id: int
    target: DeviceTarget
    probes: tuple[ProbeTarget, ...]
    group: str = "default"  # the poller group that may poll it


@dataclass(frozen=True, slots=True)
class PollPlan:
    devices: tuple[DevicePlan, ...]
    device_ids: dict[str, int]
    circuit_ids: dict[str, int]

    def targets(self) -> list[DeviceTarget]:
        return [d.target for d in self.devices]

    def only(self, names: set[str]) -> PollPlan:
        """The part of the plan for these devices (a fleet member's share), their probes included."""
        return PollPlan(tuple(d for d in self.devices if d.target.name in names), self.device_ids, self.circuit_ids)

    def ssh_probes(self) -> list[tuple[DeviceTarget, list[ProbeTarget]]]:
        return [
            (d.target, [p for p in d.probes if p.method == "ssh"])
            for d in self.devices
            if any(p.method == "ssh" for p in d.probes)
        ]

    def icmp_probes(self) -> list[ProbeTarget]:
        return [p for d in self.devices for p in d.probes if p.method == "icmp"]


def _snmp_credentials(profile: m.SnmpProfile, box: SecretBox) -> SnmpCredentials:
    def plain(token: str | None) -> str | None:
        return None if token is None else box.decrypt(token)

    return SnmpCredentials(
        version="3" if profile.version == "3" else "2c",
        community=plain(profile.community_enc),
        user=profile.user,
        auth_protocol=profile.auth_protocol,  # type: ignore[arg-type]  # validated by the inventory schema
        auth_key=plain(profile.auth_key_enc),
        priv_protocol=profile.priv_protocol,  # type: ignore[arg-type]
        priv_key=plain(profile.priv_key_enc),
        allow_weak_crypto=profile.allow_weak_crypto,
    )


def _ssh_credentials(profile: m.SshProfile, box: SecretBox) -> SshCreds:
    def plain(token: str | None) -> str | None:
        return None if token is None else box.decrypt(token)

    return SshCreds(
        username=profile.username,
        password=plain(profile.password_enc),
        private_key=plain(profile.private_key_enc),
        enable_secret=plain(profile.enable_secret_enc),
    )


async def load_plan(session: AsyncSession, box: SecretBox, settings: PollerSettings) -> PollPlan:
    """Every enabled device with its credentials, interval (tier-A circuits poll faster) and circuit probes."""
    snmp = {p.id: p for p in (await session.scalars(select(m.SnmpProfile))).all()}
    ssh = {p.id: p for p in (await session.scalars(select(m.SshProfile))).all()}
    tiers = {a.id: a.tier for a in (await session.scalars(select(m.KeyAccount))).all()}
    circuits = (await session.scalars(select(m.Circuit).order_by(m.Circuit.name))).all()
    devices = (await session.scalars(select(m.Device).where(m.Device.enabled).order_by(m.Device.name))).all()
    # one credentials object per profile, decrypted once, shared by its devices
    snmp_credentials = {pid: _snmp_credentials(p, box) for pid, p in snmp.items()}
    ssh_credentials = {pid: _ssh_credentials(p, box) for pid, p in ssh.items()}
    by_device: dict[int, list[m.Circuit]] = {}
    for circuit in circuits:
        by_device.setdefault(circuit.device_id, []).append(circuit)
    plans = []
    for device in devices:
        own = by_device.get(device.id, [])
        tier_a = any(tiers.get(c.account_id) == "A" for c in own)
        interval = device.poll_interval_s or (settings.tier_a_interval_s if tier_a else settings.interval_s)
        target = DeviceTarget(
            name=device.name,
            address=device.address,
            platform=device.platform,
            snmp=None if device.snmp_profile_id is None else snmp_credentials[device.snmp_profile_id],
            snmp_port=device.snmp_port,
            ssh=None if device.ssh_profile_id is None else ssh_credentials[device.ssh_profile_id],
            ssh_port=device.ssh_port,
            poll_interval_s=interval,
            interfaces_of_interest=frozenset(c.interface_name for c in own)
            if settings.circuit_interfaces_only
            else None,
        )
        probes = tuple(
            ProbeTarget(
                circuit=c.name,
                device=device.name,
                target_address=c.far_end_address,
                method="ssh" if c.probe == "ssh" else "icmp",
                vrf=c.vrf,
                source_interface=c.source_interface,
            )
            for c in own
            if c.probe != "none" and c.far_end_address is not None
        )
        plans.append(DevicePlan(device.id, target, probes, device.poller_group))
    return PollPlan(
        devices=tuple(plans),
        device_ids={d.name: d.id for d in devices},
        circuit_ids={c.name: c.id for c in circuits},
    )


async def inventory_version(session: AsyncSession) -> int:
    """The inventory's change counter: every change of a device, profile or circuit is a change record."""
    return int(await session.scalar(select(func.coalesce(func.max(m.ChangeRecord.id), 0))) or 0)
