"""Supervised loops: a periodic job that fails is tried again with backoff, not only at its next interval."""

from __future__ import annotations

import asyncio

from noc.flow.supervise import Supervisor


async def test_a_failing_periodic_job_retries_with_backoff_and_recovers_before_its_interval() -> None:
    supervisor = Supervisor(initial_backoff_s=0.01, max_backoff_s=0.05)
    calls = 0
    recovered = asyncio.Event()

    async def job() -> None:
        nonlocal calls
        calls += 1
        if calls <= 3:
            raise ConnectionRefusedError("the database is away")
        recovered.set()

    supervisor.every("month", 3600.0, job)  # an hourly job: its next interval is far away
    try:
        async with asyncio.timeout(30):
            await recovered.wait()
        assert calls == 4
        assert not supervisor.stage("month").failing
    finally:
        await supervisor.stop(5.0)
