"""Request bodies as the API reads them: JSON of any depth is data or a 400, never a crash."""

from __future__ import annotations

import json
from typing import Any

from noc.api.errors import ApiError


def load_json(raw: bytes) -> Any:
    """The body's JSON value; malformed, undecodable or nested past what the parser recurses into: 400."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise ApiError(400, "body: not valid JSON", "body") from exc


def has_nul(value: Any) -> bool:
    """Whether any string (key or value) holds NUL, which PostgreSQL text cannot: walked without recursion, so a
    document nested as deep as the parser allows cannot exhaust the stack here."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False
