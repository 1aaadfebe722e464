"""The intake's writer on the web's event loop: verified messages appended to their
Redis Stream, the appends of requests that arrive together sent in one round trip.

An append waits for Redis's answer, so a message is acknowledged only once it is in
the stream. While one round trip is out, the appends that arrive meanwhile wait and
leave together in the next (a pipeline, not a transaction: each append stands or
fails alone). A lone append leaves at once. With ``replicas`` (``INTAKE_REPLICAS``) the
round trip ends with ``WAIT``: the appends succeed only once that many replicas have
them, so an acknowledged message survives the primary's failure. Appends that meet a
failover are made again on the new primary within the acknowledgement's time.
"""

from __future__ import annotations

import asyncio
import time
from contextvars import Context

import redis
import redis.asyncio

from shared.intake import (
    PRIMARY_MOVED,
    ReplicasBehind,
    intake_entry,
    next_wait_ms,
    pause_before_retry,
)
from shared.sentinel import follow_primary_async, uses_sentinel

# Through Sentinel, where the primary is is asked at most once a second.
FOLLOW_SECONDS = 1.0


class IntakeWriter:
    """Appends to the intake of ``shards`` streams through ``client``, each confirmed by
    ``replicas`` replicas within ``replica_timeout_ms``."""

    def __init__(
        self,
        client: redis.asyncio.Redis,
        shards: int,
        replicas: int = 0,
        replica_timeout_ms: int = 2000,
    ):
        self.client = client
        self.shards = shards
        self.replicas = replicas
        self.replica_timeout_ms = replica_timeout_ms
        self.waiting: list[tuple[str, dict, asyncio.Future]] = []
        self.sending: asyncio.Task | None = None
        self.followed_at = 0.0

    async def append(self, kind: str, headers: dict, body: bytes, partition_key: str) -> str:
        """Append a verified message (``body`` raw, ``headers`` the ones the worker needs);
        its entry id once Redis has it. Raises redis' errors when Redis cannot take it."""
        key, fields = intake_entry(self.shards, kind, headers, body, partition_key)
        appended = asyncio.get_running_loop().create_future()
        self.waiting.append((key, fields, appended))
        if self.sending is None:
            # A context of its own: it serves many requests, not the one that started it.
            self.sending = asyncio.create_task(self._send_waiting(), context=Context())
        return await appended

    async def _send_waiting(self) -> None:
        try:
            while self.waiting:
                batch, self.waiting = self.waiting, []
                await self._send(batch)
        finally:
            self.sending = None

    async def _send(self, batch: list[tuple[str, dict, asyncio.Future]]) -> None:
        try:
            if time.monotonic() - self.followed_at > FOLLOW_SECONDS:
                self.followed_at = time.monotonic()
                await follow_primary_async(self.client)
            answers = await self._append_until_taken(batch)
        except Exception as error:  # any failure of the round trip: nothing is known queued
            answers = [error] * len(batch)
        for (_, _, appended), answer in zip(batch, answers, strict=True):
            if appended.done():  # its request went away (the client hung up)
                continue
            if isinstance(answer, Exception):
                appended.set_exception(answer)
            else:
                appended.set_result(answer)

    async def _append_until_taken(self, batch: list[tuple[str, dict, asyncio.Future]]) -> list:
        """The appends, made again where the sentinels say the primary is when they meet
        a failover, for up to ``replica_timeout_ms`` in all (as :func:`enqueue` does)."""
        deadline = time.monotonic() + self.replica_timeout_ms / 1000
        while True:
            try:
                wait_ms = next_wait_ms(deadline, sliced=uses_sentinel(self.client))
                return await self._append(batch, wait_ms)
            except PRIMARY_MOVED as error:
                if not uses_sentinel(self.client) or next_wait_ms(deadline) == 0:
                    raise
                await asyncio.sleep(pause_before_retry(error))
                try:
                    await follow_primary_async(self.client)
                except redis.ConnectionError:  # no sentinel names a primary yet
                    pass

    async def _append(self, batch: list[tuple[str, dict, asyncio.Future]], wait_ms: int) -> list:
        """One round trip: the appends, then WAIT up to ``wait_ms`` if replicas must
        confirm them; each append's answer (an entry id or an error). Raises
        :class:`ReplicasBehind`, and READONLY when the primary has become a replica."""
        async with self.client.pipeline(transaction=False) as pipe:
            for key, fields, _ in batch:
                pipe.xadd(key, fields)
            if self.replicas:
                pipe.wait(self.replicas, max(wait_ms, 1))
            answers = await pipe.execute(raise_on_error=False)
        if self.replicas:
            confirmed = answers.pop()
            if isinstance(confirmed, Exception):
                raise confirmed
            if confirmed < self.replicas:
                raise ReplicasBehind(confirmed, self.replicas)
        for answer in answers:
            if isinstance(answer, redis.ReadOnlyError):
                raise answer
        return answers

    async def close(self) -> None:
        """Let the appends under way finish, then close the client's connections."""
        if self.sending is not None:
            await asyncio.wait([self.sending], timeout=5)
        await self.client.aclose()
