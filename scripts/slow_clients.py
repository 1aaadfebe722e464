"""Slow and idle clients against the web as the Procfile serves it, directly and
through nginx (ops/nginx); prints figures for each.

    python -m scripts.slow_clients [--proxy both|direct|nginx] [--seconds 5] [--idle 40]
                                   [--trickle 20] [--probes 25] [--client-timeout 10]

For each way in (``direct``: clients reach Granian; ``nginx``: clients reach nginx,
which passes complete requests to Granian), starts Redis and the web afresh
(Granian, scripts/stack.py), then:
1. wrk (16 connections) sends signed webhooks for --seconds: the baseline rate.
2. Opens --idle sockets that send nothing and --trickle connections that send a
   webhook's headers, then its body one byte a second.
3. wrk again with those open: the rate under slow clients, and the ratio.
4. --probes GET /healthz, one after another, each on a new connection with a 2 s
   time-out: how many answered 200, and the slowest.
5. Through nginx only: the trickling connections fall silent, and after nginx's
   client time-out (--client-timeout seconds, the config's 10) and 2 s more, how
   many slow connections nginx has closed.
Everything is closed at the end; the run is bounded (about 60 s direct, where
probes that time out take 2 s each, and 30 s through nginx). The exit status is 0
when the last way measured (nginx, unless ``--proxy direct``) kept 80% of its rate
and answered every probe.
Needs wrk (Debian package ``wrk``) and, for nginx, nginx (package ``nginx``).
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from scripts.bench_clients import WRK_SCRIPT, signed_notifications, write_signed_requests
from scripts.benchmark import parse_wrk
from scripts.nginx_proxy import NginxProxy, nginx_binary
from scripts.stack import Stack

PROBE_TIMEOUT = 2.0
WRK_CONNECTIONS = 16
KEPT_RATE = 0.8  # the share of the baseline rate that must survive the slow clients


@dataclass
class Measurement:
    """What one way in (direct or through nginx) achieved."""

    way: str
    before: float
    during: float
    probes: list[tuple[int | str, float]]
    still_open: int
    closed_when_quiet: int | None = None  # through nginx: closed after falling silent

    @property
    def failed_probes(self) -> list[int | str]:
        return [status for status, _ in self.probes if status != 200]

    @property
    def met_target(self) -> bool:
        """The rate kept at least KEPT_RATE of the baseline and every probe answered."""
        return self.during >= KEPT_RATE * self.before and not self.failed_probes


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    ways = ["direct", "nginx"] if args.proxy == "both" else [args.proxy]
    if "nginx" in ways and not nginx_binary():
        sys.exit("nginx is needed: apt-get install nginx")
    results = [measure(way, args) for way in ways]
    for result in results:
        report(result, args)
    return 0 if results[-1].met_target else 1


def measure(way: str, args) -> Measurement:
    """Start a fresh stack (and nginx in front of it for ``nginx``) and measure it."""
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(Path(tmp), LOG_LEVEL="WARNING")
        proxy = None
        slow = SlowClients()
        try:
            stack.start_redis()
            stack.start_web()
            port = stack.web_port
            if way == "nginx":
                proxy = NginxProxy(
                    stack.web_port, tmp, client_timeout=f"{args.client_timeout}s"
                ).start()
                port = proxy.port
            requests_file = Path(tmp) / "requests.tsv"
            write_signed_requests(requests_file, signed_notifications(stack, 2000, 20))
            before = acknowledgements(port, requests_file, args.seconds)
            slow.open(port, args.idle, args.trickle)
            time.sleep(1)  # let every slow connection reach the server
            during = acknowledgements(port, requests_file, args.seconds)
            probes = [probe(port) for _ in range(args.probes)]
            result = Measurement(way, before, during, probes, slow.still_open())
            if proxy:
                slow.stop_trickling()
                time.sleep(args.client_timeout + 2)
                result.closed_when_quiet = args.idle + args.trickle - slow.still_open()
        finally:
            slow.close()
            if proxy:
                proxy.stop()
            stack.stop()
    return result


def report(result: Measurement, args) -> None:
    """Print one way's table."""
    total = args.idle + args.trickle
    ok = [seconds for status, seconds in result.probes if status == 200]
    title = (
        "direct: clients reach Granian"
        if result.way == "direct"
        else "through nginx (ops/nginx): clients reach nginx, nginx reaches Granian"
    )
    print(f"== {title}")
    print(f"webhook acknowledgements, alone:       {result.before:8.0f} req/s")
    print(
        f"with {args.idle} idle + {args.trickle} trickling connections: {result.during:8.0f} req/s"
    )
    print(f"ratio                                  {result.during / result.before:8.2f}")
    print(
        f"health probes (2 s time-out):          {len(ok)}/{len(result.probes)} answered 200"
        + (f", slowest {max(ok) * 1000:.0f} ms" if ok else "")
    )
    if result.failed_probes:
        print(f"failed probes:                         {result.failed_probes}")
    print(f"slow connections still open at the end: {result.still_open} of {total}")
    if result.closed_when_quiet is not None:
        print(
            f"closed by nginx {args.client_timeout + 2} s after falling silent: "
            f"{result.closed_when_quiet} of {total}"
        )
    print(
        f"target (>= {KEPT_RATE:.0%} of the rate, every probe): "
        + ("met" if result.met_target else "missed")
    )
    print()


def acknowledgements(port: int, requests_file: Path, seconds: int) -> float:
    """Webhook acknowledgements per second at 127.0.0.1:``port``, measured by wrk."""
    command = [
        "wrk",
        "-t1",
        f"-c{WRK_CONNECTIONS}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(WRK_SCRIPT),
        f"http://127.0.0.1:{port}/api/callback",
        "--",
        str(requests_file),
    ]
    output = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=seconds + 30
    ).stdout
    rate, _, _, bad = parse_wrk(output)
    if bad:
        print(f"  wrk: {bad} answers were not 2xx")
    return rate


def probe(port: int, timeout: float = PROBE_TIMEOUT) -> tuple[int | str, float]:
    """One GET /healthz on a new connection: its status (or the error) and seconds."""
    started = time.monotonic()
    try:
        status = requests.get(
            f"http://127.0.0.1:{port}/healthz", timeout=timeout, headers={"Connection": "close"}
        ).status_code
    except requests.RequestException as error:
        status = type(error).__name__
    return status, time.monotonic() - started


class SlowClients:
    """Idle sockets and connections that trickle a body one byte a second."""

    def __init__(self):
        self.idle: list[socket.socket] = []
        self.trickling: list[socket.socket] = []
        self.closed_by_server: set[socket.socket] = set()
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    def open(self, port: int, idle: int, trickle: int) -> None:
        """Open ``idle`` silent sockets and ``trickle`` connections that send a
        webhook's headers, then a byte of its body each second, to 127.0.0.1:``port``."""
        for _ in range(idle):
            self.idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        head = (
            f"POST /api/callback HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: application/json\r\nContent-Length: 10000\r\n"
            "Twitch-Eventsub-Message-Id: slow\r\n"
            "Twitch-Eventsub-Message-Timestamp: 2026-01-01T00:00:00Z\r\n"
            "Twitch-Eventsub-Message-Type: notification\r\n"
            "Twitch-Eventsub-Message-Signature: sha256=00\r\n\r\n"
        ).encode()
        for _ in range(trickle):
            connection = socket.create_connection(("127.0.0.1", port), timeout=5)
            connection.sendall(head)
            self.trickling.append(connection)
        self.thread = threading.Thread(target=self._trickle, daemon=True)
        self.thread.start()

    def _trickle(self) -> None:
        while not self.stop.wait(1.0):
            for connection in self.trickling:
                if connection in self.closed_by_server:
                    continue
                try:
                    connection.send(b" ")
                except OSError:
                    self.closed_by_server.add(connection)

    def still_open(self) -> int:
        """Slow connections the server has not closed."""
        alive = 0
        for connection in self.idle + self.trickling:
            try:
                connection.setblocking(False)
                alive += connection.recv(1, socket.MSG_PEEK) != b""
            except BlockingIOError:
                alive += 1
            except OSError:
                pass
        return alive

    def stop_trickling(self) -> None:
        """The trickling connections fall silent (they stay open)."""
        self.stop.set()
        if self.thread:
            self.thread.join(5)

    def close(self) -> None:
        """Close every slow connection."""
        self.stop_trickling()
        for connection in self.idle + self.trickling:
            connection.close()


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--proxy",
        choices=("both", "direct", "nginx"),
        default="both",
        help="measure Granian directly, through nginx, or both (default)",
    )
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--idle", type=int, default=40)
    parser.add_argument("--trickle", type=int, default=20)
    parser.add_argument("--probes", type=int, default=25)
    parser.add_argument(
        "--client-timeout",
        type=int,
        default=10,
        help="nginx's client time-outs in seconds (ops/nginx: 10)",
    )
    return parser


if __name__ == "__main__":
    sys.exit(main())
