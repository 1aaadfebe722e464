"""Watch a streamer's Pusher channel and print each event as it arrives.

    python -m scripts.watch cool_user [--host 127.0.0.1] [--port 6001] [--key local-key]

The channel is private: the watcher signs its own subscription with the app's secret
(``PUSHER_SECRET``), as the web does for the viewer's page.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import threading

import pysher

from shared.events import channel_name


def main(argv=None) -> None:
    """Subscribe to the channel and print events until Ctrl-C."""
    args = parser().parse_args(argv)
    client = pysher.Pusher(
        args.key,
        custom_host=args.host,
        port=args.port,
        secure=False,
        secret=args.secret,
        log_level=logging.WARNING,
    )
    channel_to_watch = channel_name(args.login)
    subscribed = threading.Event()

    def subscribe(_data):
        channel = client.subscribe(channel_to_watch)
        print_every_event(channel)
        channel.bind("pusher_internal:subscription_succeeded", lambda _: subscribed.set())
        print(
            f"watching channel {channel_to_watch!r} on {args.host}:{args.port} (Ctrl-C stops)",
            flush=True,
        )

    client.connection.bind("pusher:connection_established", subscribe)
    client.connect()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        client.disconnect(timeout=2)


def print_every_event(channel) -> None:
    """Print each event the channel receives, whatever its name (pysher only calls the
    callbacks bound to a name, so the channel's event handler is wrapped)."""
    handle = channel._handle_event

    def print_then_handle(event_name: str, data) -> None:
        if not event_name.startswith("pusher"):
            print_event(event_name, data)
        handle(event_name, data)

    channel._handle_event = print_then_handle


def print_event(name: str, data: str) -> None:
    """One line per event: its type and the message a person reads (the raw data for an
    event that has none)."""
    try:
        event = json.loads(data)
    except (TypeError, ValueError):
        event = None
    if not isinstance(event, dict):
        event = {}
    print(f"{event.get('occurred_at', '')}  {name:15}  {event.get('message', data)}", flush=True)


def parser() -> argparse.ArgumentParser:
    """The command-line interface; defaults come from the local run's settings."""
    cli = argparse.ArgumentParser(
        prog="python -m scripts.watch",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cli.add_argument("login", help="the streamer's login")
    cli.add_argument("--host", default=os.environ.get("PUSHER_HOST", "127.0.0.1"))
    cli.add_argument("--port", type=int, default=int(os.environ.get("PUSHER_PORT") or 6001))
    cli.add_argument("--key", default=os.environ.get("PUSHER_KEY", "local-key"))
    cli.add_argument(
        "--secret",
        default=os.environ.get("PUSHER_SECRET", "local-secret"),
        help="the Pusher app's secret (default: $PUSHER_SECRET)",
    )
    return cli


if __name__ == "__main__":
    main()
