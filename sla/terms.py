"""A contract's SLA terms as the engine evaluates them, and the expansion of maintenance windows into UTC time.

Field names and units follow ``noc.models.Contract`` / ``noc.inventory.schema.ContractIn`` so that
:func:`terms_from_contract` maps a stored contract row (or a plain dict shaped like one) in one call. The engine
never imports those modules: the row is read by attribute or key.

Times: every instant is aware UTC. The contract's IANA timezone is used for two things only: cutting months
(``sla.period``) and expanding recurring maintenance windows here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, cast, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sla.errors import TermsError
from sla.intervals import Interval, Labelled, as_utc, make, union

UnknownRule = Literal["available", "unavailable", "excluded"]
MonthLengthRule = Literal["calendar", "fixed_43200"]
# Agreed maintenance in the availability base: "exclude" (the carriers' rule, the default) computes
# 100 x (B - W - D) / (B - W); "include" keeps the windows in the base, 100 x (B - D) / B. Both forgive outage
# time inside a window.
MaintenanceBase = Literal["exclude", "include"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = get_args(Weekday)
FIXED_MONTH_MIN = 43_200
DEFAULT_DELTA_S = 60
# Below this share of the month measured, a report is provisional (no credit stated as owed) until data covers it.
DEFAULT_MIN_MEASURED_PCT = Decimal(90)
# The decimals a contract states availability with: "99.95 %". Reports truncate to them (never round up to a met
# target).
DEFAULT_AVAILABILITY_PLACES = 2
MAX_AVAILABILITY_PLACES = 6


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TermsError(f"timezone: unknown IANA time zone {name!r}") from None


@dataclass(frozen=True, slots=True)
class RecurringWindow:
    """Every listed weekday at ``start_local`` (wall clock in the contract timezone) for ``duration_min`` real
    minutes. A start that falls in a spring-forward gap is read with the offset before the gap and a start that
    occurs twice in the autumn takes the first occurrence (both as RFC 5545 prescribes)."""

    name: str
    weekdays: frozenset[Weekday]
    start_local: time
    duration_min: int

    def __post_init__(self) -> None:
        if not self.weekdays or not self.weekdays <= set(WEEKDAYS):
            raise TermsError(f"maintenance window {self.name!r}: weekdays must be a non-empty subset of {WEEKDAYS}")
        if self.duration_min < 1:
            raise TermsError(f"maintenance window {self.name!r}: duration_min must be >= 1")
        if self.start_local.tzinfo is not None:
            raise TermsError(f"maintenance window {self.name!r}: start is a wall-clock time without offset")


@dataclass(frozen=True, slots=True)
class OneOffWindow:
    name: str
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        start, end = as_utc(self.start, "maintenance start"), as_utc(self.end, "maintenance end")
        if end <= start:
            raise TermsError(f"maintenance window {self.name!r}: end is not after start")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)


MaintenanceWindow = RecurringWindow | OneOffWindow


@dataclass(frozen=True, slots=True)
class CreditBand:
    """Availability strictly below ``below_pct`` owes ``credit_pct`` of the monthly fee."""

    below_pct: Decimal
    credit_pct: Decimal


@dataclass(frozen=True, slots=True)
class CreditSchedule:
    bands: tuple[CreditBand, ...] = ()  # highest below_pct first
    cap_pct: Decimal = Decimal(100)  # of the monthly fee
    monthly_fee: Decimal = Decimal(0)
    currency: str = "EUR"

    def __post_init__(self) -> None:
        for band in self.bands:
            if not (0 <= band.below_pct <= 100 and 0 <= band.credit_pct <= 100):
                raise TermsError("credit_bands: below_pct and credit_pct must lie in [0, 100]")
        for higher, lower in zip(self.bands, self.bands[1:], strict=False):
            if lower.below_pct >= higher.below_pct:
                raise TermsError("credit_bands: list bands by below_pct, highest first, without repeats")
            if lower.credit_pct < higher.credit_pct:
                raise TermsError("credit_bands: a lower availability band cannot owe a smaller credit")
        if not 0 <= self.cap_pct <= 100:
            raise TermsError("credit_cap_pct must lie in [0, 100]")
        if self.monthly_fee < 0:
            raise TermsError("monthly_fee must be >= 0")


@dataclass(frozen=True, slots=True)
class SlaTerms:
    """One contract's SLA levels and measurement rules. ``None`` ceilings are objectives the contract lacks."""

    contract: str
    timezone: str
    availability_target_pct: Decimal
    latency_ceiling_ms: float | None = None
    loss_ceiling_pct: float | None = None
    jitter_ceiling_ms: float | None = None
    utilisation_ceiling_pct: float | None = None
    sliding_window_n: int = 1
    unknown_time: UnknownRule = "excluded"
    month_length: MonthLengthRule = "calendar"
    maintenance: tuple[MaintenanceWindow, ...] = ()
    maintenance_in_base: MaintenanceBase = "exclude"
    credits: CreditSchedule = field(default_factory=CreditSchedule)
    delta_s: int = DEFAULT_DELTA_S
    min_measured_pct: Decimal = DEFAULT_MIN_MEASURED_PCT
    availability_places: int = DEFAULT_AVAILABILITY_PLACES

    def __post_init__(self) -> None:
        zone(self.timezone)
        if not 0 < self.availability_target_pct <= 100:
            raise TermsError("availability_target_pct must lie in (0, 100]")
        for name in ("latency_ceiling_ms", "jitter_ceiling_ms"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise TermsError(f"{name} must be > 0")
        for name in ("loss_ceiling_pct", "utilisation_ceiling_pct"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 100:
                raise TermsError(f"{name} must lie in [0, 100]")
        if self.sliding_window_n < 1:
            raise TermsError("sliding_window_n must be >= 1")
        if self.unknown_time not in get_args(UnknownRule):
            raise TermsError(f"unknown_time must be one of {get_args(UnknownRule)}, not {self.unknown_time!r}")
        if self.maintenance_in_base not in get_args(MaintenanceBase):
            raise TermsError(
                f"maintenance_in_base must be one of {get_args(MaintenanceBase)}, not {self.maintenance_in_base!r}"
            )
        if self.month_length not in get_args(MonthLengthRule):
            raise TermsError(f"month_length must be one of {get_args(MonthLengthRule)}, not {self.month_length!r}")
        if self.delta_s < 1 or 86_400 % self.delta_s:
            raise TermsError("delta_s must divide a day (e.g. 60)")
        if not 0 <= self.min_measured_pct <= 100:
            raise TermsError("min_measured_pct must lie in [0, 100]")
        if not 0 <= self.availability_places <= MAX_AVAILABILITY_PLACES:
            raise TermsError(f"availability_places must lie in [0, {MAX_AVAILABILITY_PLACES}]")

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.timezone)

    @property
    def unavailable_loss_ratio(self) -> float:
        """Loss above this ratio makes a Δt unavailable. Without a loss ceiling only total loss does (1.0)."""
        return 1.0 if self.loss_ceiling_pct is None else self.loss_ceiling_pct / 100.0


# --- maintenance windows in UTC ------------------------------------------------------------------------------


def maintenance_intervals(windows: Iterable[MaintenanceWindow], timezone: str, span: Interval) -> tuple[Labelled, ...]:
    """Every occurrence of the windows that overlaps ``span``, clipped to it, labelled ``maintenance:<name>``.

    Recurring windows are expanded day by day in local time, so their UTC instants move with DST; the duration
    is elapsed time (a 120-minute window on the night the clocks go back still lasts 120 real minutes).
    """
    tz = zone(timezone)
    out: list[Labelled] = []
    for window in windows:
        label = f"maintenance:{window.name}"
        if isinstance(window, OneOffWindow):
            part = make(max(window.start, span.start), min(window.end, span.end))
            if part is not None:
                out.append(Labelled(part, label))
            continue
        # Start early enough to catch a long window that began before the span (up to a week of duration).
        first = span.start.astimezone(tz).date() - timedelta(days=window.duration_min // 1440 + 1)
        last = span.end.astimezone(tz).date()
        day = first
        while day <= last:
            if WEEKDAYS[day.weekday()] in window.weekdays:
                start = datetime.combine(day, window.start_local, tzinfo=tz).astimezone(UTC)
                end = start + timedelta(minutes=window.duration_min)
                part = make(max(start, span.start), min(end, span.end))
                if part is not None:
                    out.append(Labelled(part, label))
            day += timedelta(days=1)
    return tuple(out)


# --- from a stored contract row --------------------------------------------------------------------------------


def out_of_base(terms: SlaTerms, span: Interval) -> tuple[Interval, ...]:
    """The agreed maintenance W that leaves the availability base over ``span`` (none when the contract keeps it
    in: ``maintenance_in_base: include``)."""
    if terms.maintenance_in_base == "include":
        return ()
    return union(w.interval for w in maintenance_intervals(terms.maintenance, terms.timezone, span))


def _get(row: object, name: str, default: Any = None) -> Any:
    if isinstance(row, Mapping):
        return row.get(name, default)
    return getattr(row, name, default)


def _decimal(value: Any, what: str) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or value is None:
        raise TermsError(f"{what}: expected a number, got {value!r}")
    try:
        # Through str so that a float 99.9 from JSON becomes Decimal("99.9"), not its binary neighbour.
        return Decimal(str(value))
    except InvalidOperation:
        raise TermsError(f"{what}: {value!r} is not a number") from None


def _float(value: Any, what: str) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TermsError(f"{what}: {value!r} is not a number") from None


def _or_default(value: Any, default: Any) -> Any:
    # Not ``value or default``: 0 is a valid setting (no minimum measured share, whole-number availability).
    return default if value is None else value


def _whole(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TermsError(f"{what}: expected a whole number, got {value!r}")
    return value


def _instant(value: Any, what: str) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise TermsError(f"{what}: {value!r} is not an ISO 8601 date-time") from None
    if not isinstance(value, datetime):
        raise TermsError(f"{what}: expected a date-time, got {value!r}")
    if value.tzinfo is None:
        raise TermsError(f"{what}: {value.isoformat()} needs a UTC offset")
    return value.astimezone(UTC)


def _wall_time(value: Any, what: str) -> time:
    if isinstance(value, time):
        return value
    try:
        hh, mm = str(value).split(":")
        return time(int(hh), int(mm))
    except ValueError:
        raise TermsError(f"{what}: {value!r} is not HH:MM") from None


def maintenance_from_json(items: Iterable[Mapping[str, Any]]) -> tuple[MaintenanceWindow, ...]:
    """``Contract.maintenance_windows`` (the JSON the inventory stores) as typed windows."""
    out: list[MaintenanceWindow] = []
    for i, item in enumerate(items):
        where = f"maintenance_windows[{i}]"
        kind, name = item.get("kind"), str(item.get("name") or f"window {i + 1}")
        if kind == "recurring":
            days = item.get("weekdays") or []
            bad = [d for d in days if d not in WEEKDAYS]
            if bad:
                raise TermsError(f"{where}.weekdays: {bad} are not among {WEEKDAYS}")
            out.append(
                RecurringWindow(
                    name=name,
                    weekdays=frozenset(cast(list[Weekday], days)),
                    start_local=_wall_time(item.get("start"), f"{where}.start"),
                    duration_min=int(item.get("duration_min") or 0),
                )
            )
        elif kind == "one_off":
            out.append(
                OneOffWindow(
                    name=name,
                    start=_instant(item.get("start_at"), f"{where}.start_at"),
                    end=_instant(item.get("end_at"), f"{where}.end_at"),
                )
            )
        else:
            raise TermsError(f"{where}.kind: expected 'recurring' or 'one_off', got {kind!r}")
    return tuple(out)


def credits_from_json(
    bands: Iterable[Mapping[str, Any]], cap_pct: Any, monthly_fee: Any, currency: str
) -> CreditSchedule:
    return CreditSchedule(
        bands=tuple(
            CreditBand(
                below_pct=_decimal(b.get("below_pct"), f"credit_bands[{i}].below_pct"),
                credit_pct=_decimal(b.get("credit_pct"), f"credit_bands[{i}].credit_pct"),
            )
            for i, b in enumerate(bands)
        ),
        cap_pct=_decimal(100 if cap_pct is None else cap_pct, "credit_cap_pct"),
        monthly_fee=_decimal(0 if monthly_fee is None else monthly_fee, "monthly_fee"),
        currency=currency,
    )


def terms_from_contract(row: object, *, delta_s: int = DEFAULT_DELTA_S) -> SlaTerms:
    """Terms from a ``noc.models.Contract`` row or any mapping / object with the same column names.

    JSON columns may hold Decimals as strings (pydantic's JSON dump) or numbers; both are read exactly.
    """
    name = str(_get(row, "name", ""))
    try:
        return SlaTerms(
            contract=name,
            timezone=str(_get(row, "timezone", "")),
            availability_target_pct=_decimal(_get(row, "availability_target_pct"), "availability_target_pct"),
            latency_ceiling_ms=_float(_get(row, "latency_ceiling_ms"), "latency_ceiling_ms"),
            loss_ceiling_pct=_float(_get(row, "loss_ceiling_pct"), "loss_ceiling_pct"),
            jitter_ceiling_ms=_float(_get(row, "jitter_ceiling_ms"), "jitter_ceiling_ms"),
            utilisation_ceiling_pct=_float(_get(row, "utilisation_ceiling_pct"), "utilisation_ceiling_pct"),
            sliding_window_n=int(_get(row, "sliding_window_n", 1) or 1),
            unknown_time=cast(UnknownRule, _get(row, "unknown_time", "excluded") or "excluded"),
            month_length=cast(MonthLengthRule, _get(row, "month_length", "calendar") or "calendar"),
            maintenance=maintenance_from_json(_get(row, "maintenance_windows", None) or []),
            maintenance_in_base=cast(MaintenanceBase, _get(row, "maintenance_in_base", "exclude") or "exclude"),
            credits=credits_from_json(
                _get(row, "credit_bands", None) or [],
                _get(row, "credit_cap_pct"),
                _get(row, "monthly_fee"),
                str(_get(row, "currency", "EUR") or "EUR"),
            ),
            delta_s=delta_s,
            min_measured_pct=_decimal(
                _or_default(_get(row, "min_measured_pct"), DEFAULT_MIN_MEASURED_PCT), "min_measured_pct"
            ),
            availability_places=_whole(
                _or_default(_get(row, "availability_places"), DEFAULT_AVAILABILITY_PLACES), "availability_places"
            ),
        )
    except TermsError as exc:
        raise TermsError(f"contract {name!r}: {exc}") from exc
