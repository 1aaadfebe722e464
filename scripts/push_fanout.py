"""How long one go-live takes to reach many devices: ``python -m scripts.push_fanout``.

    python -m scripts.push_fanout --devices 1000 --rtt-ms 50

Starts the Web Push stand-in and, with ``--rtt-ms``, a link with that round trip in
front of it (:mod:`scripts.latency_link`), makes ``--devices`` subscriptions there, and
pushes one alert to all of them as the worker's task does (:class:`shared.web_push.
PushSender`: encrypted for each, VAPID signed, 32 lanes per push service). Prints the
time from the start of the fan-out to the stand-in's last acceptance and what it
answered. The task's queue hop and the webhook's way to the worker come on top.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter

import requests
from cryptography.hazmat.primitives.asymmetric import ec

from scripts.processes import Process, free_port
from shared.vapid import b64url_encode, new_key_pair, public_point
from shared.web_push import PushSender

ALERT = (
    b'{"type": "stream.online", "login": "cool_user", "name": "Cool_User", "title": '
    b'"Best Stream Ever", "category": "Fortnite", "stream_id": "1", "url": "/watch/cool_user",'
    b' "tag": "live-cool_user"}'
)


def subscription(endpoint: str) -> dict:
    """A browser's push subscription at ``endpoint``, with fresh keys."""
    key = ec.generate_private_key(ec.SECP256R1())
    return {
        "endpoint": endpoint,
        "keys": {"p256dh": public_point(key.public_key()), "auth": b64url_encode(b"s" * 16)},
    }


def measure(devices: int, rtt_ms: float, log_dir: str) -> str:
    """Run the fan-out once; the line that reports it."""
    stand_in_port = free_port()
    processes = [
        Process(
            "webpush",
            [sys.executable, "-m", "emulators.webpush", "--port", str(stand_in_port)],
            dict(os.environ),
            log_dir,
            stand_in_port,
        )
    ]
    port = stand_in_port
    if rtt_ms:
        port = free_port()
        link = [
            "--listen",
            str(port),
            "--to",
            f"127.0.0.1:{stand_in_port}",
            "--rtt-ms",
            str(rtt_ms),
        ]
        processes.append(
            Process(
                "link",
                [sys.executable, "-m", "scripts.latency_link", *link],
                dict(os.environ),
                log_dir,
                port,
            )
        )
    try:
        for process in processes:
            process.start()
        targets = {
            f"d{n}": subscription(f"http://127.0.0.1:{port}/push/d{n}") for n in range(devices)
        }
        sender = PushSender(new_key_pair()[1], "mailto:alerts@localhost")
        started = time.time()
        outcomes = sender.fan_out(targets, ALERT, "live-cool_user")
        received = requests.get(
            f"http://127.0.0.1:{stand_in_port}/control/received", timeout=30
        ).json()
    finally:
        for process in reversed(processes):
            process.stop()
    last = max((push["received_at"] for push in received), default=started)
    answers = Counter(str(push["status"]) for push in received)
    sent = sum(outcome.result == "sent" for outcome in outcomes)
    return (
        f"{devices} devices, {rtt_ms:g} ms round trip: last push accepted {last - started:.2f} s"
        f" after the fan-out began; {sent} sent; stand-in answers {dict(answers)}"
    )


def main(argv: list[str] | None = None) -> None:
    """Parse the options, run the fan-out, print the figure."""
    cli = argparse.ArgumentParser(
        prog="python -m scripts.push_fanout",
        description="Time one go-live alert pushed to many devices at the Web Push stand-in.",
    )
    cli.add_argument("--devices", type=int, default=1000, help="subscriptions (default 1000)")
    cli.add_argument("--rtt-ms", type=float, default=50.0, help="link round trip (default 50)")
    args = cli.parse_args(argv)
    with tempfile.TemporaryDirectory() as log_dir:
        print(measure(args.devices, args.rtt_ms, log_dir), flush=True)


if __name__ == "__main__":
    main()
