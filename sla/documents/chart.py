"""The report's chart, one drawing for the PDF and the PNG: daily availability against the target, latency and
loss. Matplotlib without pyplot: each render builds its own ``Figure`` with an explicit Agg canvas, so renders
share no global state, are safe in threads and leak no figures."""

from __future__ import annotations

import io
import math

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sla.availability import fmt
from sla.documents.series import DailyPoint, ReportSeries, daily_availability, month_days
from sla.documents.text import month_name, num_text
from sla.report import ContractReport

GOOD = "#2e7d32"
BAD = "#c62828"
MUTED = "#757575"
INK = "#212121"
ACCENT = "#1f4e79"
SHADE = "#eef2f7"


def _series_by_day(report: ContractReport, series: ReportSeries | None) -> list[DailyPoint]:
    """One point per day of the month: the given series where it has the day, else no data. Without a series,
    availability is derived from the report (:func:`daily_availability`) and latency is unknown."""
    given = daily_availability(report) if series is None else series
    by_day = {p.day: p for p in given.points}
    return [by_day.get(d) or DailyPoint(d, None, None, None, None) for d in month_days(report)]


def _no_data_note(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=9, color=MUTED)


def draw_chart(
    fig: Figure, rect: tuple[float, float, float, float], report: ContractReport, series: ReportSeries | None
) -> tuple[Axes, Axes]:
    """Daily availability (bars against the target) above daily latency (mean and max against the ceiling),
    sharing the day axis, inside ``rect`` (left, bottom, width, height in figure fractions)."""
    left, bottom, width, height = rect
    gap = height * 0.1
    panel = (height - gap) / 2
    ax_av = fig.add_axes((left, bottom + panel + gap, width, panel))
    ax_lat = fig.add_axes((left, bottom, width, panel), sharex=ax_av)
    points = _series_by_day(report, series)
    x = list(range(1, len(points) + 1))
    target = float(report.terms.availability_target_pct)

    # Availability: zoomed so that 99.9 and 100 are visibly different, but never hiding the target line.
    values = [None if p.availability_pct is None else float(p.availability_pct) for p in points]
    known = [v for v in values if v is not None]
    low = min([*known, target])
    floor = max(0.0, low - max((100.0 - low) * 0.25, 0.02))
    for xi, v in zip(x, values, strict=True):
        if v is None:
            ax_av.axvspan(xi - 0.45, xi + 0.45, color="#e0e0e0", lw=0)
        else:
            ax_av.bar(xi, v - floor, bottom=floor, width=0.8, color=GOOD if v >= target else BAD, lw=0)
    ax_av.axhline(target, color=INK, ls="--", lw=0.9)
    ax_av.text(
        1.0,
        target,
        f" target {fmt(report.terms.availability_target_pct)} %",
        transform=ax_av.get_yaxis_transform(),
        va="center",
        ha="left",
        fontsize=7,
        color=INK,
        clip_on=False,
    )
    ax_av.set_ylim(floor, 100.0 + (100.0 - floor) * 0.04)
    ax_av.set_ylabel("availability %", fontsize=8)
    ax_av.set_title("Daily availability", fontsize=9, loc="left", color=INK)
    if not known:
        _no_data_note(ax_av, "no data: availability not measured this month")

    # Latency: the daily mean as a line, the daily worst as a lighter one; gaps where nothing was measured.
    nan = float("nan")
    avg = [nan if p.latency_avg_ms is None else p.latency_avg_ms for p in points]
    peak = [nan if p.latency_max_ms is None else p.latency_max_ms for p in points]
    ceiling = report.terms.latency_ceiling_ms
    has_latency = any(math.isfinite(v) for v in (*avg, *peak))
    if has_latency:
        ax_lat.plot(x, peak, color="#90a4ae", lw=1, marker=".", ms=3, label="daily max")
        ax_lat.plot(x, avg, color=ACCENT, lw=1.6, marker="o", ms=3, label="daily mean")
        top = max(v for v in (*avg, *peak, ceiling or 0.0) if math.isfinite(v))
        ax_lat.set_ylim(0, top * 1.15 if top > 0 else 1.0)
        ax_lat.legend(fontsize=7, loc="upper left", frameon=False, ncols=2)
    else:
        _no_data_note(ax_lat, "no data: latency not measured this month")
    if ceiling is not None:
        ax_lat.axhline(ceiling, color=BAD, ls="--", lw=0.9)
        ax_lat.text(
            1.0,
            ceiling,
            f" ceiling {num_text(ceiling, 3)} ms",
            transform=ax_lat.get_yaxis_transform(),
            va="center",
            ha="left",
            fontsize=7,
            color=BAD,
            clip_on=False,
        )
        if not has_latency:
            ax_lat.set_ylim(0, ceiling * 1.5)
    ax_lat.set_ylabel("RTT ms", fontsize=8)
    ax_lat.set_title("Daily latency", fontsize=9, loc="left", color=INK)
    ax_lat.set_xlabel(f"day of {month_name(report)} ({report.terms.timezone})", fontsize=8)
    ax_lat.set_xlim(0.4, len(points) + 0.6)
    last = len(points)
    ax_lat.set_xticks([d for d in x if d == 1 or (d % 5 == 0 and last - d >= 2) or d == last])
    for ax in (ax_av, ax_lat):
        ax.tick_params(labelsize=7)
        ax.grid(axis="y", color="#e0e0e0", lw=0.5)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    ax_av.tick_params(labelbottom=False)
    return ax_av, ax_lat


def render_chart_png(report: ContractReport, series: ReportSeries | None, *, dpi: int = 100) -> bytes:
    """The PDF's chart on its own (10 x 5.6 in; 1000 x 560 px at the default dpi), for the web page."""
    fig = Figure(figsize=(10, 5.6), dpi=dpi)
    FigureCanvasAgg(fig)  # Agg chosen explicitly: no backend lookup, no pyplot
    fig.text(0.07, 0.96, f"{report.contract} - {month_name(report)}", fontsize=11, weight="bold", va="top")
    draw_chart(fig, (0.07, 0.1, 0.8, 0.78), report, series)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()
