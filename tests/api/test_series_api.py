"""The graph series endpoints on SQLite and PostgreSQL: documented answers, the server's choice of table, the
point budget, bad windows named (400), unknown names (404) and the role rules (403)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.api.conftest import Api
from tests.graphdata import instants, seed_interface, seed_probes

IFACE = "GigabitEthernet0/0/1"


async def test_an_interface_graph_over_thirty_days_comes_from_the_rollups(api: Api) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    await seed_interface(api.sessions, "pe-bj-01", IFACE, instants(now - timedelta(days=31), now, 600))
    response, graph = await api.call("GET", f"/api/devices/pe-bj-01/series?interface={IFACE}&range=30d", "noc")
    assert response.status == 200
    assert graph["source"] == "rollup_5m" and graph["unit"] == "bit/s" and graph["live"] is True
    assert 0 < len(graph["t"]) <= 5000
    assert sum(v is not None for v in graph["series"][0]["values"]) > 4000
    assert {t["key"] for t in graph["thresholds"]} == {"speed_bps", "committed_rate_bps"}
    _, short = await api.call("GET", f"/api/devices/pe-bj-01/series?interface={IFACE}&range=24h&metric=errors", "noc")
    assert short["source"] == "raw" and short["unit"] == "/s"


async def test_a_circuit_graph_for_its_account_manager_only(api: Api) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    await seed_probes(api.sessions, "ACME-BJ-001", instants(now - timedelta(minutes=30), now, 60), loss_ratio=0.25)
    start = (now - timedelta(minutes=20)).isoformat()
    end = (now - timedelta(minutes=10)).isoformat()
    path = (
        f"/api/circuits/ACME-BJ-001/series?metric=loss&start={start.replace('+', '%2B')}&end={end.replace('+', '%2B')}"
    )
    response, graph = await api.call("GET", path, "account_manager")
    assert response.status == 200 and graph["live"] is False
    assert graph["series"][0]["values"] == [25.0] * 10
    assert graph["thresholds"][0]["key"] == "loss_ceiling"
    response, body = await api.call("GET", path, "other_manager")
    assert response.status == 403 and "may not see circuit ACME-BJ-001" in body["error"]


async def test_bad_windows_and_unknown_names_are_named(api: Api) -> None:
    cases = [
        ("/api/circuits/ACME-BJ-001/series?range=2h", 400, "range"),
        ("/api/circuits/ACME-BJ-001/series?metric=volume", 400, "metric"),
        ("/api/circuits/ACME-BJ-001/series?start=2026-01-01T00:00:00", 400, "start"),
        ("/api/circuits/ACME-BJ-001/series?start=2026-01-02T00:00:00Z&end=2026-01-01T00:00:00Z", 400, "end"),
        ("/api/circuits/NOPE/series", 404, "name"),
        ("/api/devices/pe-bj-01/series", 400, "interface"),
        ("/api/devices/pe-bj-01/series?interface=nope", 404, "interface"),
        ("/api/devices/nope/series?interface=eth0", 404, "name"),
    ]
    for path, status, field in cases:
        response, body = await api.call("GET", path, "noc")
        assert (response.status, body["field"]) == (status, field), path
