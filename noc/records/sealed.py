"""A file sealed under the secret key ring: AES-256-GCM in chunks of 1 MiB, each authenticated with the file's
header, numbered (no chunk can be dropped, repeated or moved) and the last one marked (a cut-off file is found).
The key is derived from the ring's first key with a random salt (``SecretBox.file_keys``); any key of the ring
opens the file, so a key rotation does not strand older backups while the old key is kept.

Layout: ``MAGIC``, 16 bytes of salt, 7 bytes of nonce prefix, then per chunk its 4-byte length and ciphertext.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from noc.crypto import SecretBox
from noc.records.errors import RecordsInputError

MAGIC = b"NOC-SEALED-1\n"
CHUNK = 1 << 20
_SALT, _PREFIX, _TAG = 16, 7, 16


class SealError(RecordsInputError):
    """The sealed file is not one, was cut off or changed, or no configured key opens it."""

    def __init__(self, reason: str) -> None:
        super().__init__("file", reason)


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    return prefix + counter.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def seal(plain: Path, out: IO[bytes], box: SecretBox) -> None:
    """Write ``plain`` sealed to ``out``."""
    salt, prefix = os.urandom(_SALT), os.urandom(_PREFIX)
    header = MAGIC + salt + prefix
    aead = AESGCM(box.file_keys(salt)[0])
    out.write(header)
    with plain.open("rb") as fh:
        chunk, counter = fh.read(CHUNK), 0
        while True:
            following = fh.read(CHUNK)
            sealed = aead.encrypt(_nonce(prefix, counter, not following), chunk, header)
            out.write(len(sealed).to_bytes(4, "big") + sealed)
            if not following:
                return
            chunk, counter = following, counter + 1


def unseal(source: Path, out: IO[bytes], box: SecretBox) -> None:
    """Write the plain content of the sealed ``source`` to ``out``; SealError says what is wrong with it."""
    with source.open("rb") as fh:
        header = fh.read(len(MAGIC) + _SALT + _PREFIX)
        if not header.startswith(MAGIC) or len(header) < len(MAGIC) + _SALT + _PREFIX:
            raise SealError(f"{source}: not a sealed noc backup")
        salt, prefix = header[len(MAGIC) : len(MAGIC) + _SALT], header[len(MAGIC) + _SALT :]
        candidates = [AESGCM(key) for key in box.file_keys(salt)]
        counter = 0
        while True:
            raw = fh.read(4)
            size = int.from_bytes(raw, "big") if len(raw) == 4 else -1
            sealed = fh.read(size) if 0 <= size <= CHUNK + _TAG else b""
            if len(sealed) != size or size < _TAG:
                raise SealError(f"{source}: cut off or damaged after {counter} MiB (no final part)")
            plain, last, candidates = _open_chunk(candidates, prefix, counter, sealed, header, source)
            out.write(plain)
            if last:
                if fh.read(1):
                    raise SealError(f"{source}: data after the final part")
                return
            counter += 1


def _open_chunk(
    candidates: list[AESGCM], prefix: bytes, counter: int, sealed: bytes, header: bytes, source: Path
) -> tuple[bytes, bool, list[AESGCM]]:
    """The chunk's plain bytes, whether it is the last, and the key that opened it (the only one tried next)."""
    for aead in candidates:
        for last in (False, True):
            try:
                return aead.decrypt(_nonce(prefix, counter, last), sealed, header), last, [aead]
            except InvalidTag:
                continue
    if counter == 0:
        raise SealError(f"{source}: no configured secret key opens it (or its first part is damaged)")
    raise SealError(f"{source}: part {counter + 1} was changed or is out of place")
