"""Soak: the pipeline under a steady load for a long time; memory and lag as it goes.

    python -m scripts.soak [--minutes 20] [--rate 200] [--broadcasters 100]

On a fresh stack (Redis, the Pusher emulator, the web served as the Procfile serves it,
one worker with its metrics port), the benchmark's steady sender
(scripts/bench_clients.py) sends --rate signed notifications a second over
--broadcasters broadcasters for --minutes, each counted on arrival at one WebSocket
subscriber of every channel. Each minute it prints the worker's lag p50 and p99 over
that minute (``sev_event_lag_seconds``, the histogram's change between two scrapes,
as the benchmark reads it) and the resident memory (RSS) of the web, the worker and
Redis, with the memory Redis itself counts (``used_memory``) and its keys. At the
end: memory before the load, after the first minute and after the last; growth of
more than 10% from the first minute to the last is a finding, printed as one; and
what Redis kept per event meanwhile, with where that levels off once the oldest
claims expire.
Not part of the test suite: it takes as long as it is asked to.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from scripts.bench_clients import steady
from scripts.benchmark import counts, fresh_stack, lag_buckets, phase_lag, script_parser
from scripts.processes import free_port
from scripts.stack import Stack
from shared.store import CLAIM_TTL

GROWTH_FINDING = 0.10  # growth from the first minute to the last that is a finding
MiB = 2**20


def main(argv=None) -> None:
    """Start a stack, load it for ``--minutes`` and report as it goes."""
    args = parser().parse_args(argv)
    metrics_port = free_port()
    with tempfile.TemporaryDirectory() as tmp, fresh_stack(Path(tmp) / "soak") as stack:
        stack.start_redis()
        stack.start_pusher()
        stack.start_web()
        stack.start_worker(loglevel="WARNING", metrics_port=metrics_port)
        start = memory(stack)
        print(f"soak: {args.rate} notifications/s for {args.minutes} min")
        print(memory_line("start (before the load)", start))
        minutes = asyncio.run(soak(stack, args, metrics_port))
        print_memory_report(start, minutes[0], minutes[-1], len(minutes), args.rate)


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
    what Redis counts itself: ``used_memory`` and its keys."""
    info = stack.redis().info("all")
    return {
        "web": stack.process("web").memory(),
        "worker": stack.process("worker-1").memory(),
        "redis": stack.process("redis").memory(),
        "used_memory": info["used_memory"],
        "keys": sum(value["keys"] for name, value in info.items() if name.startswith("db")),
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
        f"(used_memory {reading['used_memory'] / MiB:6.1f} MiB, {reading['keys']:.0f} keys)"
    )


def growth_lines(first: dict[str, float], last: dict[str, float]) -> list[str]:
    """Growth from the first minute to the last of each measure; more than 10% is a
    finding."""
    lines = []
    for name in first:
        change = (last[name] - first[name]) / first[name] if first[name] else 0.0
        verdict = "FINDING: grew over 10%" if change > GROWTH_FINDING else "ok"
        lines.append(f"  {name:11} {change:+7.1%}  {verdict}")
    return lines


def print_memory_report(
    start: dict[str, float],
    first: dict[str, float],
    last: dict[str, float],
    minutes: int,
    rate: int,
) -> None:
    """Memory before the load, after the first minute and after the last, the growth in
    between, and what Redis kept per event sent meanwhile."""
    print("\n== memory")
    print(memory_line("start (before the load)", start))
    print(memory_line("after minute 1", first))
    print(memory_line(f"after minute {minutes} (end)", last))
    print(f"growth from minute 1 to minute {minutes}:")
    print("\n".join(growth_lines(first, last)))
    if minutes > 1:
        events = rate * 60 * (minutes - 1)
        kept = (last["used_memory"] - first["used_memory"]) / events
        keys = (last["keys"] - first["keys"]) / events
        print(f"Redis kept {kept:,.0f} bytes and {keys:.2f} keys per event sent meanwhile")
        print(
            f"  (an event's claim and published mark live {CLAIM_TTL // 3600} h: at {rate}/s "
            f"Redis would level off near {kept * rate * CLAIM_TTL / 2**30:,.1f} GiB)"
        )


def parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    cli = script_parser("scripts.soak", __doc__)
    cli.add_argument("--minutes", type=positive, default=20, help="length of the soak")
    cli.add_argument("--rate", type=positive, default=200, help="notifications/s")
    return cli


def positive(text: str) -> int:
    """``--minutes``, ``--rate``: one whole number of at least 1 (a list of more is a
    ValueError, which argparse reports)."""
    [value] = counts(text)
    return value


if __name__ == "__main__":
    main()
