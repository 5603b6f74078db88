"""Issue #14, acceptance 1, end to end: ``noc serve`` against a real snmpd agent that stops answering.

The device-down incident sends one e-mail to the on-duty NOC address (received by the real SMTP server) and one
DingTalk message (received, its signature verified), both linking to the incident; the escalation at 100 % of the
response time goes to the next level (the NOC lead's Feishu group); a failing channel (the ops webhook, down) is
retried with backoff and its failure shows on the ticket's JSON; no message carries a secret or a contact's phone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.exporters.test_prometheus import wait_for
from tests.flow.serve import Serve, agent, rows
from tests.noccli import noc
from tests.notify.conftest import channels
from tests.peers import robots as r
from tests.peers.robots import Robots
from tests.peers.smtp import SmtpServers
from tests.peers.snmpd import SnmpdAgent

pytestmark = pytest.mark.peers

DUTY = "noc-duty@example.test"
PHONE = "+86 10 5555 0101"
CONTACT_EMAIL = "wang.fang@acme.example"


def inventory(dead: SnmpdAgent) -> str:
    return f"""\
users:
  - {{username: nina, role: noc}}
snmp_profiles:
  - {{name: p-dead, version: 2c, community: {dead.community}}}
devices:
  - {{name: pe-dead, address: 127.0.0.1, platform: linux, snmp_profile: p-dead, snmp_port: {dead.port}, region: north}}
accounts:
  - name: acme
    legal_name: ACME
    tier: A
    contacts:
      - {{role: noc-contact, purpose: fault notification, name: Wang Fang, phone: "{PHONE}", email: {CONTACT_EMAIL}}}
contracts:
  - {{name: c1, account: acme, valid_from: 2026-01-01, valid_to: 2027-12-31, timezone: UTC,
     sla: {{availability_target_pct: '99.9', response_time_min: 1}}}}
circuits:
  - {{name: ckt-dead, account: acme, contract: c1, device: pe-dead, interface: lo}}
"""


def notify_config(smtp: SmtpServers, robots: Robots) -> dict[str, Any]:
    every = channels(smtp, robots)
    return {
        "interval_s": 0.5,
        "max_attempts": 3,
        "retry_initial_s": 0.5,
        "channels": {name: every[name] for name in ("relay", "ding", "feishu", "hook")},
        "recipients": [
            {"name": "noc-duty", "channel": "relay", "address": DUTY},
            {"name": "noc-group", "channel": "ding"},
            {"name": "ops-hook", "channel": "hook", "language": "en"},
            {"name": "lead-group", "channel": "feishu", "role": "noc_lead"},
        ],
        "routes": [
            {"events": ["opened"], "priorities": ["P1"], "roles": ["noc"]},
            {"events": ["escalation"], "levels": [1], "roles": ["noc_lead"]},
        ],
    }


@pytest.fixture
def dead() -> Iterator[SnmpdAgent]:
    made = agent("pe-dead")  # never started: it never answers
    try:
        yield made
    finally:
        made.cleanup()


def test_a_device_down_incident_is_told_escalated_and_a_failing_channel_recorded(
    dead: SnmpdAgent, smtp: SmtpServers, robots: Robots, tmp_path: Path
) -> None:
    smtp.mailbox.clear()
    robots.down = {"webhook"}
    db = f"sqlite+aiosqlite:///{tmp_path}/noc.db"
    serve = Serve(db, tmp_path, interval_s=2.0)
    config = tmp_path / "noc.yaml"
    public_url = f"http://127.0.0.1:{serve.port}"
    config.write_text(yaml.safe_dump({"web": {"public_url": public_url}, "notify": notify_config(smtp, robots)}))
    serve.env |= {"NOC_CONFIG": str(config), "NOC_TICKETS__TIMERS_INTERVAL_S": "1"}
    serve.setup(inventory(dead))
    token = noc(serve.env, "users", "token", "nina", "--name", "e2e").stdout.strip()
    try:
        serve.start()
        [mail] = wait_for("the e-mail to the on-duty NOC address", lambda: smtp.mailbox.to(DUTY), timeout_s=120)
        [(incident,)] = rows(db, "select id from tickets where kind = 'incident'")
        [(child,)] = rows(db, "select id from tickets where kind = 'ticket'")
        assert f"{public_url}/tickets/{incident}" in mail.get_content() and f"I-{incident}" in mail["Subject"]
        [ding] = wait_for("the DingTalk message", lambda: robots.of("dingtalk"), timeout_s=30)
        assert f"{public_url}/tickets/{incident}" in ding.text

        # acme's contract: response within one minute; nobody answers the ticket.
        [lead] = wait_for("the escalation to the NOC lead", lambda: robots.of("feishu"), timeout_s=150)
        assert "已升级至第 1 级" in lead.text and f"{public_url}/tickets/{child}" in lead.text

        def hook_failed() -> Any:
            _, body = serve.json(f"/api/tickets/{incident}", {"Authorization": f"Bearer {token}"})
            return [n for n in body["notifications"] if n["recipient"] == "ops-hook" and n["status"] == "failed"]

        [hook] = wait_for("the webhook's failure on the incident", hook_failed, timeout_s=60)
        assert hook["attempts"] == 3 and "HTTP 503" in hook["error"]
        assert robots.of("webhook") == [] and robots.refused == []
        # Still one e-mail and one DingTalk message: the child ticket and the availability breach made no storm.
        assert len(smtp.mailbox.to(DUTY)) == 1 and len(robots.of("dingtalk")) == 1
        stored = rows(db, "select subject, text, coalesce(error, '') from notifications")
    finally:
        serve.cleanup()

    said = [f"{m['Subject']}\n{m.get_content()}" for m in smtp.mailbox.all()]
    said += [json.dumps(a.body, ensure_ascii=False) for a in robots.accepted] + ["\n".join(s) for s in stored]
    forbidden = [PHONE, PHONE.replace(" ", ""), CONTACT_EMAIL, dead.community, token, r.DINGTALK_TOKEN,
                 r.DINGTALK_SECRET, r.FEISHU_SECRET, r.WEBHOOK_SECRET]  # fmt: skip
    for text in said:
        for value in forbidden:
            assert value not in text
