"""What collectors are given (targets, credentials) and what they give back (immutable samples).

The assembly (``noc.flow.plan``) builds targets from the inventory, decrypting credentials at the last moment;
collectors never see the database. ``repr`` of every credential object hides its secrets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

SnmpVersion = Literal["2c", "3"]
AuthProtocol = Literal["MD5", "SHA", "SHA-224", "SHA-256", "SHA-384", "SHA-512"]
# AES-192/AES-256 extend the key as net-snmp does (Blumenthal draft), AES-192-C/AES-256-C as Cisco does (Reeder).
PrivProtocol = Literal["DES", "AES", "AES-192", "AES-256", "AES-192-C", "AES-256-C"]
OperStatus = Literal["up", "down", "testing", "unknown", "dormant", "notPresent", "lowerLayerDown"]


@dataclass(frozen=True, slots=True)
class SnmpCredentials:
    version: SnmpVersion
    community: str | None = field(default=None, repr=False)
    user: str | None = None
    auth_protocol: AuthProtocol | None = None
    auth_key: str | None = field(default=None, repr=False)
    priv_protocol: PrivProtocol | None = None
    priv_key: str | None = field(default=None, repr=False)
    allow_weak_crypto: bool = False


@dataclass(frozen=True, slots=True)
class SshCredentials:
    username: str
    password: str | None = field(default=None, repr=False)
    private_key: str | None = field(default=None, repr=False)
    enable_secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class DeviceTarget:
    """One device as the collectors see it."""

    name: str
    address: str
    platform: str
    snmp: SnmpCredentials | None = None
    snmp_port: int = 161
    ssh: SshCredentials | None = None
    ssh_port: int = 22
    poll_interval_s: float = 60.0
    # Interface names carrying circuits; None means "poll every interface".
    interfaces_of_interest: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class ProbeTarget:
    """A latency / loss probe toward a circuit's far end, run from its PE device or from the poller."""

    circuit: str
    device: str
    target_address: str
    method: Literal["ssh", "icmp"]
    vrf: str | None = None
    source_interface: str | None = None


@dataclass(frozen=True, slots=True)
class DeviceSample:
    """Reachability of a device at one poll."""

    device: str
    ts: datetime
    reachable: bool
    uptime_ticks: int | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class InterfaceSample:
    """Raw counters and status of one interface at one poll (SNMP or CLI: downstream cannot tell)."""

    device: str
    ts: datetime
    if_index: int
    if_name: str
    oper_status: OperStatus
    in_octets: int | None
    out_octets: int | None
    counter_bits: Literal[32, 64]
    speed_bps: int | None = None
    in_errors: int | None = None
    out_errors: int | None = None
    in_discards: int | None = None
    out_discards: int | None = None
    uptime_ticks: int | None = None
    discontinuity_ticks: int | None = None


@dataclass(frozen=True, slots=True)
class ProbeSample:
    """One burst of echo requests toward a circuit's far end."""

    circuit: str
    device: str
    target: str
    ts: datetime
    sent: int
    received: int
    rtt_min_ms: float | None = None
    rtt_avg_ms: float | None = None
    rtt_max_ms: float | None = None
    jitter_ms: float | None = None
    error: str | None = None

    @property
    def loss_ratio(self) -> float | None:
        if self.sent <= 0:
            return None
        return (self.sent - self.received) / self.sent
