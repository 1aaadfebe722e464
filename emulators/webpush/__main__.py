"""Command line: ``python -m emulators.webpush [--host HOST] [--port PORT]``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from emulators.serving import serve_until_stopped
from emulators.webpush.server import create_app

log = logging.getLogger("emulators.webpush")


def main(argv: list[str] | None = None) -> int:
    """Run the stand-in until SIGINT or SIGTERM; the process exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m emulators.webpush",
        description="Local Web Push service: takes aes128gcm pushes with VAPID, records them.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1")
    parser.add_argument("--port", type=int, default=8090, help="default 8090")
    parser.add_argument("--log-level", default="INFO", help="default INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    def announce(host: str, port: int) -> None:
        log.info("listening on http://%s:%d (push to /push/<id>)", host, port)

    try:
        asyncio.run(serve_until_stopped(create_app(), args.host, args.port, announce, log))
    except OSError as error:
        log.error("cannot listen on %s:%d: %s", args.host, args.port, error)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
