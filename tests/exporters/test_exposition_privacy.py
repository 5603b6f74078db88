"""A scrape of the running service over the example operator carries names, never a secret or personal data."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from noc.app import create_app
from noc.crypto import SecretBox
from noc.inventory import service as inventory
from noc.settings import PollerSettings, Settings
from tests.conftest import EXAMPLE_INVENTORY
from tests.noc.test_inventory_store import EXAMPLE_SECRETS


async def test_exposition_has_no_secret_or_personal_value(
    sessions: async_sessionmaker[AsyncSession], box: SecretBox, db_url: str, secret_key: str
) -> None:
    await inventory.import_file(sessions, box, EXAMPLE_INVENTORY, "test")
    # the poller runs (nothing answers on the example's ports): the snapshot carries the whole inventory
    settings = Settings(
        database_url=db_url, secret_key=secret_key, poller=PollerSettings(interval_s=3600, timeout_s=0.2, retries=0)
    )
    async with TestClient(TestServer(create_app(settings))) as client:
        text = await (await client.get("/metrics")).text()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert "noc_circuit_loss_ceiling_ratio" in families  # the example's circuits are there
    assert "ACME-BJ-001" in text and "pe-bj-01" in text
    for value in [*EXAMPLE_SECRETS, "ACME Bank Co., Ltd.", "karl", "Karl Key-Account"]:
        assert value not in text, value
