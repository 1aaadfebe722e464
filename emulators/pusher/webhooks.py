"""Background delivery of signed webhooks about channel and presence changes."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque

import aiohttp

from emulators.pusher.signing import webhook_headers

log = logging.getLogger(__name__)

MAX_EVENTS_PER_POST = 100


class WebhookSender:
    """Queue webhook events and POST them in order from one background task.

    :meth:`emit` never blocks; events queued while a POST is in flight go
    out together in the next one. A failed POST is retried with growing
    pauses, then dropped with a log line.
    """

    def __init__(
        self,
        url: str,
        key: str,
        secret: str,
        retries: int = 3,
        backoff: float = 0.2,
        timeout: float = 5.0,
    ) -> None:
        self.url, self.key, self.secret = url, key, secret
        self.retries, self.backoff, self.timeout = retries, backoff, timeout
        self._pending: deque[dict] = deque()
        self._wakeup = asyncio.Event()
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task | None = None

    def emit(self, event: dict) -> None:
        """Queue one event such as ``{"name": "channel_occupied", "channel": ...}``."""
        self._pending.append(event)
        self._wakeup.set()

    async def start(self) -> None:
        """Open the HTTP session and start the delivery task."""
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self, grace: float = 1.0) -> None:
        """Give queued events up to ``grace`` seconds to go out, then stop."""
        if self._task is not None:
            deadline = time.monotonic() + grace
            while self._pending and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending:
                count = min(len(self._pending), MAX_EVENTS_PER_POST)
                events = [self._pending.popleft() for _ in range(count)]
                await self._deliver(events)

    async def _deliver(self, events: list[dict]) -> None:
        assert self._session is not None
        reason = ""
        for attempt in range(self.retries + 1):
            body = json.dumps({"time_ms": int(time.time() * 1000), "events": events}).encode()
            try:
                async with self._session.post(
                    self.url, data=body, headers=webhook_headers(self.key, self.secret, body)
                ) as resp:
                    if 200 <= resp.status < 300:
                        return
                    reason = f"HTTP {resp.status}"
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure must leave the server running
                reason = repr(exc)
            if attempt < self.retries:
                log.info("webhook to %s failed (%s); retrying", self.url, reason)
                await asyncio.sleep(self.backoff * 2**attempt)
        log.warning(
            "webhook to %s dropped after %d attempts (%s): %s",
            self.url,
            self.retries + 1,
            reason,
            events,
        )
