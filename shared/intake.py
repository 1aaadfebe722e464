"""The event intake: verified webhooks waiting for a worker, kept in Redis Streams.

The web appends each verified message (raw body and Twitch headers) to one of
``INTAKE_SHARDS`` streams and only then acknowledges it. The shard follows
from the broadcaster, so all of a streamer's messages share one stream, which
one worker's pump reads at a time: that is what keeps them in order.
Entries stay pending until a pump has published or handed them on, so a
worker that dies loses nothing: the next owner of the shard claims them.
"""

from __future__ import annotations

import json
import re
import time
import zlib
from collections.abc import Iterable
from typing import cast

import redis
from redis.client import Pipeline

from shared.sentinel import follow_primary, uses_sentinel

GROUP = "pumps"
# The live pumps, each with the time of its last heartbeat (:mod:`worker.shards`).
PUMPS = "sev:pumps"
EVENTSUB = "eventsub"
WEBSUB = "websub"

_BROADCASTER_ID = re.compile(
    rb'"(?:broadcaster_user_id|from_broadcaster_user_id)"\s*:\s*"(\d{1,20})"'
)


def intake_key(shard: int) -> str:
    """Key of one intake stream."""
    return f"sev:intake:{shard}"


def owner_key(shard: int) -> str:
    """Key of the lease a pump holds on one shard (:mod:`worker.shards`)."""
    return f"sev:intake:{shard}:owner"


def shard_of(partition_key: str, shards: int) -> int:
    """The shard of a broadcaster id (any string; unknown ones share shard 0's fate)."""
    return zlib.crc32(partition_key.encode()) % shards


def eventsub_partition_key(body: bytes) -> str:
    """The broadcaster id of a raw EventSub body, found without parsing the JSON.

    Only the choice of shard depends on it; a body without one goes to the
    shard of ``""`` and is judged by the worker like any other.
    """
    match = _BROADCASTER_ID.search(body)
    return match.group(1).decode() if match else ""


def intake_entry(
    shards: int, kind: str, headers: dict, body: str | bytes, partition_key: str
) -> tuple[str, dict]:
    """The stream key and the fields of a verified message's intake entry."""
    key = intake_key(shard_of(partition_key, shards))
    return key, {"kind": kind, "headers": json.dumps(headers), "body": body}


class ReplicasBehind(redis.RedisError):
    """Fewer replicas than ``INTAKE_REPLICAS`` confirmed an append in time, so it could be
    lost if the primary failed now: the message is not acknowledged (Twitch sends it
    again, and the worker drops the second copy)."""

    def __init__(self, confirmed: int, replicas: int):
        super().__init__(f"{confirmed} of {replicas} replicas confirmed the append in time")


# One WAIT lasts at most this long. When it ends short, the sentinels are asked where
# the primary is (a planned failover moves it meanwhile) and the append is made again,
# until the acknowledgement's time (INTAKE_REPLICA_TIMEOUT_MS) is spent.
WAIT_SLICE_MS = 500
# After a refused connection or a READONLY answer, the next try waits this long.
RETRY_PAUSE_SECONDS = 0.1
# What a failover answers: the append is tried again where the sentinels then say.
PRIMARY_MOVED = (ReplicasBehind, redis.ReadOnlyError, redis.ConnectionError)


def next_wait_ms(deadline: float, sliced: bool = True) -> int:
    """How long the next ``WAIT`` may last before the monotonic ``deadline``: the rest of
    the time, at most :data:`WAIT_SLICE_MS` when ``sliced`` (through Sentinel, where the
    primary may move meanwhile); 0 once the time is spent."""
    left = max(0, int((deadline - time.monotonic()) * 1000))
    return min(WAIT_SLICE_MS, left) if sliced else left


def pause_before_retry(error: Exception) -> float:
    """Seconds to wait before appending again after ``error``: none after a ``WAIT``
    that already took its time, a moment after a refusal."""
    return 0.0 if isinstance(error, ReplicasBehind) else RETRY_PAUSE_SECONDS


def enqueue(
    client: redis.Redis,
    shards: int,
    kind: str,
    headers: dict,
    body: str,
    partition_key: str,
    replicas: int = 0,
    replica_timeout_ms: int = 2000,
) -> str:
    """Append a verified message to its shard's stream; the entry id. With ``replicas``,
    only once that many replicas have it (``WAIT``).

    Through Sentinel, an append that meets a failover is made again where the
    sentinels say the primary is, for up to ``replica_timeout_ms`` in all (a second
    copy is harmless: the worker drops it by its message id). Raises redis' errors
    (:class:`ReplicasBehind` among them) when Redis cannot take it: the caller must
    not acknowledge the message then.
    """
    key, fields = intake_entry(shards, kind, headers, body, partition_key)
    deadline = time.monotonic() + replica_timeout_ms / 1000
    while True:
        try:
            if not replicas:
                return cast(str, client.xadd(key, fields))
            wait_ms = next_wait_ms(deadline, sliced=uses_sentinel(client))
            return append_confirmed(client, key, fields, replicas, wait_ms)
        except PRIMARY_MOVED as error:
            if not uses_sentinel(client) or next_wait_ms(deadline) == 0:
                raise
            time.sleep(pause_before_retry(error))
            try:
                follow_primary(client)
            except redis.ConnectionError:  # no sentinel names a primary yet
                pass


def append_confirmed(
    client: redis.Redis, key: str, fields: dict, replicas: int, wait_ms: int
) -> str:
    """XADD, then WAIT up to ``wait_ms`` for ``replicas``, in one round trip; the entry id."""
    with client.pipeline(transaction=False) as pipe:
        pipe.xadd(key, fields)
        pipe.wait(replicas, max(wait_ms, 1))
        entry_id, confirmed = pipe.execute()
    if confirmed < replicas:
        raise ReplicasBehind(confirmed, replicas)
    return cast(str, entry_id)


def ensure_groups(client: redis.Redis, shards: int) -> None:
    """Create the pumps' consumer group on every shard (from the first entry)."""
    for shard in range(shards):
        try:
            client.xgroup_create(intake_key(shard), GROUP, id="0", mkstream=True)
        except redis.ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise


def queue_finish(pipe: Pipeline, finished: Iterable[tuple[str, str]]) -> None:
    """Queue on ``pipe`` the end of these entries (``(stream key, entry id)`` pairs):
    acknowledged and deleted, so a stream holds only unfinished work."""
    by_stream: dict[str, list[str]] = {}
    for stream, entry_id in finished:
        by_stream.setdefault(stream, []).append(entry_id)
    for stream, ids in by_stream.items():
        pipe.xack(stream, GROUP, *ids)
        pipe.xdel(stream, *ids)


def backlog(client: redis.Redis, shards: int) -> dict[str, int]:
    """Entries per shard not yet finished: waiting to be read, or read and pending."""
    with client.pipeline(transaction=False) as pipe:
        for shard in range(shards):
            pipe.xlen(intake_key(shard))
        lengths = pipe.execute()
    return {intake_key(shard): length for shard, length in enumerate(lengths)}


def waiting(client: redis.Redis, shards: int, count: int = 100) -> list[dict]:
    """Up to ``count`` unfinished entries of each shard: stream, id, kind, headers, body."""
    found = []
    for shard in range(shards):
        entries = cast(
            list[tuple[str, dict[str, str]]], client.xrange(intake_key(shard), count=count)
        )
        for entry_id, fields in entries:
            found.append(
                {
                    "stream": intake_key(shard),
                    "id": entry_id,
                    "kind": fields["kind"],
                    "headers": json.loads(fields["headers"]),
                    "body": fields["body"],
                }
            )
    return found
