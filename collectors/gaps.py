"""Monitoring gaps: time in which nobody polled a device. A device not polled for over two of its intervals (no
poller of its group alive, or polls that never get through) is in a gap from the moment its next poll was due until
the next poll of it arrives. A gap is unknown time, never downtime: nothing was measured, so nothing can be said.

Pure: :class:`GapWatch` is told the inventory (each device's interval), every poll it sees and the time; it answers
the gaps that opened and closed, for the caller to record.

    watch = GapWatch()
    watch.watch({"pe-1": 60.0}, since=now)          # the devices watched, and since when (a new device's baseline)
    watch.resume(open_gaps, last_polls)             # what the records say after a restart
    change = watch.polled("pe-1", ts)               # a poll: the gap it closes (or retracts), if any
    changes = watch.due(now)                        # gaps that open now
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

GAP_INTERVALS = 2  # a device not polled for more than this many of its intervals is in a monitoring gap


def overdue(seen: datetime, now: datetime, interval_s: float) -> bool:
    """True when a device last polled (or first watched) at ``seen`` is in a monitoring gap at ``now``."""
    return (now - seen).total_seconds() > GAP_INTERVALS * interval_s


@dataclass(frozen=True, slots=True)
class GapChange:
    """A gap that opened (``ended_at`` None) or closed; ``retracted`` when the poll that closed it shows there was
    none (the device was polled in time, its poll only reached us late: a bus that was away, a replay)."""

    device: str
    started_at: datetime
    ended_at: datetime | None = None
    retracted: bool = False


class GapWatch:
    def __init__(self) -> None:
        self._intervals: dict[str, float] = {}
        self._seen: dict[str, datetime] = {}  # the latest poll of each device, or when watching it began
        self._open: dict[str, datetime] = {}  # device -> start of its open gap

    def watch(self, intervals: Mapping[str, float], since: datetime) -> list[GapChange]:
        """The devices to watch and their intervals. A device new to the watch is counted from ``since``; one no
        longer watched is forgotten, and its open gap ends at ``since`` (returned)."""
        ended = [GapChange(d, start, max(start, since)) for d, start in self._open.items() if d not in intervals]
        for change in ended:
            del self._open[change.device]
        self._intervals = dict(intervals)
        self._seen = {d: self._seen.get(d, since) for d in intervals}
        return ended

    def resume(self, open_gaps: Mapping[str, datetime], last_polls: Mapping[str, datetime]) -> None:
        """After a restart: the gaps the records hold open, and each device's last stored poll."""
        for device, ts in last_polls.items():
            if device in self._seen:
                self._seen[device] = ts
        self._open.update({d: start for d, start in open_gaps.items() if d in self._intervals})

    def polled(self, device: str, ts: datetime) -> GapChange | None:
        """A poll of ``device`` made at ``ts``: it closes the device's open gap when it is no older than it, and
        retracts it when it was made in time after the previous one."""
        interval = self._intervals.get(device)
        if interval is None:
            return None
        previous = self._seen[device]
        self._seen[device] = max(previous, ts)
        start = self._open.get(device)
        if start is None or ts < start:
            return None
        del self._open[device]
        return GapChange(device, start, ts, retracted=not overdue(previous, ts, interval))

    def due(self, now: datetime) -> list[GapChange]:
        """The gaps that open at ``now``: each starts when the device's next poll was due."""
        opened = []
        for device, seen in self._seen.items():
            interval = self._intervals[device]
            if device not in self._open and overdue(seen, now, interval):
                start = self._open[device] = seen + timedelta(seconds=interval)
                opened.append(GapChange(device, start))
        return opened

    def open_gaps(self) -> dict[str, datetime]:
        return dict(self._open)
