"""A peer a test needs but this machine lacks: skipped on a developer's box, a failure in CI (which installs them
all: `make test` as root), so a broken CI machine can never pass by skipping the real peers."""

from __future__ import annotations

import os

import pytest


def need(available: bool, what: str) -> None:
    if available:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the real peers, but this machine lacks: {what}")
    pytest.skip(f"needs {what} (make test installs it as root)")
