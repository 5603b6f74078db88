"""Counter and rate math: pure functions and a small pure stateful tracker. No I/O, no clock.

Rules (each one has a table-driven test in ``tests/collectors/test_counters.py``):

- Python ints everywhere; the only float is produced by the final division that yields a rate.
- The interval of a delta is the agent's own clock (sysUpTime, TimeTicks = 1/100 s) when both samples carry it,
  because the counters were read against that clock; otherwise the poller's timestamps.
- sysUpTime going backwards means the agent rebooted: every delta of that device is discarded. The exception is
  the TimeTicks wrap after 2**32 ticks (~497 days): accepted only when the wrapped delta agrees with the wall-clock
  time that passed between the polls.
- A change of ifCounterDiscontinuityTime discards the interface's delta (counters were re-initialised).
- Counter64 never wraps in practice (a 100 Gbit/s link takes ~46 years): a decrease is a reset and is discarded.
- Counter32 decrease is a wrap only when the wrapped delta gives a plausible rate (≤ interface speed for octets,
  ≤ speed / 512 bit per packet for errors and discards); with no known speed it is a reset.
- A rate above the interface speed is rejected (discarded), never reported.
- An interface absent from the previous poll of its device gets no rate when it returns (re-baselined), so a
  removed-and-recreated interface never yields a spike.

Public API::

    delta_ticks(prev_ticks, cur_ticks, wall_elapsed_ticks) -> int | None   # None: reboot
    counter_delta(prev, cur, bits, interval_ticks, max_per_second) -> CounterDelta
    rate_per_second(delta, interval_ticks, scale=1) -> float
    compute_rates(prev: Counters, cur: InterfaceSample, interval_ticks) -> InterfaceRate
    RateTracker().update(device_sample, interface_samples) -> DeviceRates   # keeps the previous poll per device
"""

from __future__ import annotations

import contextlib
import enum
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, NamedTuple, Protocol, cast

from collectors.model import DeviceSample, InterfaceSample

TIMETICKS_PER_SECOND = 100
TIMETICKS_MODULUS = 2**32
COUNTER32_MODULUS = 2**32
COUNTER64_MODULUS = 2**64
# A wrapped sysUpTime delta is trusted when it is within this many ticks of the wall-clock elapsed time
# (poll timestamps and agent clock drift apart by request latency and retries, never by minutes).
UPTIME_WRAP_TOLERANCE_TICKS = 60 * TIMETICKS_PER_SECOND
# Smallest Ethernet frame: a packet counter can never grow faster than speed / 512 bits.
MIN_FRAME_BITS = 64 * 8


class Verdict(enum.StrEnum):
    """Why a delta was (or was not) turned into a rate."""

    OK = "ok"
    WRAPPED = "wrapped"  # Counter32 wrap accepted as plausible
    FIRST = "first"  # no previous sample: nothing to compare with
    GAP = "gap"  # interface missing from the previous poll
    REBOOT = "reboot"  # sysUpTime went backwards (not a TimeTicks wrap)
    DISCONTINUITY = "discontinuity"  # ifCounterDiscontinuityTime changed
    RESET = "reset"  # counter decreased and a wrap is implausible (or it is a Counter64)
    ABOVE_SPEED = "above_speed"  # rate higher than the interface can carry
    NO_INTERVAL = "no_interval"  # zero or negative interval
    MISSING = "missing"  # the counter was not reported in one of the samples


class Counters(Protocol):
    """What an interface's rates are computed from: its counters at one poll (an InterfaceSample, or the previous
    poll's as the tracker keeps them)."""

    @property
    def counter_bits(self) -> Literal[32, 64]: ...
    @property
    def in_octets(self) -> int | None: ...
    @property
    def out_octets(self) -> int | None: ...
    @property
    def in_errors(self) -> int | None: ...
    @property
    def out_errors(self) -> int | None: ...
    @property
    def in_discards(self) -> int | None: ...
    @property
    def out_discards(self) -> int | None: ...
    @property
    def discontinuity_ticks(self) -> int | None: ...


@dataclass(frozen=True, slots=True)
class CounterDelta:
    verdict: Verdict
    delta: int | None  # None unless the verdict is OK or WRAPPED

    @property
    def usable(self) -> bool:
        return self.delta is not None


@dataclass(frozen=True, slots=True)
class InterfaceRate:
    """What one interface did between two polls. Every rate is None when its delta was discarded."""

    device: str
    if_index: int
    if_name: str
    ts: datetime
    oper_status: str
    interval_s: float | None
    speed_bps: int | None
    in_bits_per_second: float | None = None
    out_bits_per_second: float | None = None
    in_utilisation_ratio: float | None = None
    out_utilisation_ratio: float | None = None
    in_errors_per_second: float | None = None
    out_errors_per_second: float | None = None
    in_discards_per_second: float | None = None
    out_discards_per_second: float | None = None
    in_verdict: Verdict = Verdict.FIRST
    out_verdict: Verdict = Verdict.FIRST


@dataclass(frozen=True, slots=True)
class DeviceRates:
    device: str
    ts: datetime
    rebooted: bool  # the caller should schedule a re-discovery
    interfaces: tuple[InterfaceRate, ...]


def wall_ticks_between(earlier: datetime, later: datetime) -> int:
    """Elapsed wall-clock time in TimeTicks (integer microsecond arithmetic, no float)."""
    delta = later - earlier
    micro = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return micro // 10_000


def delta_ticks(prev_ticks: int, cur_ticks: int, wall_elapsed_ticks: int | None) -> int | None:
    """sysUpTime delta in ticks, or None when the agent rebooted.

    A backwards step is the 497-day wrap only if the wrapped delta matches the wall-clock elapsed time.
    """
    if cur_ticks >= prev_ticks:
        return cur_ticks - prev_ticks
    wrapped = cur_ticks + TIMETICKS_MODULUS - prev_ticks
    if wall_elapsed_ticks is not None and abs(wrapped - wall_elapsed_ticks) <= UPTIME_WRAP_TOLERANCE_TICKS:
        return wrapped
    return None


def _within(delta: int, interval_ticks: int, max_per_second: int | None) -> bool:
    # delta / (interval_ticks / 100) <= max  <=>  delta * 100 <= max * interval_ticks, in ints.
    if max_per_second is None:
        return True
    return delta * TIMETICKS_PER_SECOND <= max_per_second * interval_ticks


def counter_delta(
    prev: int | None,
    cur: int | None,
    bits: Literal[32, 64],
    interval_ticks: int,
    max_per_second: int | None,
) -> CounterDelta:
    """Delta of one counter over ``interval_ticks``; ``max_per_second`` bounds the plausible rate (None = unknown)."""
    if prev is None or cur is None:
        return CounterDelta(Verdict.MISSING, None)
    if interval_ticks <= 0:
        return CounterDelta(Verdict.NO_INTERVAL, None)
    if cur >= prev:
        delta = cur - prev
        if not _within(delta, interval_ticks, max_per_second):
            return CounterDelta(Verdict.ABOVE_SPEED, None)
        return CounterDelta(Verdict.OK, delta)
    if bits == 64 or max_per_second is None:
        return CounterDelta(Verdict.RESET, None)
    wrapped = cur + COUNTER32_MODULUS - prev
    if _within(wrapped, interval_ticks, max_per_second):
        return CounterDelta(Verdict.WRAPPED, wrapped)
    return CounterDelta(Verdict.RESET, None)


def rate_per_second(delta: int, interval_ticks: int, scale: int = 1) -> float:
    """``delta * scale`` per second; the one float division of the pipeline."""
    return (delta * scale * TIMETICKS_PER_SECOND) / interval_ticks


def _octets_limit(speed_bps: int | None) -> int | None:
    # Octets per second the link can carry; floor division keeps the bound conservative and integral.
    return None if not speed_bps else speed_bps // 8


def _packets_limit(speed_bps: int | None) -> int | None:
    return None if not speed_bps else max(1, speed_bps // MIN_FRAME_BITS)


def compute_rates(prev: Counters, cur: InterfaceSample, interval_ticks: int) -> InterfaceRate:
    """Rates of one interface between two samples taken ``interval_ticks`` apart (device-level checks done)."""
    speed = cur.speed_bps or None
    if interval_ticks <= 0:
        return _first(cur, Verdict.NO_INTERVAL, interval_s=None)
    interval_s = interval_ticks / TIMETICKS_PER_SECOND
    if prev.discontinuity_ticks != cur.discontinuity_ticks:
        return _first(cur, Verdict.DISCONTINUITY, interval_s)
    if prev.counter_bits != cur.counter_bits:
        # The agent switched between HC and 32-bit counters: the two values are not comparable.
        return _first(cur, Verdict.RESET, interval_s)
    octets_max = _octets_limit(speed)
    packets_max = _packets_limit(speed)
    d_in = counter_delta(prev.in_octets, cur.in_octets, cur.counter_bits, interval_ticks, octets_max)
    d_out = counter_delta(prev.out_octets, cur.out_octets, cur.counter_bits, interval_ticks, octets_max)
    # bit/s and utilisation from the octet deltas; errors and discards are Counter32 in IF-MIB.
    in_bps = out_bps = in_ratio = out_ratio = None
    if d_in.delta is not None:
        in_bps = rate_per_second(d_in.delta, interval_ticks, 8)
        in_ratio = _ratio(d_in.delta, interval_ticks, speed)
    if d_out.delta is not None:
        out_bps = rate_per_second(d_out.delta, interval_ticks, 8)
        out_ratio = _ratio(d_out.delta, interval_ticks, speed)
    return InterfaceRate(
        device=cur.device,
        if_index=cur.if_index,
        if_name=cur.if_name,
        ts=cur.ts,
        oper_status=cur.oper_status,
        interval_s=interval_s,
        speed_bps=speed,
        in_bits_per_second=in_bps,
        out_bits_per_second=out_bps,
        in_utilisation_ratio=in_ratio,
        out_utilisation_ratio=out_ratio,
        in_errors_per_second=_per_s(prev.in_errors, cur.in_errors, interval_ticks, packets_max),
        out_errors_per_second=_per_s(prev.out_errors, cur.out_errors, interval_ticks, packets_max),
        in_discards_per_second=_per_s(prev.in_discards, cur.in_discards, interval_ticks, packets_max),
        out_discards_per_second=_per_s(prev.out_discards, cur.out_discards, interval_ticks, packets_max),
        in_verdict=d_in.verdict,
        out_verdict=d_out.verdict,
    )


def _ratio(octets: int, interval_ticks: int, speed: int | None) -> float | None:
    # One exact division of integers, as rate_per_second does.
    return (octets * 8 * TIMETICKS_PER_SECOND) / (speed * interval_ticks) if speed else None


def _per_s(prev: int | None, cur: int | None, interval_ticks: int, packets_max: int | None) -> float | None:
    if prev is not None and cur is not None and cur == prev:
        return 0.0  # the common case of an idle error counter, without building a CounterDelta
    d = counter_delta(prev, cur, 32, interval_ticks, packets_max)
    return None if d.delta is None else rate_per_second(d.delta, interval_ticks)


def _first(sample: InterfaceSample, verdict: Verdict, interval_s: float | None = None) -> InterfaceRate:
    """No rate: the verdict says why (first sample, gap, reboot, discontinuity, reset, no interval)."""
    return InterfaceRate(
        device=sample.device,
        if_index=sample.if_index,
        if_name=sample.if_name,
        ts=sample.ts,
        oper_status=sample.oper_status,
        interval_s=interval_s,
        speed_bps=sample.speed_bps or None,
        in_verdict=verdict,
        out_verdict=verdict,
    )


class PreviousCounters(NamedTuple):
    counter_bits: Literal[32, 64]
    in_octets: int | None
    out_octets: int | None
    in_errors: int | None
    out_errors: int | None
    in_discards: int | None
    out_discards: int | None
    discontinuity_ticks: int | None


_KEPT = 7  # counters kept per interface: PreviousCounters after counter_bits
_HC = 0x80  # flags: 64-bit counters; bits 0..6: that counter was absent
_FITS = 2**64  # a value that does not fit 64 bits (no real counter does) is kept as absent


@dataclass(frozen=True, slots=True)
class _DevicePrevious:
    """A device's previous successful poll, compact: about 3 KB for 48 ports instead of about 11 KB of samples.
    Per interface, in the poll's order: its ifIndex, seven counters in one array, and a flags byte."""

    ts: datetime
    uptime_ticks: int | None
    if_indexes: array[int]
    counters: array[int]
    flags: bytes

    @classmethod
    def of(cls, device: DeviceSample, samples: Sequence[InterfaceSample]) -> _DevicePrevious:
        kept = [s for s in samples if -(2**63) <= s.if_index < 2**63]  # else no baseline, as for a missing one
        flags = bytes(_HC if s.counter_bits == 64 else 0 for s in kept)
        rows = [(s.in_octets, s.out_octets, s.in_errors, s.out_errors, s.in_discards, s.out_discards,
                 s.discontinuity_ticks) for s in kept]  # fmt: skip
        values = [v for row in rows for v in row]
        counters: array[int] | None = None
        if None not in values:  # the usual poll: every counter present, all of them in one go
            with contextlib.suppress(OverflowError):
                counters = array("Q", cast("list[int]", values))
        if counters is None:
            counters, absent = array("Q"), bytearray()
            for row in rows:
                missing = [v is None or not 0 <= v < _FITS for v in row]
                counters.extend(0 if m or v is None else v for m, v in zip(missing, row, strict=True))
                absent.append(sum(1 << k for k, m in enumerate(missing) if m))
            flags = bytes(f | a for f, a in zip(flags, absent, strict=True))
        return cls(device.ts, device.uptime_ticks, array("q", [s.if_index for s in kept]), counters, flags)

    def positions(self) -> dict[int, int]:
        return {index: at for at, index in enumerate(self.if_indexes)}

    def counters_at(self, at: int) -> PreviousCounters:
        flags, row = self.flags[at], self.counters[_KEPT * at : _KEPT * (at + 1)]
        bits = 64 if flags & _HC else 32
        if not flags & ~_HC:
            return PreviousCounters._make((bits, *row))
        return PreviousCounters._make((bits, *(None if flags >> k & 1 else v for k, v in enumerate(row))))


class RateTracker:
    """Keeps the previous successful poll of each device and turns each new poll into rates.

    Pure state: no clock, no I/O. Failed polls are simply not fed to it; the next success is compared with the
    last success (the longer interval is still exact). One tracker per poller process.
    """

    def __init__(self) -> None:
        self._previous: dict[str, _DevicePrevious] = {}

    def forget(self, device: str) -> None:
        self._previous.pop(device, None)

    def update(self, device: DeviceSample, interfaces: Iterable[InterfaceSample]) -> DeviceRates:
        samples = list(interfaces)
        prev = self._previous.get(device.device)
        rebooted = False
        interval: int | None = None
        if prev is not None:
            wall = wall_ticks_between(prev.ts, device.ts)
            if prev.uptime_ticks is not None and device.uptime_ticks is not None:
                interval = delta_ticks(prev.uptime_ticks, device.uptime_ticks, wall)
                rebooted = interval is None
            else:
                interval = wall
        out: list[InterfaceRate] = []
        positions = {} if prev is None else prev.positions()
        for sample in samples:
            at = positions.get(sample.if_index)
            if prev is None:
                out.append(_first(sample, Verdict.FIRST))
            elif at is None:
                # New, or back after missing a poll: re-baseline instead of spanning an unknown counter history.
                out.append(_first(sample, Verdict.GAP))
            elif rebooted or interval is None:
                out.append(_first(sample, Verdict.REBOOT))
            else:
                out.append(compute_rates(prev.counters_at(at), sample, interval))
        # Only this poll's interfaces are kept, so one missing from it has no baseline when it returns.
        self._previous[device.device] = _DevicePrevious.of(device, samples)
        return DeviceRates(device.device, device.ts, rebooted, tuple(out))
