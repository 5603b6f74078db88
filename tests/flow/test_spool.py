"""The bounded FIFO behind the in-process bus: order kept across memory and files, the bound drops the oldest
(counted), a stop's leftovers are replayed by the next start, a torn line after a crash is skipped and counted."""

from __future__ import annotations

from pathlib import Path

from noc.flow.spool import Spool


def spool(
    directory: Path | None, memory: int = 3, max_bytes: int = 10_000, drops: list[int] | None = None
) -> Spool[int]:
    return Spool(
        directory,
        encode=lambda n: str(n).encode(),
        decode=lambda raw: int(raw),
        memory=memory,
        max_bytes=max_bytes,
        segment_items=4,
        on_drop=None if drops is None else drops.append,
    )


def test_order_is_kept_across_memory_and_files(tmp_path: Path) -> None:
    q = spool(tmp_path)
    for n in range(20):
        q.push(n)
    assert len(q) == 20 and q.spilled == 17
    taken = q.pop_many(5)
    q.push(20)
    q.push_front(taken[3:])  # taken but not consumed: back in front
    out = taken[:3]
    while len(q):
        out += q.pop_many(6)
    assert out == list(range(21))
    assert not list(tmp_path.glob("seg-*"))


def test_the_bound_drops_the_oldest_and_counts_them(tmp_path: Path) -> None:
    drops: list[int] = []
    q = spool(tmp_path, max_bytes=20, drops=drops)
    for n in range(100, 130):
        q.push(n)
    kept = q.pop_many(100)
    assert sum(drops) == 30 - len(kept)
    assert kept[:3] == [100, 101, 102]  # memory is never dropped: the files lose their oldest segment first
    assert kept[3:] == sorted(kept[3:]) and kept[-1] == 129


def test_without_a_directory_memory_is_the_bound() -> None:
    drops: list[int] = []
    q = spool(None, memory=3, drops=drops)
    for n in range(5):
        q.push(n)
    assert q.pop_many(10) == [2, 3, 4] and drops == [1, 1]


def test_a_stop_s_leftovers_are_replayed_first(tmp_path: Path) -> None:
    q = spool(tmp_path)
    for n in range(10):
        q.push(n)
    in_hand = q.pop_many(2)
    q.push_front(in_hand)
    assert q.persist() == 3
    again = spool(tmp_path)
    assert len(again) == 10
    assert again.pop_many(100) == list(range(10))


def test_a_torn_line_is_skipped_and_counted(tmp_path: Path) -> None:
    q = spool(tmp_path, memory=1)
    for n in range(4):
        q.push(n)
    segment = next(tmp_path.glob("seg-*"))
    segment.write_bytes(segment.read_bytes() + b"not-a-number")  # a crash in the middle of a write
    drops: list[int] = []
    again = spool(tmp_path, memory=1, drops=drops)
    assert again.pop_many(10) == [1, 2, 3] and drops == [1]
