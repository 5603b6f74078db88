"""Secrets at rest: Fernet tokens under a MultiFernet key ring (first key encrypts, every key decrypts).

Rotation: put a new key first (``NOC_SECRET_KEY=new,old``), run ``noc secrets rotate``, then drop the old key.
Every value decrypted here is registered with the log redactor, so it cannot leak through a log line.
"""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from noc.errors import SecretError
from noc.logsafe import redactor
from noc.settings import Settings

log = logging.getLogger(__name__)


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


def _parse_keys(text: str, origin: str) -> list[bytes]:
    keys = [k.strip() for k in text.replace("\n", ",").split(",") if k.strip() and not k.strip().startswith("#")]
    if not keys:
        raise SecretError(f"{origin}: no key found")
    out = []
    for i, key in enumerate(keys):
        try:
            Fernet(key.encode("ascii"))
        except (ValueError, UnicodeEncodeError) as exc:
            # Never echo the key: say which one, not what it is.
            raise SecretError(f"{origin}: key #{i + 1} is not a valid Fernet key (32 url-safe base64 bytes)") from exc
        out.append(key.encode("ascii"))
    return out


class SecretBox:
    """Encrypts and decrypts secret strings, and gives keys for encrypting files (backups) derived from the same
    ring. ``repr`` shows how many keys, never a key."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise SecretError("no secret key configured")
        self._ring = MultiFernet([Fernet(k) for k in keys])
        self._material = [base64.urlsafe_b64decode(k) for k in keys]
        self.key_count = len(keys)

    def __repr__(self) -> str:
        return f"SecretBox(keys={self.key_count})"

    @classmethod
    def from_text(cls, text: str, origin: str = "NOC_SECRET_KEY") -> SecretBox:
        return cls(_parse_keys(text, origin))

    def encrypt(self, plain: str) -> str:
        return self._ring.encrypt(plain.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            plain = self._ring.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError) as exc:
            raise SecretError("a stored secret cannot be decrypted with the configured keys") from exc
        redactor.register(plain)
        return plain

    def file_keys(self, salt: bytes) -> list[bytes]:
        """A 256-bit key per key of the ring (the first is the one to write with) for encrypting a file under
        ``salt``; derived (HKDF-SHA256), so a file key never opens a stored secret nor the other way round."""
        return [
            HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"noc file encryption").derive(material)
            for material in self._material
        ]

    def rotate(self, token: str) -> str:
        """The same secret re-encrypted under the first key."""
        try:
            return self._ring.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken as exc:
            raise SecretError("a stored secret cannot be decrypted with the configured keys") from exc


DEFAULT_KEY_FILE = Path("noc.key")


def secret_box_for(settings: Settings) -> SecretBox:
    """The key ring the settings name (``NOC_SECRET_KEY``, ``NOC_SECRET_KEY_FILE``, else ``./noc.key``)."""
    key = settings.secret_key.get_secret_value() if settings.secret_key else None
    return load_secret_box(key, settings.secret_key_file, DEFAULT_KEY_FILE)


def load_secret_box(secret_key: str | None, key_file: Path | None, default_file: Path) -> SecretBox:
    """The key ring from the setting, else the key file, else ``default_file`` (created 0600 on first use)."""
    if secret_key:
        return SecretBox.from_text(secret_key)
    path = key_file or default_file
    if key_file is None and not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(generate_key() + "\n")
        log.warning("created a new secret key file %s; back it up: stored secrets are unreadable without it", path)
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeError) as exc:
        raise SecretError(f"{path}: cannot read the secret key file") from exc
    return SecretBox.from_text(text, str(path))
