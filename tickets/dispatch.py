"""Dispatch: which field technician gets a ticket. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TechnicianFacts:
    name: str
    regions: tuple[str, ...]
    skills: tuple[str, ...]
    open_tickets: int = 0


def platform_skill(platform: str) -> str:
    """The skill a platform needs: its vendor (``huawei_vrp`` -> ``huawei``, ``linux`` -> ``linux``)."""
    return platform.split("_", 1)[0].lower()


def choose_technician(region: str, platform: str, technicians: Sequence[TechnicianFacts]) -> TechnicianFacts | None:
    """Someone covering the region; among them who knows the platform, then the shortest queue, then by name."""
    skill = platform_skill(platform)
    candidates = [t for t in technicians if region in t.regions]
    if not candidates:
        return None
    return min(candidates, key=lambda t: (skill not in {s.lower() for s in t.skills}, t.open_tickets, t.name))
