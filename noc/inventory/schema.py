"""The inventory file, as typed models. Field names carry units; every model forbids unknown fields."""

from __future__ import annotations

import ipaddress
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

from noc.inventory.secrets import SecretField

Name = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$")]
Role = Literal["admin", "noc", "technician", "account_manager"]
Platform = Literal[
    "cisco_ios",
    "cisco_xe",
    "cisco_xr",
    "huawei_vrp",
    "juniper_junos",
    "arista_eos",
    "mikrotik_routeros",
    "zte_zxros",
    "hp_comware",
    "linux",
    "generic",
]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
# These protect nothing worth the name today; a profile must opt in to them explicitly.
WEAK_AUTH = frozenset({"MD5", "SHA"})
WEAK_PRIV = frozenset({"DES"})


def _address(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        # An all-numeric dotted name is a mistyped IPv4 address, not a host name.
        if _HOSTNAME.match(value) and not value.replace(".", "").isdigit():
            return value
    raise ValueError(f"{value!r} is neither an IP address nor a host name")


def _ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError(f"{value!r} is not an IP address") from None


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Berlin)") from None
    return value


def _as_text(value: object) -> object:
    # YAML reads `version: 3` as an int; a version is a label.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


Address = Annotated[str, AfterValidator(_address)]
IpAddress = Annotated[str, AfterValidator(_ip)]
TimeZone = Annotated[str, AfterValidator(_timezone)]
Pct = Annotated[Decimal, Field(ge=0, le=100)]
HHMM = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UserIn(Entry):
    username: Name
    display_name: str = ""
    role: Role


class SnmpProfileIn(Entry):
    name: Name
    version: Annotated[Literal["2c", "3"], BeforeValidator(_as_text)]
    community: SecretField | None = None
    user: str | None = None
    auth_protocol: Literal["MD5", "SHA", "SHA-224", "SHA-256", "SHA-384", "SHA-512"] | None = None
    auth_key: SecretField | None = None
    # AES-192/AES-256: the Blumenthal key extension (net-snmp); -C: the Reeder one (Cisco)
    priv_protocol: Literal["DES", "AES", "AES-192", "AES-256", "AES-192-C", "AES-256-C"] | None = None
    priv_key: SecretField | None = None
    allow_weak_crypto: bool = False

    @model_validator(mode="after")
    def _coherent(self) -> SnmpProfileIn:
        if self.version == "2c":
            if self.community is None:
                raise ValueError("version 2c needs a community")
            if any(v is not None for v in (self.user, self.auth_protocol, self.auth_key, self.priv_protocol)):
                raise ValueError("version 2c takes a community only, not v3 user / auth / priv settings")
            return self
        if self.community is not None:
            raise ValueError("version 3 takes user / auth / priv settings, not a community")
        if not self.user:
            raise ValueError("version 3 needs a user")
        if (self.auth_protocol is None) != (self.auth_key is None):
            raise ValueError("auth_protocol and auth_key go together")
        if (self.priv_protocol is None) != (self.priv_key is None):
            raise ValueError("priv_protocol and priv_key go together")
        if self.priv_protocol is not None and self.auth_protocol is None:
            raise ValueError("privacy without authentication is not possible in SNMPv3")
        if not self.allow_weak_crypto:
            if self.auth_protocol is None or self.priv_protocol is None:
                raise ValueError(
                    "SNMPv3 without authPriv is refused; set auth_protocol/priv_protocol (SHA-2 + AES) "
                    "or allow_weak_crypto: true"
                )
            if self.auth_protocol in WEAK_AUTH or self.priv_protocol in WEAK_PRIV:
                raise ValueError(
                    f"{self.auth_protocol}/{self.priv_protocol} is weak; use SHA-224..SHA-512 with AES, "
                    "or set allow_weak_crypto: true for this profile"
                )
        return self


class SshProfileIn(Entry):
    name: Name
    username: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    password: SecretField | None = None
    private_key: SecretField | None = None
    enable_secret: SecretField | None = None

    @model_validator(mode="after")
    def _some_credential(self) -> SshProfileIn:
        if self.password is None and self.private_key is None:
            raise ValueError("an SSH profile needs a password or a private_key")
        return self


class TechnicianIn(Entry):
    name: Name
    user: Name | None = None
    regions: list[Annotated[str, StringConstraints(min_length=1)]] = Field(min_length=1)
    skills: list[str] = []


class DeviceIn(Entry):
    name: Name
    address: Address
    platform: Platform
    role: Literal["pe", "p", "ce", "switch", "firewall", "server"] = "pe"
    region: str = ""
    site: str = ""
    # For the technician sent there: the street address (a map link is made from it) and how to get in.
    site_address: str = Field(default="", max_length=300)
    access_notes: str = Field(default="", max_length=2000)
    snmp_profile: Name | None = None
    snmp_port: int = Field(default=161, ge=1, le=65535)
    ssh_profile: Name | None = None
    ssh_port: int = Field(default=22, ge=1, le=65535)
    poll_interval_s: float | None = Field(default=None, ge=5, le=86400)
    enabled: bool = True
    poller_group: str = Field(default="default", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")


class ContactIn(Entry):
    role: Name
    purpose: str = Field(min_length=1)
    name: SecretField
    phone: SecretField | None = None
    email: SecretField | None = None
    verified_on: date | None = None


class AccountIn(Entry):
    name: Name
    legal_name: str = Field(min_length=1, max_length=300)
    tier: Literal["A", "B", "C"]
    account_manager: Name | None = None
    region: str = ""
    auto_resolve: bool = False
    services: list[str] = []
    contacts: list[ContactIn] = []


class SlaIn(Entry):
    availability_target_pct: Annotated[Decimal, Field(gt=0, le=100)]
    latency_ceiling_ms: float | None = Field(default=None, gt=0)
    loss_ceiling_pct: float | None = Field(default=None, ge=0, le=100)
    jitter_ceiling_ms: float | None = Field(default=None, gt=0)
    utilisation_ceiling_pct: float | None = Field(default=None, gt=0, le=100)
    response_time_min: int = Field(default=45, ge=1, le=7 * 24 * 60)
    # Default from the account's tier (4 h for A, 24 h otherwise), filled in at import.
    restore_time_min: int | None = Field(default=None, ge=1, le=31 * 24 * 60)
    sliding_window_n: int = Field(default=1, ge=1, le=1440)
    unknown_time: Literal["available", "unavailable", "excluded"] = "excluded"
    # Agreed maintenance out of the availability base (the carriers' rule) or kept in it as service time.
    maintenance_in_base: Literal["exclude", "include"] = "exclude"
    # Below this share of the month measured, the monthly report is provisional and states no credit as owed.
    min_measured_pct: Annotated[Decimal, Field(ge=0, le=100)] = Decimal(90)
    # The decimals the contract states availability with (the customer's report shows that many, cut not rounded).
    availability_places: int = Field(default=2, ge=0, le=6)


class RecurringWindow(Entry):
    kind: Literal["recurring"]
    name: str = Field(min_length=1)
    weekdays: list[Weekday] = Field(min_length=1)
    start: HHMM
    duration_min: int = Field(ge=1, le=7 * 24 * 60)


class OneOffWindow(Entry):
    kind: Literal["one_off"]
    name: str = Field(min_length=1)
    start_at: datetime
    end_at: datetime

    @model_validator(mode="after")
    def _ordered(self) -> OneOffWindow:
        if self.start_at.tzinfo is None or self.end_at.tzinfo is None:
            raise ValueError("start_at and end_at need a UTC offset, e.g. 2026-12-05T01:00:00+08:00")
        if self.end_at <= self.start_at:
            raise ValueError("end_at must be after start_at")
        return self


MaintenanceWindow = Annotated[RecurringWindow | OneOffWindow, Field(discriminator="kind")]


class CreditBand(Entry):
    below_pct: Pct
    credit_pct: Pct


class CreditsIn(Entry):
    bands: list[CreditBand] = []
    cap_pct: Pct = Decimal(100)

    @model_validator(mode="after")
    def _monotonic(self) -> CreditsIn:
        for higher, lower in zip(self.bands, self.bands[1:], strict=False):
            if lower.below_pct >= higher.below_pct:
                raise ValueError("bands must be listed by below_pct, highest first, without repeats")
            if lower.credit_pct < higher.credit_pct:
                raise ValueError("a lower availability band cannot owe a smaller credit")
        return self


class ContractIn(Entry):
    name: Name
    account: Name
    valid_from: date
    valid_to: date
    timezone: TimeZone
    month_length: Literal["calendar", "fixed_43200"] = "calendar"
    monthly_fee: Annotated[Decimal, Field(ge=0)] = Decimal(0)
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "EUR"
    sla: SlaIn
    maintenance_windows: list[MaintenanceWindow] = []
    credits: CreditsIn = CreditsIn()
    archive_ref: str = ""

    @model_validator(mode="after")
    def _valid_period(self) -> ContractIn:
        if self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        return self


class CircuitIn(Entry):
    name: Name
    account: Name
    contract: Name
    device: Name
    interface: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    far_end: IpAddress | None = None
    committed_rate_bps: int | None = Field(default=None, gt=0)
    probe: Literal["ssh", "icmp", "none"] = "none"
    vrf: str | None = None
    source_interface: str | None = None
    service: str = ""
    description: str = ""

    @model_validator(mode="after")
    def _probe_needs_target(self) -> CircuitIn:
        if self.probe != "none" and self.far_end is None:
            raise ValueError(f"probe {self.probe} needs a far_end address")
        return self


class InventoryDoc(Entry):
    version: Literal[1] = 1
    users: list[UserIn] = []
    snmp_profiles: list[SnmpProfileIn] = []
    ssh_profiles: list[SshProfileIn] = []
    technicians: list[TechnicianIn] = []
    devices: list[DeviceIn] = []
    accounts: list[AccountIn] = []
    contracts: list[ContractIn] = []
    circuits: list[CircuitIn] = []
