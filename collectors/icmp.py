"""Poller-side ICMP probes (icmplib, asyncio): a burst of echo requests per circuit → one ProbeSample.

For circuits whose PE cannot ping for us (``ProbeTarget.method == "icmp"``). API::

    settings = IcmpSettings(count=10, interval_s=0.2, timeout_s=2.0, privileged=True)
    check_icmp_permission(settings.privileged)            # at startup: raises IcmpPermissionError early
    sample = await icmp_probe(probe, settings)              # one circuit
    samples = await icmp_cycle(probes, settings)            # many circuits, at most settings.max_concurrent at once

Figures are the same as the SSH collector's: ``sent``/``received`` per burst, RTT min/avg/max in milliseconds and
``jitter_ms`` = population standard deviation of the RTTs (the statistic iputils prints as mdev), None below two
replies. A per-circuit problem (bad address, unreachable source) becomes ``ProbeSample.error``.

Timing: icmplib sends the next request only after the previous reply or its timeout, so a burst lasts about
``count * interval_s`` when the far end answers and up to ``count * (interval_s + timeout_s)`` under total loss;
choose ``timeout_s`` well above the circuit's normal RTT but small enough for the cycle (bursts to different
circuits run concurrently).

Privileges (what a deployment needs): ``privileged=True`` opens a raw ICMP socket, which needs root or
CAP_NET_RAW on the poller process (e.g. ``AmbientCapabilities=CAP_NET_RAW`` in its systemd unit);
``privileged=False`` uses the kernel's ICMP datagram sockets, allowed only when the process's group is inside
``net.ipv4.ping_group_range`` (off by default: "1 0"; enable with
``sysctl -w net.ipv4.ping_group_range="0 2147483647"`` or a narrower range holding the poller's group). Without
either, every call raises :class:`IcmpPermissionError` naming both remedies: a configuration error, raised rather
than reported as 100 % loss, because it would otherwise look like every customer's circuit went down at once.
"""

from __future__ import annotations

import asyncio
import ipaddress
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import icmplib

from collectors.errors import CollectorError
from collectors.model import ProbeSample, ProbeTarget

__all__ = ["IcmpError", "IcmpPermissionError", "IcmpSettings", "check_icmp_permission", "icmp_cycle", "icmp_probe"]


class IcmpError(CollectorError):
    """A poller-side ICMP probe could not run."""


class IcmpPermissionError(IcmpError):
    """This process may not open the ICMP socket it was configured for."""


@dataclass(frozen=True, slots=True)
class IcmpSettings:
    count: int = 10
    interval_s: float = 0.2
    timeout_s: float = 2.0
    payload_size_bytes: int = 56
    privileged: bool = True
    max_concurrent: int = 50

    def __post_init__(self) -> None:
        if not 1 <= self.count <= 10_000:
            raise ValueError(f"count must be in 1..10000, got {self.count}")
        if self.interval_s <= 0 or self.timeout_s <= 0:
            raise ValueError("interval_s and timeout_s must be positive")
        if self.max_concurrent < 1:
            raise ValueError("max_concurrent must be ≥ 1")


def _permission_error(privileged: bool, exc: BaseException) -> IcmpPermissionError:
    if privileged:
        how = "privileged=True needs root or CAP_NET_RAW (raw ICMP socket)"
    else:
        how = (
            "privileged=False needs the process's group inside net.ipv4.ping_group_range "
            '(e.g. sysctl -w net.ipv4.ping_group_range="0 2147483647")'
        )
    return IcmpPermissionError(f"cannot open an ICMP socket: {how}; or switch the mode ({exc})")


def check_icmp_permission(privileged: bool) -> None:
    """Open and close the socket the probes would use; raise :class:`IcmpPermissionError` if not allowed."""
    try:
        sock = icmplib.ICMPv4Socket(privileged=privileged)
    except icmplib.SocketPermissionError as exc:
        raise _permission_error(privileged, exc) from exc
    sock.close()


def _utc_now() -> datetime:
    return datetime.now(UTC)


async def icmp_probe(
    probe: ProbeTarget,
    settings: IcmpSettings,
    *,
    source_address: str | None = None,
    now: Callable[[], datetime] = _utc_now,
) -> ProbeSample:
    """One burst toward ``probe.target_address``. Raises only :class:`IcmpPermissionError`."""
    ts = now()

    def failed(reason: str) -> ProbeSample:
        return ProbeSample(probe.circuit, probe.device, probe.target_address, ts, 0, 0, error=reason)

    try:
        address = str(ipaddress.ip_address(probe.target_address))
    except ValueError:
        return failed(f"command_rejected: {probe.target_address!r} is not an IP address")
    try:
        host = await icmplib.async_ping(
            address,
            count=settings.count,
            interval=settings.interval_s,
            timeout=settings.timeout_s,
            source=source_address,
            privileged=settings.privileged,
            payload_size=settings.payload_size_bytes,
        )
    except icmplib.SocketPermissionError as exc:
        raise _permission_error(settings.privileged, exc) from exc
    except icmplib.SocketAddressError as exc:
        return failed(f"error: source address {source_address!r} cannot be used ({exc})")
    except icmplib.ICMPLibError as exc:
        return failed(f"error: {type(exc).__name__}: {exc}")
    rtts = [float(r) for r in host.rtts]
    received = int(host.packets_received)
    return ProbeSample(
        circuit=probe.circuit,
        device=probe.device,
        target=address,
        ts=ts,
        sent=int(host.packets_sent),
        received=received,
        rtt_min_ms=min(rtts) if rtts else None,
        rtt_avg_ms=statistics.fmean(rtts) if rtts else None,
        rtt_max_ms=max(rtts) if rtts else None,
        jitter_ms=statistics.pstdev(rtts) if len(rtts) >= 2 else None,
    )


async def icmp_cycle(
    probes: Iterable[ProbeTarget], settings: IcmpSettings, *, now: Callable[[], datetime] = _utc_now
) -> list[ProbeSample]:
    """All ``method == "icmp"`` probes concurrently (at most ``settings.max_concurrent``), in input order."""
    sem = asyncio.Semaphore(settings.max_concurrent)

    async def one(p: ProbeTarget) -> ProbeSample:
        async with sem:
            return await icmp_probe(p, settings, now=now)

    return list(await asyncio.gather(*(one(p) for p in probes if p.method == "icmp")))
