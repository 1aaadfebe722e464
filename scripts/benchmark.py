"""Benchmark of the webhook pipeline, on loopback; prints figures.

    python -m scripts.benchmark [--ack-seconds 10] [--connections 16] [--burst 10000]
                                [--rate 200] [--steady-seconds 20]

1. Acknowledgement: wrk (a separate process) sends signed notifications to the
   web, served by gunicorn as the Procfile serves it, then GETs /healthz on the
   same server: requests/s, p50 and p99 of each. No worker runs in this phase,
   so the figure is the web's own.
2. Burst: distinct notifications as fast as possible, every answer checked, each
   counted on arrival at a subscribed WebSocket client.
3. Steady: notifications at a fixed rate; time from sending to arrival at the
   client. Then the peak memory of the web and the worker.
Needs wrk (Debian package ``wrk``).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from scripts.bench_clients import burst, steady, write_signed_requests
from scripts.stack import Stack

WRK_SCRIPT = Path(__file__).with_name("bench_webhooks.lua")


def main(argv=None) -> None:
    """Run the three phases against a fresh stack and print the figures."""
    args = parser().parse_args(argv)
    if not shutil.which("wrk"):
        sys.exit("wrk is needed for the acknowledgement phase: apt-get install wrk")
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(tmp, LOG_LEVEL="WARNING")
        try:
            stack.start_redis()
            stack.start_pusher()
            web = stack.start_web()
            acknowledgement(stack, args, Path(tmp))
            if args.only_acknowledgement:
                return
            stack.redis().delete("ingest")
            worker = stack.start_worker(*args.worker_option, loglevel="WARNING")
            asyncio.run(burst(stack, args.burst, args.connections))
            asyncio.run(steady(stack, args.rate, args.steady_seconds))
            print("\n== peak memory (sum of peak RSS over each process tree)")
            print(f"web     {web.peak_memory() / 2**20:7.1f} MiB")
            print(f"worker  {worker.peak_memory() / 2**20:7.1f} MiB")
        finally:
            stack.stop()


def acknowledgement(stack: Stack, args, tmp: Path) -> None:
    """Phase 1: wrk against the webhook and the trivial endpoint."""
    requests_file = tmp / "requests.tsv"
    write_signed_requests(stack, requests_file, count=args.ack_seconds * 4000)
    base = f"http://127.0.0.1:{stack.web_port}"
    print(f"== acknowledgement: wrk, {args.connections} connections, {args.ack_seconds}s each")
    figures = {}
    for label, extra in (("trivial GET /healthz", []),
                         ("webhook POST /api/callback", ["-s", str(WRK_SCRIPT), f"{base}/api/callback",
                                                          "--", str(requests_file)])):
        command = ["wrk", "-t1", f"-c{args.connections}", f"-d{args.ack_seconds}s", "--latency"]
        command += extra or [f"{base}/healthz"]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        figures[label] = parse_wrk(output)
        rate, p50, p99, bad = figures[label]
        print(f"{label:28} {rate:8.0f} req/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  non-2xx {bad}")
    webhook, trivial = figures["webhook POST /api/callback"][0], figures["trivial GET /healthz"][0]
    print(f"webhook/trivial rate ratio   {webhook / trivial:.2f}")
    print(f"queued by the web            {stack.redis().llen('ingest')}")


def parse_wrk(output: str) -> tuple[float, float, float, int]:
    """Requests/s, p50 ms, p99 ms and non-2xx count from wrk's report."""
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*", output)
    if errors:
        print("  wrk:", errors.group(0))

    def percentile(name: str) -> float:
        value, unit = re.search(rf"\s{name}%\s+([\d.]+)(us|ms|s)", output).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return rate, percentile("50"), percentile("99"), int(bad.group(1)) if bad else 0


def parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    cli = argparse.ArgumentParser(prog="python -m scripts.benchmark", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("--ack-seconds", type=int, default=10, help="length of each wrk run")
    cli.add_argument("--connections", type=int, default=16, help="concurrent connections")
    cli.add_argument("--burst", type=int, default=10_000, help="notifications in the burst")
    cli.add_argument("--rate", type=int, default=200, help="notifications/s in the steady phase")
    cli.add_argument("--steady-seconds", type=int, default=20, help="length of the steady phase")
    cli.add_argument("--only-acknowledgement", action="store_true", help="run phase 1 alone")
    cli.add_argument("--worker-option", action="append", default=[],
                     help="extra option for the Celery worker, e.g. --worker-option=--concurrency=4")
    return cli


if __name__ == "__main__":
    main()
