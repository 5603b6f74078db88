"""The pure parts of delivery: the cursor over ticket history with gaps, the per-channel rate, the backoff, and
what is scrubbed from a recorded error."""

from __future__ import annotations

import pytest

from noc.notify.delivery import retry_delay_s, scrub
from noc.notify.outbox import advance
from noc.notify.ratelimit import TokenBucket


@pytest.mark.parametrize(
    ("cursor", "ids", "gap_since", "now", "expected"),
    [
        (0, [], None, 0.0, (0, None)),
        (0, [1, 2, 3], None, 0.0, (3, None)),
        (3, [4, 6, 7], None, 10.0, (4, 10.0)),  # 5 is not visible yet: wait at it, from now
        (4, [6, 7], 10.0, 20.0, (4, 10.0)),  # still within the grace
        (4, [5, 6, 7], 10.0, 20.0, (7, None)),  # it came: on past it
        (4, [6, 7], 10.0, 41.0, (7, None)),  # never came (rolled back): passed over after the grace
        (4, [6, 8], 10.0, 41.0, (6, 41.0)),  # the next gap waits on its own clock
    ],
)
def test_the_cursor_waits_at_a_gap_for_its_grace(
    cursor: int, ids: list[int], gap_since: float | None, now: float, expected: tuple[int, float | None]
) -> None:
    assert advance(cursor, ids, gap_since, now, grace_s=30.0) == expected


def test_a_channel_sends_its_rate_per_minute_and_refills_over_the_minute() -> None:
    bucket = TokenBucket(per_minute=3)
    assert [bucket.take(100.0) for _ in range(4)] == [True, True, True, False]
    assert not bucket.take(110.0)  # 10 s refill half a message
    assert bucket.take(120.0)  # 20 s: one
    assert not bucket.take(120.0)
    assert [bucket.take(1000.0) for _ in range(4)] == [True, True, True, False]  # never more than a minute's worth


@pytest.mark.parametrize(
    ("attempts", "delay"), [(1, 30.0), (2, 60.0), (3, 120.0), (7, 1920.0), (8, 3600.0), (20, 3600.0)]
)
def test_the_backoff_doubles_up_to_its_cap(attempts: int, delay: float) -> None:
    assert retry_delay_s(attempts, 30.0, 3600.0) == delay


def test_a_recorded_error_carries_no_secret() -> None:
    error = "127.0.0.1:1: HTTP 400: bad request for /robot/send?access_token=tok-123456&sign=abc"
    assert (
        scrub(error, ("tok-123456",)) == "127.0.0.1:1: HTTP 400: bad request for /robot/send?access_token=***&sign=abc"
    )
    assert len(scrub("x" * 5000, ())) == 1000
