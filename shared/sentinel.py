"""Redis through Sentinel: finding the primary, and following it when it fails over.

During a failover the sentinels disagree for a moment: the others name the new
primary before the failover's leader does (up to a second later, seen here).
redis-py believes the first sentinel that answers, which can keep writes going to
the former primary, up after a planned failover and taking writes it will lose.
These clients ask every sentinel and believe the newest configuration (the highest
``config-epoch``), as the sentinels themselves settle it.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlsplit

import redis
import redis.asyncio
import redis.asyncio.sentinel
import redis.sentinel

from shared.settings import RedisSentinel

Address = tuple[str, int]


class NewestSentinel(redis.sentinel.Sentinel):
    """A Sentinel client that believes the newest view of the primary."""

    def discover_master(self, service_name: str) -> Address:
        """The primary in the newest view of any sentinel that answers."""
        states = []
        for sentinel in self.sentinels:
            try:
                states.append(sentinel.sentinel_masters().get(service_name))
            except (redis.ConnectionError, redis.TimeoutError):
                continue
        return newest_primary(self, states, service_name)


class NewestAsyncSentinel(redis.asyncio.sentinel.Sentinel):
    """:class:`NewestSentinel` for asyncio."""

    async def discover_master(self, service_name: str) -> Address:
        """The primary in the newest view of any sentinel that answers."""
        states = []
        for sentinel in self.sentinels:
            try:
                states.append((await sentinel.sentinel_masters()).get(service_name))
            except (redis.ConnectionError, redis.TimeoutError):
                continue
        return newest_primary(self, states, service_name)


def newest_primary(
    client: redis.sentinel.Sentinel | redis.asyncio.sentinel.Sentinel,
    states: list[dict[str, Any] | None],
    service_name: str,
) -> Address:
    """The address in the newest of the sentinels' views that passes redis-py's own
    checks (the primary not down, enough other sentinels)."""
    usable = [state for state in states if state and client.check_master_state(state, service_name)]
    if not usable:
        raise redis.sentinel.MasterNotFoundError(f"No master found for {service_name!r}")
    newest = max(usable, key=lambda state: state.get("config-epoch", 0))
    return newest["ip"], newest["port"]


def sentinel_client(redis_url: str, options: dict, sentinel: RedisSentinel) -> redis.Redis:
    """A client of the primary ``sentinel`` names, with the connection ``options`` and
    what ``redis_url`` says of the primary."""
    sentinels = NewestSentinel(
        sentinel.hosts, sentinel_kwargs=sentinel_options(sentinel), **options
    )
    return cast(redis.Redis, sentinels.master_for(sentinel.master, **primary_options(redis_url)))


def async_sentinel_client(
    redis_url: str, options: dict, sentinel: RedisSentinel
) -> redis.asyncio.Redis:
    """:func:`sentinel_client` for asyncio."""
    sentinels = NewestAsyncSentinel(
        sentinel.hosts, sentinel_kwargs=sentinel_options(sentinel), **options
    )
    return cast(
        redis.asyncio.Redis, sentinels.master_for(sentinel.master, **primary_options(redis_url))
    )


def primary_options(redis_url: str) -> dict:
    """What ``redis_url`` says of the primary a sentinel names: its database, user and
    password, and TLS for ``rediss://``."""
    parts = redis.connection.parse_url(redis_url)
    options = {name: parts[name] for name in ("db", "username", "password") if name in parts}
    return {**options, "ssl": urlsplit(redis_url).scheme == "rediss"}


def sentinel_options(sentinel: RedisSentinel) -> dict:
    """The options of the connections to the sentinels themselves."""
    password = {"password": sentinel.password} if sentinel.password else {}
    return {"socket_connect_timeout": 1, "socket_timeout": 1, **password}


def uses_sentinel(client: redis.Redis | redis.asyncio.Redis) -> bool:
    """True for a client that finds its primary through the sentinels."""
    return isinstance(
        client.connection_pool,
        redis.sentinel.SentinelConnectionPool | redis.asyncio.sentinel.SentinelConnectionPool,
    )


def follow_primary(client: redis.Redis) -> Address | None:
    """Ask the sentinels where the primary is now, so that a client still connected to
    a former one moves over; the primary's address, or None for a client without
    Sentinel."""
    pool = client.connection_pool
    if not isinstance(pool, redis.sentinel.SentinelConnectionPool):
        return None
    return cast(Address, pool.get_master_address())


async def follow_primary_async(client: redis.asyncio.Redis) -> Address | None:
    """:func:`follow_primary` for an asyncio client."""
    pool = client.connection_pool
    if not isinstance(pool, redis.asyncio.sentinel.SentinelConnectionPool):
        return None
    return cast(Address, await pool.get_master_address())
