"""The sign-in lock's count lives in the database: every process and a restart see the same one (both databases)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from noc import auth
from noc import models as m
from noc.timeutil import utcnow

WINDOW = timedelta(minutes=15)


async def test_the_sixth_attempt_in_the_window_is_refused_and_a_success_resets(
    engine: object, sessions: async_sessionmaker[AsyncSession]
) -> None:
    assert [await auth.attempt_sign_in(sessions, "nina", WINDOW, 5) for _ in range(6)] == [True] * 5 + [False]
    assert await auth.attempt_sign_in(sessions, "tom", WINDOW, 5)  # another name counts on its own
    await auth.signed_in(sessions, "nina")
    assert await auth.attempt_sign_in(sessions, "nina", WINDOW, 5)


async def test_attempts_older_than_the_window_neither_count_nor_stay(
    engine: object, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as session:
        session.add_all(m.LoginAttempt(username="nina", at=utcnow() - timedelta(hours=1)) for _ in range(10))
        await session.commit()
    assert await auth.attempt_sign_in(sessions, "nina", WINDOW, 5)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(m.LoginAttempt)) == 1  # the old ones swept
