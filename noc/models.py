"""The operator's inventory and records: devices and their interfaces, key accounts with contacts, contracts with
SLA levels, circuits, technicians, users, credential profiles, and the change history.

Secrets and personal data live only in ``*_enc`` columns (Fernet tokens); ``*_ref`` columns keep the name of the
environment variable a secret was given as, so an export can write the reference back instead of the value.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from noc.db import Base, DecimalText, UtcDateTime
from noc.timeutil import utcnow

ROLES = ("admin", "noc", "technician", "account_manager")
TIERS = ("A", "B", "C")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)


class SnmpProfile(Base):
    __tablename__ = "snmp_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    version: Mapped[str] = mapped_column(String(4))
    community_enc: Mapped[str | None] = mapped_column(Text, default=None)
    community_ref: Mapped[str | None] = mapped_column(String(200), default=None)
    user: Mapped[str | None] = mapped_column(String(100), default=None)
    auth_protocol: Mapped[str | None] = mapped_column(String(16), default=None)
    auth_key_enc: Mapped[str | None] = mapped_column(Text, default=None)
    auth_key_ref: Mapped[str | None] = mapped_column(String(200), default=None)
    priv_protocol: Mapped[str | None] = mapped_column(String(16), default=None)
    priv_key_enc: Mapped[str | None] = mapped_column(Text, default=None)
    priv_key_ref: Mapped[str | None] = mapped_column(String(200), default=None)
    allow_weak_crypto: Mapped[bool] = mapped_column(Boolean, default=False)


class SshProfile(Base):
    __tablename__ = "ssh_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    username: Mapped[str] = mapped_column(String(100))
    password_enc: Mapped[str | None] = mapped_column(Text, default=None)
    password_ref: Mapped[str | None] = mapped_column(String(200), default=None)
    private_key_enc: Mapped[str | None] = mapped_column(Text, default=None)
    private_key_ref: Mapped[str | None] = mapped_column(String(200), default=None)
    enable_secret_enc: Mapped[str | None] = mapped_column(Text, default=None)
    enable_secret_ref: Mapped[str | None] = mapped_column(String(200), default=None)


class Device(Base):
    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    address: Mapped[str] = mapped_column(String(255))
    platform: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(32), default="pe")
    region: Mapped[str] = mapped_column(String(64), default="")
    site: Mapped[str] = mapped_column(String(200), default="")
    # Where a technician goes and what they need to get in: the site's street address, the access notes.
    site_address: Mapped[str] = mapped_column(String(300), default="", server_default="")
    access_notes: Mapped[str] = mapped_column(Text, default="", server_default="")
    snmp_profile_id: Mapped[int | None] = mapped_column(ForeignKey("snmp_profiles.id"), default=None)
    snmp_port: Mapped[int] = mapped_column(Integer, default=161)
    ssh_profile_id: Mapped[int | None] = mapped_column(ForeignKey("ssh_profiles.id"), default=None)
    ssh_port: Mapped[int] = mapped_column(Integer, default=22)
    poll_interval_s: Mapped[float | None] = mapped_column(default=None)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Only pollers of this group poll the device (``noc poller``, ``poller.group``).
    poller_group: Mapped[str] = mapped_column(String(64), default="default", server_default="default")

    snmp_profile: Mapped[SnmpProfile | None] = relationship(lazy="raise")
    ssh_profile: Mapped[SshProfile | None] = relationship(lazy="raise")


class Interface(Base):
    """What discovery found on a device. Circuits name their interface; the index may change across reboots."""

    __tablename__ = "interfaces"
    __table_args__ = (UniqueConstraint("device_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), index=True)
    if_index: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))  # collectors cut longer names, with a marker (a key)
    # Whatever an agent sends (an ifAlias of 2,000 characters is real): Text, never a VARCHAR that refuses the row.
    descr: Mapped[str] = mapped_column(Text, default="")
    alias: Mapped[str] = mapped_column(Text, default="")
    if_type: Mapped[int | None] = mapped_column(Integer, default=None)
    speed_bps: Mapped[int | None] = mapped_column(BigInteger, default=None)
    admin_status: Mapped[str] = mapped_column(String(16), default="unknown")
    oper_status: Mapped[str] = mapped_column(String(16), default="unknown")
    mac: Mapped[str | None] = mapped_column(Text, default=None)  # ifPhysAddress in hex: any length an agent sends
    mtu: Mapped[int | None] = mapped_column(Integer, default=None)
    present: Mapped[bool] = mapped_column(Boolean, default=True)
    discovered_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class KeyAccount(Base):
    __tablename__ = "key_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    legal_name: Mapped[str] = mapped_column(String(300))
    tier: Mapped[str] = mapped_column(String(1))
    account_manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    region: Mapped[str] = mapped_column(String(64), default="")
    auto_resolve: Mapped[bool] = mapped_column(Boolean, default=False)
    services: Mapped[list[str]] = mapped_column(JSON, default=list)

    account_manager: Mapped[User | None] = relationship(lazy="raise")
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="account", cascade="all, delete-orphan", order_by="Contact.role", lazy="raise"
    )


class Contact(Base):
    """A customer's contact person: personal data, encrypted, kept for a stated purpose."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("account_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("key_accounts.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(200), default="")
    name_enc: Mapped[str] = mapped_column(Text)
    phone_enc: Mapped[str | None] = mapped_column(Text, default=None)
    email_enc: Mapped[str | None] = mapped_column(Text, default=None)
    verified_on: Mapped[date | None] = mapped_column(Date, default=None)

    account: Mapped[KeyAccount] = relationship(back_populates="contacts", lazy="raise")


class Contract(Base):
    __tablename__ = "contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("key_accounts.id"), index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
    timezone: Mapped[str] = mapped_column(String(64))
    month_length: Mapped[str] = mapped_column(String(16), default="calendar")
    monthly_fee: Mapped[Decimal] = mapped_column(DecimalText, default=Decimal(0))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    # SLA levels
    availability_target_pct: Mapped[Decimal] = mapped_column(DecimalText)
    latency_ceiling_ms: Mapped[float | None] = mapped_column(default=None)
    loss_ceiling_pct: Mapped[float | None] = mapped_column(default=None)
    jitter_ceiling_ms: Mapped[float | None] = mapped_column(default=None)
    utilisation_ceiling_pct: Mapped[float | None] = mapped_column(default=None)
    response_time_s: Mapped[int] = mapped_column(Integer, default=45 * 60)
    restore_time_s: Mapped[int] = mapped_column(Integer)
    sliding_window_n: Mapped[int] = mapped_column(Integer, default=1)
    unknown_time: Mapped[str] = mapped_column(String(16), default="excluded")
    # exclude: 100 x (B - W - D) / (B - W), agreed maintenance W out of the base; include: 100 x (B - D) / B
    maintenance_in_base: Mapped[str] = mapped_column(String(16), default="exclude")
    # The monthly report is provisional below this measured share of the month; availability's stated decimals.
    min_measured_pct: Mapped[Decimal] = mapped_column(DecimalText, default=Decimal(90))
    availability_places: Mapped[int] = mapped_column(Integer, default=2)
    # [{name, kind: recurring|one_off, weekdays, start, duration_min} | {name, kind, start_at, end_at}]
    maintenance_windows: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # [{below_pct, credit_pct}] and the cap as a share of the monthly fee
    credit_bands: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    credit_cap_pct: Mapped[Decimal] = mapped_column(DecimalText, default=Decimal(100))
    archive_ref: Mapped[str] = mapped_column(String(200), default="")

    account: Mapped[KeyAccount] = relationship(lazy="raise")


class Circuit(Base):
    """One key-account service instance: a path from a PE device's interface to a far end."""

    __tablename__ = "circuits"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("key_accounts.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), index=True)
    interface_name: Mapped[str] = mapped_column(String(200))
    far_end_address: Mapped[str | None] = mapped_column(String(255), default=None)
    committed_rate_bps: Mapped[int | None] = mapped_column(BigInteger, default=None)
    probe: Mapped[str] = mapped_column(String(8), default="none")
    vrf: Mapped[str | None] = mapped_column(String(100), default=None)
    source_interface: Mapped[str | None] = mapped_column(String(200), default=None)
    service: Mapped[str] = mapped_column(String(100), default="")
    description: Mapped[str] = mapped_column(String(300), default="")

    account: Mapped[KeyAccount] = relationship(lazy="raise")
    contract: Mapped[Contract] = relationship(lazy="raise")
    device: Mapped[Device] = relationship(lazy="raise")


class Technician(Base):
    __tablename__ = "technicians"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)

    user: Mapped[User | None] = relationship(lazy="raise")


class ChangeRecord(Base):
    """Who changed what, when, before and after: the dynamic record the operator's rules require."""

    __tablename__ = "change_history"
    __table_args__ = (Index("ix_change_history_entity", "entity", "entity_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    entity: Mapped[str] = mapped_column(String(32))
    entity_name: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(16))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    changed_fields: Mapped[list[str]] = mapped_column(JSON, default=list)


# --- what the poller measured ----------------------------------------------------------------------------------


class DeviceStatus(Base):
    """The live availability of a device: one row each, updated on every poll."""

    __tablename__ = "device_status"

    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True)
    available: Mapped[bool | None] = mapped_column(Boolean, default=None)  # None: never polled
    since: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    last_poll_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    last_ok_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    uptime_s: Mapped[int | None] = mapped_column(BigInteger, default=None)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    sys_name: Mapped[str | None] = mapped_column(Text, default=None)
    sys_descr: Mapped[str | None] = mapped_column(Text, default=None)
    discovered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    # Who made the latest poll, and the fleet's ownership epoch it was made under (a hand-over shows here).
    poller: Mapped[str | None] = mapped_column(String(64), default=None)
    poller_epoch: Mapped[float | None] = mapped_column(default=None)


class DeviceOutage(Base):
    """A period a device was down, dated from its first failed poll; ``end_at`` is None while it lasts."""

    __tablename__ = "device_outages"
    # One outage per device and start: a replayed "down" message finds its row instead of adding another.
    __table_args__ = (Index("ix_device_outages_device_start", "device_id", "start_at", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    start_at: Mapped[datetime] = mapped_column(UtcDateTime)
    end_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    reason: Mapped[str] = mapped_column(Text, default="")


class MonitoringGap(Base):
    """A period nobody polled a device (no poller of its group alive, or polls that did not get through), from
    when its next poll was due until the next poll arrived; ``ended_at`` is None while it lasts. Unknown time,
    never downtime."""

    __tablename__ = "monitoring_gaps"
    __table_args__ = (Index("ix_monitoring_gaps_device_start", "device_id", "started_at", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class InterfaceMeasurement(Base):
    """One interface between two polls (raw, kept ``poller.raw_retention_days``). Rates are None when the delta
    was discarded (first poll, reboot, reset, discontinuity, above speed): never a spike.

    Keyed by device, interface and sample time, so writing the same poll twice stores it once. On PostgreSQL the
    table is partitioned by day (``noc.store.partitions``): retention drops whole days."""

    __tablename__ = "interface_measurements"

    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True)
    if_name: Mapped[str] = mapped_column(String(200), primary_key=True)
    ts: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True, index=True)
    if_index: Mapped[int] = mapped_column(Integer)
    interval_s: Mapped[float | None] = mapped_column(default=None)
    oper_status: Mapped[str] = mapped_column(String(16))
    speed_bps: Mapped[int | None] = mapped_column(BigInteger, default=None)
    in_bps: Mapped[float | None] = mapped_column(default=None)
    out_bps: Mapped[float | None] = mapped_column(default=None)
    in_utilisation_ratio: Mapped[float | None] = mapped_column(default=None)
    out_utilisation_ratio: Mapped[float | None] = mapped_column(default=None)
    in_errors_per_s: Mapped[float | None] = mapped_column(default=None)
    out_errors_per_s: Mapped[float | None] = mapped_column(default=None)
    in_discards_per_s: Mapped[float | None] = mapped_column(default=None)
    out_discards_per_s: Mapped[float | None] = mapped_column(default=None)
    verdict: Mapped[str] = mapped_column(String(16))


class InterfaceRollup(Base):
    """Per interface and 5-minute bucket: what graphs over weeks read instead of raw rows (kept
    ``poller.rollup_retention_days``). Averages are sums over ``rated_n``, the samples that had a rate."""

    __tablename__ = "interface_rollups"

    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True)
    if_name: Mapped[str] = mapped_column(String(200), primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True, index=True)
    samples: Mapped[int] = mapped_column(Integer)
    oper_up_n: Mapped[int] = mapped_column(Integer)
    rated_n: Mapped[int] = mapped_column(Integer)
    in_sum_bps: Mapped[float] = mapped_column()
    in_max_bps: Mapped[float | None] = mapped_column(default=None)
    out_sum_bps: Mapped[float] = mapped_column()
    out_max_bps: Mapped[float | None] = mapped_column(default=None)
    errors_sum_per_s: Mapped[float] = mapped_column()
    discards_sum_per_s: Mapped[float] = mapped_column()


class ProbeMeasurement(Base):
    """One burst of echo requests toward a circuit's far end (raw, kept ``poller.raw_retention_days``), keyed by
    circuit, time and method; partitioned by day on PostgreSQL like the interface rows."""

    __tablename__ = "probe_measurements"

    circuit_id: Mapped[int] = mapped_column(ForeignKey("circuits.id", ondelete="CASCADE"), primary_key=True)
    ts: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True, index=True)
    method: Mapped[str] = mapped_column(String(8), primary_key=True)
    sent: Mapped[int] = mapped_column(Integer)
    received: Mapped[int] = mapped_column(Integer)
    loss_ratio: Mapped[float | None] = mapped_column(default=None)
    rtt_min_ms: Mapped[float | None] = mapped_column(default=None)
    rtt_avg_ms: Mapped[float | None] = mapped_column(default=None)
    rtt_max_ms: Mapped[float | None] = mapped_column(default=None)
    jitter_ms: Mapped[float | None] = mapped_column(default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)


class Heartbeat(Base):
    """Each serving process writes its row on ``/healthz``: the proof that the database takes writes."""

    __tablename__ = "flow_heartbeats"

    process: Mapped[str] = mapped_column(String(128), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class PollCycle(Base):
    """The poller's own health: each cycle's duration and overruns."""

    __tablename__ = "poll_cycles"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    duration_s: Mapped[float] = mapped_column()
    interval_s: Mapped[float | None] = mapped_column(default=None)
    devices: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    overrun: Mapped[bool] = mapped_column(Boolean)
    overrun_devices: Mapped[int] = mapped_column(Integer, default=0)


# --- SLA rollups: what monthly reports read instead of raw samples ---------------------------------------------


class SlaStateRun(Base):
    """Consecutive Δt of one decided state for a circuit (time covered by no run is unknown)."""

    __tablename__ = "sla_state_runs"
    __table_args__ = (Index("ix_sla_state_runs_circuit_start", "circuit_id", "start_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    circuit_id: Mapped[int] = mapped_column(ForeignKey("circuits.id", ondelete="CASCADE"))
    start_at: Mapped[datetime] = mapped_column(UtcDateTime)
    end_at: Mapped[datetime] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(String(16))
    causes: Mapped[list[str]] = mapped_column(JSON, default=list)


class CircuitHourStats(Base):
    """Per circuit and UTC hour: count / sum / min / max of each per-Δt measurement, so a month's report reads
    744 rows per circuit instead of 44,640 samples. Means, minima and maxima are exact; percentiles are taken over
    the hourly means (said so in the report)."""

    __tablename__ = "circuit_hour_stats"

    circuit_id: Mapped[int] = mapped_column(ForeignKey("circuits.id", ondelete="CASCADE"), primary_key=True)
    hour_start: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    rtt_n: Mapped[int] = mapped_column(Integer, default=0)
    rtt_sum_ms: Mapped[float] = mapped_column(default=0.0)
    rtt_min_ms: Mapped[float | None] = mapped_column(default=None)
    rtt_max_ms: Mapped[float | None] = mapped_column(default=None)
    loss_n: Mapped[int] = mapped_column(Integer, default=0)
    loss_sum_ratio: Mapped[float] = mapped_column(default=0.0)
    loss_min_ratio: Mapped[float | None] = mapped_column(default=None)
    loss_max_ratio: Mapped[float | None] = mapped_column(default=None)
    jitter_n: Mapped[int] = mapped_column(Integer, default=0)
    jitter_sum_ms: Mapped[float] = mapped_column(default=0.0)
    jitter_min_ms: Mapped[float | None] = mapped_column(default=None)
    jitter_max_ms: Mapped[float | None] = mapped_column(default=None)
    in_n: Mapped[int] = mapped_column(Integer, default=0)
    in_sum_bps: Mapped[float] = mapped_column(default=0.0)
    in_min_bps: Mapped[float | None] = mapped_column(default=None)
    in_max_bps: Mapped[float | None] = mapped_column(default=None)
    out_n: Mapped[int] = mapped_column(Integer, default=0)
    out_sum_bps: Mapped[float] = mapped_column(default=0.0)
    out_min_bps: Mapped[float | None] = mapped_column(default=None)
    out_max_bps: Mapped[float | None] = mapped_column(default=None)
    util_n: Mapped[int] = mapped_column(Integer, default=0)
    util_sum_ratio: Mapped[float] = mapped_column(default=0.0)
    util_min_ratio: Mapped[float | None] = mapped_column(default=None)
    util_max_ratio: Mapped[float | None] = mapped_column(default=None)
    speed_min_bps: Mapped[float | None] = mapped_column(default=None)
    speed_max_bps: Mapped[float | None] = mapped_column(default=None)


class SlaBreachRecord(Base):
    """A breach the live engine opened; ``until`` is None while it is active (what ``noc sla status`` lists)."""

    __tablename__ = "sla_breaches"
    __table_args__ = (
        Index("ix_sla_breaches_open", "circuit_id", "objective", "until"),
        # One record per breach: stored again (a retried tick), it is found, not doubled.
        Index("uq_sla_breaches_start", "circuit_id", "objective", "since", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    circuit_id: Mapped[int] = mapped_column(ForeignKey("circuits.id", ondelete="CASCADE"))
    objective: Mapped[str] = mapped_column(String(32))
    measured: Mapped[float] = mapped_column()
    limit: Mapped[float] = mapped_column()
    since: Mapped[datetime] = mapped_column(UtcDateTime)
    until: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class ApiToken(Base):
    """A user's API token. Only the SHA-256 of the token is kept: the token itself is shown once, when issued.
    ``prefix`` (the token's first characters, not enough to use it) lets a user tell their tokens apart."""

    __tablename__ = "api_tokens"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_api_tokens_user_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class WebSession(Base):
    """A signed-in browser. The cookie carries a random token; only its SHA-256 is kept, as for API tokens, so a
    leaked database opens no session. ``csrf_token`` is the per-session secret every form must send back."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class LoginAttempt(Base):
    """A sign-in attempt from a client address, not yet followed by that address's success for that user name:
    the throttle counts an address's attempts and a (client, user name)'s failures here, in the database so that
    every ``noc serve`` process and a restart see the same count."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    client: Mapped[str] = mapped_column(String(64), index=True, default="")
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class AuditEvent(Base):
    """One security-relevant act, or a refused attempt at one: append-only (the code has no update or delete path
    for it, and the database refuses both: triggers from migration 0010). Names, not keys: the audit outlives the
    records it speaks of. ``actor`` is who the act was for (a CLI's claimed ``--as``); ``os_user`` who ran the
    command on the machine; ``client`` the network address of a web or API caller."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True, default=utcnow)
    action: Mapped[str] = mapped_column(String(40), index=True)
    outcome: Mapped[str] = mapped_column(String(16))  # allowed | refused
    actor: Mapped[str] = mapped_column(String(100), index=True)
    role: Mapped[str] = mapped_column(String(32), default="")
    via: Mapped[str] = mapped_column(String(16))  # cli | api | web | system
    os_user: Mapped[str] = mapped_column(String(100), default="")
    client: Mapped[str] = mapped_column(String(64), default="")
    subject: Mapped[str] = mapped_column(String(200), index=True, default="")  # the user, account ... acted on
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
