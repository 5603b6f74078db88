"""The configured bus."""

from __future__ import annotations

from noc.flow.bus import Bus, MemoryBus
from noc.flow.redisbus import RedisBus
from noc.settings import BusSettings


def open_bus(settings: BusSettings, consumer: str) -> Bus:
    """``memory`` or Redis; ``consumer`` names this process in Redis consumer groups (stable over restarts, so a
    restarted process re-reads what it had been handed and never acknowledged)."""
    if settings.url == "memory":
        return MemoryBus(settings)
    return RedisBus(settings, consumer)
