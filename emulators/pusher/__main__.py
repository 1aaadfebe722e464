"""Command line: ``python -m emulators.pusher [--host HOST] [--port PORT]``."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import sys

from emulators.pusher.config import Config, load_config
from emulators.pusher.server import create_app
from emulators.serving import serve_until_stopped

log = logging.getLogger("emulators.pusher")


def parse_args(argv: list[str] | None, config: Config) -> Config:
    """Apply command-line overrides of host and port to ``config``."""
    parser = argparse.ArgumentParser(
        prog="python -m emulators.pusher",
        description="Local Pusher Channels server: HTTP API and WebSockets on one port.",
    )
    parser.add_argument("--host", default=config.host, help=f"default {config.host}")
    parser.add_argument("--port", type=int, default=config.port, help=f"default {config.port}")
    parser.add_argument("--log-level", default="INFO", help="default INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return dataclasses.replace(config, host=args.host, port=args.port)


async def serve(config: Config) -> None:
    """Serve until SIGINT or SIGTERM, then shut down cleanly."""

    def announce(host: str, port: int) -> None:
        log.info(
            "listening on http://%s:%d (WebSocket ws://%s:%d/app/%s) for app %s%s",
            host,
            port,
            host,
            port,
            config.key,
            config.app_id,
            f", webhooks to {config.webhook_url}" if config.webhook_url else "",
        )

    await serve_until_stopped(create_app(config), config.host, config.port, announce, log)


def main(argv: list[str] | None = None) -> int:
    """Run the emulator; return the process exit status."""
    config = parse_args(argv, load_config())
    try:
        asyncio.run(serve(config))
    except OSError as exc:
        log.error("cannot listen on %s:%d: %s", config.host, config.port, exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
