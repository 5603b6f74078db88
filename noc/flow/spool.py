"""A bounded FIFO that keeps what memory allows and spills the rest to files, so nothing is lost while a consumer
waits (a database that is away) and nothing grows without bound.

Up to ``memory`` items are held as objects; beyond that, items are appended to segment files of
``segment_items`` lines each in ``directory`` (encoded by the caller's codec). Order is kept: once something is
spilled, new items go behind it until the files are drained. Past ``max_bytes`` of files the oldest segment is
dropped, and the number of items lost is reported to ``on_drop`` (never silently). ``persist`` writes what memory
holds to the front of the files (a clean stop); a new Spool on the same directory replays them first.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
_FIRST_SEGMENT = 10**15  # room below for segments written in front (persist)


class Spool(Generic[T]):
    def __init__(
        self,
        directory: Path | None,
        *,
        encode: Callable[[T], bytes],
        decode: Callable[[bytes], T],
        memory: int,
        max_bytes: int,
        segment_items: int = 1000,
        on_drop: Callable[[int], None] | None = None,
    ) -> None:
        self._dir = directory
        self._encode, self._decode = encode, decode
        self._memory_limit, self._max_bytes = memory, max_bytes
        self._segment_items = segment_items
        self._on_drop = on_drop
        self._memory: deque[T] = deque()
        self._segments: deque[tuple[int, int, int]] = deque()  # (number, items, bytes), oldest first
        self._spilled = 0
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
            for path in sorted(directory.glob("seg-*.jsonl")):
                data = path.read_bytes()
                items = data.count(b"\n")
                self._segments.append((int(path.stem[4:]), items, len(data)))
                self._spilled += items

    def __len__(self) -> int:
        return len(self._memory) + self._spilled

    @property
    def spilled(self) -> int:
        return self._spilled

    def _path(self, number: int) -> Path:
        assert self._dir is not None
        return self._dir / f"seg-{number:020d}.jsonl"

    def push(self, item: T) -> None:
        if not self._segments and len(self._memory) < self._memory_limit:
            self._memory.append(item)
            return
        if self._dir is None:  # no directory: memory is the whole bound
            self._memory.append(item)
            while len(self._memory) > self._memory_limit:
                self._memory.popleft()
                self._dropped(1)
            return
        line = self._encode(item) + b"\n"
        if self._segments and self._segments[-1][1] < self._segment_items and self._segments[-1][0] >= _FIRST_SEGMENT:
            number, items, size = self._segments.pop()
        else:
            number = max(_FIRST_SEGMENT - 1, self._segments[-1][0] if self._segments else 0) + 1
            items, size = 0, 0
        with self._path(number).open("ab") as out:
            out.write(line)
        self._segments.append((number, items + 1, size + len(line)))
        self._spilled += 1
        self._bound()

    def _bound(self) -> None:
        while len(self._segments) > 1 and sum(s[2] for s in self._segments) > self._max_bytes:
            number, items, _ = self._segments.popleft()
            self._path(number).unlink(missing_ok=True)
            self._spilled -= items
            self._dropped(items)

    def _dropped(self, count: int) -> None:
        if self._on_drop is not None:
            self._on_drop(count)

    def pop_many(self, limit: int) -> list[T]:
        """Up to ``limit`` of the oldest items (memory first, then the files, in order)."""
        out: list[T] = []
        while len(out) < limit and self._memory:
            out.append(self._memory.popleft())
        while len(out) < limit and self._segments:
            number, _, _ = self._segments.popleft()
            path = self._path(number)
            lines = path.read_bytes().splitlines()
            path.unlink(missing_ok=True)
            self._spilled -= len(lines)
            for raw in lines:
                try:
                    item = self._decode(raw)
                except ValueError as exc:  # a torn last line after a crash: counted as lost, never a crash
                    log.warning("spill file %s: an unreadable entry skipped: %s", path, exc)
                    self._dropped(1)
                    continue
                if len(out) < limit:
                    out.append(item)
                else:
                    self._memory.append(item)
        return out

    def push_front(self, items: Iterable[T]) -> None:
        """Give back items taken but not consumed, in front of everything else."""
        self._memory.extendleft(reversed(list(items)))

    def persist(self) -> int:
        """Write what memory holds in front of the files (a stop); returns how many items were written."""
        if self._dir is None or not self._memory:
            return 0
        number = (self._segments[0][0] if self._segments else _FIRST_SEGMENT) - 1
        data = b"".join(self._encode(item) + b"\n" for item in self._memory)
        path = self._path(number)
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(path)
        count = len(self._memory)
        self._segments.appendleft((number, count, len(data)))
        self._spilled += count
        self._memory.clear()
        return count
