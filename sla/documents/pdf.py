"""The monthly report as the key-account manager's PDF: title block, objectives, circuits, outages, credit and
the arithmetic, laid out page by page with matplotlib (``PdfPages``); the "generated at" time is a parameter."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Literal

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, fontManager
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.textpath import TextToPath

from sla.availability import fmt
from sla.documents.chart import ACCENT, BAD, GOOD, INK, MUTED, SHADE, draw_chart
from sla.documents.series import ReportSeries
from sla.documents.text import (
    NO_DATA,
    bps_text,
    clock_text,
    excluded_note,
    limit_text,
    local_and_utc,
    maintenance_rule,
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
from sla.documents.wording import NO_CREDIT_PROVISIONAL, standing_text, status_lines
from sla.intervals import as_utc
from sla.provisional import credit_owed
from sla.report import ContractReport

A4_IN = (8.27, 11.69)
MARGIN_X_IN = 0.6
MARGIN_TOP_IN = 0.6
MARGIN_BOTTOM_IN = 0.75
SLACK_IN = 0.1  # paragraphs stop short of the margin: a hinted raster preview runs a little wider than the PDF
# Matplotlib shapes text with HarfBuzz, which joins "fl" / "fi" into one glyph; in the PDF that glyph has no
# plain-letter text behind it, so a circuit or cause containing them would not be found by search or copy.
NO_LIGATURES = ("-liga",)
NOT_OWED = "none: provisional"
# Chinese text (the zh-CN customer copy) falls back to a CJK font where DejaVu has no glyph: WenQuanYi Micro Hei
# (Debian's fonts-wqy-microhei, which `make test` installs), registered with matplotlib when present.
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
CJK_FAMILY = "WenQuanYi Micro Hei"
SANS = "DejaVu Sans"


def _not_bold_cjk(record: logging.LogRecord) -> bool:
    """The CJK font has no bold face: its regular one stands in, which matplotlib says at every bold string."""
    return not record.getMessage().startswith(f"findfont: Failed to find font weight bold for {CJK_FAMILY}")


@cache
def sans() -> tuple[str, ...]:
    """The text's font families, in fallback order (the CJK font registered once, if installed)."""
    if not CJK_FONT.exists():
        return (SANS,)
    fontManager.addfont(str(CJK_FONT))
    logging.getLogger("matplotlib.font_manager").addFilter(_not_bold_cjk)
    return (SANS, CJK_FAMILY)


MONO = "DejaVu Sans Mono"  # the arithmetic: aligned digits and exact wrapping
Align = Literal["left", "right"]


@dataclass(frozen=True, slots=True)
class Col:
    header: str
    align: Align = "left"
    wrap: bool = False  # long free text (causes, rules) wraps; figures never do


class Pages:
    """Flows blocks of text, tables and the chart down A4 pages, starting a new page when a block does not fit.

    Positions are kept in inches from the page's top-left corner and converted to figure fractions when drawn;
    text is measured with the fonts' own unhinted metrics (``TextToPath``, in points, as the PDF lays text out;
    Agg's hinted widths run a few per cent short) so columns never overlap.
    """

    def __init__(self) -> None:
        self.figures: list[Figure] = []
        self._metrics = TextToPath()  # per render: its caches are not shared between threads
        self._widths: dict[tuple[str, float, bool, bool], float] = {}
        self.y = 0.0
        self.new_page()

    @property
    def fig(self) -> Figure:
        return self.figures[-1]

    @property
    def width(self) -> float:
        return A4_IN[0] - 2 * MARGIN_X_IN

    def new_page(self) -> None:
        fig = Figure(figsize=A4_IN, dpi=72)
        FigureCanvasAgg(fig)
        self.figures.append(fig)
        self.y = MARGIN_TOP_IN

    def room(self) -> float:
        return A4_IN[1] - MARGIN_BOTTOM_IN - self.y

    def ensure(self, height_in: float) -> None:
        if height_in > self.room() and self.y > MARGIN_TOP_IN:
            self.new_page()

    def measure(self, text: str, size: float, *, mono: bool = False, bold: bool = False) -> float:
        if mono and not bold:
            # Every glyph of a monospaced font has the same advance: shaping long arithmetic lines again and
            # again while wrapping them was most of a large report's render time.
            return len(text) * self._width(" ", size, mono=True, bold=False)
        return self._width(text, size, mono=mono, bold=bold)

    def _width(self, text: str, size: float, *, mono: bool, bold: bool) -> float:
        key = (text, size, mono, bold)
        if key not in self._widths:
            prop = FontProperties(family=MONO if mono else list(sans()), size=size, weight="bold" if bold else "normal")
            w, _, _ = self._metrics.get_text_width_height_descent(text, prop, ismath=False)
            self._widths[key] = float(w) / 72.0
        return self._widths[key]

    def wrap(self, text: str, width_in: float, size: float, *, mono: bool = False, bold: bool = False) -> list[str]:
        """Greedy word wrap by measured width; a word longer than the line is cut."""
        width_in += 1e-6  # a column sized to its widest cell must hold that cell despite float rounding
        lines: list[str] = []
        for paragraph in text.split("\n"):
            if self.measure(paragraph, size, mono=mono, bold=bold) <= width_in:
                lines.append(paragraph)  # the usual case, measured once
                continue
            line = ""
            for word in paragraph.split(" "):
                candidate = word if not line else f"{line} {word}"
                if self.measure(candidate, size, mono=mono, bold=bold) <= width_in:
                    line = candidate
                    continue
                if line:
                    lines.append(line)
                line = word
                while len(line) > 1 and self.measure(line, size, mono=mono, bold=bold) > width_in:
                    cut = len(line) - 1
                    while cut > 1 and self.measure(line[:cut], size, mono=mono, bold=bold) > width_in:
                        cut -= 1
                    lines.append(line[:cut])
                    line = line[cut:]
            lines.append(line)
        return lines

    def text(
        self,
        x_in: float,
        y_in: float,
        text: str,
        size: float,
        *,
        mono: bool = False,
        bold: bool = False,
        color: str = INK,
        ha: Align = "left",
    ) -> None:
        self.fig.text(
            x_in / A4_IN[0],
            1 - y_in / A4_IN[1],
            text,
            fontsize=size,
            family=MONO if mono else list(sans()),
            weight="bold" if bold else "normal",
            color=color,
            ha=ha,
            va="top",
            fontfeatures=NO_LIGATURES,
        )

    def rule(self, y_in: float, color: str = "#bdbdbd", lw: float = 0.5) -> None:
        yf = 1 - y_in / A4_IN[1]
        x0, x1 = MARGIN_X_IN / A4_IN[0], (MARGIN_X_IN + self.width) / A4_IN[0]
        self.fig.add_artist(Line2D([x0, x1], [yf, yf], transform=self.fig.transFigure, color=color, lw=lw))

    def band(self, y_in: float, height_in: float, color: str) -> None:
        self.fig.add_artist(
            Rectangle(
                (MARGIN_X_IN / A4_IN[0], 1 - (y_in + height_in) / A4_IN[1]),
                self.width / A4_IN[0],
                height_in / A4_IN[1],
                transform=self.fig.transFigure,
                facecolor=color,
                edgecolor="none",
            )
        )

    def heading(self, text: str, keep_with_in: float = 0.8) -> None:
        """A section heading, moved to the next page with its first lines rather than left alone at the bottom."""
        self.ensure(0.45 + keep_with_in)
        self.y += 0.12
        self.text(MARGIN_X_IN, self.y, text, 11.5, bold=True, color=ACCENT)
        self.y += 0.24
        self.rule(self.y, ACCENT, 0.8)
        self.y += 0.08

    def lines(
        self,
        texts: Iterable[str],
        size: float = 7.5,
        *,
        mono: bool = False,
        color: str = INK,
        indent_in: float = 0.0,
        keep_with_in: float = 0.0,
    ) -> None:
        """Wrapped paragraphs; ``keep_with_in`` moves a lead-in line to the next page together with what follows."""
        height = size * 1.35 / 72
        for text in texts:
            for line in self.wrap(text, self.width - indent_in - SLACK_IN, size, mono=mono):
                self.ensure(height + keep_with_in)
                self.text(MARGIN_X_IN + indent_in, self.y, line, size, mono=mono, color=color)
                self.y += height

    def steps(self, title: str, steps: Iterable[str], *, color: str = INK) -> None:
        """Shown arithmetic: a lead-in line, then each step in monospace, continuation lines indented further."""
        self.lines([title], 8, keep_with_in=0.3)
        size, height = 7.0, 7.0 * 1.35 / 72
        for step in steps:
            for k, line in enumerate(self.wrap(step, self.width - 0.4 - SLACK_IN, size, mono=True)):
                self.ensure(height)
                self.text(MARGIN_X_IN + (0.15 if k == 0 else 0.4), self.y, line, size, mono=True, color=color)
                self.y += height

    def table(
        self,
        cols: Sequence[Col],
        rows: Sequence[Sequence[str]],
        *,
        size: float = 7.0,
        header: bool = True,
        colour: Callable[[int, str], str] | None = None,
    ) -> None:
        """Columns sized to their content (headers wrap at spaces, free text wraps to the room left); the
        header row repeats on every page the table runs onto."""
        pad = 0.12
        line_h = size * 1.3 / 72

        def natural(i: int) -> float:
            # Figures keep narrow columns under a header wrapped word by word; free text wants its header whole.
            words = ([cols[i].header] if cols[i].wrap else cols[i].header.split(" ")) if header else []
            widths = [self.measure(w, size, bold=True) for w in words]
            widths += [self.measure(line, size) for r in rows for line in r[i].split("\n")]
            return max(widths, default=0.2) + pad

        def longest_word(i: int) -> float:
            words = [w for r in rows for w in r[i].split()]
            return max((self.measure(w, size) for w in words), default=0.2) + pad

        widths = [natural(i) for i in range(len(cols))]
        fixed = sum(w for w, c in zip(widths, cols, strict=True) if not c.wrap)
        flexible = [i for i, c in enumerate(cols) if c.wrap]
        share = max(self.width - fixed, 0.5 * len(flexible))
        if flexible and sum(widths[i] for i in flexible) > share:
            # Free-text columns shrink, but keep their longest word whole when the room allows (a circuit name
            # cut in two is hard to read); what is left over goes to them in proportion to what they lack.
            floors = {i: min(widths[i], longest_word(i)) for i in flexible}
            floor_sum = sum(floors.values())
            if floor_sum >= share:
                for i in flexible:
                    widths[i] = share * floors[i] / floor_sum
            else:
                lack = sum(widths[i] - floors[i] for i in flexible)
                for i in flexible:
                    widths[i] = floors[i] + (share - floor_sum) * (widths[i] - floors[i]) / lack
        xs: list[float] = []
        x = MARGIN_X_IN
        for w in widths:
            xs.append(x)
            x += w

        def cell_lines(i: int, text: str, bold: bool) -> list[str]:
            return self.wrap(text, widths[i] - pad, size, bold=bold) if text else [""]

        def row_height(wrapped: Sequence[Sequence[str]]) -> float:
            return max(len(w) for w in wrapped) * line_h + 0.06

        heads = [c.header for c in cols]

        def draw_row(cells: Sequence[str], bold: bool, shade: str | None) -> None:
            wrapped = [cell_lines(i, t, bold) for i, t in enumerate(cells)]
            height = row_height(wrapped)
            self.ensure(height)
            if not bold and self.y == MARGIN_TOP_IN and header:
                draw_row(heads, True, SHADE)  # a table continued on a new page
            if shade:
                self.band(self.y, height, shade)
            for i, lines in enumerate(wrapped):
                colr = INK if bold or colour is None else colour(i, cells[i])
                for k, line in enumerate(lines):
                    right = cols[i].align == "right"
                    x_at = xs[i] + widths[i] - pad if right else xs[i]
                    self.text(
                        x_at,
                        self.y + 0.03 + k * line_h,
                        line,
                        size,
                        bold=bold,
                        color=colr,
                        ha="right" if right else "left",
                    )
            self.y += height
            self.rule(self.y, "#e0e0e0", 0.4)

        if header:
            # Never a header alone at the foot of a page: it goes with the first row.
            first = row_height([cell_lines(i, t, False) for i, t in enumerate(rows[0])]) if rows else 0.0
            self.ensure(row_height([cell_lines(i, t, True) for i, t in enumerate(heads)]) + first)
            draw_row(heads, True, SHADE)
        for row in rows:
            draw_row(row, False, None)
        self.y += 0.1

    def footers(self, left: str, page: str = "page {number} of {total}") -> None:
        total = len(self.figures)
        for number, fig in enumerate(self.figures, start=1):
            y = 1 - (A4_IN[1] - 0.45) / A4_IN[1]
            fig.text(MARGIN_X_IN / A4_IN[0], y, left, fontsize=7, color=MUTED, va="top", fontfeatures=NO_LIGATURES)
            fig.text(
                1 - MARGIN_X_IN / A4_IN[0],
                y,
                page.format(number=number, total=total),
                fontsize=7,
                color=MUTED,
                va="top",
                ha="right",
            )


def _status_colour(_: int, text: str) -> str:
    return {"met": GOOD, "missed": BAD, NO_DATA: MUTED}.get(text, INK)


def _title_block(pages: Pages, report: ContractReport, generated_at: datetime | None, account_tier: str | None) -> None:
    pages.text(MARGIN_X_IN, pages.y, "Monthly SLA report", 10, color=MUTED)
    pages.y += 0.2
    pages.text(MARGIN_X_IN, pages.y, f"{report.contract} - {month_name(report)}", 18, bold=True, color=ACCENT)
    pages.y += 0.42
    period = report.period
    basis = f"{fmt(period.basis_min)} min"
    if period.basis_min != period.calendar_min:
        basis += f" (the month has {fmt(period.calendar_min)} calendar minutes)"
    details = [
        ("Contract", report.contract),
        ("Account tier", account_tier or "-"),
        ("Month", f"{period.label} (local midnight of the 1st to the next, {report.terms.timezone})"),
        ("Period (UTC)", f"{clock_text(period.start.astimezone(UTC))} .. {clock_text(period.end.astimezone(UTC))}"),
        ("Timezone", report.terms.timezone),
        ("Month-length rule", report.terms.month_length),
        ("Basis", basis),
        ("Unknown time", f"counted as {report.terms.unknown_time}"),
        ("Agreed maintenance", maintenance_rule(report.terms)),
        ("Generated at", "-" if generated_at is None else f"{clock_text(generated_at)} UTC"),
    ]
    if not report.complete:
        details.append(
            ("Evaluated", f"month in progress, evaluated to {clock_text(report.span.end.astimezone(UTC))} UTC")
        )
    status = report.status
    measured = f"{fmt(status.coverage.measured_min, 2)} of {fmt(status.coverage.month_min, 2)} circuit-minutes"
    details.append(
        ("Measured", f"{measured}; the contract's minimum for a final report {fmt(status.min_measured_pct)} %")
    )
    details.append(
        ("Status", " ".join([standing_text(status) + ".", *status_lines(status, report.terms.unknown_time)]))
    )
    pages.table([Col("Field"), Col("Value", wrap=True)], details, size=8, header=False)

    # The headline an account manager reads first: the month's figure against the target, and what is owed.
    target = report.terms.availability_target_pct
    pct = report.availability_pct
    verdict = (
        "nothing measured this month: availability not evaluated"
        if pct is None
        else ("target met" if pct >= target else "target missed")
    )
    colour = MUTED if pct is None else (GOOD if pct >= target else BAD)
    shown = NO_DATA if pct is None else f"{pct_text(pct)} %"
    measurable = sum((c.availability.measurable_min for c in report.circuits), Decimal(0))
    basis_total = sum((c.availability.basis_min for c in report.circuits), Decimal(0))
    if pct is not None and measurable < basis_total:
        # Unknown time left out of the basis: say on how much of the month the figure rests.
        verdict += f"; measured over {fmt(measurable, 0)} of {fmt(basis_total, 0)} circuit-minutes"
    pages.y += 0.05
    pages.band(pages.y, 0.62, SHADE)
    pages.text(MARGIN_X_IN + 0.12, pages.y + 0.08, "Contract availability", 8, color=MUTED)
    pages.text(MARGIN_X_IN + 0.12, pages.y + 0.25, shown, 14, bold=True, color=colour)
    pages.text(MARGIN_X_IN + 0.12, pages.y + 0.48, f"target {fmt(target)} % - {verdict}", 7.5, color=colour)
    credit = report.credit
    right = MARGIN_X_IN + pages.width - 0.12
    pages.text(right, pages.y + 0.08, "Credit owed", 8, color=MUTED, ha="right")
    owed = credit_owed(report.status, credit)
    pages.text(
        right,
        pages.y + 0.25,
        NOT_OWED if owed is None else f"{owed} {credit.currency}",
        14,
        bold=True,
        ha="right",
        color=BAD if owed else INK,
    )
    note = f"{fmt(credit.credit_pct)} % of the monthly fee"
    if owed is None:
        note = f"by the figures so far {credit.amount} {credit.currency}, {note}"
    pages.text(right, pages.y + 0.48, note, 7.5, color=MUTED, ha="right")
    pages.y += 0.75


def _objective_sections(pages: Pages, report: ContractReport) -> None:
    pages.heading("Objectives")
    pages.table(
        [Col("Objective"), Col("Measured", "right"), Col("Limit", "right"), Col("Result"), Col("Rule", wrap=True)],
        [(o.objective, measured_text(o), limit_text(o), status_text(o), o.rule) for o in report.objectives],
        colour=lambda i, t: _status_colour(i, t) if i == 3 else INK,
    )
    names = objective_names(report)
    if report.circuits:
        pages.lines(["Per circuit:"], 8, keep_with_in=0.6)
        pages.y += 0.04
        pages.table(
            [Col("Circuit", wrap=True), *(Col(n.replace("_", " ")) for n in names)],
            [
                (c.circuit, *(status_text(objectives_by_name(c.objectives).get(n)) or "-" for n in names))
                for c in report.circuits
            ],
            colour=lambda i, t: _status_colour(i, t) if i else INK,
        )


def _circuit_sections(pages: Pages, report: ContractReport) -> None:
    pages.heading("Circuits: availability and quality")
    pages.table(
        [
            Col("Circuit", wrap=True),
            Col("Availability %", "right"),
            Col("Outages", "right"),
            Col("Down min", "right"),
            Col("Counted min", "right"),
            Col("Unknown min", "right"),
            Col("Latency avg ms", "right"),
            Col("p95 ms", "right"),
            Col("max ms", "right"),
            Col("Loss avg %", "right"),
            Col("max %", "right"),
            Col("Jitter avg ms", "right"),
        ],
        [
            (
                c.circuit,
                pct_text(c.availability_pct),
                str(len(c.availability.outages)),
                num_text(c.availability.outage_min, 2),
                num_text(c.availability.outage_min - c.availability.excluded_outage_min, 2),
                num_text(c.availability.unknown_min, 2),
                num_text(c.stats.latency_ms.avg, 2) or "-",
                num_text(c.stats.latency_ms.p95, 2) or "-",
                num_text(c.stats.latency_ms.max, 2) or "-",
                ratio_pct_text(c.stats.loss_ratio.avg) or "-",
                ratio_pct_text(c.stats.loss_ratio.max) or "-",
                num_text(c.stats.jitter_ms.avg, 2) or "-",
            )
            for c in report.circuits
        ],
        colour=lambda i, t: MUTED if t in (NO_DATA, "-") else INK,
    )
    pages.heading("Circuits: traffic")
    pages.table(
        [
            Col("Circuit", wrap=True),
            Col("In p95", "right"),
            Col("Out p95", "right"),
            Col("Peak", "right"),
            Col("Committed", "right"),
            Col("p95 of committed %", "right"),
            Col("Peak of committed %", "right"),
            Col("Utilisation p95 %", "right"),
            Col("Lowest port speed", "right"),
        ],
        [
            (
                c.circuit,
                bps_text(c.stats.in_bps.p95) or "-",
                bps_text(c.stats.out_bps.p95) or "-",
                bps_text(peak_bps(c)) or "-",
                bps_text(c.stats.committed_rate_bps) or "-",
                ratio_pct_text(c.stats.p95_of_committed_ratio, 1) or "-",
                ratio_pct_text(c.stats.peak_of_committed_ratio, 1) or "-",
                ratio_pct_text(c.stats.utilisation_ratio.p95, 1) or "-",
                bps_text(c.stats.speed_bps.min) or "-",
            )
            for c in report.circuits
        ],
    )


def _outage_section(pages: Pages, report: ContractReport) -> None:
    pages.heading("Outages")
    rows = [
        (
            c.circuit,
            local_and_utc(o.start, report),
            local_and_utc(o.end, report),
            fmt(o.duration_min, 2),
            fmt(o.counted_min, 2),
            ", ".join(o.causes),
            excluded_note(o, report),
        )
        for c in report.circuits
        for o in c.availability.outages
    ]
    if not rows:
        pages.lines(["No outages in the period."], 8, color=MUTED)
        return
    pages.lines(
        [
            f"Start and end in the contract's local time ({report.terms.timezone}) above UTC. Counted minutes are"
            " the duration less the excluded parts (maintenance and stop-clock time, intersected exactly)."
        ],
        7,
    )
    pages.y += 0.04
    pages.table(
        [
            Col("Circuit", wrap=True),
            Col("Start local / UTC"),
            Col("End local / UTC"),
            Col("Duration min", "right"),
            Col("Counted min", "right"),
            Col("Cause", wrap=True),
            Col("Excluded parts / notes", wrap=True),
        ],
        rows,
        size=6.5,
    )


def _credit_section(pages: Pages, report: ContractReport) -> None:
    credit = report.credit
    owed = credit_owed(report.status, credit)
    schedule = report.terms.credits
    pages.heading("Credit", keep_with_in=1.6)
    if schedule.bands:
        pages.table(
            [Col("Availability below"), Col("Credit of the monthly fee", "right"), Col("Applies")],
            [
                (
                    f"{fmt(b.below_pct)} %",
                    f"{fmt(b.credit_pct)} %",
                    "applied" if b == credit.band else "",
                )
                for b in schedule.bands
            ],
            colour=lambda i, t: BAD if t == "applied" else INK,
        )
    else:
        pages.lines(["The contract has no credit schedule."], 8, color=MUTED)
    pages.table(
        [Col("Item"), Col("Amount", "right")],
        [
            (
                "Contract availability",
                "no data" if credit.availability_pct is None else f"{fmt(credit.availability_pct, 6)} %",
            ),
            ("Monthly fee", f"{credit.monthly_fee} {credit.currency}"),
            ("Credit by band", f"{credit.uncapped_amount} {credit.currency}"),
            (f"Cap ({fmt(credit.cap_pct)} % of the fee)", f"{credit.cap_amount} {credit.currency}"),
            ("Credit by the figures" + (" (capped)" if credit.capped else ""), f"{credit.amount} {credit.currency}"),
            ("Credit owed", NOT_OWED if owed is None else f"{owed} {credit.currency}"),
        ],
        size=8,
    )
    if owed is None:
        pages.lines([NO_CREDIT_PROVISIONAL], 8, color=BAD)
    pages.steps("How the credit is computed:", credit.steps)


def _arithmetic_section(pages: Pages, report: ContractReport) -> None:
    pages.heading("Availability arithmetic", keep_with_in=1.2)
    pages.steps("Contract:", report.availability_steps)
    for c in report.circuits:
        pages.y += 0.06
        pages.steps(f"Circuit {c.circuit}:", c.availability.steps)
        if c.ignored:
            ignored = ", ".join(f"{k} {v}" for k, v in sorted(c.ignored.items()))
            pages.lines([f"samples left out: {ignored}"], 7, color=MUTED, indent_in=0.15)


def report_pages(
    report: ContractReport,
    series: ReportSeries | None,
    *,
    generated_at: datetime | None = None,
    account_tier: str | None = None,
) -> list[Figure]:
    """The PDF's pages as figures (also handy to look at one page as a PNG)."""
    pages = Pages()
    _title_block(pages, report, generated_at, account_tier)
    pages.heading("Availability and latency by day", keep_with_in=3.9)
    chart_h = 3.9
    top = pages.y
    bottom = top + chart_h
    # The axes leave room on the left for tick labels and on the right for the target / ceiling labels.
    left_in, right_in = MARGIN_X_IN + 0.5, 0.9
    draw_chart(
        pages.fig,
        (
            left_in / A4_IN[0],
            1 - (bottom - 0.45) / A4_IN[1],
            (A4_IN[0] - left_in - MARGIN_X_IN - right_in) / A4_IN[0],
            (chart_h - 0.65) / A4_IN[1],
        ),
        report,
        series,
    )
    pages.y = bottom + 0.05
    if series is None:
        pages.lines(
            ["Daily availability derived from the month's outages; daily latency was not supplied."], 7, color=MUTED
        )
    _objective_sections(pages, report)
    _circuit_sections(pages, report)
    _outage_section(pages, report)
    _credit_section(pages, report)
    _arithmetic_section(pages, report)
    pages.footers(f"SLA report {report.contract} - {report.period.label} - {report.terms.timezone}")
    return pages.figures


def render_pdf(
    report: ContractReport,
    series: ReportSeries | None,
    *,
    generated_at: datetime | None = None,
    account_tier: str | None = None,
) -> bytes:
    """The report as an A4 PDF. ``generated_at`` (aware) is printed and becomes the PDF's CreationDate; without
    it the PDF carries no date at all, so the same input always gives the same bytes."""
    when = None if generated_at is None else as_utc(generated_at, "generated_at")
    figures = report_pages(report, series, generated_at=when, account_tier=account_tier)
    return save_pdf(figures, f"SLA report {report.contract} {report.period.label}", "Monthly SLA report", when)


def save_pdf(figures: Sequence[Figure], title: str, subject: str, when: datetime | None) -> bytes:
    """Pages as one PDF; no CreationDate without ``when``, so the same pages always give the same bytes."""
    buf = io.BytesIO()
    metadata = {"Title": title, "Subject": subject, "Creator": "noc", "CreationDate": when}
    with PdfPages(buf, metadata=metadata) as pdf:
        for fig in figures:
            pdf.savefig(fig)
    return buf.getvalue()
