"""The sign-in throttle lives in the database (every process and a restart see the same counts, both databases):
per address a rate, per address and name a growing delay; never a lock an anonymous client can put on a user
everywhere. An admin's unlock and a new password clear a name's delays, and each leaves one audit row."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from noc import auth
from noc import models as m
from noc.audit import Action
from noc.timeutil import utcnow

RULES = auth.Throttle(per_minute=20, free_failures=3, base_s=60.0, max_s=900.0)
HERE, THERE = "192.0.2.1", "198.51.100.7"


@pytest.mark.parametrize(
    ("failures", "delay_s"), [(0, 0.0), (2, 0.0), (3, 60.0), (4, 120.0), (6, 480.0), (7, 900.0), (10_000, 900.0)]
)
def test_the_delay_doubles_after_the_free_failures_up_to_the_ceiling(failures: int, delay_s: float) -> None:
    assert RULES.delay_s(failures) == delay_s


async def _audit(sessions: async_sessionmaker[AsyncSession], action: Action) -> list[tuple[str, str]]:
    async with sessions() as session:
        rows = await session.scalars(select(m.AuditEvent).where(m.AuditEvent.action == action.value))
        return [(r.subject, r.client) for r in rows]


async def test_wrong_passwords_delay_that_address_for_that_name_only(
    engine: object, sessions: async_sessionmaker[AsyncSession]
) -> None:
    verdicts = [await auth.attempt_sign_in(sessions, "nina", HERE, RULES) for _ in range(5)]
    assert [v.allowed for v in verdicts] == [True, True, True, False, False]
    assert verdicts[3].reason == "too many wrong passwords" and 0 < verdicts[3].retry_after_s <= 60
    assert (await auth.attempt_sign_in(sessions, "nina", THERE, RULES)).allowed  # nina from elsewhere: not locked
    assert (await auth.attempt_sign_in(sessions, "tom", HERE, RULES)).allowed  # another name from here
    assert await _audit(sessions, Action.SIGNIN_LOCK) == [("nina", HERE)]  # one row for the lock, not per try
    await auth.signed_in(sessions, "nina", THERE)
    assert not (await auth.attempt_sign_in(sessions, "nina", HERE, RULES)).allowed  # HERE still waits


async def test_an_address_over_its_rate_is_refused_whatever_the_name(
    engine: object, sessions: async_sessionmaker[AsyncSession]
) -> None:
    rules = auth.Throttle(per_minute=5, free_failures=100, base_s=1.0, max_s=1.0)
    verdicts = [await auth.attempt_sign_in(sessions, f"user{i}", HERE, rules) for i in range(7)]
    assert [v.allowed for v in verdicts] == [True] * 5 + [False] * 2
    assert verdicts[-1].reason == "too many sign-in attempts from this address"
    assert (await auth.attempt_sign_in(sessions, "user0", THERE, rules)).allowed


async def test_unlock_and_a_new_password_clear_the_delays_each_audited_once(
    engine: object, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as session:
        session.add(m.User(username="nina", role="noc"))
        await session.commit()
    for _ in range(4):
        await auth.attempt_sign_in(sessions, "nina", HERE, RULES)
    assert not (await auth.attempt_sign_in(sessions, "nina", HERE, RULES)).allowed
    assert await auth.unlock(sessions, "nina") == 5
    assert (await auth.attempt_sign_in(sessions, "nina", HERE, RULES)).allowed
    for _ in range(4):
        await auth.attempt_sign_in(sessions, "nina", HERE, RULES)
    await auth.set_password(sessions, "nina", "a-long-new-password")
    assert (await auth.attempt_sign_in(sessions, "nina", HERE, RULES)).allowed
    assert await _audit(sessions, Action.SIGNIN_UNLOCK) == [("nina", "")]
    assert await _audit(sessions, Action.PASSWORD_SET) == [("nina", "")]


async def test_attempts_older_than_the_memory_neither_count_nor_stay(
    engine: object, sessions: async_sessionmaker[AsyncSession]
) -> None:
    old = utcnow() - RULES.memory - timedelta(minutes=1)
    async with sessions() as session:
        session.add_all(m.LoginAttempt(username="nina", client=HERE, at=old) for _ in range(10))
        await session.commit()
    assert (await auth.attempt_sign_in(sessions, "nina", HERE, RULES)).allowed
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(m.LoginAttempt)) == 1  # the old ones swept
