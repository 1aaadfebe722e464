"""Slow and idle clients against the web as the Procfile serves it, directly and
through nginx (ops/nginx); prints figures for each.

    python -m scripts.slow_clients [--proxy both|direct|nginx] [--seconds 8] [--idle 40]
                                   [--trickle 20] [--trickle-headers 20] [--probes 25]
                                   [--many 1000] [--client-timeout 10]

For each way in (``direct``: clients reach Granian; ``nginx``: clients reach nginx,
which passes complete requests to Granian), starts Redis and the web afresh
(Granian, scripts/stack.py), then:
1. wrk (16 connections) sends signed webhooks for --seconds: the baseline rate.
2. Opens --idle sockets that send nothing, --trickle connections that send a
   webhook's headers, then its body one byte a second, and --trickle-headers
   connections that send a request's header lines one a second.
3. wrk again with those open: the rate under slow clients, and the ratio.
4. --probes GET /healthz, one after another, each on a new connection with a 2 s
   time-out: how many answered 200, and the slowest.
5. The trickling connections fall silent, and after the time-out (--client-timeout
   seconds: nginx's, and the web's own 10 s) and 2 s more, how many slow connections
   are still open.
6. Directly only: --many connections at once (a third silent, a third trickling
   headers, a third trickling a body): the web's memory before and with them, a probe
   while they are open, and one once they are gone.
Everything is closed at the end; the run is bounded (about 50 s a way). The exit status
is 0 when every way measured kept 80% of its rate, answered every probe and closed
every silent connection.
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
    open_when_quiet: int = 0  # still open after falling silent for the time-out
    memory_before: float = 0.0  # MiB of the web, directly only
    memory_with_many: float = 0.0
    probe_with_many: tuple[int | str, float] | None = None
    probe_after_many: tuple[int | str, float] | None = None

    @property
    def failed_probes(self) -> list[int | str]:
        return [status for status, _ in self.probes if status != 200]

    @property
    def met_target(self) -> bool:
        """The rate kept at least KEPT_RATE of the baseline, every probe answered and
        every slow connection was closed once silent."""
        probes = self.probes + [p for p in (self.probe_with_many, self.probe_after_many) if p]
        return (
            self.during >= KEPT_RATE * self.before
            and all(status == 200 for status, _ in probes)
            and not self.open_when_quiet
        )


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
    return 0 if all(result.met_target for result in results) else 1


def measure(way: str, args) -> Measurement:
    """Start a fresh stack (and nginx in front of it for ``nginx``) and measure it."""
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(Path(tmp), LOG_LEVEL="WARNING")
        proxy = None
        slow = SlowClients()
        try:
            stack.start_redis()
            web = stack.start_web()
            port = stack.web_port
            if way == "nginx":
                proxy = NginxProxy(
                    stack.web_port, tmp, client_timeout=f"{args.client_timeout}s"
                ).start()
                port = proxy.port
            requests_file = Path(tmp) / "requests.tsv"
            write_signed_requests(requests_file, signed_notifications(stack, 2000, 20))
            before = acknowledgements(port, requests_file, args.seconds)
            slow.open(port, args.idle, args.trickle, args.trickle_headers)
            time.sleep(1)  # let every slow connection reach the server
            during = acknowledgements(port, requests_file, args.seconds)
            probes = [probe(port) for _ in range(args.probes)]
            result = Measurement(way, before, during, probes, slow.still_open())
            slow.stop_trickling()
            time.sleep(args.client_timeout + 2)
            result.open_when_quiet = slow.still_open()
            slow.close()
            if way == "direct" and args.many:
                measure_many(result, port, web, args.many)
        finally:
            slow.close()
            if proxy:
                proxy.stop()
            stack.stop()
    return result


def measure_many(result: Measurement, port: int, web, count: int) -> None:
    """Open ``count`` slow connections at once: the web's memory with them, a probe while
    they are open, and one after they are gone."""
    result.memory_before = web.memory() / 2**20
    many = SlowClients()
    try:
        third = count // 3
        many.open(port, count - 2 * third, third, third)
        time.sleep(2)
        result.memory_with_many = web.memory() / 2**20
        result.probe_with_many = probe(port)
    finally:
        many.close()
    time.sleep(0.5)
    result.probe_after_many = probe(port)


def report(result: Measurement, args) -> None:
    """Print one way's table."""
    total = args.idle + args.trickle + args.trickle_headers
    ok = [seconds for status, seconds in result.probes if status == 200]
    title = (
        "direct: clients reach Granian"
        if result.way == "direct"
        else "through nginx (ops/nginx): clients reach nginx, nginx reaches Granian"
    )
    print(f"== {title}")
    print(f"webhook acknowledgements, alone:       {result.before:8.0f} req/s")
    print(
        f"with {args.idle} idle + {args.trickle} trickling bodies + {args.trickle_headers} "
        f"trickling headers: {result.during:8.0f} req/s"
    )
    print(f"ratio                                  {result.during / result.before:8.2f}")
    print(
        f"health probes (2 s time-out):          {len(ok)}/{len(result.probes)} answered 200"
        + (f", slowest {max(ok) * 1000:.0f} ms" if ok else "")
    )
    if result.failed_probes:
        print(f"failed probes:                         {result.failed_probes}")
    print(f"slow connections open while trickling: {result.still_open} of {total}")
    print(
        f"still open {args.client_timeout + 2} s after falling silent: "
        f"{result.open_when_quiet} of {total}"
    )
    if result.probe_with_many:
        print(
            f"{args.many} slow connections at once: web memory {result.memory_before:.1f} -> "
            f"{result.memory_with_many:.1f} MiB "
            f"(+{result.memory_with_many - result.memory_before:.1f}); "
            f"probe while open {describe(result.probe_with_many)}, "
            f"after {describe(result.probe_after_many)}"
        )
    print(
        f"target (>= {KEPT_RATE:.0%} of the rate, every probe, silent ones closed): "
        + ("met" if result.met_target else "missed")
    )
    print()


def describe(probe_result) -> str:
    """A probe's outcome: ``200 in 3 ms``."""
    status, seconds = probe_result
    return f"{status} in {seconds * 1000:.0f} ms"


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
    """Idle sockets, connections that trickle a body one byte a second, and connections
    that trickle their request's header lines one a second."""

    def __init__(self):
        self.idle: list[socket.socket] = []
        self.trickling: list[socket.socket] = []
        self.trickling_headers: list[socket.socket] = []
        self.closed_by_server: set[socket.socket] = set()
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    def open(self, port: int, idle: int, trickle: int, trickle_headers: int = 0) -> None:
        """Open ``idle`` silent sockets, ``trickle`` connections that send a webhook's
        headers, then a byte of its body each second, and ``trickle_headers`` that send a
        request line, then a header line each second, to 127.0.0.1:``port``."""
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
        for _ in range(trickle_headers):
            connection = socket.create_connection(("127.0.0.1", port), timeout=5)
            connection.sendall(b"POST /api/callback HTTP/1.1\r\n")
            self.trickling_headers.append(connection)
        self.thread = threading.Thread(target=self._trickle, daemon=True)
        self.thread.start()

    def _trickle(self) -> None:
        while not self.stop.wait(1.0):
            for connections, data in (
                (self.trickling, b" "),
                (self.trickling_headers, b"X-Slow: 1\r\n"),
            ):
                for connection in connections:
                    if connection in self.closed_by_server:
                        continue
                    try:
                        connection.send(data)
                    except OSError:
                        self.closed_by_server.add(connection)

    def still_open(self) -> int:
        """Slow connections the server has not closed (an answer it sent before closing,
        such as a 408, is read past: what counts is the end that follows it)."""
        alive = 0
        for connection in self.idle + self.trickling + self.trickling_headers:
            connection.setblocking(False)
            try:
                while connection.recv(65536):
                    pass
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
        for connection in self.idle + self.trickling + self.trickling_headers:
            connection.close()
        self.idle, self.trickling, self.trickling_headers = [], [], []


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--proxy",
        choices=("both", "direct", "nginx"),
        default="both",
        help="measure Granian directly, through nginx, or both (default)",
    )
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--idle", type=int, default=40)
    parser.add_argument("--trickle", type=int, default=20)
    parser.add_argument("--trickle-headers", type=int, default=20)
    parser.add_argument(
        "--many", type=int, default=1000, help="slow connections at once, directly (0: skip)"
    )
    parser.add_argument("--probes", type=int, default=25)
    parser.add_argument(
        "--client-timeout",
        type=int,
        default=10,
        help="nginx's client time-outs in seconds (ops/nginx: 10; the web's own are 10)",
    )
    return parser


if __name__ == "__main__":
    sys.exit(main())
