"""The bounded FIFO behind the in-process bus: order kept across memory and files, the memory's byte bound holds
and loses nothing, the files' bound drops the oldest (counted), files are read a batch at a time, a stop's
leftovers are replayed by the next start, a torn line after a crash is skipped and counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from collectors.counters import InterfaceRate
from noc.flow.bus import MemoryBus
from noc.flow.spool import Spool
from noc.messages import DevicePolled, held_bytes
from noc.settings import BusSettings


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


def test_the_memory_byte_bound_holds_and_nothing_is_lost(tmp_path: Path) -> None:
    def size(n: int) -> int:
        return 10 + n % 7 * 10  # items of different sizes

    drops: list[int] = []
    q = Spool(
        tmp_path,
        encode=lambda n: str(n).encode(),
        decode=lambda raw: int(raw),
        memory=1000,  # the count never binds here: the bytes do
        max_bytes=10_000,
        memory_bytes=100,
        size=size,
        segment_items=4,
        on_drop=drops.append,
    )
    waiting: list[int] = []  # what the spool should hold, oldest first
    out: list[int] = []
    for n in range(200):
        q.push(n)
        waiting.append(n)
        if n % 3 == 0:
            taken = q.pop_many(2)
            assert taken == waiting[:2]
            out += taken
            del waiting[:2]
        in_memory = waiting[: len(q) - q.spilled]  # memory holds the oldest
        assert q.held_bytes == sum(size(i) for i in in_memory) <= 100
    assert q.spilled > 0  # the bound made it spill
    while len(q):
        out += q.pop_many(5)
        assert q.held_bytes <= 100
    assert out == list(range(200)) and drops == [] and q.held_bytes == 0
    assert not list(tmp_path.glob("seg-*"))


def test_files_are_read_a_batch_at_a_time_and_a_stop_cuts_what_was_taken(tmp_path: Path) -> None:
    q = spool(tmp_path, memory=1)
    for n in range(10):
        q.push(n)
    assert q.pop_many(3) == [0, 1, 2]  # one from memory, two from the first file (of four lines)
    assert len(q) == 7 and q.spilled == 7
    assert q.persist() == 0  # nothing in memory: the file that was half read is cut
    again = spool(tmp_path, memory=1)
    assert len(again) == 7
    assert again.pop_many(100) == list(range(3, 10))


def device_poll(i: int, interfaces: int) -> DevicePolled:
    ts = datetime(2026, 11, 30, tzinfo=UTC) + timedelta(minutes=i)
    rates = tuple(InterfaceRate("pe-1", k + 1, f"ge{k}", ts, "up", 60.0, 10**9, 1e6, 2e6) for k in range(interfaces))
    return DevicePolled("pe-1", ts, ok=True, up=True, consecutive_failures=0, interfaces=rates)


async def test_the_bus_spills_past_its_memory_bytes_and_replays_everything_in_order(tmp_path: Path) -> None:
    bus = MemoryBus(BusSettings(spill_dir=tmp_path, memory_max_bytes=20_000))
    group = bus.subscribe("store")
    sent = [device_poll(i, interfaces=i % 5 * 12) for i in range(60)]
    for message in sent:
        await bus.publish(message)
        assert group.spool.held_bytes <= 20_000
    assert group.spool.spilled > 0
    assert sum(held_bytes(m) for m in sent) > 20_000  # without the bound all of it would be in memory
    received = []
    while batch := await group.take(7, 0):
        received += [d.message for d in batch]
        await group.ack(batch)
    assert received == sent and bus.dropped() == {}
