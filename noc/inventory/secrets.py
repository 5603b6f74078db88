"""Secret and personal-data values as an inventory file gives them: a literal, a ``${ENV_VAR}`` reference, or the
mask ``***`` (meaning "keep what is stored"). Exports and history write the reference or the mask, never the value.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator, ValidationInfo

MASK = "***"
_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")


class Secret:
    """A plain class, not a dataclass: model dumps must keep it whole, never expand it into its value."""

    __slots__ = ("plain", "ref")

    def __init__(self, plain: str | None, ref: str | None = None) -> None:
        self.plain = plain  # None: masked in the file; keep the stored value
        self.ref = ref  # the environment variable it was given as

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and (self.plain, self.ref) == (other.plain, other.ref)

    def __hash__(self) -> int:
        return hash((self.plain, self.ref))

    def __repr__(self) -> str:
        return f"Secret(ref={self.ref!r})" if self.ref else "Secret(***)"

    __str__ = __repr__

    @property
    def masked(self) -> bool:
        return self.plain is None


def _parse(value: Any, info: ValidationInfo) -> Secret:
    if isinstance(value, Secret):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value:
        raise ValueError("expected a non-empty string, a ${ENV_VAR} reference or the mask ***")
    if value == MASK:
        return Secret(None)
    match = _REF.match(value)
    if match is None:
        return Secret(value)
    name = match.group(1)
    environ = (info.context or {}).get("environ")
    if environ is None:  # export or history: the reference alone is enough
        return Secret(None, name)
    if name not in environ or not environ[name]:
        raise ValueError(f"environment variable {name} is not set")
    return Secret(environ[name], name)


def _serialise(value: Secret) -> str:
    return f"${{{value.ref}}}" if value.ref else MASK


SecretField = Annotated[Secret, PlainValidator(_parse), PlainSerializer(_serialise, return_type=str, when_used="json")]
