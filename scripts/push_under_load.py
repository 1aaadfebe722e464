"""Go-live alerts through a whole stack, and what they cost the other events:

    python -m scripts.push_under_load --devices 1000 --rtt-ms 50

Starts Redis, the Pusher and Twitch emulators, web and one worker (:class:`scripts.stack.Stack`)
with Web Push on, the Web Push stand-in behind a link of ``--rtt-ms`` round trip, and
alerts ``--devices`` devices of one streamer. A Pusher client listens to another
streamer's channel while ``channel.update`` webhooks arrive steadily (``--rate`` a
second, for ``--seconds``), first alone, then while one go-live fans out. Prints the
steady send-to-arrival latency of both phases and when the last push was accepted,
counted from the go-live's webhook.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import threading
import time

import pysher
import requests

from emulators.eventsub.messages import notification_body, signed_message
from scripts.processes import free_port, wait_until
from scripts.push_fanout import subscription
from scripts.stack import PUSHER_CREDENTIALS, Stack
from shared.alerts import add_alert, store_device
from shared.events import channel_name
from shared.queues import PUSH_QUEUE
from shared.vapid import new_key_pair

ALERTED = {"id": "1337", "login": "cool_user", "name": "Cool_User"}
STEADY = {"broadcaster_id": "4242", "name": "Other_User"}


def listen(stack: Stack, arrivals: dict) -> pysher.Pusher:
    """A Pusher client on other_user's channel, noting when each title arrives."""
    client = pysher.Pusher(
        PUSHER_CREDENTIALS["PUSHER_KEY"],
        custom_host="127.0.0.1",
        port=stack.pusher_port,
        secure=False,
        secret=PUSHER_CREDENTIALS["PUSHER_SECRET"],
        log_level=logging.WARNING,
    )
    connected = threading.Event()
    client.connection.bind("pusher:connection_established", lambda _: connected.set())
    client.connect()
    connected.wait(10)
    channel = client.subscribe(channel_name("other_user"))

    def note(data: str) -> None:
        arrivals.setdefault(json.loads(data)["title"], time.time())

    channel.bind("channel.update", note)
    return client


def send(stack: Stack, kind: str, login: str, **fields) -> float:
    """POST one signed notification to the web; when it was sent."""
    headers, raw = signed_message(
        stack.secret, "notification", notification_body(kind, login, stack.callback, **fields)
    )
    sent = time.time()
    requests.post(stack.callback, data=raw, headers=headers, timeout=10)
    return sent


def steady(stack: Stack, tag: str, rate: float, seconds: float, sent: dict) -> None:
    """``channel.update`` webhooks at ``rate`` a second for ``seconds``, titled by ``tag``."""
    for n in range(int(rate * seconds)):
        title = f"{tag}-{n}"
        sent[title] = send(stack, "channel.update", "other_user", title=title, **STEADY)
        time.sleep(1 / rate)


def latency(sent: dict, arrivals: dict, tag: str, window: tuple[float, float] | None = None) -> str:
    """p50, p99 and the longest of one phase's send-to-arrival times (those sent within
    ``window`` only, when given)."""
    start, end = window or (0.0, float("inf"))
    times = sorted(
        arrivals[t] - s
        for t, s in sent.items()
        if t.startswith(tag) and t in arrivals and start <= s <= end
    )
    if not times:
        return "nothing arrived"
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    return (
        f"p50 {times[len(times) // 2] * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms,"
        f" longest {times[-1] * 1000:.1f} ms ({len(times)})"
    )


def run(args, log_dir: str) -> list[str]:
    """The whole measurement; its report lines."""
    public, private = new_key_pair()
    push_worker = {"PUSH_WORKER": "true"} if args.push_worker else {}
    stack = Stack(log_dir, VAPID_PUBLIC_KEY=public, VAPID_PRIVATE_KEY=private, **push_worker)
    stand_in, link = free_port(), free_port()
    env = dict(os.environ)
    try:
        stack.start_redis()
        stack.start_pusher()
        stack.start_twitch()  # the alert asks Helix for the title no channel.update told
        stack.start_web()
        stack.start_worker()
        if args.push_worker:  # the Procfile's push process: the alerts off the pump's GIL
            stack.start_worker("--queues", PUSH_QUEUE, metrics_port=free_port())
        stack.start(
            "webpush",
            [sys.executable, "-m", "emulators.webpush", "--port", str(stand_in)],
            stand_in,
            env,
        )
        to = f"127.0.0.1:{stand_in}"
        link_args = ["--listen", str(link), "--to", to, "--rtt-ms", str(args.rtt_ms)]
        stack.start("link", [sys.executable, "-m", "scripts.latency_link", *link_args], link, env)
        client = stack.redis()
        for n in range(args.devices):
            add_alert(client, f"viewer-{n}", ALERTED, limit=1)
            store_device(client, f"viewer-{n}", subscription(f"http://127.0.0.1:{link}/push/{n}"))
        sent: dict[str, float] = {}
        arrivals: dict[str, float] = {}
        listener = listen(stack, arrivals)
        time.sleep(0.5)
        steady(stack, "alone", args.rate, args.seconds, sent)
        during = threading.Thread(
            target=steady, args=(stack, "during", args.rate, args.seconds, sent)
        )
        during.start()
        went_live = send(
            stack, "stream.online", "cool_user", **{"broadcaster_id": "1337", "name": "Cool_User"}
        )
        during.join()
        received = f"http://127.0.0.1:{stand_in}/control/received"
        wait_until(
            lambda: len(requests.get(received, timeout=10).json()) >= args.devices, timeout=120
        )
        pushes = requests.get(received, timeout=10).json()
        time.sleep(1)
        listener.disconnect(timeout=2)
    finally:
        stack.stop()
    last_accepted = max(push["received_at"] for push in pushes)
    fanning_out = (went_live, last_accepted)
    return [
        f"steady {args.rate:g}/s alone:            {latency(sent, arrivals, 'alone')}",
        f"steady {args.rate:g}/s beside the fan-out: {latency(sent, arrivals, 'during')}",
        f"  of those, sent while it ran:  {latency(sent, arrivals, 'during', fanning_out)}",
        f"{len(pushes)} pushes through {args.rtt_ms:g} ms: the last accepted"
        f" {last_accepted - went_live:.2f} s after the go-live's webhook was sent",
    ]


def main(argv: list[str] | None = None) -> None:
    """Parse the options, measure, print."""
    cli = argparse.ArgumentParser(prog="python -m scripts.push_under_load", description=__doc__)
    cli.add_argument("--devices", type=int, default=1000, help="alerted devices (default 1000)")
    cli.add_argument("--rtt-ms", type=float, default=50.0, help="push link round trip (50)")
    cli.add_argument("--rate", type=float, default=50.0, help="steady webhooks a second (50)")
    cli.add_argument("--seconds", type=float, default=4.0, help="each phase's length (4)")
    cli.add_argument(
        "--push-worker",
        action="store_true",
        help="PUSH_WORKER=true and a push worker (--queues push), as the Procfile's push process",
    )
    args = cli.parse_args(argv)
    with tempfile.TemporaryDirectory() as log_dir:
        for line in run(args, log_dir):
            print(line, flush=True)


if __name__ == "__main__":
    main()
