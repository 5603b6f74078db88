"""What travels on the bus: one typed, versioned message per device poll and per probe round.

A message is self-contained (names, not database ids) so any consumer, in this process or another, can apply it;
its JSON form (pydantic, the dataclasses below) is what the Redis bus and the spill files carry. ``v`` is the
format version: a reader refuses a version it does not know instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter, ValidationError

from collectors.counters import InterfaceRate
from collectors.model import ProbeSample
from collectors.snmp.discovery import DeviceDiscovery

VERSION = 1


class MessageError(ValueError):
    """Bytes that are not a message this code can apply (garbage, or a version it does not know)."""


@dataclass(frozen=True, slots=True)
class DevicePolled:
    """One poll of one device: its availability state after the poll, the transition it caused, the interface
    rates computed against the previous sample, and the discovery when it changed."""

    device: str
    ts: datetime  # the poll's sample time (when it got its slot)
    ok: bool
    # The device's state after this poll: True up, False down (N failures in a row), None not known yet.
    up: bool | None
    consecutive_failures: int
    uptime_s: float | None = None
    error: str | None = None
    transition: Literal["down", "recovered"] | None = None
    down_since: datetime | None = None  # with a transition: the first failed poll of the outage
    interfaces: tuple[InterfaceRate, ...] = ()
    discovery: DeviceDiscovery | None = None
    poller: str = ""
    epoch: float = 0.0  # the fleet's ownership epoch of the device's group when polled (0: no fleet)
    interval_s: float = 0.0  # the device's poll interval in force (0: not said)
    kind: Literal["device"] = "device"
    v: int = VERSION

    @property
    def available(self) -> bool:
        """What the board and the exporter show: up unless known to be down."""
        return self.up is not False


@dataclass(frozen=True, slots=True)
class ProbeResult:
    sample: ProbeSample
    method: Literal["ssh", "icmp"]


@dataclass(frozen=True, slots=True)
class ProbeRound:
    """One round of echo bursts toward circuits' far ends."""

    ts: datetime
    results: tuple[ProbeResult, ...]
    poller: str = ""
    epoch: float = 0.0
    kind: Literal["probes"] = "probes"
    v: int = VERSION


Message = DevicePolled | ProbeRound
_ADAPTER: TypeAdapter[Message] = TypeAdapter(Annotated[Message, Field(discriminator="kind")])


def encode(message: Message) -> bytes:
    return _ADAPTER.dump_json(message)


def decode(data: bytes | str) -> Message:
    try:
        message = _ADAPTER.validate_json(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "message"
        raise MessageError(f"not a bus message: {where}: {first['msg']}") from None
    if message.v != VERSION:
        raise MessageError(f"bus message version {message.v}: this code reads version {VERSION}")
    return message


# What a message holds in memory as objects, measured with bench/state_memory.py (a 48-port device poll: 21.6 KB).
_MESSAGE_BYTES, _RATE_BYTES, _DISCOVERED_BYTES, _PROBE_BYTES = 600, 420, 400, 500


def held_bytes(message: Message) -> int:
    """About how many bytes a message holds in memory: what the in-process bus's memory bound counts."""
    if isinstance(message, DevicePolled):
        found = 0 if message.discovery is None else len(message.discovery.interfaces)
        return _MESSAGE_BYTES + _RATE_BYTES * len(message.interfaces) + _DISCOVERED_BYTES * found
    return _MESSAGE_BYTES + _PROBE_BYTES * len(message.results)


def message_key(message: Message) -> str:
    """What identifies a message for people (logs, dead letters): the device or probe round and its time."""
    if isinstance(message, DevicePolled):
        return f"device {message.device} at {message.ts.isoformat()}"
    return f"probe round at {message.ts.isoformat()}"
