"""The intake's shard count, noted in Redis, so that no web or worker runs with another.

A streamer's events keep their order because they all land in one shard, the one
their broadcaster id picks out of ``INTAKE_SHARDS``. A process started with another
count would put some streamers in other shards than the running ones do, and their
events could then be read by two pumps at once, out of order; shards past the old
count would be read by no old worker at all. So the first process notes the count,
every later one must match it, and only an operator changes it
(``flask intake-shards``), once the intake is empty and no worker runs.
"""

from __future__ import annotations

import time

import redis

from shared.intake import PUMPS, backlog

SHARD_COUNT = "sev:intake:shards"
PUMP_SECONDS = 5.0  # a pump that has not announced itself for this long is gone


class ShardCountMismatch(Exception):
    """This process's ``INTAKE_SHARDS`` is not the count the intake was made with."""

    def __init__(self, noted: int, configured: int):
        super().__init__(
            f"INTAKE_SHARDS is {configured}, but the intake in Redis has {noted} shards."
            f" Running both would reorder streamers' events. To change it: stop every web"
            f" and worker, wait until `flask queues` shows the intake empty, run"
            f" `flask intake-shards {configured}`, then start them with INTAKE_SHARDS={configured}"
        )
        self.noted, self.configured = noted, configured


def claim_shard_count(client: redis.Redis, shards: int) -> None:
    """Note ``shards`` as the intake's count if none is noted yet; raise
    :class:`ShardCountMismatch` when another one is."""
    with client.pipeline(transaction=False) as pipe:
        pipe.set(SHARD_COUNT, shards, nx=True)
        pipe.get(SHARD_COUNT)
        noted = int(pipe.execute()[1])
    if noted != shards:
        raise ShardCountMismatch(noted, shards)


def change_shard_count(client: redis.Redis, shards: int) -> int:
    """Note ``shards`` as the intake's count; the count noted before. Raises
    ``ValueError`` saying why not while a worker runs or the intake holds entries."""
    noted = int(client.get(SHARD_COUNT) or shards)
    pumps = client.zcount(PUMPS, time.time() - PUMP_SECONDS, "+inf")
    if pumps:
        raise ValueError(f"{pumps} worker pump(s) still run: stop every worker first")
    waiting = sum(backlog(client, max(noted, shards)).values())
    if waiting:
        raise ValueError(f"the intake still holds {waiting} entries: let a worker finish them")
    client.set(SHARD_COUNT, shards)
    return noted
