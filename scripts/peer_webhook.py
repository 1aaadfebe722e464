"""The peer the benchmark measures the intake against: pyTwitchAPI's EventSub webhook
receiver (``twitchAPI.eventsub.webhook.EventSubWebhook``, aiohttp, one process), with a
callback that does nothing, for the subscriptions of the benchmark's notifications.

    python -m scripts.peer_webhook --port 9000 --secret S --requests requests.tsv

It answers at ``/callback``. It keeps nothing (an event is gone if the process dies)
and checks no timestamp window, so it is the floor an intake that keeps its promises
has to beat, not a design to follow. It needs no network: nothing is subscribed at
Twitch, the subscriptions are only made known to the receiver.
"""

from __future__ import annotations

import argparse
import json
import threading
from pathlib import Path

from twitchAPI.eventsub.webhook import EventSubWebhook
from twitchAPI.object.eventsub import ChannelUpdateEvent


def subscription_ids(requests_file: Path) -> set[str]:
    """The subscription ids of the notifications in a benchmark's requests file."""
    ids = set()
    with open(requests_file) as lines:
        for line in lines:
            body = line.rstrip("\n").split("\t", 3)[3]
            ids.add(json.loads(body)["subscription"]["id"])
    return ids


async def ignore(event) -> None:
    """The peer's callback: takes the parsed event and does nothing with it."""


def serve(port: int, secret: str, subscriptions: set[str]) -> None:
    """Start the receiver on 127.0.0.1:``port`` and serve until killed."""
    receiver = EventSubWebhook(
        "https://peer.invalid",
        port,
        twitch=None,
        host_binding="127.0.0.1",  # type: ignore[arg-type]
    )
    receiver.secret = secret
    for subscription_id in subscriptions:
        # What subscribing would have registered, had Twitch been asked.
        receiver._add_callback(subscription_id, ignore, ChannelUpdateEvent)
    receiver.start()
    print(f"peer receiver listening on 127.0.0.1:{port}/callback", flush=True)
    threading.Event().wait()


def main(argv=None) -> None:
    cli = argparse.ArgumentParser(prog="python -m scripts.peer_webhook", description=__doc__)
    cli.add_argument("--port", type=int, required=True)
    cli.add_argument("--secret", required=True)
    cli.add_argument("--requests", type=Path, required=True, help="the wrk requests file")
    args = cli.parse_args(argv)
    serve(args.port, args.secret, subscription_ids(args.requests))


if __name__ == "__main__":
    main()
