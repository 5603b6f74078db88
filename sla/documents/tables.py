"""The monthly report as data documents: JSON (every figure of the report, with the daily series) and CSV."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

from sla.documents.series import ReportSeries
from sla.documents.text import num_text, objective_names, objectives_by_name, peak_bps, ratio_pct_text, status_text
from sla.provisional import credit_owed
from sla.report import ContractReport, to_plain


def _series_plain(series: ReportSeries) -> list[dict[str, object]]:
    # to_plain knows datetimes, not dates; the rest of each point goes through it so numbers follow its rules.
    return [
        {
            "day": p.day.isoformat(),
            "availability_pct": to_plain(p.availability_pct),
            "latency_avg_ms": to_plain(p.latency_avg_ms),
            "latency_max_ms": to_plain(p.latency_max_ms),
            "loss_avg_ratio": to_plain(p.loss_avg_ratio),
        }
        for p in series.points
    ]


def render_json(report: ContractReport, series: ReportSeries | None) -> str:
    """The whole report (``sla.report.to_plain``: Decimals as exact strings) plus ``series`` (null when not given).
    Keys are sorted so two renders of the same report are identical text."""
    plain = to_plain(report)
    assert isinstance(plain, dict)  # a dataclass always becomes a dict
    plain["series"] = None if series is None else _series_plain(series)
    return json.dumps(plain, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


CSV_COLUMNS = (
    "row",
    "circuit",
    "availability_pct",
    "outage_count",
    "outage_min",
    "outage_counted_min",
    "unknown_min",
    "downtime_min",
    "measurable_min",
    "latency_avg_ms",
    "latency_p95_ms",
    "latency_max_ms",
    "loss_avg_pct",
    "loss_max_pct",
    "jitter_avg_ms",
    "traffic_in_p95_bps",
    "traffic_out_p95_bps",
    "traffic_peak_bps",
    "committed_rate_bps",
    "p95_of_committed_pct",
    "peak_of_committed_pct",
    "utilisation_p95_pct",
)
CREDIT_COLUMNS = ("credit_band_below_pct", "credit_pct", "credit_uncapped", "credit_cap", "credit_amount", "currency")
# The contract row's standing (sla.provisional): final or provisional, the measured share of the month (cut to one
# decimal) and the credit owed (empty while provisional; credit_amount is what the figures give).
STATUS_COLUMNS = ("report_status", "measured_pct", "credit_owed")


def render_csv(report: ContractReport) -> str:
    """One row per circuit, then the contract row (with the credit); RFC 4180 (CRLF, quoting as needed).

    Availability is the exact Decimal string, as in JSON; other figures are rounded to a sensible precision.
    Objective columns read ``met``, ``missed``, ``no data`` or empty (the contract has no such objective); the
    contract row ends with the report's standing (``STATUS_COLUMNS``).
    """
    names = objective_names(report)
    header = [*CSV_COLUMNS, *(f"objective_{n}" for n in names), *CREDIT_COLUMNS, *STATUS_COLUMNS]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\r\n")
    writer.writeheader()

    def exact(value: Decimal | None) -> str:
        return "" if value is None else format(value, "f")

    for c in report.circuits:
        a, s = c.availability, c.stats
        objectives = objectives_by_name(c.objectives)
        row: dict[str, str] = {
            "row": "circuit",
            "circuit": c.circuit,
            "availability_pct": exact(a.availability_pct),
            "outage_count": str(len(a.outages)),
            "outage_min": num_text(a.outage_min, 4),
            "outage_counted_min": num_text(a.outage_min - a.excluded_outage_min, 4),
            "unknown_min": num_text(a.unknown_min, 4),
            "downtime_min": num_text(a.downtime_min, 4),
            "measurable_min": num_text(a.measurable_min, 4),
            "latency_avg_ms": num_text(s.latency_ms.avg, 3),
            "latency_p95_ms": num_text(s.latency_ms.p95, 3),
            "latency_max_ms": num_text(s.latency_ms.max, 3),
            "loss_avg_pct": ratio_pct_text(s.loss_ratio.avg, 4),
            "loss_max_pct": ratio_pct_text(s.loss_ratio.max, 4),
            "jitter_avg_ms": num_text(s.jitter_ms.avg, 3),
            "traffic_in_p95_bps": num_text(s.in_bps.p95, 0),
            "traffic_out_p95_bps": num_text(s.out_bps.p95, 0),
            "traffic_peak_bps": num_text(peak_bps(c), 0),
            "committed_rate_bps": num_text(s.committed_rate_bps, 0),
            "p95_of_committed_pct": ratio_pct_text(s.p95_of_committed_ratio, 2),
            "peak_of_committed_pct": ratio_pct_text(s.peak_of_committed_ratio, 2),
            "utilisation_p95_pct": ratio_pct_text(s.utilisation_ratio.p95, 2),
        }
        row.update({f"objective_{n}": status_text(objectives.get(n)) for n in names})
        writer.writerow(row)

    credit = report.credit
    results = [c.availability for c in report.circuits]
    contract_row: dict[str, str] = {
        "row": "contract",
        "circuit": report.contract,
        "availability_pct": exact(report.availability_pct),
        "outage_count": str(sum(len(a.outages) for a in results)),
        "outage_min": num_text(sum((a.outage_min for a in results), Decimal(0)), 4),
        "outage_counted_min": num_text(sum((a.outage_min - a.excluded_outage_min for a in results), Decimal(0)), 4),
        "unknown_min": num_text(sum((a.unknown_min for a in results), Decimal(0)), 4),
        "downtime_min": num_text(sum((a.downtime_min for a in results), Decimal(0)), 4),
        "measurable_min": num_text(sum((a.measurable_min for a in results), Decimal(0)), 4),
        "credit_band_below_pct": "" if credit.band is None else format(credit.band.below_pct, "f"),
        "credit_pct": format(credit.credit_pct, "f"),
        "credit_uncapped": str(credit.uncapped_amount),
        "credit_cap": str(credit.cap_amount),
        "credit_amount": str(credit.amount),
        "currency": credit.currency,
        "report_status": report.status.standing.value,
        "measured_pct": format(report.status.coverage.share_shown, "f"),
        "credit_owed": "" if (owed := credit_owed(report.status, credit)) is None else str(owed),
    }
    contract_objectives = objectives_by_name(report.objectives)
    contract_row.update({f"objective_{n}": status_text(contract_objectives.get(n)) for n in names})
    writer.writerow(contract_row)
    return out.getvalue()
