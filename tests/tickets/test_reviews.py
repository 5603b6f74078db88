"""Reviews agree with hand counts: the recurring-faults review (per device, key account and region, per cause and
month, with the trend) and the technician record (handled, response and restoration against their limits,
satisfaction), over a history the ticket service itself recorded, on SQLite and PostgreSQL; and the pure
arithmetic on its own."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from noc.store.reviews import fault_occurrences, handled_tickets
from tests.tickets.conftest import DrivenClock
from tickets.reviews import (
    FaultOccurrence,
    ReviewBy,
    fault_review_csv,
    months_ending,
    recurring_faults,
    slope,
    technician_csv,
    technician_records,
)
from tickets.rules import FaultEvent, FaultKind, Impact
from tickets.service import TicketService

SEP, OCT, NOV = (datetime(2026, m, d, 8, 0, tzinfo=UTC) for m, d in ((9, 10), (10, 5), (11, 2)))
WINDOW = months_ending(date(2026, 11, 30), 3)


def test_the_months_of_a_window_cross_the_year() -> None:
    assert months_ending(date(2027, 2, 14), 4) == ("2026-11", "2026-12", "2027-01", "2027-02")
    with pytest.raises(ValueError, match="months"):
        months_ending(date(2027, 2, 14), 0)


@pytest.mark.parametrize(
    ("values", "expected"),
    [([], 0.0), ([3], 0.0), ([0, 1, 2], 1.0), ([2, 2, 2], 0.0), ([1, 0, 1], 0.0), ([0, 2, 0], 0.0), ([3, 1], -2.0)],
)
def test_the_trend_is_the_least_squares_slope(values: list[float], expected: float) -> None:
    assert slope(values) == pytest.approx(expected)


def test_faults_outside_the_window_or_without_the_key_are_not_counted() -> None:
    rows = [
        FaultOccurrence("T-1", datetime(2026, 8, 31, 23, 59, tzinfo=UTC), "pe-1", "acme", "north", "power"),
        FaultOccurrence("T-2", datetime(2026, 9, 1, tzinfo=UTC), None, "acme", None, None),
        FaultOccurrence("T-3", datetime(2026, 12, 1, tzinfo=UTC), "pe-1", "acme", "north", "power"),
    ]
    assert recurring_faults(rows, ReviewBy.DEVICE, WINDOW).rows == ()
    [only] = recurring_faults(rows, ReviewBy.ACCOUNT, WINDOW).rows
    assert (only.key, only.cause, only.per_month, only.tickets) == ("acme", "unclassified", (1, 0, 0), ("T-2",))


async def history(svc: TicketService, clock: DrivenClock) -> dict[str, int]:
    """September: a fibre cut on ACME-BJ-001 (pe-bj-01), tom answers in 20 min and restores in 2 h, rated 4.
    October: a power fault on the same circuit, li answers in 50 min (limit 30) and restores in 5 h (limit 4 h);
    it comes back the next morning (reopened) and is closed again. November: another fibre cut on ACME-BJ-001 by
    tom, and a fault on CITY-SH-001 (pe-sh-01, south) dispatched to li at once, not yet restored."""
    ids: dict[str, int] = {}

    async def fault(name: str, circuit: str, at: datetime, cause: str) -> int:
        clock.set(at)
        event = FaultEvent(FaultKind.MANUAL, circuit, f"manual:{cause}", Impact.DEGRADED, at, cause)
        ids[name] = (await svc.handle_fault(event)).ticket_id
        return ids[name]

    async def work(ticket: int, technician: str, answer_min: int, restore_h: float) -> None:
        clock.advance(minutes=answer_min)
        await svc.acknowledge("nina", ticket)
        await svc.assign("nina", ticket, technician)
        clock.advance(hours=restore_h, minutes=-answer_min)
        await svc.resolve("nina", ticket)

    sep = await fault("sep", "ACME-BJ-001", SEP, "fibre cut near the river")
    await work(sep, "tom-north", 20, 2)
    await svc.close("nina", sep, "fibre_cut", "spliced")
    await svc.rate("karl", sep, 4)

    octo = await fault("oct", "ACME-BJ-001", OCT, "no power at the site")
    await work(octo, "li-south", 50, 5)
    clock.advance(hours=16)
    again = FaultEvent(FaultKind.MANUAL, "ACME-BJ-001", "manual:no power at the site", Impact.DEGRADED, clock.now())
    assert (await svc.handle_fault(again)).ticket_id == octo  # within the reopen window: the same ticket, reopened
    clock.advance(hours=1)
    await svc.resolve("nina", octo)
    await svc.close("nina", octo, "power", "generator refuelled")

    nov = await fault("nov", "ACME-BJ-001", NOV, "fibre cut at the roadworks")
    await work(nov, "tom-north", 10, 1)
    await svc.close("nina", nov, "fibre_cut", "spliced")
    city = await fault("city", "CITY-SH-001", NOV + timedelta(days=1), "loss on the metro ring")
    await svc.assign("nina", city, "li-south")
    return ids


async def test_reviews_agree_with_hand_counts(
    svc: TicketService, clock: DrivenClock, stocked: async_sessionmaker[AsyncSession]
) -> None:
    ids = await history(svc, clock)
    since, until = datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
    async with stocked() as session:
        occurrences = await fault_occurrences(session, since, until)
        held = await handled_tickets(session, since, until)
    t = {name: f"T-{ident}" for name, ident in ids.items()}

    by_device = recurring_faults(occurrences, ReviewBy.DEVICE, WINDOW)
    assert [(r.key, r.cause, r.per_month, r.total, r.tickets) for r in by_device.rows] == [
        ("pe-bj-01", "fibre_cut", (1, 0, 1), 2, (t["sep"], t["nov"])),
        ("pe-bj-01", "power", (0, 2, 0), 2, (t["oct"],)),  # it came back: two faults, one ticket
        ("pe-sh-01", "unclassified", (0, 0, 1), 1, (t["city"],)),
    ]
    recurred = recurring_faults(occurrences, ReviewBy.ACCOUNT, WINDOW, at_least=2)
    assert [(r.key, r.cause, r.total) for r in recurred.rows] == [
        ("acme-bank", "fibre_cut", 2),
        ("acme-bank", "power", 2),
    ]
    by_region = recurring_faults(occurrences, ReviewBy.REGION, WINDOW)
    assert {(r.key, r.cause): r.total for r in by_region.rows} == {
        ("north", "fibre_cut"): 2,
        ("north", "power"): 2,
        ("south", "unclassified"): 1,
    }
    assert (
        fault_review_csv(recurred).splitlines()[0]
        == "account,cause,2026-09,2026-10,2026-11,total,trend_per_month,tickets"
    )

    li, tom = technician_records(held)  # by name
    assert (li.technician, li.handled, li.resolved) == ("li-south", 2, 1)
    # October's answer came 50 min after the fault (limit 30); CITY-SH-001 was dispatched at once, which answers it
    assert (li.response_met, li.response_missed, li.restore_met, li.restore_missed) == (1, 1, 0, 1)
    assert li.median_response_min == 25.0 and li.satisfaction_avg is None
    assert (tom.technician, tom.handled, tom.resolved) == ("tom-north", 2, 2)
    assert (tom.response_met, tom.response_missed, tom.restore_met, tom.restore_missed) == (2, 0, 2, 0)
    assert tom.median_response_min == 15.0 and tom.median_restore_min == 90.0
    assert (tom.satisfaction_avg, tom.satisfaction_count) == (4.0, 1)
    assert technician_csv([li, tom]).splitlines()[1].startswith("li-south,2,1,1,1,0,1,25.0,")
