"""Benchmark of the webhook pipeline; prints figures.

    python -m scripts.benchmark [--ack-seconds 10] [--connections 16] [--burst 10000]
                                [--broadcasters 100] [--rate 200] [--steady-seconds 20]
                                [--link-ms 0,50]

1. Acknowledgement (once): wrk (a separate process) GETs /healthz, then sends signed
   notifications to the web, served by Granian as the Procfile serves it, then the
   same notifications to the peer, pyTwitchAPI's webhook receiver
   (scripts/peer_webhook.py): requests/s, p50 and p99 of each, and the ratio of our
   rate to the peer's. No worker runs in this phase, so the figure is the web's own.
Then, for each round trip of --link-ms, on a fresh stack (Redis, Pusher emulator,
web, worker) whose app reaches Pusher through a link with that round trip
(scripts/latency_link.py; 0 is plain loopback) while the measuring client
connects to Pusher directly:
2. Burst: distinct notifications over --broadcasters broadcasters, each sent once
   by wrk as fast as the web answers, each counted on arrival at one WebSocket
   subscriber of every channel: acknowledgements, arrivals, end-to-end rate.
3. Steady: notifications at a fixed rate, from Python, each signed as it is sent;
   time from sending to arrival at the client. Beside it, the worker's own
   figure: p50 and p99 of its lag histogram (``sev_event_lag_seconds``, from
   Twitch's message time to the publish to Pusher, scraped from the worker's
   metrics port before and after the phase), estimated from the buckets as
   Prometheus's histogram_quantile does. Then the peak memory of the web and
   the worker.
Needs wrk (Debian package ``wrk``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from scripts.bench_clients import (
    WRK_SCRIPT,
    burst,
    signed_notifications,
    steady,
    write_signed_requests,
)
from scripts.processes import free_port
from scripts.stack import Stack
from shared.intake import backlog
from shared.settings import load_settings


def main(argv=None) -> None:
    """Run the acknowledgement phase, then burst and steady once per link."""
    args = parser().parse_args(argv)
    if not shutil.which("wrk"):
        sys.exit("wrk is needed for the benchmark: apt-get install wrk")
    with tempfile.TemporaryDirectory() as tmp:
        with fresh_stack(Path(tmp) / "acknowledgement") as stack:
            stack.start_redis()
            stack.start_pusher()
            stack.start_web()
            acknowledgement(stack, args, Path(tmp))
        if args.only_acknowledgement:
            return
        for rtt_ms in args.link_ms:
            pipeline(args, rtt_ms, Path(tmp) / f"link-{rtt_ms:g}ms")


@contextlib.contextmanager
def fresh_stack(directory: Path, **settings):
    """A new stack logging into ``directory``, with extra ``settings``; every process
    stopped on the way out."""
    directory.mkdir()
    stack = Stack(directory, LOG_LEVEL="WARNING", **settings)
    try:
        yield stack
    finally:
        stack.stop()


def acknowledgement(stack: Stack, args, tmp: Path) -> None:
    """Phase 1: wrk against the trivial endpoint, the webhook, and the peer's webhook
    (scripts/peer_webhook.py) on the same notifications, one after the other."""
    requests_file = tmp / "requests.tsv"
    write_signed_requests(
        requests_file, signed_notifications(stack, args.ack_seconds * 4000, args.broadcasters)
    )
    peer_port = free_port()
    stack.start(
        "peer",
        [
            sys.executable,
            "-m",
            "scripts.peer_webhook",
            "--port",
            str(peer_port),
            "--secret",
            stack.secret,
            "--requests",
            str(requests_file),
        ],
        peer_port,
    )
    base = f"http://127.0.0.1:{stack.web_port}"
    print(
        f"== acknowledgement: wrk, {args.wrk_threads} threads, {args.connections} connections, "
        f"{args.ack_seconds}s each"
    )
    targets = {
        "trivial GET /healthz": [f"{base}/healthz"],
        "webhook POST /api/callback": [f"{base}/api/callback"],
        "peer (pyTwitchAPI) webhook": [f"http://127.0.0.1:{peer_port}/callback"],
    }
    figures = {}
    for label, url in targets.items():
        command = ["wrk", f"-t{args.wrk_threads}", f"-c{args.connections}"]
        command += [f"-d{args.ack_seconds}s", "--latency"]
        if "webhook" in label:
            command += ["-s", str(WRK_SCRIPT), *url, "--", str(requests_file)]
        else:
            command += url
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        figures[label] = parse_wrk(output)
        rate, p50, p99, bad = figures[label]
        print(f"{label:28} {rate:8.0f} req/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  non-2xx {bad}")
    webhook = figures["webhook POST /api/callback"][0]
    print(f"webhook/trivial rate ratio   {webhook / figures['trivial GET /healthz'][0]:.2f}")
    print(f"webhook/peer rate ratio      {webhook / figures['peer (pyTwitchAPI) webhook'][0]:.2f}")
    print(f"queued by the web            {queued(stack)}")


def queued(stack: Stack) -> int:
    """Messages the web queued for the worker in the intake streams."""
    return sum(backlog(stack.redis(), load_settings(stack.env).intake_shards).values())


def pipeline(args, rtt_ms: float, directory: Path) -> None:
    """Phases 2 and 3 on a fresh stack whose app reaches Pusher through ``rtt_ms``."""
    link = "loopback" if not rtt_ms else f"{rtt_ms:g} ms round trip"
    print(
        f"\n######## link between the app and Pusher: {link} "
        f"(the measuring client connects directly)"
    )
    metrics_port = free_port()
    with fresh_stack(directory, WORKER_METRICS_PORT=metrics_port) as stack:
        stack.start_redis()
        stack.start_pusher()
        if rtt_ms:
            stack.start_pusher_link(rtt_ms)
        web = stack.start_web()
        worker = stack.start_worker(*args.worker_option, loglevel="WARNING")
        asyncio.run(burst(stack, args.burst, args.connections, args.broadcasters, directory))
        before = settled_lag_buckets(metrics_port, {}, args.burst)  # the burst's last ones in
        asyncio.run(steady(stack, args.rate, args.steady_seconds, args.broadcasters))
        print_lag(
            before, settled_lag_buckets(metrics_port, before, args.rate * args.steady_seconds)
        )
        print(f"\n== peak memory ({link}; sum of peak RSS over each process tree)")
        print(f"web     {web.peak_memory() / 2**20:7.1f} MiB")
        print(f"worker  {worker.peak_memory() / 2**20:7.1f} MiB")


def lag_buckets(port: int) -> dict[float, float]:
    """The worker's lag histogram as it stands: {bucket's upper bound: cumulative count}."""
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return {
        float(sample.labels["le"]): sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "sev_event_lag_seconds"
        for sample in family.samples
        if sample.name.endswith("_bucket")
    }


def settled_lag_buckets(
    port: int, before: dict[float, float], expected: int, timeout: float = 5.0
) -> dict[float, float]:
    """The lag histogram once ``expected`` events more than ``before`` are in it, or as
    it stands after ``timeout`` (an event reaches the client before Pusher's answer is
    back at the worker, which observes it then)."""
    deadline = time.monotonic() + timeout
    while True:
        after = lag_buckets(port)
        if (
            after.get(math.inf, 0) - before.get(math.inf, 0) >= expected
            or time.monotonic() > deadline
        ):
            return after
        time.sleep(0.05)


def print_lag(before: dict[float, float], after: dict[float, float]) -> None:
    """The worker's lag over the steady phase: the histogram's change between two scrapes."""
    phase = {bound: after[bound] - before.get(bound, 0.0) for bound in after}
    observed = phase.get(math.inf, 0)
    if not observed:
        print("worker lag (histogram)        no event observed")
        return
    p50, p99 = (histogram_quantile(q, phase) * 1000 for q in (0.5, 0.99))
    print(
        f"worker lag (histogram)        p50 {p50:.1f} ms  p99 {p99:.1f} ms  "
        f"({observed:.0f} events; Twitch's message time -> published to Pusher)"
    )


def histogram_quantile(q: float, buckets: dict[float, float]) -> float:
    """The ``q`` quantile (0..1) of a histogram given as {upper bound: cumulative count},
    as Prometheus's histogram_quantile estimates it: linear within the bucket the rank
    falls in; in the +Inf bucket, the largest finite bound."""
    bounds = sorted(buckets)
    rank = q * buckets[math.inf]
    lower, below = 0.0, 0.0
    for upper in bounds:
        if upper == math.inf:
            return lower
        if buckets[upper] >= rank:
            return lower + (upper - lower) * (rank - below) / (buckets[upper] - below)
        lower, below = upper, buckets[upper]
    return lower


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


def round_trips(text: str) -> list[float]:
    """``--link-ms``: comma-separated round trips in milliseconds, 0 for loopback."""
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of milliseconds: {text!r}") from None
    if not values or any(value < 0 for value in values):
        raise argparse.ArgumentTypeError(f"not a list of milliseconds: {text!r}")
    return values


def parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    cli = argparse.ArgumentParser(
        prog="python -m scripts.benchmark",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cli.add_argument("--ack-seconds", type=int, default=10, help="length of each wrk run")
    cli.add_argument("--connections", type=int, default=16, help="concurrent wrk connections")
    cli.add_argument(
        "--wrk-threads", type=int, default=2, help="wrk threads of the acknowledgement phase"
    )
    cli.add_argument("--burst", type=int, default=10_000, help="notifications in the burst")
    cli.add_argument(
        "--broadcasters",
        type=int,
        default=100,
        help="broadcasters the notifications are spread over",
    )
    cli.add_argument("--rate", type=int, default=200, help="notifications/s in the steady phase")
    cli.add_argument("--steady-seconds", type=int, default=20, help="length of the steady phase")
    cli.add_argument(
        "--link-ms",
        type=round_trips,
        default=round_trips("0,50"),
        help="round trips (ms) between the app and Pusher, one block each; "
        "0 is loopback (default 0,50)",
    )
    cli.add_argument("--only-acknowledgement", action="store_true", help="run phase 1 alone")
    cli.add_argument(
        "--worker-option",
        action="append",
        default=[],
        help="extra option for the Celery worker, e.g. --worker-option=--concurrency=4",
    )
    return cli


if __name__ == "__main__":
    main()
