"""The one exception root of the noc package, and the split the CLI turns into exit codes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class NocError(Exception):
    """Root of every error the noc package raises on purpose."""


class OperationalError(NocError):
    """Something outside the input failed (database unreachable, key file unreadable): exit code 1."""


class InputError(NocError):
    """The caller's input is wrong (file, body, option): exit code 2. Nothing was changed."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input, located: ``inventory.yaml:42: circuits[3].device: no device named 'pe-9'``."""

    source: str
    line: int | None
    field: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line is not None else self.source
        return f"{where}: {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"


class ValidationFailed(InputError):
    """An input has one or more located problems; ``str()`` lists them one per line."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class SecretError(OperationalError):
    """A secret cannot be decrypted or the key material is unusable. Never carries the secret itself."""
