"""The alerting loop against the real Prometheus: it scrapes a running ``noc serve``, our series answer PromQL, and
the device-down alert fires once the device's agent is gone."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from noc.crypto import generate_key
from tests.noccli import noc, noc_env
from tests.peers.ports import free_tcp_port
from tests.peers.snmpd import SnmpdAgent, free_udp_port

pytestmark = pytest.mark.peers
RULES = Path(__file__).resolve().parents[2] / "exporters" / "rules" / "noc.yml"
SCRAPE_TOKEN = "scrape-token-for-the-test"


def wait_for(what: str, check: Callable[[], Any], timeout_s: float = 90.0) -> Any:
    """Poll ``check`` until it returns something truthy; bounded, and says what it waited for on failure."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except OSError as exc:  # a server still starting
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(0.25)  # a polling pause between checks of an external process, not a synchronisation guess
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[dict[str, Any]]:
    agent = SnmpdAgent("127.0.0.1", free_udp_port(), community="prom-lab", sys_name="lab-pe")
    agent.start()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        env = noc_env(
            NOC_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'noc.db'}",
            NOC_SECRET_KEY=generate_key(),
            NOC_POLLER__INTERVAL_S="2",
            NOC_POLLER__TIMEOUT_S="0.3",
            NOC_POLLER__RETRIES="0",
            NOC_POLLER__DOWN_AFTER_FAILURES="2",
            NOC_POLLER__JITTER_RATIO="0",
            NOC_WEB__METRICS_TOKEN=SCRAPE_TOKEN,
        )
        inventory = tmp_path / "inventory.yaml"
        inventory.write_text(
            "snmp_profiles:\n  - {name: lab, version: 2c, community: prom-lab}\n"
            f"devices:\n  - {{name: lab-pe, address: 127.0.0.1, platform: linux, region: north, snmp_profile: lab, "
            f"snmp_port: {agent.port}}}\n"
        )
        for args in (["db", "upgrade"], ["inventory", "import", str(inventory)]):
            assert noc(env, *args).returncode == 0
        noc_port = free_tcp_port()
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "noc", "serve", "--port", str(noc_port)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=(tmp_path / "noc.log").open("wb"),
            )
        )
        # the shipped rules, with the device-down hold shortened so the test need not wait a minute
        rules = tmp_path / "rules.yml"
        shipped = RULES.read_text()
        assert "expr: noc_device_up == 0\n        for: 1m" in shipped
        rules.write_text(
            shipped.replace("expr: noc_device_up == 0\n        for: 1m", "expr: noc_device_up == 0\n        for: 2s")
        )
        prom_port = free_tcp_port()
        config = tmp_path / "prometheus.yml"
        credentials = tmp_path / "metrics.token"
        credentials.write_text(SCRAPE_TOKEN + "\n")
        config.write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            f"rule_files: ['{rules}']\n"
            f"scrape_configs:\n  - job_name: noc\n    static_configs: [{{targets: ['127.0.0.1:{noc_port}']}}]\n"
            f"    authorization: {{type: Bearer, credentials_file: '{credentials}'}}\n"
        )
        processes.append(
            subprocess.Popen(
                [
                    "prometheus",
                    f"--config.file={config}",
                    f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{prom_port}",
                ],
                stdout=subprocess.DEVNULL,
                stderr=(tmp_path / "prometheus.log").open("wb"),
            )
        )
        yield {
            "agent": agent,
            "prometheus": f"http://127.0.0.1:{prom_port}",
            "noc": f"http://127.0.0.1:{noc_port}",
            "logs": tmp_path,
        }
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        agent.cleanup()


def test_prometheus_scrapes_us_and_the_device_down_alert_fires(stack: dict[str, Any]) -> None:
    prometheus = stack["prometheus"]

    def query(promql: str) -> list[dict[str, Any]]:
        data = get_json(f"{prometheus}/api/v1/query?query={urllib.parse.quote(promql)}")
        result: list[dict[str, Any]] = data["data"]["result"]
        return result

    up = wait_for("noc_device_up{device='lab-pe'} == 1", lambda: query('noc_device_up{device="lab-pe"} == 1'))
    assert up[0]["metric"]["region"] == "north"
    assert wait_for("interface series", lambda: query('noc_interface_oper_up{device="lab-pe", interface="lo"}'))
    assert wait_for("poll histogram", lambda: query("noc_poll_duration_seconds_count > 0"))
    assert query("ALERTS{alertname='NocDeviceDown'}") == []

    stack["agent"].stop()  # the device goes away for real

    def firing() -> list[dict[str, Any]]:
        alerts = get_json(f"{prometheus}/api/v1/alerts")["data"]["alerts"]
        return [a for a in alerts if a["labels"]["alertname"] == "NocDeviceDown" and a["state"] == "firing"]

    alerts = wait_for("NocDeviceDown firing", firing)
    assert alerts[0]["labels"]["device"] == "lab-pe" and alerts[0]["labels"]["severity"] == "critical"
    errors = query('noc_poll_errors_total{reason=~"timeout|unreachable"}')
    assert errors and float(errors[0]["value"][1]) >= 2
