"""The intake's writer on the web's event loop: verified messages appended to their
Redis Stream, the appends of requests that arrive together sent in one round trip.

An append waits for Redis's answer, so a message is acknowledged only once it is in
the stream. While one round trip is out, the appends that arrive meanwhile wait and
leave together in the next (a pipeline, not a transaction: each append stands or
fails alone). A lone append leaves at once.
"""

from __future__ import annotations

import asyncio
from contextvars import Context

import redis.asyncio

from shared.intake import intake_entry


class IntakeWriter:
    """Appends to the intake of ``shards`` streams through ``client``."""

    def __init__(self, client: redis.asyncio.Redis, shards: int):
        self.client = client
        self.shards = shards
        self.waiting: list[tuple[str, dict, asyncio.Future]] = []
        self.sending: asyncio.Task | None = None

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
            async with self.client.pipeline(transaction=False) as pipe:
                for key, fields, _ in batch:
                    pipe.xadd(key, fields)
                answers = await pipe.execute(raise_on_error=False)
        except Exception as error:  # any failure of the round trip: nothing is known queued
            answers = [error] * len(batch)
        for (_, _, appended), answer in zip(batch, answers, strict=True):
            if appended.done():  # its request went away (the client hung up)
                continue
            if isinstance(answer, Exception):
                appended.set_exception(answer)
            else:
                appended.set_result(answer)

    async def close(self) -> None:
        """Let the appends under way finish, then close the client's connections."""
        if self.sending is not None:
            await asyncio.wait([self.sending], timeout=5)
        await self.client.aclose()
