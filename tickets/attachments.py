"""Photos and files attached to a ticket's worklog, checked before anything is stored. Pure.

The type is what the content is, never what its name or the browser claims: JPEG, PNG, WebP, PDF by their
signatures, plain text when it is UTF-8 without control characters; anything else is refused naming what is
accepted. The size is bounded by ``attachment_max_bytes``; the SHA-256 of the content is stored with it, so a
changed file is detectable and the same file attached twice is recognised.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

from tickets.errors import InvalidRequest

MAX_NAME = 200
ACCEPTED = "JPEG, PNG or WebP photos, PDF or plain text"
# (signature at offset 0, media type); WebP is RIFF....WEBP (checked apart)
_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
)
IMAGES = frozenset({"image/jpeg", "image/png", "image/webp"})


def media_type_of(content: bytes) -> str | None:
    """The media type the content is, or None when it is none of the accepted kinds."""
    for signature, media_type in _SIGNATURES:
        if content.startswith(signature):
            return media_type
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in text):
        return None
    return "text/plain"


def clean_name(name: str) -> str:
    """The file's own name (a browser may send a whole path), printable, bounded."""
    base = PureWindowsPath(PurePosixPath(name.strip()).name).name
    return "".join(ch for ch in base if ch.isprintable()).strip()[:MAX_NAME]


@dataclass(frozen=True, slots=True)
class CheckedFile:
    filename: str
    media_type: str
    size_bytes: int
    sha256: str


def check_file(name: str, content: bytes, max_bytes: int) -> CheckedFile:
    """The file as it will be stored, or ``InvalidRequest`` naming the field: ``file`` (empty, too large, not an
    accepted type) or ``filename``."""
    filename = clean_name(name)
    if not filename:
        raise InvalidRequest("filename: the file needs a name")
    if not content:
        raise InvalidRequest("file: the file is empty")
    if len(content) > max_bytes:
        raise InvalidRequest(f"file: {len(content):,} bytes is more than the {max_bytes:,} allowed")
    media_type = media_type_of(content)
    if media_type is None:
        raise InvalidRequest(f"file: {filename} is not one of the accepted kinds ({ACCEPTED})")
    return CheckedFile(filename, media_type, len(content), hashlib.sha256(content).hexdigest())
