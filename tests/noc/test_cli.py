"""The ``noc`` command end to end, as an operator runs it: exit codes, files, logs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from noc.crypto import generate_key
from tests.conftest import EXAMPLE_INVENTORY
from tests.noc.test_inventory_store import EXAMPLE_SECRETS
from tests.noccli import noc, noc_env


class Cli:
    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir, self.env = workdir, env

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return noc({**self.env, **(env or {})}, *args, cwd=self.workdir)


def _cli(tmp_path: Path, url: str, secret_key: str) -> Cli:
    run = Cli(tmp_path, noc_env(NOC_DATABASE_URL=url, NOC_SECRET_KEY=secret_key))
    upgraded = run("db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    return run


@pytest.fixture
def cli(tmp_path: Path, sqlite_url: str, secret_key: str) -> Cli:
    """The CLI on SQLite; the storage tests cover both databases, the round trip below runs on both too."""
    return _cli(tmp_path, sqlite_url, secret_key)


def test_import_export_reimport_changes_nothing(tmp_path: Path, db_url: str, secret_key: str) -> None:
    cli = _cli(tmp_path, db_url, secret_key)
    first = cli("inventory", "import", str(EXAMPLE_INVENTORY))
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().endswith("28 created, 0 updated, 0 unchanged")
    export = cli("inventory", "export")
    assert export.returncode == 0
    (tmp_path / "export.yaml").write_text(export.stdout)
    again = cli("inventory", "import", str(tmp_path / "export.yaml"))
    assert again.returncode == 0
    assert again.stdout.strip().endswith("0 created, 0 updated, 28 unchanged")


def test_no_secret_in_database_file_export_or_logs(tmp_path: Path, secret_key: str) -> None:
    """SQLite file, its WAL, the export and DEBUG logs of every command: no secret or personal value anywhere."""
    db = tmp_path / "noc.db"
    run = Cli(tmp_path, noc_env(NOC_DATABASE_URL=f"sqlite+aiosqlite:///{db}", NOC_SECRET_KEY=secret_key))
    outputs = [
        run("-v", "db", "upgrade"),
        run("-v", "inventory", "import", str(EXAMPLE_INVENTORY)),
        run("-v", "inventory", "export"),
        run("-v", "history", "--json", "--limit", "100"),
        run("-v", "secrets", "rotate"),
    ]
    assert [o.returncode for o in outputs] == [0, 0, 0, 0, 0], [o.stderr for o in outputs]
    assert "DEBUG" in "".join(o.stderr for o in outputs)  # the logs were really at DEBUG
    haystacks = {p.name: p.read_bytes() for p in tmp_path.glob("noc.db*")}
    haystacks |= {f"out{i}": (o.stdout + o.stderr).encode() for i, o in enumerate(outputs)}
    for secret in EXAMPLE_SECRETS:
        for name, blob in haystacks.items():
            assert secret.encode() not in blob, f"{secret!r} found in {name}"


def test_broken_inventory_exits_2_and_leaves_database_unchanged(cli: Cli, tmp_path: Path) -> None:
    assert cli("inventory", "import", str(EXAMPLE_INVENTORY)).returncode == 0
    before = cli("inventory", "export").stdout
    history_before = cli("history", "--json", "--limit", "1000").stdout
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        EXAMPLE_INVENTORY.read_text()
        .replace('availability_target_pct: "99.95"', 'availability_target_pct: "99.0"')  # a change that must not land
        .replace("device: pe-sh-01, interface: ge-0/0/4", "device: pe-9, interface: ge-0/0/4")
    )
    result = cli("inventory", "import", str(broken))
    assert result.returncode == 2
    assert f"{broken}:192: circuits[3].device: no device named 'pe-9'" in result.stderr
    assert cli("inventory", "export").stdout == before
    assert cli("history", "--json", "--limit", "1000").stdout == history_before


def test_validate_needs_no_database(tmp_path: Path) -> None:
    run = Cli(tmp_path, noc_env(NOC_DATABASE_URL="postgresql+asyncpg://nobody@127.0.0.1:1/none"))
    ok = run("inventory", "validate", str(EXAMPLE_INVENTORY))
    assert ok.returncode == 0 and "valid (6 users" in ok.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("devices:\n  - name: pe-1\n    platform: [x\n")
    result = run("inventory", "validate", str(bad))
    assert result.returncode == 2 and result.stderr.startswith(f"error: {bad}:")


def test_unreachable_database_is_an_operational_failure(tmp_path: Path) -> None:
    result = Cli(tmp_path, noc_env(NOC_DATABASE_URL="postgresql+asyncpg://nobody@127.0.0.1:1/none"))("db", "upgrade")
    assert result.returncode == 1 and "database upgrade failed" in result.stderr


def test_usage_errors_exit_2(cli: Cli) -> None:
    result = cli("inventory", "import")
    assert result.returncode == 2 and "required" in result.stderr
    assert cli("--help").returncode == 0
    assert cli("inventory", "import", "/nonexistent.yaml").returncode == 2


def test_bad_settings_name_the_variable(cli: Cli) -> None:
    result = cli("db", "current", env={"NOC_POLLER__INTERVAL_S": "-5"})
    assert result.returncode == 2
    assert "environment: NOC_POLLER__INTERVAL_S: Input should be greater than 0" in result.stderr


def test_rotation_then_new_key_alone(cli: Cli, secret_key: str) -> None:
    assert cli("inventory", "import", str(EXAMPLE_INVENTORY)).returncode == 0
    new_key = generate_key()
    rotated = cli("secrets", "rotate", env={"NOC_SECRET_KEY": f"{new_key},{secret_key}"})
    assert rotated.returncode == 0 and "re-encrypted 13 stored secrets" in rotated.stdout
    again = cli("inventory", "import", str(EXAMPLE_INVENTORY), env={"NOC_SECRET_KEY": new_key})
    assert again.returncode == 0 and again.stdout.strip().endswith("0 created, 0 updated, 28 unchanged")
    old_only = cli("inventory", "export", env={"NOC_SECRET_KEY": secret_key})
    assert old_only.returncode == 1 and "cannot be decrypted" in old_only.stderr


def test_history_shows_before_and_after(cli: Cli, tmp_path: Path) -> None:
    assert cli("inventory", "import", str(EXAMPLE_INVENTORY)).returncode == 0
    changed = tmp_path / "inv.yaml"
    changed.write_text(
        EXAMPLE_INVENTORY.read_text().replace('availability_target_pct: "99.9"\n', 'availability_target_pct: "99.8"\n')
    )
    assert cli("inventory", "import", str(changed), "--actor", "mei").returncode == 0
    shown = cli("history", "--entity", "contracts", "--name", "CITYGOV-2025-07")
    assert shown.returncode == 0
    lines = shown.stdout.splitlines()
    assert "mei" in lines[0] and "updated  contract CITYGOV-2025-07" in lines[0]
    assert lines[1].strip() == 'sla.availability_target_pct: "99.9" -> "99.8"'
