"""The health archive's SLA compliance history, read from the stored monthly reports (``build_reports``): for each
of an account's contracts, each of the last N months before the current one that its validity covers and in which
something was measured, the objectives met or missed and the credit owed. The ticket service takes it as its
``tickets.records.SlaComplianceSource``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from noc import models as m
from noc.store.reports import build_reports
from noc.timeutil import Clock, SystemClock
from sla.provisional import credit_owed
from sla.report import ContractReport
from tickets.records import ObjectiveCompliance, SlaComplianceEntry


def months_before(today: date, count: int) -> list[tuple[int, int]]:
    """The ``count`` calendar months before ``today``'s, newest first, as (year, month)."""
    index = today.year * 12 + today.month - 1  # months since year 0, January = 0
    return [(i // 12, i % 12 + 1) for i in range(index - 1, index - 1 - count, -1)]


def _covers(contract: m.Contract, year: int, month: int) -> bool:
    first = date(year, month, 1)
    last = date(year + month // 12, month % 12 + 1, 1)
    return contract.valid_from < last and contract.valid_to >= first


def compliance_entry(report: ContractReport) -> SlaComplianceEntry | None:
    """A month's report as the archive shows it; None when nothing in it was measured."""
    objectives = tuple(ObjectiveCompliance(o.objective, o.met) for o in report.objectives)
    verdicts = [o.met for o in objectives if o.met is not None]
    if not verdicts:
        return None
    credit = report.credit
    owed = credit_owed(report.status, credit)  # none on a provisional month (too little of it measured)
    return SlaComplianceEntry(
        contract=report.contract,
        month=f"{report.period.year:04d}-{report.period.month:02d}",
        availability_pct=None if report.availability_pct is None else float(report.availability_pct),
        target_pct=float(report.terms.availability_target_pct),
        met=all(verdicts),
        credit=f"{owed} {credit.currency}" if owed else None,
        objectives=objectives,
    )


class StoredSlaCompliance:
    """``SlaComplianceSource`` over the stored SLA runs: the last ``months`` months, newest first."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], months: int, clock: Clock | None = None) -> None:
        self.sessions, self.months = sessions, months
        self.clock: Clock = clock or SystemClock()

    async def compliance_history(self, account: str) -> Sequence[SlaComplianceEntry]:
        now = self.clock.now()
        async with self.sessions() as session:
            contracts = (
                await session.scalars(
                    select(m.Contract)
                    .join(m.KeyAccount, m.Contract.account_id == m.KeyAccount.id)
                    .where(m.KeyAccount.name == account)
                )
            ).all()
            # A contract's months are its own time zone's: "last month" has begun earlier east of UTC.
            by_month: dict[tuple[int, int], list[str]] = {}
            for contract in contracts:
                today = now.astimezone(ZoneInfo(contract.timezone)).date()
                for year, month in months_before(today, self.months):
                    if _covers(contract, year, month):
                        by_month.setdefault((year, month), []).append(contract.name)
            out: list[SlaComplianceEntry] = []
            for (year, month), names in sorted(by_month.items(), reverse=True):
                for report, _ in await build_reports(session, year, month, contract_names=names, as_of=now):
                    entry = compliance_entry(report)
                    if entry is not None:
                        out.append(entry)
        return out
