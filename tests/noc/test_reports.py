"""Rendering of the monthly SLA report: JSON, CSV, PDF and the chart PNG, from hand-made contract months.

The contract: RHEIN-KA-7 in Europe/Berlin, March 2026 (the spring-forward month, 44,580 minutes), two circuits.
Circuit a is down 00:45-01:15Z on the 10th, straddling a one-off maintenance window 01:00-02:00Z: 30 minutes
down, 15 inside the window, 15 counted. Circuit b is down 10:00-12:00Z on the 20th: 120 counted.

    a: 100 x (44,580 - 15) / 44,580          b: 100 x (44,580 - 120) / 44,580
    contract: 100 x (44,565 + 44,460) / 89,160 = 99.848587 % < 99.9 -> band 10 % of 1,000.00 = 100.00 EUR
"""

from __future__ import annotations

import csv
import io
import json
import re
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from sla.documents.chart import render_chart_png
from sla.documents.pdf import render_pdf, report_pages
from sla.documents.series import DailyPoint, ReportSeries, daily_availability, month_days
from sla.documents.tables import render_csv, render_json
from sla.errors import SlaError
from sla.report import CircuitMonthInput, CircuitStats, ContractReport, OutageSource, monthly_report
from sla.stats import MetricSummary
from sla.terms import CreditBand, CreditSchedule, OneOffWindow, SlaTerms

GENERATED_AT = datetime(2026, 4, 1, 6, 0, tzinfo=UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def pct(numerator: int, denominator: int) -> Decimal:
    return Decimal(100) * Decimal(numerator) / Decimal(denominator)


def summary(avg: float) -> MetricSummary:
    return MetricSummary(count=100, avg=avg, p95=avg * 1.5, max=avg * 2, min=avg / 2)


TERMS = SlaTerms(
    contract="RHEIN-KA-7",
    timezone="Europe/Berlin",
    availability_target_pct=Decimal("99.9"),
    latency_ceiling_ms=20.0,
    loss_ceiling_pct=1.0,
    jitter_ceiling_ms=5.0,
    utilisation_ceiling_pct=80.0,
    maintenance=(OneOffWindow("PE upgrade", utc(2026, 3, 10, 1), utc(2026, 3, 10, 2)),),
    maintenance_in_base="include",  # the figures below keep the window in the base (the other rule: tests/sla)
    credits=CreditSchedule(
        bands=(CreditBand(Decimal("99.9"), Decimal(10)), CreditBand(Decimal("99.5"), Decimal(25))),
        cap_pct=Decimal(50),
        monthly_fee=Decimal("1000.00"),
    ),
)


def circuit_a(**changes: object) -> CircuitMonthInput:
    item = CircuitMonthInput(
        "rhein-frankfurt-01",
        outages=[OutageSource(utc(2026, 3, 10, 0, 45), utc(2026, 3, 10, 1, 15), "device:pe1 unreachable")],
        stats=CircuitStats(
            latency_ms=summary(8.0),
            loss_ratio=MetricSummary(count=100, avg=0.001, p95=0.002, max=0.01, min=0.0),
            jitter_ms=summary(1.2),
            in_bps=summary(40e6),
            out_bps=summary(22e6),
            utilisation_ratio=summary(0.4),
            speed_bps=summary(100e6),
            committed_rate_bps=50e6,
        ),
        committed_rate_bps=50e6,
    )
    return replace(item, **changes)  # type: ignore[arg-type]


CIRCUIT_B = CircuitMonthInput(
    "rhein-koeln-02",
    outages=[OutageSource(utc(2026, 3, 20, 10), utc(2026, 3, 20, 12), "interface_down")],
    stats=CircuitStats(latency_ms=summary(12.0)),
)


@pytest.fixture(scope="module")
def report() -> ContractReport:
    return monthly_report(TERMS, 2026, 3, [circuit_a(), CIRCUIT_B])


@pytest.fixture(scope="module")
def series(report: ContractReport) -> ReportSeries:
    derived = daily_availability(report)
    return ReportSeries(
        tuple(
            DailyPoint(p.day, p.availability_pct, 9.0 + i % 4, 15.0 + i % 7, 0.001)
            for i, p in enumerate(derived.points)
        )
    )


@pytest.fixture(scope="module")
def pdf(report: ContractReport, series: ReportSeries) -> bytes:
    return render_pdf(report, series, generated_at=GENERATED_AT, account_tier="A")


def pdf_text(data: bytes) -> str:
    """The text of every text object in the PDF, one per line. Matplotlib writes each string as a TJ array of
    literal strings (kerning numbers between them) inside FlateDecode content streams; that is all this reads."""
    out: list[str] = []
    for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            content = zlib.decompress(raw)
        except zlib.error:
            continue  # font programs and other binary streams
        for block in re.findall(rb"BT(.*?)ET", content, re.S):
            pieces = re.findall(rb"\(((?:\\.|[^\\)])*)\)", block)
            text = b"".join(re.sub(rb"\\(.)", rb"\1", p) for p in pieces)
            out.append(text.decode("latin-1"))
    return "\n".join(out)


def page_count(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", data))


# --- the figures the renderings carry -------------------------------------------------------------------------


def test_hand_computed_month(report: ContractReport) -> None:
    a, b = report.circuits
    assert a.availability_pct == pct(44_565, 44_580)
    assert a.availability.outages[0].counted_min == 15
    assert b.availability_pct == pct(44_460, 44_580)
    assert report.availability_pct == pct(89_025, 89_160)
    assert report.credit.amount == Decimal("100.00")


def test_daily_availability_is_exact_per_local_day(report: ContractReport) -> None:
    points = {p.day: p.availability_pct for p in daily_availability(report).points}
    assert len(points) == 31 and min(points) == date(2026, 3, 1) and max(points) == date(2026, 3, 31)
    # Two circuits of 1,440 minutes each on an ordinary day; the 29th has 23 hours and no outage.
    assert points[date(2026, 3, 10)] == pct(2_880 - 15, 2_880)
    assert points[date(2026, 3, 20)] == pct(2_880 - 120, 2_880)
    assert points[date(2026, 3, 29)] == 100
    assert all(v == 100 for d, v in points.items() if d.day not in (10, 20))


def test_daily_availability_splits_an_outage_at_local_midnight() -> None:
    # 22:30-23:30Z on the 5th is 23:30-00:30 in Berlin (CET): half on the 5th, half on the 6th.
    outage = OutageSource(utc(2026, 3, 5, 22, 30), utc(2026, 3, 5, 23, 30), "device")
    one = monthly_report(TERMS, 2026, 3, [CircuitMonthInput("c", outages=[outage])])
    points = {p.day: p.availability_pct for p in daily_availability(one).points}
    assert points[date(2026, 3, 5)] == points[date(2026, 3, 6)] == pct(1_440 - 30, 1_440)


def test_month_in_progress_has_no_figures_for_days_to_come() -> None:
    partial = monthly_report(TERMS, 2026, 3, [circuit_a()], as_of=utc(2026, 3, 15, 12))
    points = {p.day: p.availability_pct for p in daily_availability(partial).points}
    assert points[date(2026, 3, 15)] == 100  # the elapsed half day (13:00 local) is evaluated
    assert points[date(2026, 3, 16)] is None
    assert "month in progress" in pdf_text(render_pdf(partial, None))
    contract = list(csv.DictReader(io.StringIO(render_csv(partial))))[-1]
    assert (contract["report_status"], contract["credit_owed"]) == ("provisional", "")


# --- JSON ------------------------------------------------------------------------------------------------------


def test_json_round_trips_with_exact_strings(report: ContractReport, series: ReportSeries) -> None:
    text = render_json(report, series)
    plain = json.loads(text)
    assert plain["contract"] == "RHEIN-KA-7"
    assert plain["availability_pct"] == format(pct(89_025, 89_160), "f")
    assert Decimal(plain["availability_pct"]) == report.availability_pct
    assert plain["credit"]["amount"] == "100.00"
    assert (plain["status"]["standing"], plain["status"]["coverage"]["unknown_min"]) == ("final", "0")
    assert plain["circuits"][0]["availability"]["outages"][0]["excluded"][0]["label"] == "maintenance:PE upgrade"
    assert [p["day"] for p in plain["series"]][:2] == ["2026-03-01", "2026-03-02"]
    assert plain["series"][9]["availability_pct"] == format(pct(2_880 - 15, 2_880), "f")
    assert list(plain) == sorted(plain)  # stable key order
    assert render_json(report, series) == text
    assert json.loads(render_json(report, None))["series"] is None


# --- CSV -------------------------------------------------------------------------------------------------------


def test_csv_has_a_row_per_circuit_then_the_contract(report: ContractReport) -> None:
    text = render_csv(report)
    assert text.endswith("\r\n")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["row"], r["circuit"]) for r in rows] == [
        ("circuit", "rhein-frankfurt-01"),
        ("circuit", "rhein-koeln-02"),
        ("contract", "RHEIN-KA-7"),
    ]
    a, b, contract = rows
    assert Decimal(a["availability_pct"]) == pct(44_565, 44_580)
    assert (a["outage_count"], a["outage_min"], a["outage_counted_min"]) == ("1", "30", "15")
    assert (a["latency_avg_ms"], a["latency_p95_ms"], a["latency_max_ms"]) == ("8", "12", "16")
    assert (a["loss_avg_pct"], a["loss_max_pct"], a["jitter_avg_ms"]) == ("0.1", "1", "1.2")
    assert (a["traffic_in_p95_bps"], a["traffic_out_p95_bps"], a["traffic_peak_bps"]) == (
        "60000000",
        "33000000",
        "80000000",
    )
    assert (a["p95_of_committed_pct"], a["peak_of_committed_pct"], a["utilisation_p95_pct"]) == ("120", "160", "60")
    assert (a["objective_availability"], a["objective_latency"], a["objective_committed_rate"]) == (
        "met",
        "met",
        "met",
    )
    assert (b["objective_availability"], b["objective_loss"], b["objective_committed_rate"]) == (
        "missed",
        "no data",
        "",
    )
    assert Decimal(contract["availability_pct"]) == pct(89_025, 89_160)
    assert (contract["outage_count"], contract["outage_counted_min"]) == ("2", "135")
    assert (contract["credit_band_below_pct"], contract["credit_pct"], contract["credit_amount"]) == (
        "99.9",
        "10",
        "100.00",
    )
    assert (contract["credit_cap"], contract["currency"], contract["objective_availability"]) == (
        "500.00",
        "EUR",
        "missed",
    )
    assert a["credit_amount"] == ""
    assert (contract["report_status"], contract["measured_pct"], contract["credit_owed"]) == (
        "final",
        "100.0",
        "100.00",
    )
    assert a["report_status"] == ""


def test_csv_quotes_awkward_circuit_names() -> None:
    name = 'koeln, "backup"\nline'
    awkward = monthly_report(TERMS, 2026, 3, [replace(CIRCUIT_B, circuit=name)])
    rows = list(csv.DictReader(io.StringIO(render_csv(awkward))))
    assert rows[0]["circuit"] == name


# --- PDF -------------------------------------------------------------------------------------------------------


def test_pdf_pages_and_text(report: ContractReport, series: ReportSeries, pdf: bytes) -> None:
    assert pdf.startswith(b"%PDF-")
    assert page_count(pdf) == len(report_pages(report, series)) == 3
    text = pdf_text(pdf)
    for expected in (
        "RHEIN-KA-7 - March 2026",  # title
        "Europe/Berlin",
        "calendar",
        "44580 min",  # basis
        "2026-04-01 06:00 UTC",  # generated at
        "99.8485 %",  # headline, truncated for reading
        "100.00 EUR",
        "missed",
        "2026-03-10 01:45",  # outage start, Berlin wall clock
        "00:45 UTC",  # and in UTC
        "maintenance:PE upgrade",  # the excluded part ...
        "02:00-02:15",  # ... in local time (the cell wraps, so the pieces are checked apart)
        "credit = min(100.00, 500.00) = 100.00 EUR",  # credit arithmetic
        "downtime D = O - OX = 30 - 15 = 15 min",  # availability arithmetic
        "page 3 of 3",
    ):
        assert expected in text, expected
    assert "/CreationDate (D:20260401060000Z)" in pdf.decode("latin-1")


def test_pdf_is_byte_identical_for_the_same_input(report: ContractReport, series: ReportSeries, pdf: bytes) -> None:
    assert render_pdf(report, series, generated_at=GENERATED_AT, account_tier="A") == pdf
    undated = render_pdf(report, series)
    assert b"/CreationDate" not in undated
    assert render_pdf(report, series) == undated


def test_long_outage_list_runs_onto_more_pages_with_its_header_repeated() -> None:
    start = utc(2026, 3, 2)
    flapping = [
        OutageSource(start + timedelta(hours=6 * i), start + timedelta(hours=6 * i, minutes=3), "flap")
        for i in range(90)
    ]
    long = monthly_report(TERMS, 2026, 3, [circuit_a(outages=flapping), CIRCUIT_B])
    data = render_pdf(long, None)
    text = pdf_text(data)
    assert page_count(data) >= 4
    assert text.count("Start local /") >= 2  # the header cell wraps before "UTC"
    assert "flap" in text and "page 1 of" in text


def test_naive_generated_at_is_refused(report: ContractReport) -> None:
    with pytest.raises(SlaError, match="generated_at"):
        render_pdf(report, None, generated_at=datetime(2026, 4, 1, 6, 0))


# --- PNG -------------------------------------------------------------------------------------------------------


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_chart_png(report: ContractReport, series: ReportSeries) -> None:
    assert png_size(render_chart_png(report, series)) == (1000, 560)
    assert png_size(render_chart_png(report, None, dpi=50)) == (500, 280)


def test_renders_share_no_state_across_threads(report: ContractReport, series: ReportSeries) -> None:
    # Each render builds its own figures: concurrent renders agree with a lone one.
    alone = render_chart_png(report, series)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: render_chart_png(report, series), range(4)))
    assert results == [alone] * 4


# --- a month without data ------------------------------------------------------------------------------------


def test_a_month_without_data_says_no_data_not_100() -> None:
    # No maintenance: unknown inside a window would count as service time (sla README), and this month has none.
    empty = monthly_report(replace(TERMS, maintenance=()), 2026, 3, [CircuitMonthInput("c", samples=[])])
    assert empty.availability_pct is None
    plain = json.loads(render_json(empty, None))
    assert plain["availability_pct"] is None and plain["credit"]["amount"] == "0.00"
    (row, contract) = list(csv.DictReader(io.StringIO(render_csv(empty))))
    assert (row["availability_pct"], row["objective_availability"]) == ("", "no data")
    assert contract["objective_availability"] == "no data"
    text = pdf_text(render_pdf(empty, None))
    assert "no data" in text and "availability not evaluated" in text
    lines = text.splitlines()
    assert lines[lines.index("Contract availability") + 1] == "no data"
    assert "100 %" not in text
    blank = ReportSeries(tuple(DailyPoint(d, None, None, None, None) for d in month_days(empty)))
    assert png_size(render_chart_png(empty, blank)) == (1000, 560)
