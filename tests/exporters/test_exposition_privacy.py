"""A scrape of the running service over the example operator carries names, never a secret or personal data."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from noc import models as m
from noc.app import create_app
from noc.crypto import SecretBox
from noc.inventory import service as inventory
from noc.settings import PollerSettings, Settings, WebSettings
from tests.conftest import EXAMPLE_INVENTORY
from tests.noc.test_inventory_store import EXAMPLE_SECRETS

SCRAPE = {"Authorization": "Bearer scrape-token"}  # /metrics needs credentials


async def test_exposition_has_no_secret_or_personal_value(
    sessions: async_sessionmaker[AsyncSession], box: SecretBox, db_url: str, secret_key: str
) -> None:
    await inventory.import_file(sessions, box, EXAMPLE_INVENTORY, "test")
    now = datetime.now(UTC)
    async with sessions() as session:  # this month so far, measured available: month-to-date reads 100 %
        circuit = await session.scalar(select(m.Circuit).where(m.Circuit.name == "ACME-BJ-001"))
        assert circuit is not None
        session.add(
            m.SlaStateRun(
                circuit_id=circuit.id, start_at=now - timedelta(days=40), end_at=now, state="available", causes=[]
            )
        )
        await session.commit()
    # the poller runs (nothing answers on the example's ports): the snapshot carries the whole inventory
    settings = Settings(
        database_url=db_url,
        secret_key=secret_key,
        poller=PollerSettings(interval_s=3600, timeout_s=0.2, retries=0),
        web=WebSettings(metrics_token=SecretStr("scrape-token")),
    )
    async with TestClient(TestServer(create_app(settings))) as client:

        async def month_to_date() -> str:
            for _ in range(200):  # the month job runs as the service starts; bounded wait for its first result
                text = await (await client.get("/metrics", headers=SCRAPE)).text()
                if "noc_sla_month_availability_ratio{" in text:
                    return text
                await asyncio.sleep(0.05)
            raise AssertionError("no month-to-date series")

        text = await month_to_date()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert "noc_circuit_loss_ceiling_ratio" in families  # the example's circuits are there
    assert "ACME-BJ-001" in text and "pe-bj-01" in text
    month = {s.labels["circuit"]: s.value for s in families["noc_sla_month_availability_ratio"].samples}
    assert month == {"ACME-BJ-001": 1.0}
    for value in [*EXAMPLE_SECRETS, "ACME Bank Co., Ltd.", "karl", "Karl Key-Account"]:
        assert value not in text, value
