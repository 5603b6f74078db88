"""Screens showing the same thing share its rendering: one per key and half refresh period however many streams
ask, a viewer who leaves does not cancel it for the others, a failed one is tried again; and on the live board,
two engineers' streams carry the same board with each one's own CSRF token."""

from __future__ import annotations

import asyncio

import pytest

from noc.web.board import CSRF_SLOT
from noc.web.live import Fanout
from tests.web.conftest import Site, db_url, site  # noqa: F401  (the pages' fixtures: SQLite, the app on loopback)


class Renderer:
    def __init__(self) -> None:
        self.calls = 0
        self.gate = asyncio.Event()
        self.fail = False

    async def __call__(self) -> str:
        self.calls += 1
        await self.gate.wait()
        if self.fail:
            raise RuntimeError("the database went away")
        return f"board #{self.calls}"


async def test_streams_asking_at_once_share_one_rendering_and_one_leaving_cancels_nothing() -> None:
    fanout, render = Fanout(period_s=3600), Renderer()
    waits = [asyncio.create_task(fanout.get(("board", "noc", "zh-CN"), render)) for _ in range(200)]
    await asyncio.sleep(0)  # every stream is waiting on the one rendering
    waits[0].cancel()  # a viewer closed their tab meanwhile
    render.gate.set()
    done = await asyncio.gather(*waits[1:])
    assert set(done) == {"board #1"} and render.calls == 1 and fanout.rendered == 1
    assert await fanout.get(("board", "noc", "en"), render) == "board #2"  # another key: its own rendering


async def test_a_rendering_is_made_again_after_half_a_period_and_after_a_failure() -> None:
    fanout, render = Fanout(period_s=0.0), Renderer()  # every ask is half a period later
    render.gate.set()
    assert [await fanout.get("k", render) for _ in range(3)] == ["board #1", "board #2", "board #3"]
    slow, failing = Fanout(period_s=3600), Renderer()
    failing.gate.set()
    failing.fail = True
    with pytest.raises(RuntimeError):
        await slow.get("k", failing)
    failing.fail = False
    assert await slow.get("k", failing) == "board #2"  # not the failure kept for an hour


async def first_update(site: Site, username: str) -> str:  # noqa: F811  (the fixture's name)
    visitor = await site.visitor(username)
    async with visitor.http.get(site.base + "/board/events") as stream:
        lines = []
        async with asyncio.timeout(30):
            while True:
                line = (await stream.content.readline()).decode()
                if line == "\n" and lines:
                    break
                lines.append(line)
    assert lines[0] == "event: update\n"
    return "".join(line.removeprefix("data: ") for line in lines[1:])


async def test_two_engineers_boards_are_one_rendering_with_their_own_tokens(site: Site) -> None:  # noqa: F811
    await site.open_ticket("ACME-BJ-001", summary="loss above contract")
    nina, admin = await asyncio.gather(first_update(site, "nina"), first_update(site, "admin"))
    nina_again = await first_update(site, "nina")
    assert CSRF_SLOT not in nina and CSRF_SLOT not in admin
    tokens = {
        board: [part.split('"')[0] for part in board.split('name="csrf" value="')[1:]] for board in (nina, nina_again)
    }
    assert tokens[nina] and len(set(tokens[nina])) == 1  # every form of the board: this session's token
    assert set(tokens[nina]).isdisjoint(tokens[nina_again])  # another session: another token, same board
    assert "T-" in nina and "loss above contract" in admin
