"""Outgoing calls to subscribers' callbacks, made in the background with a short timeout."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Coroutine
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from yarl import URL

from emulators.twitch.state import State

log = logging.getLogger("emulators.twitch")


@dataclass(frozen=True)
class Reply:
    """What a callback answered: its status (None when unreachable) and body text."""

    status: int | None
    text: str

    @property
    def ok(self) -> bool:
        """True for a 2xx answer."""
        return self.status is not None and 200 <= self.status < 300


class Outbox:
    """Sends requests to callbacks one at a time per callback, in the order they were queued."""

    def __init__(self, state: State):
        self.state = state
        self.session: aiohttp.ClientSession | None = None
        self.locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.tasks: set[asyncio.Task] = set()

    async def start(self) -> None:
        """Open the HTTP client session."""
        timeout = aiohttp.ClientTimeout(total=self.state.config.callback_timeout)
        self.session = aiohttp.ClientSession(timeout=timeout)

    async def close(self) -> None:
        """Cancel what is still queued and close the session."""
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.session is not None:
            await self.session.close()

    def spawn(self, coroutine: Coroutine) -> asyncio.Task:
        """Run ``coroutine`` in the background, keeping a reference until it ends."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    async def request(
        self,
        method: str,
        url: str,
        *,
        data: bytes | None = None,
        headers: dict | None = None,
        params: dict | None = None,
    ) -> Reply:
        """Call ``url`` and return its :class:`Reply`; never raises for network trouble."""
        if self.session is None:
            raise RuntimeError("the outbox is not started")
        target = URL(url).extend_query(params) if params else URL(url)
        async with self.locks[url]:
            try:
                async with self.session.request(
                    method, target, data=data, headers=headers, allow_redirects=False
                ) as response:
                    return Reply(response.status, await response.text(errors="replace"))
            except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
                return Reply(None, f"{type(exc).__name__}: {exc}")

    def _finished(self, task: asyncio.Task) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background delivery failed", exc_info=task.exception())


OUTBOX = web.AppKey("outbox", Outbox)
