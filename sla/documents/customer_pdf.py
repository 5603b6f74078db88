"""The customer's copy of the monthly report as a PDF (``sla.customer.CustomerReport``): the customer's name and
contract, the month in their time zone, whether the report is final or provisional and how much was measured, the
service levels, circuits, outages in plain words and the credit with its arithmetic. Laid out with the internal
PDF's pages (``sla.documents.pdf.Pages``); every word comes from ``sla.documents.wording``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from matplotlib.figure import Figure

from noc.i18n import gettext
from sla.customer import Audience, CustomerReport, customer_report
from sla.documents import wording
from sla.documents.chart import ACCENT, BAD, GOOD, INK, MUTED, SHADE
from sla.documents.pdf import MARGIN_X_IN, Col, Pages, render_pdf, save_pdf
from sla.documents.series import ReportSeries
from sla.intervals import as_utc
from sla.report import ContractReport


class _Words:
    """``wording``'s texts in the language being written (``noc.i18n.speaking``); its functions as they are."""

    def __getattr__(self, name: str) -> Any:
        value = getattr(wording, name)
        return gettext(value) if isinstance(value, str) else value


w = _Words()
PROVISIONAL_SHADE = "#fff3e0"
PROVISIONAL_INK = "#e65100"


def _result_colour(_: int, text: str) -> str:
    return {w.MET: GOOD, w.MISSED: BAD, w.NOT_MEASURED: MUTED}.get(text, INK)


def _title(pages: Pages, r: CustomerReport, issued: datetime | None) -> None:
    pages.text(MARGIN_X_IN, pages.y, w.TITLE, 10, color=MUTED)
    pages.y += 0.2
    for line in pages.wrap(r.legal_name, pages.width, 18, bold=True):
        pages.text(MARGIN_X_IN, pages.y, line, 18, bold=True, color=ACCENT)
        pages.y += 0.34
    pages.text(MARGIN_X_IN, pages.y, f"{r.contract} - {w.month_text(r.year, r.month)}", 12, color=INK)
    pages.y += 0.3
    cover = r.status.coverage
    details = [
        (w.CUSTOMER, r.legal_name),
        (w.CONTRACT, r.contract),
        (w.PERIOD, w.PERIOD_VALUE.format(start=w.local_text(r.start), end=w.local_text(r.end), zone=r.timezone)),
        (w.MEASURED, w.MEASURED_VALUE.format(share=w.share_text(cover.share_shown, cover.share_pct))),
        (w.STANDING, w.standing_text(r.status)),
    ]
    if r.status.in_progress:
        details.append((w.EVALUATED_TO, w.local_text(r.evaluated_to)))
    if issued is not None:
        details.append(
            (w.GENERATED, w.ZONED.format(time=w.local_text(issued.astimezone(r.start.tzinfo)), zone=r.timezone))
        )
    pages.table([Col(""), Col("", wrap=True)], details, size=8, header=False)


def _statement(pages: Pages, r: CustomerReport) -> None:
    """The standing in a band of its own: impossible to miss on a provisional report."""
    lines = w.status_lines(r.status, r.unknown_rule)
    provisional = r.status.provisional
    wrapped = [part for line in lines for part in pages.wrap(line, pages.width - 0.3, 8)]
    height = 0.32 + len(wrapped) * 8 * 1.35 / 72
    pages.ensure(height)
    pages.band(pages.y, height, PROVISIONAL_SHADE if provisional else SHADE)
    colour = PROVISIONAL_INK if provisional else INK
    pages.text(MARGIN_X_IN + 0.12, pages.y + 0.06, w.standing_text(r.status), 11, bold=True, color=colour)
    y = pages.y + 0.28
    for line in wrapped:
        pages.text(MARGIN_X_IN + 0.12, y, line, 8, color=colour)
        y += 8 * 1.35 / 72
    pages.y += height + 0.12


def _headline(pages: Pages, r: CustomerReport) -> None:
    colour = MUTED if r.met is None else (GOOD if r.met else BAD)
    pages.band(pages.y, 0.62, SHADE)
    pages.text(MARGIN_X_IN + 0.12, pages.y + 0.08, w.AVAILABILITY, 8, color=MUTED)
    pages.text(MARGIN_X_IN + 0.12, pages.y + 0.25, w.pct(r.availability_pct), 14, bold=True, color=colour)
    target = w.TARGET.format(target=format(r.target_pct, "f"), result=w.result_text(r.met))
    pages.text(MARGIN_X_IN + 0.12, pages.y + 0.48, target, 7.5, color=colour)
    right = MARGIN_X_IN + pages.width - 0.12
    credit = r.credit
    pages.text(right, pages.y + 0.08, w.CREDIT_OWED, 8, color=MUTED, ha="right")
    if credit.owed is None:
        pages.text(right, pages.y + 0.25, w.NONE_YET, 12, bold=True, color=PROVISIONAL_INK, ha="right")
    else:
        shown = w.money(credit.owed, credit.currency)
        pages.text(right, pages.y + 0.25, shown, 14, bold=True, color=BAD if credit.owed > 0 else INK, ha="right")
        of_fee = w.OF_FEE.format(credit=format(credit.credit_pct.normalize(), "f"))
        pages.text(right, pages.y + 0.48, of_fee, 7.5, color=MUTED, ha="right")
    pages.y += 0.75


def _levels(pages: Pages, r: CustomerReport) -> None:
    pages.heading(w.OBJECTIVES)
    pages.table(
        [Col(w.OBJECTIVE, wrap=True), Col(w.MEASURED_COL, "right"), Col(w.AGREED, "right"), Col(w.RESULT)],
        [(w.objective_name(o), w.measured_text(o), w.limit_text(o), w.result_text(o.met)) for o in r.objectives],
        colour=lambda i, t: _result_colour(i, t) if i == 3 else INK,
    )
    pages.heading(w.CIRCUITS)
    pages.table(
        [
            Col(w.CIRCUIT, wrap=True),
            Col(w.OBJECTIVE_NAMES["availability"], "right"),
            Col(w.OUTAGE_COUNT, "right"),
            Col(w.COUNTED, "right"),
            Col(w.RESULT),
        ],
        [
            (c.circuit, w.pct(c.availability_pct), str(c.outages), w.duration_text(c.counted_min), w.result_text(c.met))
            for c in r.circuits
        ],
        colour=lambda i, t: _result_colour(i, t) if i == 4 else INK,
    )


def _outages(pages: Pages, r: CustomerReport) -> None:
    pages.heading(w.OUTAGES)
    if not r.outages:
        pages.lines([w.NO_OUTAGES], 8, color=MUTED)
        return
    pages.lines([w.OUTAGE_TIMES.format(zone=r.timezone)], 7)
    pages.y += 0.04
    zone = r.start.tzinfo
    pages.table(
        [
            Col(w.CIRCUIT, wrap=True),
            Col(w.FROM),
            Col(w.TO),
            Col(w.DURATION, "right"),
            Col(w.COUNTED, "right"),
            Col(w.WHAT, wrap=True),
        ],
        [
            (
                o.circuit,
                w.local_text(o.start.astimezone(zone)),
                w.local_text(o.end.astimezone(zone)),
                w.duration_text(o.duration_min),
                w.duration_text(o.counted_min),
                w.outage_text(o),
            )
            for o in r.outages
        ],
        size=6.5,
    )


def _credit(pages: Pages, r: CustomerReport) -> None:
    credit = r.credit
    pages.heading(w.CREDIT, keep_with_in=1.2)
    if credit.bands:
        pages.table(
            [Col(w.BELOW), Col(w.CREDIT_COL, "right"), Col(w.APPLIES)],
            [
                (
                    f"{format(b.below_pct, 'f')} %",
                    f"{format(b.credit_pct.normalize(), 'f')} %",
                    w.APPLIED if credit.owed is not None and b == credit.band else "",
                )
                for b in credit.bands
            ],
            colour=lambda i, t: BAD if t == w.APPLIED else INK,
        )
    pages.lines(w.credit_lines(r), 8.5, color=PROVISIONAL_INK if credit.owed is None else INK)


def customer_pages(r: CustomerReport, *, issued: datetime | None = None) -> list[Figure]:
    pages = Pages()
    _title(pages, r, issued)
    _statement(pages, r)
    _headline(pages, r)
    _levels(pages, r)
    _outages(pages, r)
    _credit(pages, r)
    month = w.month_text(r.year, r.month)
    pages.footers(w.FOOTER.format(legal_name=r.legal_name, contract=r.contract, month=month, zone=r.timezone), w.PAGE)
    return pages.figures


def render_customer_pdf(r: CustomerReport, *, issued: datetime | None = None) -> bytes:
    """The customer's copy as an A4 PDF; ``issued`` (aware) is printed in the contract's zone and becomes the
    CreationDate; without it the same report always gives the same bytes."""
    when = None if issued is None else as_utc(issued, "issued")
    title = f"{w.TITLE} {r.contract} {r.year:04d}-{r.month:02d}"
    return save_pdf(customer_pages(r, issued=when), title, w.TITLE, when)


def audience_pdf(
    audience: Audience,
    report: ContractReport,
    series: ReportSeries | None,
    *,
    legal_name: str,
    account_tier: str,
    generated_at: datetime | None = None,
) -> bytes:
    """The month's PDF for its audience, as the pages, API and CLI send it: the internal report (with the account's
    tier) or the customer's copy (with their legal name, and nothing of the tier)."""
    if audience == "customer":
        return render_customer_pdf(customer_report(report, legal_name), issued=generated_at)
    return render_pdf(report, series, generated_at=generated_at, account_tier=account_tier)
