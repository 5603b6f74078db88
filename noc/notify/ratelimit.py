"""A token bucket per channel: at most ``per_minute`` messages a minute, a full minute's worth at once. Pure:
the caller passes a monotonic ``now`` in seconds."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    per_minute: int
    _tokens: float = field(init=False)
    _at: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self._tokens = float(self.per_minute)

    def take(self, now: float) -> bool:
        """One message may go now (and is counted), or it must wait."""
        if self._at is not None:
            self._tokens = min(float(self.per_minute), self._tokens + (now - self._at) * self.per_minute / 60.0)
        self._at = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True
