"""What the ticket shows of its notifications, on its page and in its API JSON: who was told what, and a failure
with its error, from a real delivery attempt to a receiver that is not there."""

from __future__ import annotations

import pytest
from aiohttp import ClientSession

from noc import auth
from noc.notify.notifier import Notifier
from noc.settings import NotifySettings
from tests.peers.ports import free_tcp_port
from tests.tickets.conftest import T0, DrivenClock
from tests.web.conftest import Site, db_url, site  # noqa: F401  (the pages' fixtures: SQLite, the app on loopback)

pytestmark = pytest.mark.peers


async def test_a_failed_notification_shows_on_the_ticket_page_and_in_its_json(site: Site) -> None:  # noqa: F811
    nobody = free_tcp_port()  # nothing listens there: connection refused
    settings = NotifySettings.model_validate(
        {
            "channels": {"hook": {"kind": "webhook", "url": f"http://127.0.0.1:{nobody}/hook", "secret": "s" * 16}},
            "recipients": [{"name": "ops-hook", "channel": "hook"}],
            "routes": [{"events": ["opened"], "roles": ["noc"]}],
            "max_attempts": 1,
        }
    )
    notifier = Notifier(site.sessions, settings, site.base)
    await notifier.start()
    try:
        ticket_id = await site.open_ticket("ACME-BJ-001", "latency above contract")
        await notifier.tick()
    finally:
        await notifier.close()

    nina = await site.visitor("nina")
    _, html = await nina.get(f"/tickets/{ticket_id}")
    assert 'id="notifications"' in html and "ops-hook" in html and 'class="notice-failed"' in html
    assert "failed</b>: 127.0.0.1:" in html and "ClientConnectorError" in html

    token = await auth.issue_token(site.sessions, "nina", "notify-test")
    async with ClientSession() as http:
        answer = await http.get(f"{site.base}/api/tickets/{ticket_id}", headers={"Authorization": f"Bearer {token}"})
        body = await answer.json()
    assert answer.status == 200
    [notice] = body["notifications"]
    assert notice["recipient"] == "ops-hook" and notice["event"] == "opened" and notice["channel_kind"] == "webhook"
    assert notice["status"] == "failed" and notice["attempts"] == 1 and "ClientConnectorError" in notice["error"]
    assert notice["subject"].startswith(f"[P2] 新故障单 T-{ticket_id}")


async def test_an_accounts_reminders_show_on_its_page_to_its_manager(site: Site) -> None:  # noqa: F811
    nobody = free_tcp_port()
    settings = NotifySettings.model_validate(
        {
            "channels": {"hook": {"kind": "webhook", "url": f"http://127.0.0.1:{nobody}/hook", "secret": "s" * 16}},
            "recipients": [{"name": "am-hook", "channel": "hook", "role": "account_manager"}],
            "routes": [{"events": ["contract_expiry"], "roles": ["account_manager"]}],
            "max_attempts": 1,
        }
    )
    notifier = Notifier(site.sessions, settings, site.base, clock=DrivenClock(T0))  # 23 days before CITYGOV ends
    await notifier.start()
    try:
        await notifier.tick()
    finally:
        await notifier.close()

    mei = await site.visitor("mei")
    _, html = await mei.get("/accounts/city-gov")
    assert 'aria-label="reminders"' in html and "contract expiry" in html and "am-hook" in html
    assert 'class="notice-failed"' in html  # nothing listens at the hook: the failure is on the record
    karl = await site.visitor("karl")
    response, other = await karl.get("/accounts/acme-bank")
    assert response.status == 200 and 'aria-label="reminders"' not in other  # ACME's contract runs to the end of 2027
