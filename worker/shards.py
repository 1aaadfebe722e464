"""Which pump reads which intake shard: one owner per shard, taken over when it dies.

Every pump announces itself in a sorted set with a heartbeat. The live pumps,
sorted by name, split the shards between them (shard ``n`` to pump
``n % count``), and each pump holds a lease on the shards it reads. A lease
lapses ``LEASE_SECONDS`` after the last renewal, so a pump killed without
warning loses its shards within that time and the others take them over. A
pump that must give a shard up (another pump joined) first finishes what it
has in flight, then releases the lease; only then may the new owner take it.
"""

from __future__ import annotations

import time

import redis

from shared.intake import PUMPS, owner_key
from shared.lua import LuaScript

LEASE_SECONDS = 5.0
HEARTBEAT_SECONDS = 0.5  # a shard given up is taken over within about this long

# Take the lease if it is free, or renew it if it is ours. ARGV: owner, lease ms.
_TAKE_OR_RENEW = LuaScript("""
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
""")
_RELEASE = LuaScript("""
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
""")


class ShardOwnership:
    """One pump's view of the shards: what it owns, what it should give up."""

    def __init__(self, client: redis.Redis, name: str, shards: int):
        self.client, self.name, self.shards = client, name, shards
        self.owned: frozenset[int] = frozenset()
        self.wanted: frozenset[int] = frozenset()

    def heartbeat(self, busy_shards: set[int]) -> frozenset[int]:
        """Announce this pump, renew or take the leases on the shards it should own,
        and release those it should not once nothing of theirs is in flight
        (``busy_shards``). Returns the shards newly taken."""
        now = time.time()
        with self.client.pipeline(transaction=False) as pipe:
            pipe.zadd(PUMPS, {self.name: now})
            pipe.zremrangebyscore(PUMPS, "-inf", now - LEASE_SECONDS)
            pipe.zrange(PUMPS, 0, -1)
            live = sorted(pipe.execute()[2])
        index = live.index(self.name) if self.name in live else 0
        self.wanted = frozenset(n for n in range(self.shards) if n % max(len(live), 1) == index)
        keep = self.wanted | (self.owned & busy_shards)
        lease_ms = str(int(LEASE_SECONDS * 1000))
        with self.client.pipeline(transaction=False) as pipe:
            for shard in sorted(keep):
                _TAKE_OR_RENEW([owner_key(shard)], [self.name, lease_ms], client=pipe)
            for shard in sorted(self.owned - keep):
                _RELEASE([owner_key(shard)], [self.name], client=pipe)
            answers = pipe.execute()
        owned = frozenset(shard for shard, held in zip(sorted(keep), answers, strict=False) if held)
        gained, self.owned = owned - self.owned, owned
        return gained

    def reading(self) -> frozenset[int]:
        """The shards to read new entries from: owned and still wanted."""
        return self.owned & self.wanted

    def leave(self) -> None:
        """Release every lease and the heartbeat, so others take over at once."""
        with self.client.pipeline(transaction=False) as pipe:
            for shard in self.owned:
                _RELEASE([owner_key(shard)], [self.name], client=pipe)
            pipe.zrem(PUMPS, self.name)
            pipe.execute()
        self.owned = frozenset()
