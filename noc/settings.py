"""One typed settings object, from environment variables (``NOC_*``) over an optional YAML file over defaults.

Nested slices use ``__`` in the environment: ``NOC_POLLER__INTERVAL_S=30``. Each part of the system is handed
its slice (``settings.poller``, ``settings.web``), never the whole object or a global.
"""

from __future__ import annotations

import json
import os
import string
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from noc import yamlsrc
from noc.errors import InputError, Problem, ValidationFailed


class _Slice(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WebSettings(_Slice):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    # Bearer token Alertmanager must send to POST /api/alertmanager. Unset, the webhook refuses every notification
    # unless ``alertmanager_open`` says, explicitly, that anyone who reaches the port may post (``noc serve`` logs it).
    alertmanager_token: SecretStr | None = None
    alertmanager_open: bool = False
    # A notification's startsAt / endsAt must lie within this window around now: older than the fault history the
    # tickets keep is a replay or a broken clock, far in the future is a forgery or a clock gone wrong.
    alertmanager_max_age_days: int = Field(default=90, ge=1, le=3650)
    alertmanager_max_skew_s: float = Field(default=300.0, ge=0, le=86400)
    # /metrics: Prometheus sends ``authorization: {type: Bearer, credentials: ...}``. Unset, /metrics refuses every
    # scrape unless ``metrics_open`` says, explicitly, that it may be read without credentials.
    metrics_token: SecretStr | None = None
    metrics_open: bool = False
    # Sign-in: per client address, at most ``login_rate_per_minute`` attempts (refused before any password hash
    # runs), at most ``login_hash_concurrency`` password hashes at once per process; wrong passwords for one user
    # from one address delay that address's next try for that user, doubling from ``login_delay_base_s`` after
    # ``login_free_failures`` failures up to ``login_delay_max_s`` (other addresses are not locked out).
    login_rate_per_minute: int = Field(default=20, ge=1, le=10_000)
    login_hash_concurrency: int = Field(default=1, ge=1, le=64)
    login_free_failures: int = Field(default=3, ge=0, le=100)
    login_delay_base_s: float = Field(default=2.0, gt=0, le=3600)
    login_delay_max_s: float = Field(default=900.0, gt=0, le=86400)
    # Browser sessions: how long a login lasts (a shift), and whether the cookie is sent over HTTPS only (set it
    # true whenever the pages are served through TLS).
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    cookie_secure: bool = False
    # How long a verified API token is trusted without asking the database again (0: every call asks). A revoked
    # token stops working within this many seconds.
    token_cache_s: float = Field(default=5.0, ge=0, le=300)
    # The browser libraries npm installed (`make` runs `npm ci`): a ``node_modules`` folder. Unset: the one beside
    # the source tree. The app serves uPlot from there; nothing is loaded from the internet.
    assets_dir: Path | None = None
    # How often the NOC board's live feed looks for changes, in seconds.
    board_refresh_s: float = Field(default=2.0, gt=0, le=300)
    # The address people reach the pages at: notifications link to ``{public_url}/tickets/<id>``.
    public_url: str = Field(default="http://127.0.0.1:8080", pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$")


class PollerSettings(_Slice):
    # `noc serve` runs the poller beside the web app unless this is false (e.g. a web-only replica).
    enabled: bool = True
    interval_s: float = Field(default=60.0, gt=0)
    tier_a_interval_s: float = Field(default=30.0, gt=0)
    jitter_ratio: float = Field(default=0.1, ge=0, le=0.5)
    concurrency: int = Field(default=64, ge=1, le=10_000)
    timeout_s: float = Field(default=2.0, gt=0)
    retries: int = Field(default=1, ge=0, le=10)
    down_after_failures: int = Field(default=3, ge=1, le=100)
    discovery_interval_s: float = Field(default=6 * 3600.0, gt=0)
    # "native" (default): v2c and SNMPv3 (USM, SHA-2 + AES) on the project's own codec, about 15x less CPU per walk
    # than pysnmp (bench/snmp_poll.py); weak-crypto profiles still go through pysnmp. "pysnmp": the reference backend.
    snmp_backend: Literal["native", "pysnmp"] = "native"
    ssh_workers: int = Field(default=16, ge=1, le=256)
    ssh_connect_timeout_s: float = Field(default=10.0, gt=0)
    # Only the interfaces that carry circuits (fewer PDUs on big devices), or every interface.
    circuit_interfaces_only: bool = False
    probe_count: int = Field(default=5, ge=1, le=1000)
    probe_interval_s: float = Field(default=0.2, gt=0)
    probe_timeout_s: float = Field(default=2.0, gt=0)
    # Poller-side ICMP: raw sockets need root (or CAP_NET_RAW); unprivileged needs net.ipv4.ping_group_range.
    icmp_privileged: bool = True
    raw_retention_days: int = Field(default=7, ge=1)
    # How often the live SLA engine evaluates, stores rollups and updates breaches.
    sla_tick_s: float = Field(default=15.0, gt=0)
    # How often month-to-date availability and objectives are recomputed for /metrics (a report per contract).
    sla_report_interval_s: float = Field(default=300.0, gt=0)
    # Per-interface 5-minute rollups (avg/max in and out, errors) kept for graphs over weeks.
    rollup_retention_days: int = Field(default=35, ge=1)
    # This poller's name in every message it publishes and in the fleet (default: the host name).
    name: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    # The poller group this poller serves (``noc poller``): it polls only devices whose ``poller_group`` is this.
    group: str = Field(default="default", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    # Its share of its group's devices relative to the other members (weighted rendezvous hashing).
    capacity: float = Field(default=1.0, gt=0, le=1000)


class BusSettings(_Slice):
    """Where each device poll's message goes between the poll stage and its consumers (store, SLA, snapshot,
    tickets): ``memory`` (one process, nothing else to run) or a Redis URL (``redis://host:6379/0``: Redis Streams
    with consumer groups, shared by several processes)."""

    url: str = Field(default="memory", pattern=r"^(memory|rediss?://.+)$")
    # Redis keys start with this (one prefix per installation sharing a Redis).
    prefix: str = Field(default="noc", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    # In-process bus: messages held in memory per consumer before they spill to files in ``spill_dir``: at most
    # this many, and at most this many bytes of them (as noc.messages.held_bytes estimates them).
    memory_messages: int = Field(default=10_000, ge=10)
    memory_max_bytes: int = Field(default=32 * 1024**2, ge=1024)
    spill_dir: Path = Path("./noc-spill")
    # The bound: beyond this many bytes of spilled messages per consumer the oldest are dropped (counted, logged).
    spill_max_bytes: int = Field(default=1024**3, ge=1024)
    # Redis: how many messages a stream keeps at most (approximate trim), the bound of the Redis bus.
    stream_max_messages: int = Field(default=1_000_000, ge=1000)
    # The store writes up to this many messages in one transaction, waiting at most batch_wait_s to fill it.
    batch_messages: int = Field(default=500, ge=1, le=100_000)
    batch_wait_s: float = Field(default=0.5, ge=0, le=60)
    # Redis: a message left unacknowledged this long by a consumer that went away is taken over by another.
    claim_idle_s: float = Field(default=60.0, gt=0)
    # A message a consumer failed on this many times (not counting a database that is away) is set aside.
    max_deliveries: int = Field(default=3, ge=1, le=100)
    # Backoff while storage is unreachable: first wait, doubled up to the cap.
    retry_initial_s: float = Field(default=0.5, gt=0)
    retry_max_s: float = Field(default=30.0, gt=0)


class FleetSettings(_Slice):
    """Several ``noc poller`` processes sharing the devices through Redis (``bus.url: redis://...``)."""

    # A member without a heartbeat for this long is dead: its devices go to the others of its group.
    failover_s: float = Field(default=30.0, gt=0, le=3600)
    # How often each poller heartbeats and recomputes what it owns (well under failover_s).
    heartbeat_s: float = Field(default=5.0, gt=0, le=600)
    # A poller that joins (or comes back after failover_s) takes its share only after this long: a restart within
    # failover_s moves nothing, and a comeback moves its devices once.
    grace_s: float = Field(default=60.0, ge=0, le=3600)
    # How often a poller checks whether the inventory changed (new, removed or edited devices).
    inventory_check_s: float = Field(default=30.0, gt=0, le=3600)

    @model_validator(mode="after")
    def _heartbeat_under_failover(self) -> FleetSettings:
        if self.heartbeat_s * 2 > self.failover_s:
            raise ValueError("heartbeat_s must be at most half of failover_s")
        return self


class ServiceSettings(_Slice):
    # SIGINT/SIGTERM: polls in flight are cancelled and the service is gone within this many seconds.
    stop_timeout_s: float = Field(default=10.0, gt=0, le=600)


# --- tickets: every figure of the operator's fault-handling standard is a setting or a contract field -----------

TIERS = ("A", "B", "C")
IMPACTS = ("service_down", "degraded", "at_risk")

DEFAULT_PRIORITY_MATRIX: dict[str, dict[str, str]] = {
    "A": {"service_down": "P1", "degraded": "P2", "at_risk": "P3"},
    "B": {"service_down": "P2", "degraded": "P3", "at_risk": "P4"},
    "C": {"service_down": "P3", "degraded": "P4", "at_risk": "P4"},
}
# How bad an SLA breach is, by objective: down is down; a missed ceiling degrades; a trend puts the service at risk.
DEFAULT_IMPACT_BY_OBJECTIVE = {
    "availability": "service_down",
    "latency": "degraded",
    "loss": "degraded",
    "jitter": "degraded",
    "committed_rate": "degraded",
    "utilisation": "at_risk",
    "burn_rate": "at_risk",
}
DEFAULT_CAUSE_CATEGORIES = (
    "fibre_cut",
    "hardware",
    "software",
    "configuration",
    "power",
    "capacity",
    "third_party",
    "customer_side",
    "unknown",
)


class TicketSettings(_Slice):
    # A fault that comes back within this long after its ticket was resolved reopens that ticket.
    reopen_window_s: float = Field(default=24 * 3600.0, ge=0)
    # Used when a circuit's contract does not state its own limits.
    response_time_s: int = Field(default=45 * 60, gt=0)
    restore_time_s_by_tier: dict[str, int] = Field(default_factory=lambda: {"A": 4 * 3600, "B": 86400, "C": 86400})
    warn_at_ratio: float = Field(default=0.75, gt=0, lt=1)
    # Expiry escalates to level 1 (NOC lead); still unmet at this share of the limit, to level 2 (account manager).
    second_escalation_at_ratio: float = Field(default=1.5, gt=1)
    priority_matrix: dict[str, dict[str, str]] = Field(default_factory=lambda: dict(DEFAULT_PRIORITY_MATRIX))
    impact_by_objective: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_IMPACT_BY_OBJECTIVE))
    cause_categories: tuple[str, ...] = DEFAULT_CAUSE_CATEGORIES
    contract_expiry_notice_days: int = Field(default=30, ge=0)
    # A contact's details are re-verified with them at least this often (personal data is kept accurate).
    contact_reverify_days: int = Field(default=365, ge=1, le=3650)
    case_suggestions: int = Field(default=5, ge=0, le=50)
    # How many months back (before the current one) the account's health archive shows SLA compliance for.
    sla_history_months: int = Field(default=12, ge=1, le=120)
    # How often the service looks for warnings and escalations that fell due.
    timers_interval_s: float = Field(default=60.0, gt=0, le=3600)
    # A ticket resolved as "restored on site" while the system still saw the fault is looked at again this long
    # after: the fault still there then reopens it (as a fault recurring within ``reopen_window_s`` would).
    onsite_recheck_s: float = Field(default=15 * 60.0, gt=0)
    # The longest an acknowledgement may be given "until": past that instant the ticket is new again (re-alerts).
    ack_until_max_s: float = Field(default=7 * 86400.0, gt=0)
    # A photo or file attached to the worklog, at most (the web app takes request bodies up to 1 MiB in all).
    attachment_max_bytes: int = Field(default=900 * 1024, gt=0, le=64 * 1024 * 1024)

    @model_validator(mode="after")
    def _complete(self) -> TicketSettings:
        for tier in TIERS:
            row = self.priority_matrix.get(tier)
            if row is None or any(impact not in row for impact in IMPACTS):
                raise ValueError(f"priority_matrix: tier {tier} needs a priority for each of {', '.join(IMPACTS)}")
            if tier not in self.restore_time_s_by_tier:
                raise ValueError(f"restore_time_s_by_tier: no default for tier {tier}")
        for objective, impact in self.impact_by_objective.items():
            if impact not in IMPACTS:
                raise ValueError(f"impact_by_objective.{objective}: {impact!r} is not one of {', '.join(IMPACTS)}")
        return self


# --- notifications: channels, who is told, and for what ----------------------------------------------------------

HTTP_URL = r"^https?://[^\s/?#]+(/\S*)?$"


class _Channel(_Slice):
    # Messages sent through this channel per minute at most; more wait for the next minute.
    rate_per_minute: int = Field(default=20, ge=1, le=10_000)
    timeout_s: float = Field(default=10.0, gt=0, le=300)


class EmailChannel(_Channel):
    kind: Literal["email"]
    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    # starttls: plain connection upgraded (587); ssl: TLS from the first byte (465); none: no TLS (a local relay).
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    sender: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    # A CA bundle to verify the server's certificate with (a private CA); unset: the system's.
    ca_file: Path | None = None

    @model_validator(mode="after")
    def _auth_pair(self) -> EmailChannel:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together")
        return self


class DingTalkChannel(_Channel):
    """A DingTalk group robot: ``url`` with its access_token; ``secret`` (SEC...) when the robot signs (加签)."""

    kind: Literal["dingtalk"]
    url: str = Field(pattern=HTTP_URL)
    secret: SecretStr | None = None


class WeComChannel(_Channel):
    """A WeCom (企业微信) group robot: the robot's ``key`` goes into the URL's query."""

    kind: Literal["wecom"]
    url: str = Field(default="https://qyapi.weixin.qq.com/cgi-bin/webhook/send", pattern=HTTP_URL)
    key: SecretStr


class FeishuChannel(_Channel):
    """A Feishu (飞书) group robot: ``url`` is its hook; ``secret`` when signature verification is on."""

    kind: Literal["feishu"]
    url: str = Field(pattern=HTTP_URL)
    secret: SecretStr | None = None


class WebhookChannel(_Channel):
    """Any HTTP receiver: a JSON body signed with HMAC-SHA256 under ``secret`` in ``signature_header``."""

    kind: Literal["webhook"]
    url: str = Field(pattern=HTTP_URL)
    secret: SecretStr = Field(min_length=16)
    signature_header: str = Field(default="X-Noc-Signature", pattern=r"^[A-Za-z0-9-]+$")


SMS_PLACEHOLDERS = frozenset({"to", "text"})


class SmsChannel(_Channel):
    """An SMS gateway's HTTP API: ``body_template`` with ``$to`` (the recipient's number) and ``$text``; in a
    JSON body each is substituted as a JSON string (quotes included), in a form body URL-encoded."""

    kind: Literal["sms"]
    url: str = Field(pattern=HTTP_URL)
    method: Literal["POST", "PUT"] = "POST"
    content_type: Literal["application/json", "application/x-www-form-urlencoded"] = "application/json"
    body_template: str = Field(min_length=1)
    # Extra request headers (an API key): secrets, never logged or shown.
    headers: dict[str, SecretStr] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _template(self) -> SmsChannel:
        template = string.Template(self.body_template)
        if not template.is_valid():
            raise ValueError("body_template: a '$' that is not $to, $text or $$")
        unknown = set(template.get_identifiers()) - SMS_PLACEHOLDERS
        if unknown:
            raise ValueError(f"body_template: unknown placeholder(s) {', '.join(sorted(unknown))} (known: $to, $text)")
        if self.content_type == "application/json":
            try:
                json.loads(template.substitute(to=json.dumps("+1"), text=json.dumps("x")))
            except ValueError as exc:
                raise ValueError(f"body_template: not JSON once $to and $text are filled in: {exc}") from exc
        return self


Channel = Annotated[
    EmailChannel | DingTalkChannel | WeComChannel | FeishuChannel | WebhookChannel | SmsChannel,
    Field(discriminator="kind"),
]


class NotifyRecipient(_Slice):
    """Someone (or a group's robot) told through one channel. ``name`` is the label the records show; ``address``
    is the e-mail address or phone number (robots and webhooks need none)."""

    name: str = Field(min_length=1, max_length=100)
    channel: str
    address: str | None = Field(default=None, min_length=1, max_length=200)
    role: Literal["noc", "noc_lead", "account_manager", "technician"] = "noc"
    language: Literal["zh-CN", "en"] = "zh-CN"
    # Only tickets of these regions / key accounts (empty: all).
    regions: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()


ACCOUNT_EVENTS = frozenset({"contract_expiry", "contacts_reverify"})


class NotifyRoute(_Slice):
    """Who is told of which ticket events. Every filter that is given must match (empty: any)."""

    # Ticket events, and the key accounts' reminders (contract_expiry, contacts_reverify).
    events: tuple[
        Literal[
            "opened", "reopened", "warning", "escalation", "cleared", "resolved", "contract_expiry", "contacts_reverify"
        ],
        ...,
    ] = Field(min_length=1)
    priorities: tuple[str, ...] = ()
    levels: tuple[int, ...] = ()  # escalation level (1 NOC lead, 2 account manager); 0 for a warning
    tiers: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()  # what raised the fault: sla_breach, device_down, alertmanager, complaint, manual
    # Told: every recipient of these roles, and these recipients by name.
    roles: tuple[Literal["noc", "noc_lead", "account_manager", "technician"], ...] = ()
    recipients: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _someone(self) -> NotifyRoute:
        if not self.roles and not self.recipients:
            raise ValueError("a route names roles or recipients")
        if set(self.events) & ACCOUNT_EVENTS:
            for name in ("priorities", "levels", "sources"):
                if getattr(self, name):
                    raise ValueError(
                        f"{name}: a ticket filter, on a route that lists account reminders "
                        f"({', '.join(sorted(set(self.events) & ACCOUNT_EVENTS))}); give them a route of their own"
                    )
        return self


class NotifySettings(_Slice):
    # How often the delivery loop looks for new ticket events and for deliveries due.
    interval_s: float = Field(default=2.0, gt=0, le=600)
    # Attempts per message before it is recorded as failed; between them, backoff doubling up to the cap.
    max_attempts: int = Field(default=5, ge=1, le=50)
    retry_initial_s: float = Field(default=30.0, gt=0, le=86400)
    retry_max_s: float = Field(default=3600.0, gt=0, le=86400)
    # Messages being sent at once.
    concurrency: int = Field(default=8, ge=1, le=256)
    channels: dict[str, Channel] = Field(default_factory=dict)
    recipients: tuple[NotifyRecipient, ...] = ()
    routes: tuple[NotifyRoute, ...] = ()

    @model_validator(mode="after")
    def _references(self) -> NotifySettings:
        names = [r.name for r in self.recipients]
        for i, recipient in enumerate(self.recipients):
            where = f"recipients[{i}]"
            if names.index(recipient.name) != i:
                raise ValueError(f"{where}.name: {recipient.name!r} is named twice")
            channel = self.channels.get(recipient.channel)
            if channel is None:
                raise ValueError(f"{where}.channel: no channel named {recipient.channel!r}")
            if isinstance(channel, EmailChannel | SmsChannel) and recipient.address is None:
                raise ValueError(f"{where}.address: a {channel.kind} channel needs the recipient's address")
            if isinstance(channel, EmailChannel) and "@" not in (recipient.address or ""):
                raise ValueError(f"{where}.address: {recipient.address!r} is not an e-mail address")
        for i, route in enumerate(self.routes):
            for name in route.recipients:
                if name not in names:
                    raise ValueError(f"routes[{i}].recipients: no recipient named {name!r}")
        return self


# --- records: retention of personal data, contract documents ------------------------------------------------------

DocumentKind = Literal["pdf", "png", "jpeg", "tiff"]
DOCUMENT_KINDS: tuple[DocumentKind, ...] = ("pdf", "png", "jpeg", "tiff")


class RecordsSettings(_Slice):
    # A key account's contacts are kept for this many days after the end of its last contract, then destroyed
    # (``noc retention run``): the purpose they were collected for ended with the contracts.
    contacts_retention_days: int = Field(default=730, ge=0, le=36500)
    # How often ``noc serve`` destroys what is due (a day: the retention periods are counted in days).
    retention_interval_s: float = Field(default=86400.0, gt=0, le=7 * 86400)
    # A stored contract document (the signed PDF, a scan of the paper original) is at most this large.
    document_max_bytes: int = Field(default=20 * 1024**2, ge=1024, le=1024**3)
    # The kinds of file a contract document may be, recognised by their content (not by their name).
    document_kinds: tuple[DocumentKind, ...] = Field(default=DOCUMENT_KINDS, min_length=1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="NOC_", env_nested_delimiter="__", extra="forbid", frozen=True, case_sensitive=False
    )

    database_url: str = "sqlite+aiosqlite:///./noc.db"
    # Comma-separated Fernet keys, newest first (the first encrypts; all decrypt): rotation without downtime.
    secret_key: SecretStr | None = None
    secret_key_file: Path | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    web: WebSettings = WebSettings()
    poller: PollerSettings = PollerSettings()
    bus: BusSettings = BusSettings()
    service: ServiceSettings = ServiceSettings()
    fleet: FleetSettings = FleetSettings()
    tickets: TicketSettings = TicketSettings()
    notify: NotifySettings = NotifySettings()
    records: RecordsSettings = RecordsSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment wins over the YAML file (passed as init values), which wins over defaults.
        return env_settings, init_settings


def _without_tags(data: Any, loc: list[str | int]) -> list[str | int]:
    """Pydantic names a tagged union's member in the error's path (``channels.bad.dingtalk.url``); the file and
    the environment have no such level (``channels.bad.url``): the tag is dropped where the data says ``kind``."""
    out: list[str | int] = []
    for part in loc:
        if isinstance(data, dict) and part not in data and data.get("kind") == part:
            continue
        out.append(part)
        if isinstance(data, dict):
            data = data.get(part)
        else:
            data = data[part] if isinstance(data, list) and isinstance(part, int) and part < len(data) else None
    return out


def load_settings(config_file: Path | None = None) -> Settings:
    """Settings from ``config_file`` (or ``$NOC_CONFIG``) and the environment; bad values raise ValidationFailed."""
    env_config = os.environ.get("NOC_CONFIG")
    path = config_file or (Path(env_config) if env_config else None)
    located: yamlsrc.Located | None = None
    values: dict[str, Any] = {}
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"{path}: cannot read config file: {exc.strerror}") from exc
        located = yamlsrc.load(text, str(path))
        if located.data is not None and not isinstance(located.data, dict):
            raise ValidationFailed([Problem(str(path), 1, "", "expected a mapping of settings")])
        values = located.data or {}
    try:
        return Settings(**values)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = _without_tags(values, [p for p in err["loc"] if isinstance(p, str | int)])
            if located is not None and tuple(loc) in located.lines:
                problems.append(located.problem(loc, err["msg"]))
            else:
                env_name = "NOC_" + "__".join(str(p).upper() for p in loc)
                problems.append(Problem("environment", None, env_name, err["msg"]))
        raise ValidationFailed(problems) from exc
