"""The shipped alerting rules pass promtool's own checks and their unit tests (``for:`` boundaries included)."""

from __future__ import annotations

import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
RULES = HERE.parents[1] / "exporters" / "rules"


def test_rules_are_valid() -> None:
    files = sorted(RULES.glob("*.yml"))
    assert files
    result = subprocess.run(
        ["promtool", "check", "rules", *map(str, files)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_rules_unit_tests() -> None:
    result = subprocess.run(
        ["promtool", "test", "rules", "rules_test.yml"], cwd=HERE, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_a_broken_expectation_is_caught(tmp_path: Path) -> None:
    """The unit tests can fail: the same file with one expectation changed must not pass."""
    broken = (
        (HERE / "rules_test.yml")
        .read_text()
        .replace(
            "      - eval_time: 1m          # down for 30 s: pending, not firing\n"
            "        alertname: NocDeviceDown\n        exp_alerts: []",
            "      - eval_time: 1m          # down for 30 s: pending, not firing\n"
            "        alertname: NocDeviceDown\n        exp_alerts: [{exp_labels: {device: pe-1}}]",
        )
    )
    assert broken != (HERE / "rules_test.yml").read_text()
    copy = tmp_path / "rules_test.yml"
    copy.write_text(broken.replace("../../exporters/rules/noc.yml", str(RULES / "noc.yml")))
    result = subprocess.run(["promtool", "test", "rules", str(copy)], capture_output=True, text=True, check=False)
    assert result.returncode != 0
