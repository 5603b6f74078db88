"""Third-party browser code the app serves from ``node_modules`` (npm, installed by ``make`` through ``npm ci``;
never copied into the repository, never loaded from the internet: a NOC may be offline)."""

from __future__ import annotations

import logging
from pathlib import Path

from aiohttp import web

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent


def node_modules(configured: Path | None) -> Path:
    """``web.assets_dir`` when set, else the ``node_modules`` beside the source tree."""
    return configured if configured is not None else HERE.parent / "node_modules"


def serve_vendor(app: web.Application, prefix: str, directory: Path, files: tuple[str, ...], what: str) -> bool:
    """Serve ``directory`` at ``prefix`` when every one of ``files`` is there; else say once what is missing."""
    if all((directory / f).is_file() for f in files):
        app.router.add_static(prefix, directory)
        return True
    log.warning("web: %s is not installed at %s (run `make` or `npm ci`)", what, directory)
    return False
