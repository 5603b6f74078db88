"""Pure parsers: CLI interface counters → the same :class:`~collectors.model.InterfaceSample` SNMP would produce.

For a device without SNMP. Downstream (counter math, rates, SLA) cannot tell the source apart, with these
documented differences:

* ``if_index``: Linux gives the kernel ifindex (``ip -o link``), which is what net-snmp reports as ifIndex; VRP
  gives ``(ifindex: N)`` on newer releases. IOS prints none, so :func:`cli_if_index` derives a stable positive
  index from the interface name (CRC-32), the same for the same name at every poll, never reused by another name
  on the same device (a collision is refused).
* ``counter_bits`` is 64: IOS, VRP and Linux (64-bit kernels) print 64-bit software counters, so a wrap at 2**32
  never happens and any decrease is a reset, not a wrap.
* ``uptime_ticks`` / ``discontinuity_ticks`` are None: the CLI gives no sysUpTime; counter resets show as a
  decrease, which the counter math already treats as a discontinuity.

ntc-templates (pulled in by netmiko) was considered: its ``show interfaces`` / ``display interface`` templates
capture packets but not octets, which is the one thing rates need, so these small regex parsers are used instead.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from collectors.model import InterfaceSample, OperStatus
from collectors.ssh.errors import OutputParseError

__all__ = [
    "LinkInfo",
    "cli_if_index",
    "parse_ios_show_interfaces",
    "parse_ip_link",
    "parse_proc_net_dev",
    "parse_vrp_display_interface",
]


def cli_if_index(if_name: str) -> int:
    """A stable positive 31-bit index for a name-keyed CLI interface (never 0, like a real ifIndex)."""
    return (zlib.crc32(if_name.encode()) & 0x7FFFFFFF) or 1


def _blocks(text: str, header: re.Pattern[str]) -> Iterator[tuple[re.Match[str], str]]:
    """Split output into per-interface blocks, each starting at a line matching ``header``."""
    matches = list(header.finditer(text))
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        yield m, text[m.end() : end]


def _int(m: re.Match[str] | None, group: int = 1) -> int | None:
    return int(m.group(group)) if m else None


def _check_unique(samples: list[InterfaceSample]) -> list[InterfaceSample]:
    seen: dict[int, str] = {}
    for s in samples:
        other = seen.setdefault(s.if_index, s.if_name)
        if other != s.if_name:
            raise OutputParseError(f"interfaces {other!r} and {s.if_name!r} map to the same index {s.if_index}")
    return samples


# ---------------------------------------------------------------- Cisco IOS / IOS-XE: show interfaces
_IOS_HEADER = re.compile(
    r"^(?P<name>\S+) is (?P<admin>administratively down|up|down|deleted|testing)\s*,\s*"
    r"line protocol is (?P<proto>\w+)",
    re.MULTILINE,
)
_IOS_BW = re.compile(r"\bBW\s+(\d+)\s+Kbit(?:/sec)?", re.IGNORECASE)
_IOS_IN = re.compile(r"(\d+)\s+packets\s+input\s*,\s*(\d+)\s+bytes")
_IOS_OUT = re.compile(r"(\d+)\s+packets\s+output\s*,\s*(\d+)\s+bytes")
_IOS_IN_ERR = re.compile(r"(\d+)\s+input\s+errors")
_IOS_OUT_ERR = re.compile(r"(\d+)\s+output\s+errors")
_IOS_IN_DROPS = re.compile(r"Input\s+queue:\s*\d+/\d+/(\d+)/\d+")
_IOS_OUT_DROPS = re.compile(r"Total\s+output\s+drops:\s*(\d+)")

_IOS_PROTO_STATUS: Mapping[str, OperStatus] = {
    "up": "up",
    "down": "down",
    "dormant": "dormant",
    "testing": "testing",
}


def parse_ios_show_interfaces(text: str, device: str, ts: datetime) -> list[InterfaceSample]:
    """``show interfaces`` on IOS / IOS-XE. Raises ``OutputParseError`` when no interface block is found."""
    text = text.replace("\r\n", "\n")
    samples: list[InterfaceSample] = []
    for header, body in _blocks(text, _IOS_HEADER):
        name = header.group("name")
        in_m, out_m = _IOS_IN.search(body), _IOS_OUT.search(body)
        status: OperStatus = (
            "down"
            if header.group("admin") == "administratively down"
            else _IOS_PROTO_STATUS.get(header.group("proto").lower(), "unknown")
        )
        bw_kbit = _int(_IOS_BW.search(body))
        samples.append(
            InterfaceSample(
                device=device,
                ts=ts,
                if_index=cli_if_index(name),
                if_name=name,
                oper_status=status,
                in_octets=_int(in_m, 2),
                out_octets=_int(out_m, 2),
                counter_bits=64,
                speed_bps=bw_kbit * 1000 if bw_kbit is not None else None,
                in_errors=_int(_IOS_IN_ERR.search(body)),
                out_errors=_int(_IOS_OUT_ERR.search(body)),
                in_discards=_int(_IOS_IN_DROPS.search(body)),
                out_discards=_int(_IOS_OUT_DROPS.search(body)),
            )
        )
    if not samples:
        raise OutputParseError("no '<name> is <state>, line protocol is <state>' line in 'show interfaces' output")
    return _check_unique(samples)


# ---------------------------------------------------------------- Huawei VRP: display interface
_VRP_HEADER = re.compile(
    r"^\s*(?P<name>\S+)\s+current\s+state\s*:\s*(?P<phy>[A-Za-z* ]+?)\s*(?:\(ifindex:\s*(?P<ifindex>\d+)\))?\s*$",
    re.MULTILINE,
)
_VRP_PROTO = re.compile(r"Line\s+protocol\s+current\s+state\s*:\s*(\w+)", re.IGNORECASE)
_VRP_SPEED = re.compile(r"^\s*Speed\s*:\s*(\d+)", re.MULTILINE)  # Mbit/s on switches
_VRP_BW = re.compile(r"Current\s+BW\s*:\s*(\d+)\s*([GMK])bps", re.IGNORECASE)  # routers
# Three layouts of the totals are in the field; each is matched explicitly rather than guessing.
_VRP_TOTALS = (
    re.compile(r"^\s*(?P<dir>Input|Output)\s*:\s*(?P<pkts>\d+)\s+packets?\s*,\s*(?P<bytes>\d+)\s+bytes", re.I | re.M),
    re.compile(r"^\s*(?P<dir>Input|Output)\s*:\s*(?P<bytes>\d+)\s+bytes\s*,\s*(?P<pkts>\d+)\s+packets?", re.I | re.M),
    re.compile(r"^\s*(?P<pkts>\d+)\s+packets\s+(?P<dir>input|output)\s*,\s*(?P<bytes>\d+)\s+bytes", re.I | re.M),
)
_VRP_SECTION = re.compile(r"^\s*(Input|Output)\b", re.IGNORECASE)
_VRP_DISCARD = re.compile(r"Discard\s*:\s*(\d+)", re.IGNORECASE)
_VRP_TOTAL_ERR = re.compile(r"Total\s+Error\s*:\s*(\d+)", re.IGNORECASE)
_VRP_ERR_LINE = re.compile(r"^\s*(\d+)\s+(input|output)\s+errors?\b", re.IGNORECASE | re.MULTILINE)
_VRP_SCALE = {"G": 1_000_000_000, "M": 1_000_000, "K": 1_000}


def _vrp_section_counters(body: str) -> dict[str, dict[str, int]]:
    """Discard / Total Error per direction: they follow the Input / Output line that opens their section."""
    out: dict[str, dict[str, int]] = {"input": {}, "output": {}}
    section: str | None = None
    for line in body.splitlines():
        sec = _VRP_SECTION.match(line)
        if sec:
            section = sec.group(1).lower()
        if section is None:
            continue
        for key, rx in (("discards", _VRP_DISCARD), ("errors", _VRP_TOTAL_ERR)):
            m = rx.search(line)
            if m and key not in out[section]:
                out[section][key] = int(m.group(1))
    for m in _VRP_ERR_LINE.finditer(body):
        out[m.group(2).lower()].setdefault("errors", int(m.group(1)))
    return out


def parse_vrp_display_interface(text: str, device: str, ts: datetime) -> list[InterfaceSample]:
    """``display interface`` on Huawei VRP (switch, AR and NE layouts)."""
    text = text.replace("\r\n", "\n")
    samples: list[InterfaceSample] = []
    for header, body in _blocks(text, _VRP_HEADER):
        name = header.group("name")
        phy = header.group("phy").strip().upper()
        proto_m = _VRP_PROTO.search(body)
        proto = proto_m.group(1).upper() if proto_m else phy
        status: OperStatus
        if "ADMINISTRATIVELY" in phy or phy.startswith("*"):
            status = "down"
        elif phy == "UP" and proto == "UP":
            status = "up"
        elif "DOWN" in (phy, proto):
            status = "down"
        else:
            status = "unknown"
        totals: dict[str, int] = {}
        for rx in _VRP_TOTALS:
            for m in rx.finditer(body):
                totals.setdefault(m.group("dir").lower(), int(m.group("bytes")))
        speed_bps: int | None = None
        if (sm := _VRP_SPEED.search(body)) is not None:
            speed_bps = int(sm.group(1)) * 1_000_000
        elif (bm := _VRP_BW.search(body)) is not None:
            speed_bps = int(bm.group(1)) * _VRP_SCALE[bm.group(2).upper()]
        sec = _vrp_section_counters(body)
        ifindex = header.group("ifindex")
        samples.append(
            InterfaceSample(
                device=device,
                ts=ts,
                if_index=int(ifindex) if ifindex else cli_if_index(name),
                if_name=name,
                oper_status=status,
                in_octets=totals.get("input"),
                out_octets=totals.get("output"),
                counter_bits=64,
                speed_bps=speed_bps,
                in_errors=sec["input"].get("errors"),
                out_errors=sec["output"].get("errors"),
                in_discards=sec["input"].get("discards"),
                out_discards=sec["output"].get("discards"),
            )
        )
    if not samples:
        raise OutputParseError("no '<name> current state : <state>' line in 'display interface' output")
    return _check_unique(samples)


# ---------------------------------------------------------------- Linux: /proc/net/dev + ip -o link
@dataclass(frozen=True, slots=True)
class LinkInfo:
    if_index: int
    oper_status: OperStatus


_IP_LINK = re.compile(r"^(\d+):\s+([^:@\s]+)(?:@[^:\s]+)?:\s+<([^>]*)>.*?\bstate\s+(\S+)", re.MULTILINE)
_LINUX_STATE: Mapping[str, OperStatus] = {
    "UP": "up",
    "DOWN": "down",
    "LOWERLAYERDOWN": "lowerLayerDown",
    "DORMANT": "dormant",
    "TESTING": "testing",
    "NOTPRESENT": "notPresent",
}


def parse_ip_link(text: str) -> dict[str, LinkInfo]:
    """``ip -o link show``: kernel ifindex and operstate per interface name."""
    links: dict[str, LinkInfo] = {}
    for m in _IP_LINK.finditer(text):
        flags = set(m.group(3).split(","))
        state = m.group(4).upper().replace("_", "")
        status = _LINUX_STATE.get(state)
        if status is None:
            # "UNKNOWN" is what lo and many virtual links report; the kernel's flags tell whether it carries traffic
            # (this is also how net-snmp derives ifOperStatus for them).
            status = "up" if {"UP", "LOWER_UP"} <= flags else "down" if "UP" not in flags else "unknown"
        links[m.group(2)] = LinkInfo(int(m.group(1)), status)
    return links


def parse_proc_net_dev(
    text: str, device: str, ts: datetime, links: Mapping[str, LinkInfo] | None = None
) -> list[InterfaceSample]:
    """``/proc/net/dev``; with ``links`` (from :func:`parse_ip_link`) the real ifindex and operstate are used."""
    lines = text.replace("\r\n", "\n").splitlines()
    if not any("Receive" in ln and "Transmit" in ln for ln in lines[:3]):
        raise OutputParseError("no '/proc/net/dev' header (Receive | Transmit) found")
    samples: list[InterfaceSample] = []
    for line in lines:
        if ":" not in line or "|" in line:
            continue
        name, _, rest = line.partition(":")
        name = name.strip()
        fields = rest.split()
        if len(fields) != 16 or not all(f.isascii() and f.isdigit() for f in fields):
            raise OutputParseError(f"/proc/net/dev line for {name!r} has {len(fields)} fields, expected 16 numbers")
        n = [int(f) for f in fields]
        link = (links or {}).get(name)
        samples.append(
            InterfaceSample(
                device=device,
                ts=ts,
                if_index=link.if_index if link else cli_if_index(name),
                if_name=name,
                oper_status=link.oper_status if link else "unknown",
                in_octets=n[0],
                out_octets=n[8],
                counter_bits=64,
                speed_bps=None,
                in_errors=n[2],
                out_errors=n[10],
                in_discards=n[3],
                out_discards=n[11],
            )
        )
    if not samples:
        raise OutputParseError("'/proc/net/dev' lists no interface")
    return _check_unique(samples)
