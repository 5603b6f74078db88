"""An aiohttp app served from its own thread and event loop, so blocking clients (urllib under hypothesis) can
drive it from the test's thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from aiohttp import web


@contextmanager
def serve_in_thread(app: web.Application) -> Iterator[str]:
    """Yields the base URL of ``app`` on a free loopback port; stops it, and its loop, on exit."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, access_log=None)  # its lines would outlive pytest's capture of this thread
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    host, port = runner.addresses[0][:2]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{port}"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.run_until_complete(runner.cleanup())
        loop.close()
