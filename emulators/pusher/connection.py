"""One client WebSocket with its own ordered, non-blocking outbox."""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import time
from collections import deque

from aiohttp import web

log = logging.getLogger(__name__)

MAX_OUTBOX = 10_000
_counter = itertools.count(1)
_process_part = random.randint(1, 2**31 - 1)


def new_socket_id() -> str:
    """Return a fresh socket id of the form ``digits.digits``."""
    return f"{_process_part}.{next(_counter)}"


class Connection:
    """A subscriber socket: what it listens to, when it was last heard from.

    Messages are queued with :meth:`send` and written by one writer task,
    so publishers never wait on a slow client and each socket keeps its
    order.
    """

    def __init__(self, ws: web.WebSocketResponse, socket_id: str | None = None) -> None:
        self.ws = ws
        self.socket_id = socket_id or new_socket_id()
        self.channels: set[str] = set()
        self.last_seen = time.monotonic()
        self.ping_sent_at: float | None = None
        self._outbox: deque[str] = deque()
        self._wakeup = asyncio.Event()
        self._closing = False
        self._writer = asyncio.get_running_loop().create_task(self._write_loop())

    def touch(self) -> None:
        """Record that the client just sent something."""
        self.last_seen = time.monotonic()
        self.ping_sent_at = None

    def send(self, text: str) -> None:
        """Queue ``text`` for this socket; drop the client if it falls too far behind."""
        if self._closing:
            return
        if len(self._outbox) >= MAX_OUTBOX:
            log.warning("socket %s is not reading; closing it", self.socket_id)
            self.close(4100, "Over capacity: client is not reading its messages")
            return
        self._outbox.append(text)
        self._wakeup.set()

    def close(self, code: int, message: str = "") -> None:
        """Close the socket with ``code`` once already queued messages are written."""
        if self._closing:
            return
        self._closing = True
        self._outbox.append((code, message))  # type: ignore[arg-type]
        self._wakeup.set()

    async def _write_loop(self) -> None:
        ws = self.ws
        try:
            while True:
                await self._wakeup.wait()
                self._wakeup.clear()
                while self._outbox:
                    item = self._outbox.popleft()
                    if isinstance(item, tuple):
                        await ws.close(code=item[0], message=item[1].encode("utf-8"))
                        return
                    await ws.send_str(item)
        except (ConnectionError, RuntimeError):
            self._closing = True  # the peer went away; the reader side cleans up
        except asyncio.CancelledError:
            raise

    async def stop(self) -> None:
        """Stop the writer task; a close already queued gets a moment to finish."""
        closing, self._closing = self._closing, True
        if closing:
            done, _ = await asyncio.wait({self._writer}, timeout=2)
            if done:
                return
        self._writer.cancel()
        try:
            await self._writer
        except asyncio.CancelledError:
            pass
