"""The intake's writer on the web's event loop: verified messages appended to their
Redis Stream, the appends of requests that arrive together sent in one round trip.

An append waits for Redis's answer, so a message is acknowledged only once it is in
the stream. While one round trip is out, the appends that arrive meanwhile wait and
leave together in the next (a pipeline, not a transaction: each append stands or
fails alone). A lone append leaves at once. With ``replicas`` (``INTAKE_REPLICAS``) the
round trip ends with ``WAIT``: the appends succeed only once that many replicas have
them, so an acknowledged message survives the primary's failure.
"""

from __future__ import annotations

import asyncio
import time
from contextvars import Context

import redis.asyncio

from shared.intake import ReplicasBehind, intake_entry
from shared.sentinel import follow_primary_async

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
        replica_timeout_ms: int = 500,
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
            try:
                answers = await self._append(batch)
            except ReplicasBehind:
                # After a planned failover the former primary stays up, its replicas gone
                # to the new one: ask the sentinels, and append once more where they say.
                if await follow_primary_async(self.client) is None:
                    raise
                answers = await self._append(batch)
        except Exception as error:  # any failure of the round trip: nothing is known queued
            answers = [error] * len(batch)
        for (_, _, appended), answer in zip(batch, answers, strict=True):
            if appended.done():  # its request went away (the client hung up)
                continue
            if isinstance(answer, Exception):
                appended.set_exception(answer)
            else:
                appended.set_result(answer)

    async def _append(self, batch: list[tuple[str, dict, asyncio.Future]]) -> list:
        """One round trip: the appends, then WAIT if replicas must confirm them; each
        append's answer (an entry id or an error). Raises :class:`ReplicasBehind`."""
        async with self.client.pipeline(transaction=False) as pipe:
            for key, fields, _ in batch:
                pipe.xadd(key, fields)
            if self.replicas:
                pipe.wait(self.replicas, self.replica_timeout_ms)
            answers = await pipe.execute(raise_on_error=False)
        if self.replicas:
            confirmed = answers.pop()
            if isinstance(confirmed, Exception):
                raise confirmed
            if confirmed < self.replicas:
                raise ReplicasBehind(confirmed, self.replicas)
        return answers

    async def close(self) -> None:
        """Let the appends under way finish, then close the client's connections."""
        if self.sending is not None:
            await asyncio.wait([self.sending], timeout=5)
        await self.client.aclose()
