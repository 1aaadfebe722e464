"""Command line: python -m emulators.twitch [--host H] [--port P] [--roster FILE].

python -m emulators.twitch control ... drives a running emulator instead
(see python -m emulators.twitch control --help).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import sys

from emulators.serving import serve_until_stopped
from emulators.twitch.config import Config, load_config
from emulators.twitch.roster import RosterError, load_records
from emulators.twitch.server import create_app

log = logging.getLogger("emulators.twitch")


def parse_args(argv: list[str] | None, config: Config) -> Config:
    """Apply command-line overrides of host, port and roster to ``config``."""
    parser = argparse.ArgumentParser(
        prog="python -m emulators.twitch",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default=config.host, help=f"default {config.host}")
    parser.add_argument("--port", type=int, default=config.port, help=f"default {config.port}")
    parser.add_argument(
        "--roster",
        default=config.roster_path,
        help="JSON list of users replacing the default roster",
    )
    parser.add_argument("--log-level", default="INFO", help="default INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    return dataclasses.replace(config, host=args.host, port=args.port, roster_path=args.roster)


async def serve(config: Config, records: list[dict]) -> None:
    """Serve until SIGINT or SIGTERM, then shut down cleanly."""

    def announce(host: str, port: int) -> None:
        log.info(
            "Twitch emulator listening on http://%s:%d (OAuth /oauth2, Helix /helix, "
            "controls /_emulator) for client %s with %d users",
            host,
            port,
            config.client_id,
            len(records),
        )

    await serve_until_stopped(create_app(config, records), config.host, config.port, announce, log)


def main(argv: list[str] | None = None) -> int:
    """Run the emulator, or the control command; return the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["control"]:
        from emulators.twitch.control_cli import main as control_main

        return control_main(argv[1:])
    config = parse_args(argv, load_config())
    try:
        records = load_records(config.roster_path)
        asyncio.run(serve(config, records))
    except RosterError as exc:
        log.error("%s", exc)
        return 2
    except OSError as exc:
        log.error("cannot listen on %s:%d: %s", config.host, config.port, exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
