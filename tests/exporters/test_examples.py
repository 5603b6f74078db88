"""The example configuration shipped for operators stays valid and only refers to series we export."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "prometheus"
COLLECTOR = Path(__file__).resolve().parents[2] / "exporters" / "collector.py"


def exported_names() -> set[str]:
    text = COLLECTOR.read_text()
    names = set(re.findall(r'"(noc_[a-z_]+)"', text))
    # histograms and counters expose suffixed series
    return names | {f"{n}{s}" for n in names for s in ("_bucket", "_count", "_sum", "_total")}


def test_prometheus_and_alertmanager_examples_are_valid(tmp_path: Path) -> None:
    # promtool checks that the scrape token's file exists: the operator's own, so the check runs on a copy beside
    # a stand-in token (and the shipped rules where the copy can find them)
    config = (EXAMPLES / "prometheus.yml").read_text()
    assert "credentials_file: noc-metrics.token" in config  # /metrics needs credentials: the example sends them
    rules = EXAMPLES.parents[1] / "exporters" / "rules" / "noc.yml"
    (tmp_path / "prometheus.yml").write_text(config.replace("../../exporters/rules/noc.yml", str(rules)))
    (tmp_path / "noc-metrics.token").write_text("stand-in\n")
    prom = subprocess.run(
        ["promtool", "check", "config", "prometheus.yml"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert prom.returncode == 0, prom.stdout + prom.stderr
    am = subprocess.run(
        ["amtool", "check-config", "alertmanager.yml"], cwd=EXAMPLES, capture_output=True, text=True, check=False
    )
    assert am.returncode == 0, am.stdout + am.stderr


def test_dashboard_queries_only_known_series() -> None:
    dashboard = json.loads((EXAMPLES / "grafana-dashboard.json").read_text())
    known = exported_names()
    used = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\b(noc_[a-z_]+)", target["expr"])
    }
    assert used, "the dashboard queries nothing"
    assert used <= known, f"unknown series in the dashboard: {sorted(used - known)}"
