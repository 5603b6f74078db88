"""The weekly report's read model: every circuit of an account over one ISO week, from the stored rollups
(hourly statistics, Δt state runs, device outages); the figures are ``sla.weekly.circuit_week``'s."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from noc import models as m
from noc.errors import InputError
from noc.store.reports import device_time
from sla.errors import SlaError
from sla.states import Cause, DeltaState, StateRun
from sla.terms import SlaTerms, terms_from_contract
from sla.weekly import CircuitWeek, IsoWeek, circuit_week

MIN_YEAR, MAX_YEAR = 1970, 2999
_WEEK = re.compile(r"(\d{4})-W(\d{2})")


def parse_week(text: str) -> IsoWeek:
    """``YYYY-Www`` (what a browser's week picker sends) as an ISO week; InputError naming ``week`` otherwise."""
    found = _WEEK.fullmatch(text.strip())
    if found is None:
        raise InputError(f"week: {text!r} is not YYYY-Www (e.g. 2026-W46)")
    year, week = int(found[1]), int(found[2])
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InputError(f"week: year must be {MIN_YEAR} to {MAX_YEAR}")
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError:
        raise InputError(f"week: {year} has no ISO week {week}") from None
    return IsoWeek(year, week)


async def account_week(session: AsyncSession, account_id: int, week: IsoWeek) -> list[CircuitWeek]:
    """Every circuit of the account for the week, by name; a fixed number of queries whatever the circuit count."""
    contracts = {c.id: c for c in await session.scalars(select(m.Contract).where(m.Contract.account_id == account_id))}
    terms: dict[int, SlaTerms] = {}
    for cid, contract in contracts.items():
        try:
            terms[cid] = terms_from_contract(contract)
        except SlaError as exc:
            raise InputError(f"contract {contract.name}: {exc}") from exc
    circuits = list(
        await session.scalars(select(m.Circuit).where(m.Circuit.account_id == account_id).order_by(m.Circuit.name))
    )
    if not circuits:
        return []
    spans = [week.span(t.timezone) for t in terms.values()]
    start, end = min(s.start for s in spans), max(s.end for s in spans)
    ids = [c.id for c in circuits]
    runs: dict[int, list[StateRun]] = {cid: [] for cid in ids}
    r = m.SlaStateRun
    for run in await session.scalars(
        select(r).where(r.circuit_id.in_(ids), r.end_at > start, r.start_at < end).order_by(r.start_at)
    ):
        state = StateRun(run.start_at, run.end_at, DeltaState(run.state), frozenset(Cause(c) for c in run.causes))
        runs[run.circuit_id].append(state)
    outages, unmonitored = await device_time(session, {c.device_id for c in circuits}, start, end)
    h = m.CircuitHourStats
    hours: dict[int, list[m.CircuitHourStats]] = {cid: [] for cid in ids}
    for row in await session.scalars(
        select(h).where(h.circuit_id.in_(ids), h.hour_start >= start, h.hour_start < end).order_by(h.hour_start)
    ):
        hours[row.circuit_id].append(row)
    try:
        return [
            circuit_week(
                terms[c.contract_id],
                week,
                c.name,
                committed_rate_bps=None if c.committed_rate_bps is None else float(c.committed_rate_bps),
                runs=runs[c.id],
                outages=outages.get(c.device_id, []),
                unmonitored=unmonitored.get(c.device_id, []),
                hours=hours[c.id],
            )
            for c in circuits
        ]
    except SlaError as exc:
        raise InputError(str(exc)) from exc
