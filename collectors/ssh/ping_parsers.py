"""Pure parsers: one platform's ping output → :class:`PingResult`. No I/O, no clock, no guessing.

Rules every parser follows:

* ``transmitted`` and ``received`` come from the platform's own summary line; without one the output is not a
  ping result and :class:`~collectors.ssh.errors.OutputParseError` is raised (never a made-up number).
* ``received`` never counts duplicates (iputils and BSD-style pings report them separately as ``+N duplicates``);
  a summary claiming more replies than requests is rejected as malformed.
* RTTs are ``None`` when nothing came back or the platform printed no RTT line.
* ``jitter_ms`` is the standard deviation of the RTTs: the platform's own ``mdev`` (iputils) or ``stddev`` (Junos)
  when printed; otherwise computed from per-reply times when at least two are printed (Huawei VRP); otherwise
  ``None`` (Cisco IOS prints only min/avg/max, so IOS jitter is honestly unknown).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from collectors.ssh.errors import OutputParseError
from collectors.ssh.platforms import PingFamily

__all__ = [
    "PingResult",
    "parse_ping",
    "parse_ping_cisco_ios",
    "parse_ping_huawei_vrp",
    "parse_ping_junos",
    "parse_ping_linux",
    "stddev_ms",
]


@dataclass(frozen=True, slots=True)
class PingResult:
    transmitted: int
    received: int
    duplicates: int = 0
    rtt_min_ms: float | None = None
    rtt_avg_ms: float | None = None
    rtt_max_ms: float | None = None
    jitter_ms: float | None = None

    def __post_init__(self) -> None:
        if self.transmitted < 0 or self.received < 0 or self.duplicates < 0:
            raise OutputParseError(f"negative packet counts in {self!r}")
        if self.received > self.transmitted:
            raise OutputParseError(f"{self.received} replies to {self.transmitted} requests (duplicates not split)")

    @property
    def loss_ratio(self) -> float | None:
        if self.transmitted == 0:
            return None
        return (self.transmitted - self.received) / self.transmitted


def stddev_ms(rtts_ms: Sequence[float]) -> float | None:
    """Population standard deviation, the same statistic as iputils' mdev; None below two samples."""
    if len(rtts_ms) < 2:
        return None
    mean = sum(rtts_ms) / len(rtts_ms)
    return math.sqrt(sum((x - mean) ** 2 for x in rtts_ms) / len(rtts_ms))


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat[:120] + ("…" if len(flat) > 120 else "")


def _floats(*groups: str | None) -> list[float]:
    return [float(g) for g in groups if g is not None]


def _rtt_fields(received: int, rtt: list[float] | None) -> tuple[float | None, float | None, float | None]:
    if received == 0 or rtt is None:
        return None, None, None
    lo, avg, hi = rtt[0], rtt[1], rtt[2]
    if not lo <= avg <= hi:
        raise OutputParseError(f"rtt min/avg/max out of order: {lo}/{avg}/{hi}")
    return lo, avg, hi


_NUM = r"(\d+(?:\.\d+)?)"

# ---------------------------------------------------------------- Cisco IOS / IOS-XE
_IOS_SUCCESS = re.compile(
    r"Success\s+rate\s+is\s+(\d+)\s+percent\s*\(\s*(\d+)\s*/\s*(\d+)\s*\)"
    r"(?:\s*,\s*round-trip\s+min\s*/\s*avg\s*/\s*max\s*=\s*"
    + _NUM
    + r"\s*/\s*"
    + _NUM
    + r"\s*/\s*"
    + _NUM
    + r"\s*ms)?",
    re.IGNORECASE,
)


def parse_ping_cisco_ios(text: str) -> PingResult:
    m = _IOS_SUCCESS.search(text)
    if m is None:
        raise OutputParseError(f"no 'Success rate' line in IOS ping output: {_excerpt(text)!r}")
    received, transmitted = int(m.group(2)), int(m.group(3))
    rtt = _floats(m.group(4), m.group(5), m.group(6)) if m.group(4) is not None else None
    lo, avg, hi = _rtt_fields(received, rtt)
    return PingResult(transmitted, received, 0, lo, avg, hi, None)


# ---------------------------------------------------------------- Huawei VRP
_VRP_TX = re.compile(r"(\d+)\s+packet\(s\)\s+transmitted", re.IGNORECASE)
_VRP_RX = re.compile(r"(\d+)\s+packet\(s\)\s+received", re.IGNORECASE)
_VRP_RTT = re.compile(
    r"round-trip\s+min\s*/\s*avg\s*/\s*max\s*=\s*" + _NUM + r"\s*/\s*" + _NUM + r"\s*/\s*" + _NUM, re.IGNORECASE
)
_VRP_REPLY = re.compile(r"Reply\s+from\s+\S+?:.*?\btime\s*[=<]\s*" + _NUM + r"\s*ms", re.IGNORECASE)


def parse_ping_huawei_vrp(text: str) -> PingResult:
    tx, rx = _VRP_TX.search(text), _VRP_RX.search(text)
    if tx is None or rx is None:
        raise OutputParseError(f"no 'packet(s) transmitted/received' lines in VRP ping output: {_excerpt(text)!r}")
    transmitted, received = int(tx.group(1)), int(rx.group(1))
    m = _VRP_RTT.search(text)
    lo, avg, hi = _rtt_fields(received, _floats(*m.groups()) if m else None)
    reply_times = [float(t) for t in _VRP_REPLY.findall(text)]
    jitter = stddev_ms(reply_times) if received > 0 else None
    return PingResult(transmitted, received, 0, lo, avg, hi, jitter)


# ---------------------------------------------------------------- Juniper Junos (FreeBSD ping)
_BSD_SUMMARY = re.compile(
    r"(\d+)\s+packets?\s+transmitted\s*,\s*(\d+)\s+packets?\s+received"
    r"(?:\s*,\s*\+(\d+)\s+duplicates?)?",
    re.IGNORECASE,
)
_BSD_RTT = re.compile(
    r"round-trip\s+min\s*/\s*avg\s*/\s*max(?:\s*/\s*(?:stddev|std-dev|mdev))?\s*=\s*"
    + _NUM
    + r"\s*/\s*"
    + _NUM
    + r"\s*/\s*"
    + _NUM
    + r"(?:\s*/\s*"
    + _NUM
    + r")?\s*ms",
    re.IGNORECASE,
)
# Per-reply lines, duplicates excluded: a duplicate is a copy of a reply already timed.
_REPLY_TIME = re.compile(
    r"^\s*\d+\s+bytes\s+from\s+.*?\btime\s*[=<]\s*" + _NUM + r"\s*ms(?P<dup>.*DUP!)?", re.IGNORECASE | re.MULTILINE
)


def _reply_times(text: str) -> list[float]:
    return [float(m.group(1)) for m in _REPLY_TIME.finditer(text) if not m.group("dup")]


def parse_ping_junos(text: str) -> PingResult:
    m = _BSD_SUMMARY.search(text)
    if m is None:
        raise OutputParseError(f"no 'packets transmitted' line in Junos ping output: {_excerpt(text)!r}")
    transmitted, received, dups = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    r = _BSD_RTT.search(text)
    lo, avg, hi = _rtt_fields(received, _floats(r.group(1), r.group(2), r.group(3)) if r else None)
    jitter: float | None = None
    if received > 0:
        jitter = float(r.group(4)) if r and r.group(4) is not None else stddev_ms(_reply_times(text))
    return PingResult(transmitted, received, dups, lo, avg, hi, jitter)


# ---------------------------------------------------------------- Linux (iputils; busybox as a courtesy)
_LINUX_SUMMARY = re.compile(
    r"(\d+)\s+packets\s+transmitted\s*,\s*(\d+)\s+(?:packets\s+)?received"
    r"(?:\s*,\s*\+(\d+)\s+duplicates?)?",
    re.IGNORECASE,
)
_LINUX_RTT = re.compile(
    r"(?:rtt|round-trip)\s+min\s*/\s*avg\s*/\s*max(?:\s*/\s*mdev)?\s*=\s*"
    + _NUM
    + r"\s*/\s*"
    + _NUM
    + r"\s*/\s*"
    + _NUM
    + r"(?:\s*/\s*"
    + _NUM
    + r")?\s*ms",
    re.IGNORECASE,
)


def parse_ping_linux(text: str) -> PingResult:
    m = _LINUX_SUMMARY.search(text)
    if m is None:
        raise OutputParseError(f"no 'packets transmitted' line in Linux ping output: {_excerpt(text)!r}")
    transmitted, received, dups = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    r = _LINUX_RTT.search(text)
    lo, avg, hi = _rtt_fields(received, _floats(r.group(1), r.group(2), r.group(3)) if r else None)
    jitter: float | None = None
    if received > 0:
        jitter = float(r.group(4)) if r and r.group(4) is not None else stddev_ms(_reply_times(text))
    return PingResult(transmitted, received, dups, lo, avg, hi, jitter)


PARSERS: Mapping[PingFamily, Callable[[str], PingResult]] = {
    "cisco_ios": parse_ping_cisco_ios,
    "huawei_vrp": parse_ping_huawei_vrp,
    "juniper_junos": parse_ping_junos,
    "linux": parse_ping_linux,
}


def parse_ping(family: PingFamily, text: str) -> PingResult:
    """Parse one platform family's ping output; raises ``OutputParseError`` on anything that is not one."""
    if not isinstance(text, str):
        raise OutputParseError(f"ping output is {type(text).__name__}, not text")
    return PARSERS[family](text)
