"""The web skeleton: health and metrics from a real server on loopback."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from noc.app import create_app
from noc.errors import OperationalError
from noc.settings import Settings, WebSettings

SCRAPE = {"Authorization": "Bearer scrape-token"}


def _settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, web=WebSettings(metrics_token=SecretStr("scrape-token")))


async def test_healthz_and_metrics(engine: object, db_url: str) -> None:
    app = create_app(_settings(db_url))
    async with TestClient(TestServer(app)) as client:
        health = await client.get("/healthz")
        assert health.status == 200
        assert (await health.json())["database"] == "ok"
        assert (await client.get("/metrics")).status == 401  # credentials by default
        scraped = await client.get("/metrics", headers=SCRAPE)
        assert scraped.status == 200
        names = {f.name for f in text_string_to_metric_families(await scraped.text())}
        assert "noc_build_info" in names


async def test_app_refuses_an_unmigrated_database(sqlite_url: str) -> None:
    app = create_app(Settings(database_url=sqlite_url))
    client = TestClient(TestServer(app))
    try:
        with pytest.raises(OperationalError, match="run 'noc db upgrade'"):
            await client.start_server()
    finally:
        await client.close()


async def test_a_web_only_worker_fails_the_scrape_when_the_polling_process_does_not_answer(
    engine: object, db_url: str, tmp_path: object
) -> None:
    app = create_app(_settings(db_url), metrics_from=f"{tmp_path}/nobody.sock")
    async with TestClient(TestServer(app)) as client:
        scraped = await client.get("/metrics", headers=SCRAPE)
        assert scraped.status == 503  # Prometheus records the scrape as failed, not as an exposition without data
        assert "the polling process does not answer" in await scraped.text()
