"""What sending the Lua scripts by SHA1 saves: ``python -m scripts.lua_cost``.

    python -m scripts.lua_cost --rounds 5 --events 5000

Starts a redis-server of its own on a free port and runs the worker's hot-path scripts
with the arguments the worker gives them, three ways in interleaved rounds (each way
first in a third of them): as text with ``EVAL`` on every call (as the app did); by SHA1
as :class:`shared.lua.LuaScript` sends them (``EVALSHA``: a pipeline's first call of a
script goes as text); and by SHA1 as redis-py's ``Script`` sends them on a pipeline
(``EXISTS``: a ``SCRIPT EXISTS`` round trip before each pipeline). Prints, per operation
and way, the median calls per second and the bytes Redis received per call (its
``total_net_input_bytes``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import redis
from redis.commands.core import Script

from scripts.processes import Process, free_port
from scripts.stack import development_environment, redis_server_binary
from shared.intake import owner_key
from shared.lua import LuaScript
from shared.store import _CLAIM_EVENT, _RECORD_STREAM, channel_state_key

WAYS = ("EVAL", "EVALSHA", "EXISTS")


def run_script(way: str, script: LuaScript, keys: list, args: list, client) -> None:
    """Queue or run ``script`` on ``client`` as text (EVAL), by SHA1 as the app does
    (EVALSHA), or by SHA1 with redis-py's own check before each pipeline (EXISTS)."""
    if way == "EVAL":
        client.eval(script.text, len(keys), *keys, *args)
    elif way == "EVALSHA":
        script(keys, args, client=client)
    else:
        Script.__call__(script, keys, args, client)


def claims(client: redis.Redis, way: str, events: int, per_pipeline: int) -> int:
    """The pump's claims: ``per_pipeline`` events in each pipeline (an intake read);
    returns the calls made."""
    for start in range(0, events, per_pipeline):
        with client.pipeline(transaction=False) as pipe:
            for n in range(start, min(events, start + per_pipeline)):
                keys = [f"sev:seen:message:{way}-{n}", f"sev:seen:message:{way}-{n}", "sev:c:1"]
                args = [f"{n}-0", 3600, "", "", "", 3600, "0"]
                run_script(way, _CLAIM_EVENT, keys, args, pipe)
            pipe.execute()
    return events


def stream_states(client: redis.Redis, way: str, events: int, per_pipeline: int) -> int:
    """A finished batch's records of going live or offline (the publishing threads)."""
    for start in range(0, events, per_pipeline):
        with client.pipeline(transaction=False) as pipe:
            for n in range(start, min(events, start + per_pipeline)):
                order_key = f"2026-01-01T12:00:00.{n:09d}Z"
                args = [order_key, "1", f"stream-{n}", "2026-01-01T12:00:00Z", 3600]
                run_script(way, _RECORD_STREAM, [channel_state_key(str(n % 50))], args, pipe)
            pipe.execute()
    return events


def heartbeats(client: redis.Redis, way: str, events: int, shards: int = 8) -> int:
    """A pump's lease renewals: one pipeline of ``shards`` scripts a heartbeat."""
    from worker.shards import _TAKE_OR_RENEW  # the worker package reads the environment

    beats = max(1, events // shards)
    for _ in range(beats):
        with client.pipeline(transaction=False) as pipe:
            for shard in range(shards):
                run_script(way, _TAKE_OR_RENEW, [owner_key(shard)], ["pump-1", "5000"], pipe)
            pipe.execute()
    return beats * shards


def measure(client: redis.Redis, operation: Callable[[], int]) -> tuple[float, float]:
    """Calls a second and bytes Redis received per call for one run of ``operation``."""
    client.flushall()
    received = int(client.info("stats")["total_net_input_bytes"])
    started = time.perf_counter()
    calls = operation()
    elapsed = time.perf_counter() - started
    received = int(client.info("stats")["total_net_input_bytes"]) - received
    return calls / elapsed, received / calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds of each way")
    parser.add_argument("--events", type=int, default=5000, help="script calls per run")
    options = parser.parse_args(argv)
    operations = {
        "claim, 1 a pipeline (light load)": lambda c, w: claims(c, w, options.events // 5, 1),
        "claim, 100 a pipeline (a busy read)": lambda c, w: claims(c, w, options.events, 100),
        "stream state, 2 a pipeline (a batch)": lambda c, w: stream_states(
            c, w, options.events // 5, 2
        ),
        "lease renewal, 8 a pipeline": lambda c, w: heartbeats(c, w, options.events),
    }
    with tempfile.TemporaryDirectory() as directory:
        port = free_port()
        server = Process(
            "redis",
            [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
            {},
            Path(directory),
            port,
        ).start()
        try:
            os.environ.update(development_environment(REDIS_URL=f"redis://127.0.0.1:{port}/0"))
            client = redis.Redis(port=port, decode_responses=True)
            results: dict[tuple[str, str], list[tuple[float, float]]] = {}
            for round_number in range(options.rounds):
                ways = WAYS[round_number % 3 :] + WAYS[: round_number % 3]  # each goes first
                for name, operation in operations.items():
                    for way in ways:
                        results.setdefault((name, way), []).append(
                            measure(client, lambda op=operation, w=way: op(client, w))
                        )
            print(f"{'operation':40} {'way':8} {'calls/s':>10} {'bytes/call':>11}")
            for (name, way), runs in results.items():
                rate = statistics.median(r for r, _ in runs)
                sent = statistics.median(b for _, b in runs)
                print(f"{name:40} {way:8} {rate:10,.0f} {sent:11,.0f}")
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
