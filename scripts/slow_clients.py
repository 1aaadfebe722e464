"""Slow and idle clients against the web as the Procfile serves it; prints figures.

    python -m scripts.slow_clients [--seconds 5] [--idle 40] [--trickle 20] [--probes 25]

Starts Redis and the web (Granian, scripts/stack.py), then:
1. wrk (16 connections) sends signed webhooks for --seconds: the baseline rate.
2. Opens --idle sockets that send nothing and --trickle connections that send a
   webhook's headers, then its body one byte a second.
3. wrk again with those open: the rate under slow clients, and the ratio.
4. --probes GET /healthz, one after another, each on a new connection with a 2 s
   time-out: how many answered 200, and the slowest.
Everything is closed at the end; the whole run is bounded (about 30 s).
Needs wrk (Debian package ``wrk``).
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
from pathlib import Path

import requests

from scripts.bench_clients import WRK_SCRIPT, signed_notifications, write_signed_requests
from scripts.benchmark import parse_wrk
from scripts.stack import Stack

PROBE_TIMEOUT = 2.0
WRK_CONNECTIONS = 16


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(Path(tmp), LOG_LEVEL="WARNING")
        slow = SlowClients()
        try:
            stack.start_redis()
            stack.start_web()
            requests_file = Path(tmp) / "requests.tsv"
            write_signed_requests(requests_file, signed_notifications(stack, 2000, 20))
            before = acknowledgements(stack, requests_file, args.seconds)
            slow.open(stack.web_port, args.idle, args.trickle)
            time.sleep(1)  # let every slow connection reach the server
            during = acknowledgements(stack, requests_file, args.seconds)
            probes = [probe(stack.web_port) for _ in range(args.probes)]
            still_open = slow.still_open()
        finally:
            slow.close()
            stack.stop()
    ok = [seconds for status, seconds in probes if status == 200]
    print(f"webhook acknowledgements, alone:       {before:8.0f} req/s")
    print(f"with {args.idle} idle + {args.trickle} trickling connections: {during:8.0f} req/s")
    print(f"ratio                                  {during / before:8.2f}")
    print(f"health probes (2 s time-out):          {len(ok)}/{len(probes)} answered 200"
          + (f", slowest {max(ok) * 1000:.0f} ms" if ok else ""))
    failed = [status for status, _ in probes if status != 200]
    if failed:
        print(f"failed probes:                         {failed}")
    print(f"slow connections still open at the end: {still_open} of {args.idle + args.trickle}")
    return 0 if during >= 0.8 * before and not failed else 1


def acknowledgements(stack: Stack, requests_file: Path, seconds: int) -> float:
    """Webhook acknowledgements per second, measured by wrk."""
    command = ["wrk", "-t1", f"-c{WRK_CONNECTIONS}", f"-d{seconds}s", "--latency",
               "-s", str(WRK_SCRIPT), f"http://127.0.0.1:{stack.web_port}/api/callback",
               "--", str(requests_file)]
    output = subprocess.run(command, capture_output=True, text=True, check=True,
                            timeout=seconds + 30).stdout
    rate, _, _, bad = parse_wrk(output)
    if bad:
        print(f"  wrk: {bad} answers were not 2xx")
    return rate


def probe(port: int) -> tuple[int | str, float]:
    """One GET /healthz on a new connection: its status (or the error) and seconds."""
    started = time.monotonic()
    try:
        status = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=PROBE_TIMEOUT,
                              headers={"Connection": "close"}).status_code
    except requests.RequestException as error:
        status = type(error).__name__
    return status, time.monotonic() - started


class SlowClients:
    """Idle sockets and connections that trickle a body one byte a second."""

    def __init__(self):
        self.idle: list[socket.socket] = []
        self.trickling: list[socket.socket] = []
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    def open(self, port: int, idle: int, trickle: int) -> None:
        for _ in range(idle):
            self.idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        head = (f"POST /api/callback HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                "Content-Type: application/json\r\nContent-Length: 10000\r\n"
                "Twitch-Eventsub-Message-Id: slow\r\n"
                "Twitch-Eventsub-Message-Timestamp: 2026-01-01T00:00:00Z\r\n"
                "Twitch-Eventsub-Message-Type: notification\r\n"
                "Twitch-Eventsub-Message-Signature: sha256=00\r\n\r\n").encode()
        for _ in range(trickle):
            connection = socket.create_connection(("127.0.0.1", port), timeout=5)
            connection.sendall(head)
            self.trickling.append(connection)
        self.thread = threading.Thread(target=self._trickle, daemon=True)
        self.thread.start()

    def _trickle(self) -> None:
        while not self.stop.wait(1.0):
            for connection in list(self.trickling):
                try:
                    connection.send(b" ")
                except OSError:
                    self.trickling.remove(connection)  # the server closed it

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

    def close(self) -> None:
        self.stop.set()
        if self.thread:
            self.thread.join(5)
        for connection in self.idle + self.trickling:
            connection.close()


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--idle", type=int, default=40)
    parser.add_argument("--trickle", type=int, default=20)
    parser.add_argument("--probes", type=int, default=25)
    return parser


if __name__ == "__main__":
    sys.exit(main())
