"""Per-platform command templates, kept as data: a platform is a row, not a subclass.

Every template renders from the same :class:`PingOptions` (count, size, timeout, interval) and the circuit's
:class:`~collectors.model.ProbeTarget` (far-end address, VRF, source interface). Adding a platform means adding one
:class:`Platform` value to :data:`PLATFORMS` plus a parser in :mod:`collectors.ssh.ping_parsers`.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from collectors.model import ProbeTarget
from collectors.ssh.errors import CommandRejected, UnsupportedPlatform

PingFamily = Literal["cisco_ios", "huawei_vrp", "juniper_junos", "linux"]

# Interface names and VRF names go into a command line; anything outside this set could smuggle a second command
# (";", "|", newline) into a root shell on a Linux PE, so it is refused before rendering.
_SAFE_TOKEN = re.compile(r"^[A-Za-z0-9_./:\-]{1,64}$")


@dataclass(frozen=True, slots=True)
class PingOptions:
    """How one burst is sent. ``interval_s`` only matters on platforms that pace by interval (Linux, Junos)."""

    count: int = 5
    size_bytes: int = 100
    timeout_s: float = 2.0
    interval_s: float = 0.2

    def __post_init__(self) -> None:
        if not 1 <= self.count <= 10_000:
            raise ValueError(f"count must be in 1..10000, got {self.count}")
        if not 0 <= self.size_bytes <= 65_000:
            raise ValueError(f"size_bytes must be in 0..65000, got {self.size_bytes}")
        if not 0 < self.timeout_s <= 60:
            raise ValueError(f"timeout_s must be in (0, 60], got {self.timeout_s}")
        if not 0 < self.interval_s <= 60:
            raise ValueError(f"interval_s must be in (0, 60], got {self.interval_s}")


@dataclass(frozen=True, slots=True)
class PingTemplate:
    """Pieces of a ping command; ``{...}`` fields are filled by :func:`render_ping`."""

    base: str
    vrf: str
    source_interface: str
    # True when the platform waits for each reply (or its timeout) before sending the next echo, so a burst can
    # last count * timeout; False when it sends on a fixed interval and waits only for the last reply.
    waits_per_echo: bool
    # Converts our seconds into the unit the platform's timeout flag expects.
    timeout_unit_per_s: int = 1


@dataclass(frozen=True, slots=True)
class Platform:
    name: str
    netmiko_device_type: str
    ping_family: PingFamily
    ping: PingTemplate
    # Lines that mean "the device refused the command", matched case-insensitively anywhere in the output.
    rejection_markers: tuple[str, ...]
    counters_commands: tuple[str, ...]


_IOS_PING = PingTemplate(
    base="ping {vrf}{target} repeat {count} size {size} timeout {timeout}{source}",
    vrf="vrf {vrf} ",
    source_interface=" source {source_interface}",
    waits_per_echo=True,
)
_IOS_REJECTIONS = (
    "% invalid input",
    "% unrecognized host",
    "% incomplete command",
    "% ambiguous command",
    "% bad ip address",
    "% unknown command",
    "% vrf",  # "% VRF xyz does not have a usable source address" / "% VRF ... not configured"
    "unknown command",
)

PLATFORMS: Mapping[str, Platform] = {
    "cisco_ios": Platform(
        name="cisco_ios",
        netmiko_device_type="cisco_ios",
        ping_family="cisco_ios",
        ping=_IOS_PING,
        rejection_markers=_IOS_REJECTIONS,
        counters_commands=("show interfaces",),
    ),
    "cisco_xe": Platform(
        name="cisco_xe",
        netmiko_device_type="cisco_xe",
        ping_family="cisco_ios",
        ping=_IOS_PING,
        rejection_markers=_IOS_REJECTIONS,
        counters_commands=("show interfaces",),
    ),
    "huawei_vrp": Platform(
        name="huawei_vrp",
        netmiko_device_type="huawei",
        ping_family="huawei_vrp",
        ping=PingTemplate(
            base="ping {vrf}-c {count} -s {size} -t {timeout}{source} {target}",
            vrf="-vpn-instance {vrf} ",
            source_interface=" -i {source_interface}",
            waits_per_echo=True,
            timeout_unit_per_s=1000,  # VRP's -t is in milliseconds
        ),
        rejection_markers=(
            "error: unrecognized command",
            "error: wrong parameter",
            "error: incomplete command",
            "error: the vpn-instance does not exist",
            "error:",
            "unknown command",
        ),
        counters_commands=("display interface",),
    ),
    "juniper_junos": Platform(
        name="juniper_junos",
        netmiko_device_type="juniper_junos",
        ping_family="juniper_junos",
        ping=PingTemplate(
            base="ping {target} count {count} size {size} wait {timeout} rapid{vrf}{source}",
            vrf=" routing-instance {vrf}",
            source_interface=" interface {source_interface}",
            waits_per_echo=True,
        ),
        rejection_markers=("syntax error", "unknown command", "error: ", "invalid value"),
        counters_commands=("show interfaces extensive",),
    ),
    "linux": Platform(
        name="linux",
        netmiko_device_type="linux",
        ping_family="linux",
        ping=PingTemplate(
            # -n: no reverse DNS (a slow resolver would eat the read timeout); -q: summary only, mdev included.
            base="{vrf}ping -n -q -c {count} -s {size} -W {timeout} -i {interval}{source} {target}",
            vrf="ip vrf exec {vrf} ",
            source_interface=" -I {source_interface}",
            waits_per_echo=False,
        ),
        rejection_markers=(
            "command not found",
            "ping: unknown host",
            "name or service not known",
            "ping: connect:",
            "ping: bind",
            "ping: sendmsg",
            "cannot flood",
            "invalid argument",
            "usage: ping",
            "no such file or directory",
            "permission denied",
            "operation not permitted",
            "failed to get vrf",
        ),
        counters_commands=("cat /proc/net/dev", "ip -o link show"),
    ),
}

# Names the inventory may use for the same platform.
_ALIASES: Mapping[str, str] = {
    "ios": "cisco_ios",
    "ios-xe": "cisco_xe",
    "ios_xe": "cisco_xe",
    "iosxe": "cisco_xe",
    "huawei": "huawei_vrp",
    "vrp": "huawei_vrp",
    "juniper": "juniper_junos",
    "junos": "juniper_junos",
}


def platform_for(name: str) -> Platform:
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    try:
        return PLATFORMS[key]
    except KeyError:
        raise UnsupportedPlatform(f"no SSH command templates for platform {name!r}") from None


def _format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def render_ping(platform: Platform, probe: ProbeTarget, options: PingOptions) -> str:
    """The exact command line for one circuit's burst. Refuses addresses and names that are not plain tokens."""
    try:
        target = str(ipaddress.ip_address(probe.target_address))
    except ValueError:
        raise CommandRejected(
            f"circuit {probe.circuit}: target {probe.target_address!r} is not an IP address"
        ) from None
    tpl = platform.ping
    vrf = ""
    if probe.vrf:
        if not _SAFE_TOKEN.match(probe.vrf):
            raise CommandRejected(f"circuit {probe.circuit}: VRF name {probe.vrf!r} has unsafe characters")
        vrf = tpl.vrf.format(vrf=probe.vrf)
    source = ""
    if probe.source_interface:
        if not _SAFE_TOKEN.match(probe.source_interface):
            raise CommandRejected(
                f"circuit {probe.circuit}: source interface {probe.source_interface!r} has unsafe characters"
            )
        source = tpl.source_interface.format(source_interface=probe.source_interface)
    # Platforms take whole seconds (or ms); round up so a 0.5 s timeout never becomes "0" (= wait forever on some).
    timeout = max(1, math.ceil(options.timeout_s * tpl.timeout_unit_per_s))
    return tpl.base.format(
        target=target,
        count=options.count,
        size=options.size_bytes,
        timeout=timeout,
        interval=_format_number(options.interval_s),
        vrf=vrf,
        source=source,
    )


def worst_case_burst_s(platform: Platform, options: PingOptions) -> float:
    """Upper bound of one burst's duration on the device, used as the command's read timeout (plus a margin)."""
    timeout_s = max(1.0, math.ceil(options.timeout_s))
    if platform.ping.waits_per_echo:
        return options.count * max(timeout_s, options.interval_s)
    return options.count * options.interval_s + timeout_s


def rejection_in(platform: Platform, output: str) -> str | None:
    """The first output line carrying a rejection marker, or None."""
    for line in output.splitlines():
        low = line.strip().lower()
        if any(marker in low for marker in platform.rejection_markers):
            return line.strip()
    return None
