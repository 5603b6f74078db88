"""``noc sla report`` and ``noc sla status`` as a key-account manager and a NOC engineer run them."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from noc import dbadmin
from noc import models as m
from noc.crypto import SecretBox
from noc.db import create_engine, session_factory
from noc.inventory import service
from tests.noc.test_sla_engine import INVENTORY
from tests.noccli import noc, noc_env


@pytest.fixture
def lab(tmp_path: Path, secret_key: str) -> dict[str, str]:
    """A database with one contract, a month of stored runs with a 70-minute outage, and an open breach."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'noc.db'}"

    async def seed() -> None:
        engine = create_engine(url)
        await dbadmin.upgrade(engine)
        sessions: async_sessionmaker[AsyncSession] = session_factory(engine)
        path = tmp_path / "inv.yaml"
        path.write_text(INVENTORY)
        await service.import_file(sessions, SecretBox.from_text(secret_key), path, "test")
        may, down = datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
        async with sessions() as session:
            circuit = (await session.scalars(select(m.Circuit))).one()
            session.add_all(
                [
                    m.SlaStateRun(circuit_id=circuit.id, start_at=may, end_at=down, state="available", causes=[]),
                    m.SlaStateRun(
                        circuit_id=circuit.id,
                        start_at=down,
                        end_at=down + timedelta(minutes=70),
                        state="unavailable",
                        causes=["interface_down"],
                    ),
                    m.SlaStateRun(
                        circuit_id=circuit.id,
                        start_at=down + timedelta(minutes=70),
                        end_at=datetime(2026, 6, 1, tzinfo=UTC),
                        state="available",
                        causes=[],
                    ),
                    m.SlaBreachRecord(
                        circuit_id=circuit.id, objective="latency", measured=31.5, limit=20.0, since=down
                    ),
                ]
            )
            await session.commit()
        await engine.dispose()

    import asyncio

    asyncio.run(seed())
    return noc_env(
        NOC_DATABASE_URL=url,
        NOC_SECRET_KEY=secret_key,
    )


def test_report_in_three_formats(lab: dict[str, str], tmp_path: Path) -> None:
    as_json = noc(lab, "sla", "report", "--contract", "c1", "--month", "2026-05", "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    text = as_json.stdout
    assert "99.84" in text and '"100.00"' in text  # 100 x (44,640 - 70) / 44,640; 10 % of 1,000.00
    json.loads(text)
    as_csv = noc(lab, "sla", "report", "--contract", "c1", "--month", "2026-05", "--format", "csv")
    assert as_csv.returncode == 0, as_csv.stderr
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert (rows[0]["row"], rows[0]["circuit"]) == ("circuit", "ckt-1")
    assert rows[0]["availability_pct"].startswith("99.84")
    pdf = tmp_path / "report.pdf"
    made = noc(lab, "sla", "report", "--contract", "c1", "--month", "2026-05", "--format", "pdf", "--output", str(pdf))
    assert made.returncode == 0, made.stderr
    assert pdf.read_bytes().startswith(b"%PDF")


def test_the_customer_s_copy(lab: dict[str, str], tmp_path: Path) -> None:
    pdf = tmp_path / "customer.pdf"
    args = ["--contract", "c1", "--month", "2026-05", "--format", "pdf", "--output", str(pdf)]
    made = noc(lab, "sla", "report", *args, "--audience", "customer")
    assert made.returncode == 0, made.stderr
    internal = tmp_path / "internal.pdf"
    noc(lab, "sla", "report", *args[:-1], str(internal))
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.read_bytes() != internal.read_bytes()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--contract", "nope", "--month", "2026-05"], "--contract: no contract named 'nope'"),
        (["--contract", "c1", "--month", "2026-13"], "--month: month '2026-13' is not YYYY-MM"),
        (["--contract", "c1", "--month", "0001-01"], "month 0001-01 is outside 1970-01 .. 9998-12"),
        (["--contract", "c1", "--month", "2026-05", "--format", "pdf"], "--output: a PDF needs a file to go to"),
        (
            ["--contract", "c1", "--month", "2026-05", "--audience", "customer"],
            "--format: the customer's copy is a PDF",
        ),
    ],
)
def test_bad_report_requests_exit_2(lab: dict[str, str], args: list[str], message: str) -> None:
    result = noc(lab, "sla", "report", *args)
    assert result.returncode == 2 and message in result.stderr


def test_status_lists_open_breaches(lab: dict[str, str]) -> None:
    result = noc(lab, "sla", "status", "--json")
    assert result.returncode == 0
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {
            "circuit": "ckt-1",
            "objective": "latency",
            "measured": 31.5,
            "limit": 20.0,
            "since": "2026-05-10T12:00:00+00:00",
        }
    ]
