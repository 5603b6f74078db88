"""Inventory import / export against SQLite and PostgreSQL: idempotent, all-or-nothing, history, secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from noc import models as m
from noc import secretstore
from noc.crypto import SecretBox, generate_key
from noc.errors import ValidationFailed
from noc.inventory import service
from tests.conftest import EXAMPLE_INVENTORY

Sessions = async_sessionmaker[AsyncSession]


async def snapshot(sessions: Sessions) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, secrets as stored tokens: any change at all shows as a difference."""
    out: dict[str, list[tuple[object, ...]]] = {}
    async with sessions() as session:
        for table in m.Base.metadata.sorted_tables:
            rows = (await session.execute(select(table).order_by(*table.primary_key.columns))).all()
            out[table.name] = [tuple(r) for r in rows]
    return out


async def test_round_trip_reports_nothing_to_change(sessions: Sessions, box: SecretBox, tmp_path: Path) -> None:
    first = await service.import_file(sessions, box, EXAMPLE_INVENTORY, "test")
    assert first.count("created") == 28 and first.count("updated") == 0

    again = await service.import_file(sessions, box, EXAMPLE_INVENTORY, "test")
    assert (again.count("created"), again.count("updated"), again.count("unchanged")) == (0, 0, 28)

    exported = tmp_path / "export.yaml"
    exported.write_text(await service.export_yaml(sessions, box))
    before = await snapshot(sessions)
    third = await service.import_file(sessions, box, exported, "test")
    assert (third.count("created"), third.count("updated"), third.count("unchanged")) == (0, 0, 28)
    assert await snapshot(sessions) == before


async def test_export_never_prints_a_secret(sessions: Sessions, box: SecretBox) -> None:
    await service.import_file(sessions, box, EXAMPLE_INVENTORY, "test")
    text = await service.export_yaml(sessions, box)
    for secret in EXAMPLE_SECRETS:
        assert secret not in text
    assert "community: '***'" in text


async def test_env_reference_is_exported_as_the_reference(sessions: Sessions, box: SecretBox, tmp_path: Path) -> None:
    inv = tmp_path / "inv.yaml"
    inv.write_text(EXAMPLE_INVENTORY.read_text().replace('"ro-Hx92mPq7Lz"', '"${RO_COMMUNITY}"'))
    env = {"RO_COMMUNITY": "from-the-environment-77"}
    await service.import_file(sessions, box, inv, "test", environ=env)
    text = await service.export_yaml(sessions, box)
    assert "community: ${RO_COMMUNITY}" in text and "from-the-environment-77" not in text
    exported = tmp_path / "export.yaml"
    exported.write_text(text)
    report = await service.import_file(sessions, box, exported, "test", environ=env)
    assert report.count("updated") == 0
    # the stored value is the environment's, so the poller needs no environment at run time
    async with sessions() as session:
        profile = await session.scalar(select(m.SnmpProfile).where(m.SnmpProfile.name == "access-v2c"))
        assert profile is not None and profile.community_enc is not None
        assert box.decrypt(profile.community_enc) == "from-the-environment-77"


async def test_changed_target_leaves_history(sessions: Sessions, box: SecretBox, tmp_path: Path) -> None:
    await service.import_file(sessions, box, EXAMPLE_INVENTORY, "karl")
    changed = tmp_path / "inv.yaml"
    changed.write_text(
        EXAMPLE_INVENTORY.read_text().replace('availability_target_pct: "99.95"', 'availability_target_pct: "99.99"')
    )
    report = await service.import_file(sessions, box, changed, "mei")
    assert [(c.kind, c.name, c.changed_fields) for c in report.changes if c.action == "updated"] == [
        ("contracts", "ACME-2026-01", ("sla.availability_target_pct",))
    ]
    async with sessions() as session:
        rows = (
            await session.scalars(
                select(m.ChangeRecord).where(m.ChangeRecord.entity_name == "ACME-2026-01").order_by(m.ChangeRecord.id)
            )
        ).all()
    assert [(r.action, r.actor) for r in rows] == [("created", "karl"), ("updated", "mei")]
    assert rows[1].before is not None and rows[1].after is not None
    assert rows[1].before["sla"]["availability_target_pct"] == "99.95"
    assert rows[1].after["sla"]["availability_target_pct"] == "99.99"


async def test_secret_change_is_detected_but_not_recorded_in_clear(
    sessions: Sessions, box: SecretBox, tmp_path: Path
) -> None:
    await service.import_file(sessions, box, EXAMPLE_INVENTORY, "test")
    changed = tmp_path / "inv.yaml"
    changed.write_text(EXAMPLE_INVENTORY.read_text().replace("ro-Hx92mPq7Lz", "ro-NewValue-5521"))
    report = await service.import_file(sessions, box, changed, "test")
    assert [(c.name, c.changed_fields) for c in report.changes if c.action == "updated"] == [
        ("access-v2c", ("community",))
    ]
    async with sessions() as session:
        history = (await session.scalars(select(m.ChangeRecord))).all()
    dumped = repr([(h.before, h.after) for h in history])
    assert "ro-NewValue-5521" not in dumped and "ro-Hx92mPq7Lz" not in dumped


async def test_failed_import_changes_nothing(sessions: Sessions, box: SecretBox, tmp_path: Path) -> None:
    await service.import_file(sessions, box, EXAMPLE_INVENTORY, "test")
    before = await snapshot(sessions)
    # valid YAML and types, so the import gets as far as the database: a new contact given as a mask
    bad = tmp_path / "inv.yaml"
    bad.write_text(
        EXAMPLE_INVENTORY.read_text()
        .replace('availability_target_pct: "99.95"', 'availability_target_pct: "99.0"')
        .replace("        name: Jonas Becker", "        name: '***'")
        .replace("      - role: it-lead", "      - role: it-deputy")
    )
    with pytest.raises(ValidationFailed) as info:
        await service.import_file(sessions, box, bad, "test")
    assert str(info.value).startswith(f"{bad}:119: accounts[2].contacts[0].name: masked value *** but nothing")
    assert await snapshot(sessions) == before


async def test_dry_run_writes_nothing(sessions: Sessions, box: SecretBox) -> None:
    report = await service.import_file(sessions, box, EXAMPLE_INVENTORY, "test", dry_run=True)
    assert report.count("created") == 28
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(m.Device)) == 0


async def test_removed_contact_takes_its_personal_data(sessions: Sessions, box: SecretBox, tmp_path: Path) -> None:
    await service.import_file(sessions, box, EXAMPLE_INVENTORY, "test")
    block = (
        "    contacts:\n      - role: it-lead\n        purpose: fault notification\n        name: Jonas Becker\n"
        "        email: j.becker@rhein-logistik.example\n"
    )
    text = EXAMPLE_INVENTORY.read_text()
    assert block in text
    trimmed = tmp_path / "inv.yaml"
    trimmed.write_text(text.replace(block, "    contacts: []\n"))
    report = await service.import_file(sessions, box, trimmed, "test")
    assert [(c.name, c.changed_fields) for c in report.changes if c.action == "updated"] == [
        ("rhein-logistik", ("contacts",))
    ]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(m.Contact)) == 2


async def test_rotation_leaves_everything_readable_with_the_new_key_alone(sessions: Sessions, secret_key: str) -> None:
    old = SecretBox.from_text(secret_key)
    await service.import_file(sessions, old, EXAMPLE_INVENTORY, "test")
    new_key = generate_key()
    async with sessions() as session:
        rotated = await secretstore.rotate(session, SecretBox.from_text(f"{new_key},{secret_key}"))
        await session.commit()
    # 2 SNMPv3 keys + 1 community + 2 SSH passwords + 3 contact names, 2 phones, 3 e-mails
    assert rotated == 13
    new_only = SecretBox.from_text(new_key)
    text = await service.export_yaml(sessions, new_only)  # decrypts every secret and contact
    assert "community: '***'" in text
    report = await service.import_file(sessions, new_only, EXAMPLE_INVENTORY, "test")
    assert report.count("updated") == 0


EXAMPLE_SECRETS = [
    "v3-auth-Kq8pZr2mX4",
    "v3-priv-Tn5wYb7cV1",
    "ro-Hx92mPq7Lz",
    "ssh-Pw4Rt8Ks2Dm",
    "ssh-Jn3Bv6Qx9Wa",
    "Wang Fang",
    "+86 10 5555 0101",
    "wang.fang@acme-bank.example",
    "Zhang Wei",
    "+86 21 5555 0202",
    "duty@city-gov.example",
    "Jonas Becker",
    "j.becker@rhein-logistik.example",
]
