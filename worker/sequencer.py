"""Ordering: each broadcaster's events leave in Twitch's order, in small batches.

Every event waits a short ordering window after it was read, so that an
event Twitch sent earlier but that reached us a little later can overtake it.
A ``stream.online`` waits longer: Twitch delivers the title change a streamer
makes just before going live on a separate subscription, and the went-live
line must name the new title. Events of one broadcaster leave in order of
their Twitch timestamps, and a broadcaster never has two batches in flight,
so Pusher receives them in that order too. Batches are formed as soon as a
connection is free: a lone event leaves at once, a crowd leaves ten at a time.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from shared.events import Event
from shared.publisher import BATCH_LIMIT


@dataclass
class Held:
    """An event waiting to be published, with what it takes to finish it."""

    broadcaster_id: str
    order_key: str
    ready_at: float
    event: Event
    entry: Any = None
    seq: int = field(default=0, compare=False)


class Sequencer:
    """Events by broadcaster, released in order once their window has passed."""

    def __init__(self) -> None:
        self._queues: dict[str, list[tuple[str, int, Held]]] = {}
        self._ready: list[tuple[float, int, str]] = []
        self._busy: set[str] = set()
        self._counter = itertools.count()
        self.size = 0

    def add(self, held: Held) -> None:
        """Hold an event until its window has passed and earlier ones have left."""
        held.seq = next(self._counter)
        queue = self._queues.setdefault(held.broadcaster_id, [])
        heapq.heappush(queue, (held.order_key, held.seq, held))
        self.size += 1
        if queue[0][2] is held and held.broadcaster_id not in self._busy:
            heapq.heappush(self._ready, (held.ready_at, held.seq, held.broadcaster_id))

    def take_batch(self, now: float, limit: int = BATCH_LIMIT) -> list[Held]:
        """Up to ``limit`` events whose time has come, each broadcaster's in order;
        their broadcasters count as in flight until :meth:`done`."""
        batch: list[Held] = []
        while self._ready and len(batch) < limit and self._ready[0][0] <= now:
            _, seq, broadcaster_id = heapq.heappop(self._ready)
            queue = self._queues.get(broadcaster_id)
            if not queue or broadcaster_id in self._busy or queue[0][1] != seq:
                continue  # superseded by an earlier event, or already in flight
            while queue and queue[0][2].ready_at <= now and len(batch) < limit:
                batch.append(heapq.heappop(queue)[2])
            self._busy.add(broadcaster_id)
        self.size -= len(batch)
        return batch

    def done(self, broadcaster_ids: Iterable[str]) -> None:
        """The batch with these broadcasters' events has finished, one way or another."""
        for broadcaster_id in set(broadcaster_ids):
            self._busy.discard(broadcaster_id)
            queue = self._queues.get(broadcaster_id)
            if queue:
                _, seq, head = queue[0]
                heapq.heappush(self._ready, (head.ready_at, seq, broadcaster_id))
            else:
                self._queues.pop(broadcaster_id, None)

    def next_ready_at(self) -> float | None:
        """When the next event may leave (None if nothing waits)."""
        return self._ready[0][0] if self._ready else None
