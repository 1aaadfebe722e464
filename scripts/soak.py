"""Soak: the pipeline under a steady load for a long time; memory and lag as it goes.

    python -m scripts.soak [--minutes 20] [--rate 200] [--broadcasters 100]
                           [--dedupe-window 900]

On a fresh stack (Redis, the Pusher emulator, the web served as the Procfile serves it,
one worker with its metrics port), the benchmark's steady sender
(scripts/bench_clients.py) sends --rate signed notifications a second over
--broadcasters broadcasters for --minutes, each counted on arrival at one WebSocket
subscriber of every channel. Each minute it prints the worker's lag p50 and p99 over
that minute (``sev_event_lag_seconds``, the histogram's change between two scrapes,
as the benchmark reads it) and the resident memory (RSS) of the web, the worker and
Redis, with the memory Redis itself counts (``used_memory``) and its keys. At the
end: memory before the load, after the first minute and after the last, and growth
in between; more than 10% is a finding, printed as one. Redis keeps each event's claim
and published mark for ``DEDUPE_WINDOW_SECONDS`` (``--dedupe-window``, its smallest
value unless told), so its growth is measured from the first minute after that window
has filled, once the oldest marks expire as fast as new ones come. Redis reclaims
expired keys by sampling, so at a steady rate it holds a share of them (a fifth, seen
here): its growth is judged by its live keys, its own count less its own estimate of
those (``expired_stale_perc``). Last, what Redis kept per event until the window filled,
with where that levels off for the default window.
Not part of the test suite: it takes as long as it is asked to.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import tempfile
import time
from pathlib import Path

from scripts.bench_clients import steady
from scripts.benchmark import counts, fresh_stack, lag_buckets, phase_lag, script_parser
from scripts.processes import free_port
from scripts.stack import Stack
from shared.settings import MIN_DEDUPE_WINDOW, OPTIONAL_DEFAULTS

GROWTH_FINDING = 0.10  # growth from the first minute to the last that is a finding
# Shown, not judged: expired keys Redis has not reclaimed yet count in them. Its live keys
# are judged instead, and its bytes per key (a key that keeps growing, an untrimmed
# stream say, raises them whatever the share of expired keys).
REDIS_RAW = ("redis", "used_memory", "keys")
MiB = 2**20


def main(argv=None) -> None:
    """Start a stack, load it for ``--minutes`` and report as it goes."""
    args = parser().parse_args(argv)
    metrics_port = free_port()
    window = {"DEDUPE_WINDOW_SECONDS": str(args.dedupe_window)}
    with tempfile.TemporaryDirectory() as tmp, fresh_stack(Path(tmp) / "soak", **window) as stack:
        stack.start_redis()
        stack.start_pusher()
        stack.start_web()
        stack.start_worker(loglevel="WARNING", metrics_port=metrics_port)
        start = memory(stack)
        print(f"soak: {args.rate} notifications/s for {args.minutes} min")
        print(memory_line("start (before the load)", start))
        minutes = asyncio.run(soak(stack, args, metrics_port))
        print_memory_report(start, minutes, args.rate, args.dedupe_window)


async def soak(stack: Stack, args, metrics_port: int) -> list[dict[str, float]]:
    """The steady sender and the report of each minute side by side; the memory read at
    the end of each minute."""
    reports = asyncio.create_task(report_minutes(stack, args.minutes, metrics_port))
    await steady(stack, args.rate, args.minutes * 60, args.broadcasters)
    return await reports


async def report_minutes(stack: Stack, minutes: int, metrics_port: int) -> list[dict[str, float]]:
    """At the end of each minute, print its lag and the memory; the memory of each."""
    started = time.monotonic()
    before = await asyncio.to_thread(lag_buckets, [metrics_port])
    readings = []
    for minute in range(1, minutes + 1):
        await asyncio.sleep(max(0.0, started + minute * 60 - time.monotonic()))
        after = await asyncio.to_thread(lag_buckets, [metrics_port])
        readings.append(await asyncio.to_thread(memory, stack))
        print(minute_line(minute, before, after, readings[-1]), flush=True)
        before = after
    return readings


def memory(stack: Stack) -> dict[str, float]:
    """Resident memory (bytes) of the web, the worker and Redis (each process tree), and
    what Redis counts itself: ``used_memory``, its keys, and the live ones among them
    (less the expired keys it has not reclaimed yet, by its own estimate)."""
    info = stack.redis().info("all")
    databases = [value for name, value in info.items() if name.startswith("db")]
    keys = sum(db["keys"] for db in databases)
    with_ttl = sum(db["expires"] for db in databases)
    return {
        "web": stack.process("web").memory(),
        "worker": stack.process("worker-1").memory(),
        "redis": stack.process("redis").memory(),
        "used_memory": info["used_memory"],
        "keys": keys,
        "live_keys": keys - with_ttl * info.get("expired_stale_perc", 0.0) / 100,
        "bytes_per_key": info["used_memory"] / max(keys, 1),
    }


def minute_line(
    minute: int, before: dict[float, float], after: dict[float, float], reading: dict[str, float]
) -> str:
    """One minute: the lag over it (between two scrapes of the histogram) and memory."""
    observed, p50, p99 = phase_lag(before, after)
    lag = f"lag p50 {p50:6.1f} ms  p99 {p99:6.1f} ms ({observed:.0f} events)"
    return f"minute {minute:3}  {lag}  {memory_line('', reading).strip()}"


def memory_line(label: str, reading: dict[str, float]) -> str:
    """One memory reading: RSS of each process in MiB, Redis's own count and keys."""
    return (
        f"{label:28} RSS web {reading['web'] / MiB:6.1f} MiB  worker "
        f"{reading['worker'] / MiB:6.1f} MiB  redis {reading['redis'] / MiB:6.1f} MiB  "
        f"(used_memory {reading['used_memory'] / MiB:6.1f} MiB, {reading['keys']:.0f} keys,"
        f" {reading['live_keys']:.0f} live)"
    )


def growth_lines(first: dict[str, float], last: dict[str, float]) -> list[str]:
    """Growth from the first minute to the last of each measure; more than 10% is a
    finding. Redis's own figures count the expired keys it has not reclaimed yet (it
    finds them by sampling, and at a steady rate holds a share of them): its live keys
    are what is judged."""
    lines = []
    for name in first:
        change = (last[name] - first[name]) / first[name] if first[name] else 0.0
        if name in REDIS_RAW:
            verdict = "(with expired keys not reclaimed yet: see live_keys, bytes_per_key)"
        else:
            verdict = "FINDING: grew over 10%" if change > GROWTH_FINDING else "ok"
        lines.append(f"  {name:11} {change:+7.1%}  {verdict}")
    return lines


def print_memory_report(
    start: dict[str, float], minutes: list[dict[str, float]], rate: int, window: int
) -> None:
    """Memory before the load, after the first minute, once the dedupe ``window`` has
    filled and after the last; the growth from then on; and what Redis kept per event
    while the window filled."""
    filled = math.ceil(window / 60) + 1  # the first minute all of whose marks can expire
    last = len(minutes)
    print("\n== memory")
    print(memory_line("start (before the load)", start))
    print(memory_line("after minute 1", minutes[0]))
    if last > filled:
        print(memory_line(f"after minute {filled} (window full)", minutes[filled - 1]))
    print(memory_line(f"after minute {last} (end)", minutes[-1]))
    since = filled if last > filled else 1
    if last < filled:
        print(f"(the {window} s dedupe window never filled: Redis grows by design until it does)")
    elif last == filled:
        print(
            f"(the {window} s dedupe window filled only in the last minute: Redis grew by design)"
        )
    print(f"growth from minute {since} to minute {last}:")
    print("\n".join(growth_lines(minutes[since - 1], minutes[-1])))
    until = min(filled, last)
    if until > 1:
        events = rate * 60 * (until - 1)
        kept = (minutes[until - 1]["used_memory"] - minutes[0]["used_memory"]) / events
        keys = (minutes[until - 1]["keys"] - minutes[0]["keys"]) / events
        default = int(OPTIONAL_DEFAULTS["DEDUPE_WINDOW_SECONDS"])
        print(f"Redis kept {kept:,.0f} bytes and {keys:.2f} keys per event while the window filled")
        print(
            f"  (with the default window of {default} s, {rate}/s held for good levels off"
            f" near {kept * rate * default / 2**20:,.0f} MiB)"
        )


def parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    cli = script_parser("scripts.soak", __doc__)
    cli.add_argument("--minutes", type=positive, default=20, help="length of the soak")
    cli.add_argument("--rate", type=positive, default=200, help="notifications/s")
    cli.add_argument(
        "--dedupe-window",
        type=dedupe_window,
        default=MIN_DEDUPE_WINDOW,
        help=f"DEDUPE_WINDOW_SECONDS for the stack (default {MIN_DEDUPE_WINDOW}, the least)",
    )
    return cli


def dedupe_window(text: str) -> int:
    """``--dedupe-window``: seconds, at least what the settings allow."""
    value = positive(text)
    if value < MIN_DEDUPE_WINDOW:
        raise argparse.ArgumentTypeError(f"at least {MIN_DEDUPE_WINDOW} (DEDUPE_WINDOW_SECONDS)")
    return value


def positive(text: str) -> int:
    """``--minutes``, ``--rate``: one whole number of at least 1 (a list of more is a
    ValueError, which argparse reports)."""
    [value] = counts(text)
    return value


if __name__ == "__main__":
    main()
