"""Benchmark of the webhook pipeline; prints figures.

    python -m scripts.benchmark [--ack-seconds 10] [--connections 16] [--burst 10000]
                                [--broadcasters 100] [--rate 200] [--steady-seconds 20]
                                [--link-ms 0,50] [--webs 1,2] [--workers 1,2,4]
                                [--push-devices 1000]

1. Acknowledgement (once): wrk (a separate process) GETs /healthz, then sends signed
   notifications to the web, served by Granian as the Procfile serves it, then the
   same notifications to the peer, pyTwitchAPI's webhook receiver
   (scripts/peer_webhook.py): requests/s, p50 and p99 of each, and the ratio of our
   rate to the peer's. No worker runs in this phase, so the figure is the web's own.
Then, for each round trip of --link-ms and each count of web processes (--webs;
the Procfile's when not given) and of workers (--workers, default 1), on a fresh
stack (Redis, Pusher emulator, web, workers, each worker with a metrics port of
its own) whose app reaches Pusher through a link with that round trip
(scripts/latency_link.py; 0 is plain loopback) while the measuring client
connects to Pusher directly:
2. Burst: distinct notifications over --broadcasters broadcasters, each sent once
   by wrk as fast as the web answers, each counted on arrival at one WebSocket
   subscriber of every channel: acknowledgements, arrivals, repeats, end-to-end
   rate; each worker's share of the events it published (``sev_events_total``);
   and what the burst cost Redis per event: calls and time of each command
   (``INFO commandstats``), bytes in and out and Redis's CPU, from INFO before
   the burst and once the intake is empty after it.
3. Steady: notifications at a fixed rate, from Python, each signed as it is sent;
   time from sending to arrival at the client. Beside it, the worker's own
   figure: p50 and p99 of its lag histogram (``sev_event_lag_seconds``, from
   Twitch's message time to the publish to Pusher, scraped from the worker's
   metrics port before and after the phase), estimated from the buckets as
   Prometheus's histogram_quantile does (over every worker's histogram), and
   each worker's share. Then the peak memory of the web and each worker.
With more than one web or worker count, a table of every combination ends each link.
4. Go-live alerts (scripts/push_under_load.py): one go-live fanned out to
   --push-devices devices of the Web Push stand-in through a 50 ms link, beside
   steady webhooks of another streamer: when the last push was accepted, and the
   steady latency alone and during the fan-out (0 devices: skipped).
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
from dataclasses import dataclass
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from scripts import push_under_load
from scripts.bench_clients import (
    WRK_SCRIPT,
    BurstFigures,
    SteadyFigures,
    burst,
    signed_notifications,
    steady,
    write_signed_requests,
)
from scripts.processes import Process, free_port, wait_until
from scripts.stack import WEB_OPTIONS, Stack
from shared.intake import PUMPS, backlog
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
            rows = [
                pipeline(args, rtt_ms, Scale(webs, workers), Path(tmp))
                for webs in args.webs
                for workers in args.workers
            ]
            if len(rows) > 1:
                print_scale_table(args, rtt_ms, rows)
        if args.push_devices:
            go_live_alerts(args.push_devices, Path(tmp) / "push")


def go_live_alerts(devices: int, directory: Path) -> None:
    """Phase 4: one go-live to ``devices`` devices beside steady webhooks."""
    print(f"\n######## go-live alerts: one go-live to {devices} devices, push link 50 ms")
    directory.mkdir()
    options = argparse.Namespace(devices=devices, rtt_ms=50.0, rate=50.0, seconds=4.0)
    for line in push_under_load.run(options, str(directory)):
        print(line, flush=True)


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


@dataclass
class Scale:
    """How many web processes (None: the Procfile's) and workers a stack runs."""

    webs: int | None
    workers: int

    @property
    def web_processes(self) -> int:
        """The web's process count, the Procfile's when none was chosen."""
        return self.webs or int(WEB_OPTIONS[WEB_OPTIONS.index("--workers") + 1])

    def web_options(self) -> list[str]:
        """Granian's options for the chosen process count (none for the Procfile's)."""
        return [] if self.webs is None else ["--workers", str(self.webs)]


@dataclass
class ScaleRow:
    """One stack's figures, for the table of every web and worker count."""

    scale: Scale
    burst: BurstFigures
    steady: SteadyFigures
    burst_shares: list[float]


# After the last pump's first heartbeat, the others give shards up at their next one and it
# takes them at its next: two heartbeats (worker.shards), and a margin.
SHARES_SETTLE_SECONDS = 3.0


def pipeline(args, rtt_ms: float, scale: Scale, tmp: Path) -> ScaleRow:
    """Phases 2 and 3 on a fresh stack of ``scale`` whose app reaches Pusher through
    ``rtt_ms``; the figures for the table."""
    link = "loopback" if not rtt_ms else f"{rtt_ms:g} ms round trip"
    print(
        f"\n######## link between the app and Pusher: {link} "
        f"(the measuring client connects directly); {scale.web_processes} web "
        f"process(es), {scale.workers} worker(s)"
    )
    directory = tmp / f"link-{rtt_ms:g}ms-{scale.web_processes}webs-{scale.workers}workers"
    with fresh_stack(directory) as stack:
        stack.start_redis()
        stack.start_pusher()
        if rtt_ms:
            stack.start_pusher_link(rtt_ms)
        web = stack.start_web(*scale.web_options())
        workers = start_workers(stack, scale.workers, args.worker_option)
        ports = [port for _, port in workers]
        redis_before, published_before = redis_counters(stack), published_events(ports)
        burst_figures = asyncio.run(
            burst(stack, args.burst, args.connections, args.broadcasters, directory)
        )
        before = settled_lag_buckets(ports, {}, args.burst)  # the burst's last ones in
        wait_until(lambda: queued(stack) == 0, 30, "the intake never emptied", interval=0.1)
        print_redis_cost(redis_before, redis_counters(stack), args.burst)
        burst_shares = print_shares("burst", published_before, published_events(ports))
        before_steady = published_events(ports)
        steady_figures = asyncio.run(
            steady(stack, args.rate, args.steady_seconds, args.broadcasters)
        )
        print_lag(before, settled_lag_buckets(ports, before, args.rate * args.steady_seconds))
        print_shares("steady", before_steady, published_events(ports))
        print_peak_memory(link, web, [worker for worker, _ in workers])
    return ScaleRow(scale, burst_figures, steady_figures, burst_shares)


def start_workers(stack: Stack, count: int, options: list[str]) -> list[tuple[Process, int]]:
    """``count`` workers, each with its metrics on a port of its own: (worker, port) each,
    once every pump beats and the shards have had time to be shared out."""
    workers = []
    for _ in range(count):
        port = free_port()
        workers.append((stack.start_worker(*options, loglevel="WARNING", metrics_port=port), port))
    client = stack.redis()
    wait_until(lambda: client.zcard(PUMPS) >= count, timeout=30, message="pumps never all beat")
    time.sleep(SHARES_SETTLE_SECONDS)
    return workers


def print_peak_memory(link: str, web: Process, workers: list[Process]) -> None:
    """Peak memory of the web and each worker."""
    print(f"\n== peak memory ({link}; sum of peak RSS over each process tree)")
    print(f"web       {web.peak_memory() / 2**20:7.1f} MiB")
    for number, worker in enumerate(workers, 1):
        print(f"worker {number:<2} {worker.peak_memory() / 2**20:7.1f} MiB")


def published_events(ports: list[int]) -> list[float]:
    """Events each worker has published so far (``sev_events_total``, outcome published)."""
    return [
        sum(
            sample.value
            for family in metric_families(port)
            if family.name == "sev_events"
            for sample in family.samples
            if sample.name == "sev_events_total" and sample.labels["outcome"] == "published"
        )
        for port in ports
    ]


def print_shares(phase: str, before: list[float], after: list[float]) -> list[float]:
    """Each worker's share of the events published over a phase; the shares (0..1)."""
    counts = [later - earlier for earlier, later in zip(before, after, strict=True)]
    shares = [count / (sum(counts) or 1) for count in counts]
    described = "  ".join(
        f"#{n} {count:.0f} ({count / (sum(counts) or 1):.0%})" for n, count in enumerate(counts, 1)
    )
    print(f"published by each worker      {phase}: {described}")
    return shares


def redis_counters(stack: Stack) -> dict:
    """Redis's INFO (every section but modules', ``commandstats`` among them) at one
    moment."""
    return stack.redis().info("all")


# The benchmark's own INFO calls are no part of the path.
OWN_COMMANDS = ("cmdstat_info",)


def command_costs(before: dict, after: dict) -> dict[str, tuple[float, float]]:
    """Per command between two INFO readings: (calls, microseconds inside Redis), the
    busiest first."""
    costs = {}
    for name, stats in after.items():
        if not name.startswith("cmdstat_") or name in OWN_COMMANDS:
            continue
        earlier = before.get(name, {"calls": 0, "usec": 0})
        calls = stats["calls"] - earlier["calls"]
        if calls:
            costs[name.removeprefix("cmdstat_")] = (calls, stats["usec"] - earlier["usec"])
    return dict(sorted(costs.items(), key=lambda item: -item[1][0]))


def print_redis_cost(before: dict, after: dict, events: int) -> None:
    """What ``events`` cost Redis, per event: each command's calls and time, the bytes in
    and out, and Redis's CPU (user and system)."""
    costs = command_costs(before, after)
    print(
        f"\n== Redis per event over the burst (INFO before, and after with the intake empty, "
        f"over {events} events; the worker's idle polling included)"
    )
    print("   (what EVAL's scripts call is counted too, under each command's name)")
    print(f"{'command':22} {'calls/event':>11} {'us/event':>9}")
    for name, (calls, usec) in costs.items():
        print(f"{name:22} {calls / events:11.2f} {usec / events:9.2f}")
    calls = sum(calls for calls, _ in costs.values())
    usec = sum(usec for _, usec in costs.values())
    print(f"{'all commands':22} {calls / events:11.2f} {usec / events:9.2f}")
    received, sent = (
        (after[key] - before[key]) / events
        for key in ("total_net_input_bytes", "total_net_output_bytes")
    )
    cpu = sum(after[key] - before[key] for key in ("used_cpu_user", "used_cpu_sys"))
    print(f"bytes/event                   in {received:,.0f}  out {sent:,.0f}")
    print(
        f"Redis CPU (user+sys)/event    {cpu / events * 1e6:.1f} us "
        f"(one core full at {events / cpu:,.0f} events/s)"
    )


def print_scale_table(args, rtt_ms: float, rows: list[ScaleRow]) -> None:
    """Every web and worker count of one link side by side."""
    link = "loopback" if not rtt_ms else f"{rtt_ms:g} ms round trip"
    print(
        f"\n== scale ({link}; burst of {args.burst}, steady {args.rate}/s for "
        f"{args.steady_seconds}s; shares of the burst)"
    )
    print(
        f"{'webs':>4} {'workers':>7} {'acks/s':>7} {'events/s':>8} {'steady p50':>10} "
        f"{'p99':>7} {'repeats':>7}  shares"
    )
    for row in rows:
        print(
            f"{row.scale.web_processes:>4} {row.scale.workers:>7} "
            f"{figure(row.burst.acks_per_second, '.0f'):>7} "
            f"{figure(row.burst.events_per_second, '.0f'):>8} "
            f"{figure(row.steady.p50_ms, '.1f'):>7} ms {figure(row.steady.p99_ms, '.1f'):>4} ms "
            f"{row.burst.repeats + row.steady.repeats:>7}  "
            + " ".join(f"{share:.0%}" for share in row.burst_shares)
        )


def figure(value: float | None, spec: str) -> str:
    """A figure as ``spec`` formats it, or a dash where there is none."""
    return "-" if value is None else format(value, spec)


def metric_families(port: int):
    """The metric families a worker serves on ``port``, as they stand."""
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return list(text_string_to_metric_families(text))


def lag_buckets(ports: list[int]) -> dict[float, float]:
    """The lag histogram of the workers serving metrics on ``ports``, summed, as it
    stands: {bucket's upper bound: cumulative count}."""
    summed: dict[float, float] = {}
    for port in ports:
        for family in metric_families(port):
            if family.name != "sev_event_lag_seconds":
                continue
            for sample in family.samples:
                if sample.name.endswith("_bucket"):
                    bound = float(sample.labels["le"])
                    summed[bound] = summed.get(bound, 0.0) + sample.value
    return summed


def settled_lag_buckets(
    ports: list[int], before: dict[float, float], expected: int, timeout: float = 5.0
) -> dict[float, float]:
    """The workers' lag histogram once ``expected`` events more than ``before`` are in it,
    or as it stands after ``timeout`` (an event reaches the client before Pusher's answer
    is back at the worker, which observes it then)."""
    deadline = time.monotonic() + timeout
    while True:
        after = lag_buckets(ports)
        if (
            after.get(math.inf, 0) - before.get(math.inf, 0) >= expected
            or time.monotonic() > deadline
        ):
            return after
        time.sleep(0.05)


def phase_lag(before: dict[float, float], after: dict[float, float]) -> tuple[float, float, float]:
    """The lag between two scrapes of the histogram: events observed, p50 and p99 in ms
    (both 0 when none was observed)."""
    phase = {bound: after[bound] - before.get(bound, 0.0) for bound in after}
    observed = phase.get(math.inf, 0)
    if not observed:
        return 0, 0.0, 0.0
    p50, p99 = (histogram_quantile(q, phase) * 1000 for q in (0.5, 0.99))
    return observed, p50, p99


def print_lag(before: dict[float, float], after: dict[float, float]) -> None:
    """The worker's lag over the steady phase: the histogram's change between two scrapes."""
    observed, p50, p99 = phase_lag(before, after)
    if not observed:
        print("worker lag (histogram)        no event observed")
        return
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


def comma_separated(text: str, kind, lowest: float, what: str) -> list:
    """The values of comma-separated ``text``, each read by ``kind`` and at least
    ``lowest``; refused with ``what`` the list should be."""
    try:
        values = [kind(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of {what}: {text!r}") from None
    if not values or any(value < lowest for value in values):
        raise argparse.ArgumentTypeError(f"not a list of {what}: {text!r}")
    return values


def round_trips(text: str) -> list[float]:
    """``--link-ms``: comma-separated round trips in milliseconds, 0 for loopback."""
    return comma_separated(text, float, 0, "milliseconds")


def counts(text: str) -> list[int]:
    """``--webs``, ``--workers``: comma-separated process counts, each at least 1."""
    return comma_separated(text, int, 1, "process counts")


def script_parser(module: str, doc: str | None) -> argparse.ArgumentParser:
    """An argument parser for ``python -m module`` whose help starts with ``doc`` as
    written, with the option every load takes: ``--broadcasters``."""
    cli = argparse.ArgumentParser(
        prog=f"python -m {module}",
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cli.add_argument(
        "--broadcasters",
        type=int,
        default=100,
        help="broadcasters the notifications are spread over",
    )
    return cli


def parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    cli = script_parser("scripts.benchmark", __doc__)
    cli.add_argument("--ack-seconds", type=int, default=10, help="length of each wrk run")
    cli.add_argument("--connections", type=int, default=16, help="concurrent wrk connections")
    cli.add_argument(
        "--wrk-threads", type=int, default=2, help="wrk threads of the acknowledgement phase"
    )
    cli.add_argument("--burst", type=int, default=10_000, help="notifications in the burst")
    cli.add_argument("--rate", type=int, default=200, help="notifications/s in the steady phase")
    cli.add_argument("--steady-seconds", type=int, default=20, help="length of the steady phase")
    cli.add_argument(
        "--link-ms",
        type=round_trips,
        default=round_trips("0,50"),
        help="round trips (ms) between the app and Pusher, one block each; "
        "0 is loopback (default 0,50)",
    )
    cli.add_argument(
        "--webs",
        type=counts,
        default=[None],
        help="web (Granian) process counts, one stack each, e.g. 1,2 (default: the Procfile's)",
    )
    cli.add_argument(
        "--workers",
        type=counts,
        default=[1],
        help="worker process counts, one stack each, e.g. 1,2,4 (default 1)",
    )
    cli.add_argument("--only-acknowledgement", action="store_true", help="run phase 1 alone")
    cli.add_argument(
        "--push-devices",
        type=int,
        default=1000,
        help="devices one go-live is pushed to in the last phase (0: skip it)",
    )
    cli.add_argument(
        "--worker-option",
        action="append",
        default=[],
        help="extra option for the Celery worker, e.g. --worker-option=--concurrency=4",
    )
    return cli


if __name__ == "__main__":
    main()
