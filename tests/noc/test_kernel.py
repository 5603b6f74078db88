"""Settings, located YAML, the secret box and the log redactor."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from noc import yamlsrc
from noc.crypto import SecretBox, generate_key, load_secret_box
from noc.errors import SecretError, ValidationFailed
from noc.logsafe import RedactingFilter
from noc.settings import load_settings


def test_settings_defaults_work_out_of_the_box(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NOC_CONFIG", "NOC_DATABASE_URL", "NOC_SECRET_KEY", "NOC_SECRET_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///./noc.db"
    assert settings.poller.interval_s == 60 and settings.poller.down_after_failures == 3


def test_environment_wins_over_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "noc.yaml"
    config.write_text("database_url: sqlite+aiosqlite:///from-file.db\npoller:\n  interval_s: 120\n  retries: 2\n")
    monkeypatch.setenv("NOC_POLLER__INTERVAL_S", "15")
    settings = load_settings(config)
    assert settings.database_url == "sqlite+aiosqlite:///from-file.db"
    assert (settings.poller.interval_s, settings.poller.retries) == (15, 2)


def test_bad_config_file_names_line_and_field(tmp_path: Path) -> None:
    config = tmp_path / "noc.yaml"
    config.write_text("poller:\n  interval_s: 60\n  concurrency: none\n  colour: blue\n")
    with pytest.raises(ValidationFailed) as info:
        load_settings(config)
    assert [str(p) for p in info.value.problems] == [
        f"{config}:3: poller.concurrency: Input should be a valid integer, unable to parse string as an integer",
        f"{config}:4: poller.colour: Extra inputs are not permitted",
    ]


def test_located_yaml_lines_and_duplicates() -> None:
    doc = yamlsrc.load("a:\n  - x: 1\n    y: 2\n  - x: 3\n", "f.yaml")
    assert doc.line_of(("a", 1, "x")) == 4
    assert doc.line_of(("a", 0, "missing")) == 2  # falls back to the parent
    with pytest.raises(ValidationFailed, match=r"f.yaml:3: a.b: duplicate key"):
        yamlsrc.load("a:\n  b: 1\n  b: 2\n", "f.yaml")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("a: &a [*a]\n", "f.yaml:1: a[0]: an alias refers to itself"),
        ("a: &a {b: *a}\n", "f.yaml:1: a.b: an alias refers to itself"),
        ("a: " + "[" * 70 + "]" * 70 + "\n", "nested too deeply"),
        ("a: " + "[" * 5000 + "]" * 5000 + "\n", "f.yaml: nested too deeply"),
    ],
    ids=["self-list", "self-map", "deep", "very-deep"],
)
def test_cyclic_or_deep_documents_are_refused_not_crashed(text: str, reason: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        yamlsrc.load(text, "f.yaml")
    assert reason in str(info.value)


def test_alias_bomb_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlsrc, "MAX_NODES", 1000)
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    bomb += "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
    with pytest.raises(ValidationFailed, match="document too large"):
        yamlsrc.load(bomb, "f.yaml")


def test_secret_box_round_trip_and_rotation() -> None:
    old, new = generate_key(), generate_key()
    token = SecretBox.from_text(old).encrypt("community-42")
    ring = SecretBox.from_text(f"{new},{old}")
    rotated = ring.rotate(token)
    assert SecretBox.from_text(new).decrypt(rotated) == "community-42"
    with pytest.raises(SecretError) as info:
        SecretBox.from_text(old).decrypt(rotated)
    assert "community-42" not in str(info.value)


def test_bad_key_is_named_not_echoed() -> None:
    good = generate_key()
    with pytest.raises(SecretError) as info:
        SecretBox.from_text(f"{good},not-a-key-at-all")
    assert str(info.value) == "NOC_SECRET_KEY: key #2 is not a valid Fernet key (32 url-safe base64 bytes)"
    assert good not in repr(SecretBox.from_text(good))


def test_default_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "noc.key"
    first = load_secret_box(None, None, path)
    assert path.stat().st_mode & 0o777 == 0o600
    token = first.encrypt("x-secret")
    assert load_secret_box(None, None, path).decrypt(token) == "x-secret"
    Fernet(path.read_text().strip().encode())  # a real key


def test_decrypted_values_never_reach_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    box = SecretBox.from_text(generate_key())
    plain = box.decrypt(box.encrypt("ssh-very-secret-9"))
    logger = logging.getLogger("test.redaction")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger="test.redaction"):
        logger.info("login with %s failed", plain)
    assert caplog.messages == ["login with *** failed"]


def test_a_billion_laughs_is_refused_before_anything_is_built() -> None:
    # Nine levels of nine: a billion values from 30 written ones. Counted on the composed graph, not expanded.
    bomb = 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    bomb += "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10))
    with pytest.raises(ValidationFailed, match=r"f.yaml:1: aliases would expand \d+ values to more than"):
        yamlsrc.load(bomb, "f.yaml")


def test_a_modest_alias_is_still_fine() -> None:
    text = "base: &w {day: sun, start: '02:00'}\nwindows: [*w, *w, *w]\n"
    assert yamlsrc.load(text, "f.yaml").data["windows"] == [{"day": "sun", "start": "02:00"}] * 3
