"""A bounded FIFO that keeps what memory allows and spills the rest to files, so nothing is lost while a consumer
waits (a database that is away) and nothing grows without bound.

Up to ``memory`` items, and with a directory up to ``memory_bytes`` as ``size`` estimates them, are held as
objects; beyond that, items are appended to segment files of ``segment_items`` lines each in ``directory``
(encoded by the caller's codec). Order is kept: once something is spilled, new items go behind it until the files
are drained. The files are read back a batch at a time (a segment is never loaded into memory whole). Past
``max_bytes`` of files the oldest segment is dropped, and the number of items lost is reported to ``on_drop``
(never silently); memory is never dropped when there is a directory. ``persist`` writes what memory holds to the
front of the files (a clean stop); a new Spool on the same directory replays them first.
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
        memory_bytes: int | None = None,
        size: Callable[[T], int] = lambda _: 0,
        segment_items: int = 1000,
        on_drop: Callable[[int], None] | None = None,
    ) -> None:
        self._dir = directory
        self._encode, self._decode = encode, decode
        self._memory_limit, self._max_bytes = memory, max_bytes
        self._memory_bytes, self._size = memory_bytes, size
        self._segment_items = segment_items
        self._on_drop = on_drop
        self._memory: deque[T] = deque()
        self._held = 0  # bytes of what memory holds, as ``size`` estimates them
        self._segments: deque[tuple[int, int, int]] = deque()  # (number, items, bytes), oldest first
        self._read = (0, 0)  # of the oldest segment: (lines, bytes) already taken
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

    @property
    def held_bytes(self) -> int:
        """What memory holds, in bytes as ``size`` estimates them."""
        return self._held

    def _path(self, number: int) -> Path:
        assert self._dir is not None
        return self._dir / f"seg-{number:020d}.jsonl"

    def _fits(self, size: int) -> bool:
        if self._segments or len(self._memory) >= self._memory_limit:
            return False
        return self._dir is None or self._memory_bytes is None or self._held + size <= self._memory_bytes

    def _hold(self, item: T, size: int) -> None:
        self._memory.append(item)
        self._held += size

    def _release(self) -> T:
        item = self._memory.popleft()
        self._held -= self._size(item)
        return item

    def push(self, item: T) -> None:
        size = self._size(item)
        if self._fits(size):
            self._hold(item, size)
            return
        if self._dir is None:  # no directory: memory is the whole bound (counted in items)
            self._hold(item, size)
            while len(self._memory) > self._memory_limit:
                self._release()
                self._dropped(1)
            return
        line = self._encode(item) + b"\n"
        if self._segments and self._segments[-1][1] < self._segment_items and self._segments[-1][0] >= _FIRST_SEGMENT:
            number, items, written = self._segments.pop()
        else:
            number = max(_FIRST_SEGMENT - 1, self._segments[-1][0] if self._segments else 0) + 1
            items, written = 0, 0
        with self._path(number).open("ab") as out:
            out.write(line)
        self._segments.append((number, items + 1, written + len(line)))
        self._spilled += 1
        self._bound()

    def _bound(self) -> None:
        while len(self._segments) > 1 and sum(s[2] for s in self._segments) - self._read[1] > self._max_bytes:
            _, items, _ = self._segments[0]
            left = items - self._read[0]
            self._finish_oldest()
            self._spilled -= left
            self._dropped(left)

    def _finish_oldest(self) -> None:
        number, _, _ = self._segments.popleft()
        self._path(number).unlink(missing_ok=True)
        self._read = (0, 0)

    def _dropped(self, count: int) -> None:
        if self._on_drop is not None:
            self._on_drop(count)

    def pop_many(self, limit: int) -> list[T]:
        """Up to ``limit`` of the oldest items (memory first, then the files, in order)."""
        out: list[T] = []
        while len(out) < limit and self._memory:
            out.append(self._release())
        while len(out) < limit and self._segments:
            path = self._path(self._segments[0][0])
            lines, offset = self._read
            with path.open("rb") as segment:
                segment.seek(offset)
                while len(out) < limit and (raw := segment.readline()):
                    lines, offset = lines + 1, offset + len(raw)
                    if raw.endswith(b"\n"):
                        self._spilled -= 1  # a torn last line was never counted
                    try:
                        out.append(self._decode(raw.rstrip(b"\n")))
                    except ValueError as exc:  # a torn last line after a crash: counted as lost, never a crash
                        log.warning("spill file %s: an unreadable entry skipped: %s", path, exc)
                        self._dropped(1)
                at_end = not segment.read(1)
            self._read = (lines, offset)
            if at_end:
                self._finish_oldest()
        return out

    def push_front(self, items: Iterable[T]) -> None:
        """Give back items taken but not consumed, in front of everything else (memory may go over its bound)."""
        given = list(items)
        self._memory.extendleft(reversed(given))
        self._held += sum(self._size(item) for item in given)

    def persist(self) -> int:
        """Write what memory holds in front of the files (a stop); returns how many items were written. What was
        already taken from the oldest file is cut from it, so the next start does not read it again."""
        if self._dir is None:
            return 0
        if self._read[1]:
            number, items, _ = self._segments[0]
            lines, offset = self._read
            with self._path(number).open("rb") as segment:
                segment.seek(offset)
                rest = segment.read()
            self._write(number, rest)
            self._segments[0] = (number, items - lines, len(rest))
            self._read = (0, 0)
        if not self._memory:
            return 0
        number = (self._segments[0][0] if self._segments else _FIRST_SEGMENT) - 1
        data = b"".join(self._encode(item) + b"\n" for item in self._memory)
        self._write(number, data)
        count = len(self._memory)
        self._segments.appendleft((number, count, len(data)))
        self._spilled += count
        self._memory.clear()
        self._held = 0
        return count

    def _write(self, number: int, data: bytes) -> None:
        path = self._path(number)
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(path)
