"""Serving an emulator: its aiohttp app until SIGINT or SIGTERM, then a clean shutdown."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable

from aiohttp import web


async def serve_until_stopped(
    app: web.Application,
    host: str,
    port: int,
    announce: Callable[[str, int], None],
    log: logging.Logger,
) -> None:
    """Listen on ``host:port``, call ``announce(host, port)``, and serve until signalled."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):  # before the port opens: a caller that
            loop.add_signal_handler(sig, stop.set)  # sees it open may signal at once
        await web.TCPSite(runner, host, port).start()
        announce(*runner.addresses[0][:2])
        await stop.wait()
        log.info("shutting down")
    finally:
        await runner.cleanup()
