"""A replicated Redis for a stack: a primary, two replicas and three sentinels watching
them, all from the redis-server the stack already runs (it has Sentinel mode).

Two replicas, as Sentinel's own guide sets it up: after a failover one is left to
confirm appends (``INTAKE_REPLICAS``); with one, the new primary would have none
until the old one came back, and no webhook could be acknowledged meanwhile.

Once :func:`start_redis_group` has run, every process the stack starts reaches Redis
through the sentinels (``REDIS_SENTINELS``), and acknowledges a webhook only once the
replica has it (``INTAKE_REPLICAS`` defaults to 1 then).
"""

from __future__ import annotations

import sys
import time

import redis

from scripts.processes import free_port, wait_until
from scripts.stack import Stack, redis_server_binary

MASTER = "sev"
# Quick enough for a test of a few seconds: the sentinels call the primary down after
# 3 s of silence, and two of the three must agree. (At 1 s, a busy 2-core machine made
# them call a newly elected primary down too, and fail over a second time.)
DOWN_AFTER_MS, FAILOVER_TIMEOUT_MS, QUORUM = 3000, 10000, 2


def start_redis_group(
    stack: Stack, replicas: int = 2, sentinels: int = 3, replica_rtt_ms: float = 0
) -> None:
    """Start the stack's Redis as a primary, ``replicas`` replicas and ``sentinels``
    sentinels, each on a port of its own; set the stack's environment to reach them.
    With ``replica_rtt_ms``, each replica replicates through a link of that round trip
    (scripts/latency_link.py), as one in another zone does."""
    stack.start_redis(persistent=True)
    primary = stack.redis_port
    if replica_rtt_ms:
        primary = free_port()
        link = ["--listen", str(primary), "--to", f"127.0.0.1:{stack.redis_port}"]
        link += ["--rtt-ms", str(replica_rtt_ms)]
        stack.start("replica-link", [sys.executable, "-m", "scripts.latency_link", *link], primary)
    for number in range(1, replicas + 1):
        port = free_port()
        stack.start(
            f"redis-replica-{number}",
            [
                redis_server_binary(),
                *("--port", str(port), "--bind", "127.0.0.1", "--save", ""),
                *("--appendonly", "yes", "--appendfsync", "everysec"),
                *("--appendfilename", f"replica-{number}.aof", "--dir", str(stack.log_dir)),
                *("--replicaof", "127.0.0.1", str(primary)),
            ],
            port,
        )
    wait_until(
        lambda: replicas_online(stack.redis_port) == replicas,
        timeout=20,
        message="the replicas never caught up with the primary",
    )
    ports = [free_port() for _ in range(sentinels)]
    for number, port in enumerate(ports, 1):
        config = stack.log_dir / f"sentinel-{number}.conf"
        config.write_text(
            f"port {port}\nbind 127.0.0.1\n"
            f"sentinel monitor {MASTER} 127.0.0.1 {stack.redis_port} {QUORUM}\n"
            f"sentinel down-after-milliseconds {MASTER} {DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {MASTER} {FAILOVER_TIMEOUT_MS}\n"
        )
        stack.start(f"sentinel-{number}", [redis_server_binary(), str(config), "--sentinel"], port)
    try:
        wait_until(lambda: sentinels_agree(ports), timeout=20)
    except AssertionError:
        raise AssertionError(
            "the sentinels never found each other:\n" + sentinels_report(stack, ports)
        ) from None
    stack.env["REDIS_SENTINELS"] = ",".join(f"127.0.0.1:{port}" for port in ports)
    stack.env["REDIS_SENTINEL_MASTER"] = MASTER


def replicas_online(primary_port: int) -> int:
    """How many replicas the primary has online."""
    info = redis.Redis(port=primary_port, decode_responses=True).info("replication")
    return sum(
        info.get(f"slave{n}", {}).get("state") == "online"
        for n in range(info.get("connected_slaves", 0))
    )


def known_sentinels(port: int) -> list:
    """The other sentinels the sentinel on ``port`` knows of."""
    return redis.Redis(port=port, decode_responses=True).sentinel_sentinels(MASTER)


def sentinels_agree(ports: list[int]) -> bool:
    """Whether each sentinel on ``ports`` knows exactly the others on ``ports``."""
    try:
        return all(
            sorted(int(other["port"]) for other in known_sentinels(port))
            == sorted(set(ports) - {port})
            for port in ports
        )
    except redis.RedisError:
        return False


def sentinels_report(stack: Stack, ports: list[int]) -> str:
    """What each sentinel on ``ports`` knows of the others, and the end of its log."""
    lines = []
    for number, port in enumerate(ports, 1):
        try:
            known = [f"{o['ip']}:{o['port']} ({o['flags']})" for o in known_sentinels(port)]
        except redis.RedisError as error:
            known = [f"unreachable: {error}"]
        lines.append(f"sentinel-{number} on {port} knows {', '.join(known) or 'no other'}")
        tail = stack.process(f"sentinel-{number}").log().splitlines()[-8:]
        lines.extend(f"    {line}" for line in tail)
    return "\n".join(lines)


def primary_address(stack: Stack) -> tuple[str, int] | None:
    """Where the sentinels say the primary is, once they all agree (None until then)."""
    named = set()
    for address in stack.env["REDIS_SENTINELS"].split(","):
        host, port = address.rsplit(":", 1)
        sentinel = redis.Redis(host=host, port=int(port), socket_timeout=1, decode_responses=True)
        try:
            found = sentinel.sentinel_get_master_addr_by_name(MASTER)
        except redis.RedisError:
            return None
        named.add((found[0], int(found[1])) if found else None)
    return named.pop() if len(named) == 1 else None


def wait_for_election(stack: Stack, old: tuple[str, int] | None, timeout: float = 30) -> float:
    """Wait until every sentinel names the same primary, other than ``old`` (the failover
    is over: its leader announces it last); when that was (``time.monotonic()``)."""
    wait_until(
        lambda: primary_address(stack) not in (None, old),
        timeout=timeout,
        interval=0.05,
        message="the sentinels never agreed on a new primary",
    )
    return time.monotonic()
