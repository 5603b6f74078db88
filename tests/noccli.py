"""Running the ``noc`` command as an operator does, in a child process, with settings from the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

NOC = [sys.executable, "-m", "noc"]


def noc_env(**settings: str) -> dict[str, str]:
    """This process's environment without any NOC_* variable, plus ``settings`` (e.g. NOC_DATABASE_URL=...)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("NOC_")} | settings


def noc(
    env: dict[str, str], *args: str, cwd: Path | None = None, timeout_s: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*NOC, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout_s, check=False
    )
