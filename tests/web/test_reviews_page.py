"""The reviews page and its CSV for the NOC lead: the seeded history's counts as the tables show them, refused to
other roles, and a bad choice named."""

from __future__ import annotations

import asyncio

import pytest

from noc.settings import TicketSettings
from tests.noccli import noc, noc_env
from tests.tickets.conftest import DrivenClock
from tests.tickets.test_reviews import history
from tests.web.conftest import Site, db_url, site  # noqa: F401  (the pages' fixtures: SQLite, the app on loopback)
from tickets.service import TicketService

pytestmark = pytest.mark.peers
QUERY = "/reviews?months=3&to=2026-11&by=device&recurring=no"


async def test_the_reviews_page_and_csv_show_the_seeded_counts(site: Site) -> None:  # noqa: F811
    clock = DrivenClock()
    ids = await history(TicketService(site.sessions, TicketSettings(), box=site.tickets.box, clock=clock), clock)
    nina = await site.visitor("nina")
    response, html = await nina.get(QUERY)
    assert response.status == 200
    power = '<tr data-key="pe-bj-01" data-cause="power"><td>pe-bj-01</td><td>power</td>'
    assert power + '<td class="num">0</td><td class="num">2</td><td class="num">0</td>' in html
    assert f'<a href="/tickets/{ids["oct"]}">T-{ids["oct"]}</a>' in html
    assert '<tr data-technician="tom-north"><td>tom-north</td><td class="num">2</td><td class="num">2</td>' in html

    response, _ = await nina.get(QUERY.replace("/reviews?", "/reviews/faults.csv?"))
    text = await response.text()
    assert (
        response.content_type == "text/csv"
        and "recurring-faults-by-device-2026-11.csv" in response.headers["Content-Disposition"]
    )
    assert text.splitlines()[1:] == [
        f"pe-bj-01,fibre_cut,1,0,1,2,0.00,T-{ids['sep']} T-{ids['nov']}",
        f"pe-bj-01,power,0,2,0,2,0.00,T-{ids['oct']}",
        f"pe-sh-01,unclassified,0,0,1,1,0.50,T-{ids['city']}",
    ]
    response, _ = await nina.get(QUERY.replace("/reviews?", "/reviews/technicians.csv?"))
    assert (await response.text()).splitlines()[2].startswith("tom-north,2,2,2,0,2,0,15.0,90.0,4.0,1")

    karl = await site.visitor("karl")
    response, _ = await karl.get(QUERY)
    assert response.status == 403
    for bad, named in (
        ("months=0", "months"),
        ("by=planet", "by"),
        ("to=2026-13", "to"),
        ("recurring=maybe", "recurring"),
    ):
        response, html = await nina.get(f"/reviews?{bad}")
        assert response.status == 422 and f"{named}: " in html, bad


async def test_the_cli_prints_the_pages_csv(site: Site, db_url: str) -> None:  # noqa: F811
    clock = DrivenClock()
    await history(TicketService(site.sessions, TicketSettings(), box=site.tickets.box, clock=clock), clock)
    nina = await site.visitor("nina")
    env = noc_env(NOC_DATABASE_URL=db_url)
    for which, query in (
        ("faults", QUERY.replace("/reviews?", "/reviews/faults.csv?")),
        ("technicians", "/reviews/technicians.csv?months=3&to=2026-11"),
    ):
        response, _ = await nina.get(query)
        extra = ["--all"] if which == "faults" else []
        done = await asyncio.to_thread(noc, env, "reviews", which, "--months", "3", "--to", "2026-11", *extra)
        assert done.returncode == 0, done.stderr
        assert done.stdout == await response.text()
    done = await asyncio.to_thread(noc, env, "reviews", "faults", "--by", "planet")
    assert done.returncode == 2 and "by: one of device, account, region" in done.stderr
