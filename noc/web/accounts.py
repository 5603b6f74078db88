"""The account manager's pages: their key accounts, each account's health archive, a contract's monthly SLA report
(with its chart, per-circuit table, outages, credit arithmetic and PDF / CSV downloads) and the weekly traffic and
quality report.

Nothing is computed here that the API or the CLI computes elsewhere: the health archive is the tickets service's,
the monthly report is ``noc.store.reports.build_report`` rendered by ``sla.documents`` (the chart, PDF and CSV
bytes are the API's), the weekly figures are ``noc.store.weekly``'s. The role rules are ``tickets.access``: an
account manager sees their own accounts, the NOC and admins every account.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from types import SimpleNamespace

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from noc import i18n
from noc import models as m
from noc.api.errors import ApiError
from noc.api.routes import (
    readable_account,
    readable_contract,
    report_audience,
    report_filename,
    report_month,
)
from noc.auth import BrowserSession
from noc.errors import InputError
from noc.inventory.service import accounts_with_managers
from noc.keys import SESSIONS, TICKETS
from noc.notify.records import reminders_of
from noc.store.capacity import circuit_outlook
from noc.store.reports import build_report, build_reports, daily_series
from noc.store.weekly import account_week, parse_week
from noc.timeutil import utcnow
from noc.web.core import page, render
from noc.web.i18n import language_of
from sla.availability import fmt
from sla.capacity import Outlook
from sla.customer import Audience
from sla.documents.series import ReportSeries
from sla.documents.tables import render_csv
from sla.documents.text import (
    NO_DATA,
    bps_text,
    excluded_note,
    limit_text,
    local_and_utc,
    measured_text,
    month_name,
    num_text,
    objective_names,
    objectives_by_name,
    pct_text,
    peak_bps,
    ratio_pct_text,
    status_text,
)
from sla.documents.wording import standing_text, status_lines
from sla.errors import SlaError
from sla.period import month_containing, month_period, parse_month
from sla.provisional import credit_owed
from sla.report import ContractReport, ObjectiveResult
from sla.weekly import CircuitWeek, IsoWeek, last_full_week
from tickets import access
from tickets.access import Actor
from tickets.lifecycle import OPEN_STATUSES
from tickets.models import Ticket

ACCOUNT_ROLES = tuple(sorted(access.ACCOUNT_PAGE_ROLES))
RECENT = 20  # faults and changes shown on the account page; the API has them all
NOT_EVALUATED = "not evaluated"
routes = web.RouteTableDef()

# The report's own text helpers, so the page reads exactly as the PDF does.
FORMAT = SimpleNamespace(
    pct=pct_text,
    num=num_text,
    ratio_pct=ratio_pct_text,
    bps=bps_text,
    peak=peak_bps,
    local_and_utc=local_and_utc,
    excluded=excluded_note,
    fmt=fmt,
)


async def _actor(request: web.Request, session: AsyncSession, viewer: BrowserSession) -> Actor:
    # The tickets service resolves the user into the actor its role rules take, as the API does for accounts.
    return await request.app[TICKETS].actor(session, viewer.user.username)


# --- the list ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MonthToDate:
    contract: str
    month: str
    availability: str  # as the report shows it, or "not evaluated"
    status: str  # met | missed | not evaluated


@dataclass(frozen=True, slots=True)
class AccountRow:
    name: str
    legal_name: str
    tier: str
    region: str
    account_manager: str | None
    open_tickets: int
    month_to_date: tuple[MonthToDate, ...]


def _verdict(objective: ObjectiveResult | None) -> str:
    text = status_text(objective)
    return NOT_EVALUATED if text in (NO_DATA, "") else text


async def _month_to_date(session: AsyncSession, contracts: Sequence[m.Contract], now: datetime) -> list[MonthToDate]:
    """Each contract's current month so far, in its own time zone: one ``build_reports`` per local month."""
    by_month: dict[tuple[int, int], list[str]] = {}
    for c in contracts:
        period = month_containing(now, c.timezone)
        by_month.setdefault((period.year, period.month), []).append(c.name)
    out = []
    for (year, month), names in sorted(by_month.items()):
        try:
            found = await build_reports(session, year, month, contract_names=names, as_of=now)
        except InputError:
            continue  # a contract whose terms cannot be read: its report page says why
        for report, _ in found:
            head = next(o for o in report.objectives if o.objective == "availability")
            shown = NOT_EVALUATED if report.availability_pct is None else f"{FORMAT.pct(report.availability_pct)} %"
            out.append(MonthToDate(report.contract, report.period.label, shown, _verdict(head)))
    return sorted(out, key=lambda x: x.contract)


@routes.get("/accounts")
@page(*ACCOUNT_ROLES)
async def account_list(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    now = utcnow()
    async with request.app[SESSIONS]() as session:
        actor = await _actor(request, session, viewer)
        rows = await accounts_with_managers(session)
        visible = [(a, manager) for a, manager in rows if access.may_see_account(actor, a.id)]
        ids = [a.id for a, _ in visible]
        open_counts = dict(
            (
                await session.execute(
                    select(Ticket.account_id, func.count())
                    .where(Ticket.account_id.in_(ids), Ticket.status.in_(OPEN_STATUSES))
                    .group_by(Ticket.account_id)
                )
            ).all()
        )
        contracts = list(
            await session.scalars(select(m.Contract).where(m.Contract.account_id.in_(ids)).order_by(m.Contract.name))
        )
        mtd = {x.contract: x for x in await _month_to_date(session, contracts, now)}
    by_account: dict[int, list[MonthToDate]] = {}
    for c in contracts:
        if c.name in mtd:
            by_account.setdefault(c.account_id, []).append(mtd[c.name])
    accounts = [
        AccountRow(
            a.name,
            a.legal_name,
            a.tier,
            a.region,
            manager,
            int(open_counts.get(a.id, 0)),
            tuple(by_account.get(a.id, ())),
        )
        for a, manager in visible
    ]
    return render(request, "accounts.html", accounts=accounts)


# --- the health archive --------------------------------------------------------------------------------------


@routes.get("/accounts/{name}")
@page(*ACCOUNT_ROLES)
async def account_page(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    archive = await request.app[TICKETS].account_health(viewer.user.username, request.match_info["name"])
    expiring = {r.contract: r for r in archive.reminders}
    async with request.app[SESSIONS]() as session:
        reminders = await reminders_of(session, archive.account)
    return render(
        request,
        "accounts_detail.html",
        a=archive,
        expiring=expiring,
        faults=archive.fault_history[:RECENT],
        changes=archive.change_history[:RECENT],
        recent=RECENT,
        months=request.app[TICKETS].settings.sla_history_months,
        reminders=reminders,
    )


# --- the monthly SLA report ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoadedReport:
    report: ContractReport
    series: ReportSeries
    key_account: m.KeyAccount
    generated_at: datetime

    @property
    def account(self) -> str:
        return self.key_account.name

    @property
    def month(self) -> str:
        return self.report.period.label


def _month_asked(request: web.Request) -> tuple[int, int] | None:
    text = request.query.get("month", "").strip()
    if not text:
        return None
    return report_month(text)


async def _load_report(request: web.Request, viewer: BrowserSession) -> LoadedReport:
    """The contract's report for ``?month=`` (default: the last full month in the contract's time zone)."""
    name = request.match_info["contract"]
    asked = _month_asked(request)
    now = utcnow()
    async with request.app[SESSIONS]() as session:
        contract, account = await readable_contract(session, await _actor(request, session, viewer), name)
        if asked is None:
            current = month_containing(now, contract.timezone)
            asked = (current.year - 1, 12) if current.month == 1 else (current.year, current.month - 1)
        year, month = asked
        try:
            begins = month_period(year, month, contract.timezone).start
        except SlaError as exc:
            raise ApiError(400, f"month: {exc}", "month") from exc
        if begins >= now:
            raise ApiError(400, f"month: {year:04d}-{month:02d} has not begun yet", "month")
        report, row = await build_report(session, name, year, month, as_of=now)
        series = await daily_series(session, row.id, report)
    return LoadedReport(report, series, account, now)


def _shift_month(label: str, months: int) -> str:
    year, month = parse_month(label)
    index = year * 12 + month - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@dataclass(frozen=True, slots=True)
class ObjectiveRow:
    objective: str
    measured: str
    limit: str
    status: str
    rule: str


def _objective_rows(objectives: Sequence[ObjectiveResult]) -> list[ObjectiveRow]:
    return [
        ObjectiveRow(
            o.objective.replace("_", " "),
            NOT_EVALUATED if o.measured is None else measured_text(o),
            limit_text(o),
            _verdict(o),
            o.rule,
        )
        for o in objectives
    ]


@routes.get("/reports/{contract}")
@page(*ACCOUNT_ROLES)
async def report_page(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    loaded = await _load_report(request, viewer)
    report = loaded.report
    names = objective_names(report)
    circuit_objectives = []
    for c in report.circuits:
        by_name = objectives_by_name(c.objectives)
        circuit_objectives.append((c, [_verdict(by_name[n]) if n in by_name else "—" for n in names]))
    target = report.terms.availability_target_pct
    pct = report.availability_pct
    headline = NOT_EVALUATED if pct is None else ("target met" if pct >= target else "target missed")
    return render(
        request,
        "report.html",
        loaded=loaded,
        r=report,
        f=FORMAT,
        month_name=month_name(report),
        headline=headline,
        objectives=_objective_rows(report.objectives),
        objective_names=[n.replace("_", " ") for n in names],
        circuit_objectives=circuit_objectives,
        outages=[(c.circuit, o) for c in report.circuits for o in c.availability.outages],
        standing=standing_text(report.status),
        status_lines=status_lines(report.status, report.terms.unknown_time),
        owed=credit_owed(report.status, report.credit),
        previous_month=_shift_month(loaded.month, -1),
        next_month=_shift_month(loaded.month, 1) if report.complete else None,
    )


@routes.get("/reports/{contract}/chart.png")
@page(*ACCOUNT_ROLES)
async def report_chart(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    # Matplotlib (about 55 MiB) is loaded by the first drawing, not by every process at start.
    from sla.documents.chart import render_chart_png

    loaded = await _load_report(request, viewer)
    # Drawing takes a while: off the event loop, as the API does for the PDF.
    png = await asyncio.to_thread(render_chart_png, loaded.report, loaded.series)
    return web.Response(body=png, content_type="image/png")


def _attachment(loaded: LoadedReport, extension: str, audience: Audience = "internal") -> dict[str, str]:
    period = loaded.report.period
    filename = report_filename(loaded.report.contract, period.year, period.month, extension, audience)
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


@routes.get("/reports/{contract}/sla.pdf")
@page(*ACCOUNT_ROLES)
async def report_pdf_download(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    """The internal report, or with ``?audience=customer`` the customer's copy (what the account manager sends)."""
    from sla.documents.customer_pdf import audience_pdf  # loads matplotlib: at the first drawing, not at start

    audience = report_audience(request)
    loaded = await _load_report(request, viewer)
    account = loaded.key_account
    # The customer's copy in the page's language; the internal copy in English (its labels are not translated).
    with i18n.speaking(language_of(request) if audience == "customer" else i18n.SOURCE):
        pdf = await asyncio.to_thread(
            partial(
                audience_pdf, legal_name=account.legal_name, account_tier=account.tier, generated_at=loaded.generated_at
            ),
            audience,
            loaded.report,
            loaded.series,
        )
    return web.Response(body=pdf, content_type="application/pdf", headers=_attachment(loaded, "pdf", audience))


@routes.get("/reports/{contract}/sla.csv")
@page(*ACCOUNT_ROLES)
async def report_csv(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    loaded = await _load_report(request, viewer)
    return web.Response(text=render_csv(loaded.report), content_type="text/csv", headers=_attachment(loaded, "csv"))


# --- the weekly traffic and quality report -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WeekRow:
    week: CircuitWeek
    objectives: list[ObjectiveRow]
    faults: list[Ticket]  # detected on the circuit during the week
    outlook: Outlook  # the capacity trend of the weeks up to this one's end


@routes.get("/accounts/{name}/weekly")
@page(*ACCOUNT_ROLES)
async def weekly_page(request: web.Request, viewer: BrowserSession) -> web.StreamResponse:
    text = request.query.get("week", "").strip()
    asked: IsoWeek | None = None
    if text:
        try:
            asked = parse_week(text)
        except InputError as exc:
            raise ApiError(400, str(exc), "week") from exc
    now = utcnow()
    async with request.app[SESSIONS]() as session:
        account = await readable_account(
            session, await _actor(request, session, viewer), request.match_info["name"], "name"
        )
        zones = list(
            await session.scalars(
                select(m.Contract.timezone).where(m.Contract.account_id == account.id).order_by(m.Contract.name)
            )
        )
        latest = last_full_week(now, zones[0] if zones else "UTC")
        week = asked or latest
        if week.monday > latest.monday:
            # A week in progress would count its future minutes as unknown and an open outage to its end.
            raise ApiError(400, f"week: {week.label} has not ended yet; the latest full week is {latest.label}", "week")
        circuits = await account_week(session, account.id, week)
        spans = [c.span for c in circuits]
        faults: list[tuple[Ticket, str]] = []
        if spans:
            found = await session.execute(
                select(Ticket, m.Circuit.name)
                .join(m.Circuit, m.Circuit.id == Ticket.circuit_id)
                .where(
                    Ticket.account_id == account.id,
                    Ticket.detected_at >= min(s.start for s in spans),
                    Ticket.detected_at < max(s.end for s in spans),
                )
                .order_by(Ticket.id)
            )
            faults = [(t, circuit) for t, circuit in found.all()]
        found_circuits = await session.execute(
            select(m.Circuit, m.Contract)
            .join(m.Contract, m.Contract.id == m.Circuit.contract_id)
            .where(m.Circuit.account_id == account.id)
        )
        outlooks = {
            circuit.name: await circuit_outlook(session, circuit, contract, week.span(contract.timezone).end)
            for circuit, contract in found_circuits.all()
        }
    rows = [
        WeekRow(
            c,
            _objective_rows(c.report.objectives),
            [t for t, circuit in faults if circuit == c.circuit and c.span.start <= t.detected_at < c.span.end],
            outlooks[c.circuit],
        )
        for c in circuits
    ]
    return render(
        request,
        "weekly.html",
        account=account.name,
        week=week,
        rows=rows,
        f=FORMAT,
        previous_week=week.shifted(-1).label,
        next_week=week.shifted(1).label if week.shifted(1).monday <= latest.monday else None,
    )
