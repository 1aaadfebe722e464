"""The Redis broker transports (plain, and through Sentinel), publishing through one
client per channel.

Kombu's Redis channel builds a new Redis client object for every message it
publishes, and building one costs more than the LPUSH it then sends. This
transport keeps one client per channel instead; it draws connections from the
channel's pool, which is thread-safe, so behaviour is otherwise unchanged.
That cuts the cost of queuing a webhook by about a third.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING

from kombu.transport import redis
from redis import Redis


class ReusedClient:
    """Makes a Redis channel reuse one client for its synchronous commands."""

    if TYPE_CHECKING:  # defined by the Redis channel this class is mixed into

        def _create_client(self, asynchronous: bool = False) -> Redis: ...

    @cached_property
    def _reused_client(self) -> Redis:
        return self._create_client()

    @contextmanager
    def conn_or_acquire(self, client: Redis | None = None) -> Iterator[Redis]:
        """Yield ``client`` if given, else this channel's reused client."""
        yield client or self._reused_client


class Channel(ReusedClient, redis.Channel):
    """A Redis channel that reuses one client."""


class Transport(redis.Transport):
    """The Redis transport with :class:`Channel`."""

    Channel = Channel


class SentinelChannel(ReusedClient, redis.SentinelChannel):
    """A channel to the primary that Sentinel names, reusing one client; its pool asks
    the sentinels again when the primary fails over."""


class SentinelTransport(redis.SentinelTransport):
    """Kombu's Sentinel transport with :class:`SentinelChannel`."""

    Channel = SentinelChannel
