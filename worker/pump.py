"""The pump: every worker process moves events from its intake shards to Pusher.

Three kinds of thread, all in the Celery worker process (a bootstep starts
them): a heartbeat keeps the shard leases (:mod:`worker.shards`); a reader
takes entries from the owned shards in batches and ingests them
(:mod:`worker.ingest`); a dispatcher releases events in order
(:mod:`worker.sequencer`) to ``PUBLISH_CONCURRENCY`` publishing threads
(:mod:`worker.batches`). An entry is acknowledged only once its event is
published, handed to the retry queue or dead-lettered, so whatever a killed
worker held is claimed again by the shard's next owner.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import redis
from redis.typing import XReadGroupResponse

from shared.events import STREAM_ONLINE, Event
from shared.eventsub import ordering_key
from shared.intake import GROUP, ensure_groups, intake_key, queue_finish
from shared.sentinel import follow_primary
from shared.settings import Settings
from shared.shard_count import claim_shard_count
from worker import shards
from worker.batches import publish_batch
from worker.entries import Entry
from worker.ingest import HandOff, prepare
from worker.sequencer import Held, Sequencer
from worker.shards import HEARTBEAT_SECONDS, ShardOwnership

logger = logging.getLogger(__name__)
READ_COUNT = 500
READ_BLOCK_MS = 100
READ_SPACING = 0.010  # under load, read at most every 10 ms, so that reads come in batches
LINGER = 0.010  # while requests are in flight, a batch that is not full waits up to 10 ms
MAX_HELD = 5000  # events in memory before the reader waits: the rest stay in Redis
SWEEP_SECONDS = 5  # how often entries of ours left pending (not in hand) are offered again
LEASE_TRUSTED = 0.8  # the share of a lease the reader counts on after a renewal


class Pump:
    """Reads, orders and publishes the events of the shards this process owns.

    The state the threads share is touched only under ``changed`` (a condition, so the
    dispatcher can wait on it): the entries in hand, the free publishing slots, the
    sequencer, the shards to read and those to reclaim, and until when the leases hold.
    The shard leases (``ownership``) belong to the heartbeat thread alone, which
    publishes what they mean for the reader (``reading``, ``to_reclaim``,
    ``leases_until``) under ``changed``; no Redis call is made while holding it.

    ``read_lock`` keeps a shard from being given up while a read of it is on its way:
    the reader holds it from choosing the shards to read until what it read is in hand,
    and the heartbeat while it decides which shards to keep. A pump whose heartbeat
    cannot renew the leases reads nothing once they may have lapsed.
    """

    def __init__(
        self, client: redis.Redis, settings: Settings, name: str, hand_off_revocation: HandOff
    ) -> None:
        self.client, self.settings, self.name = client, settings, name
        self.hand_off_revocation = hand_off_revocation
        self.ownership = ShardOwnership(client, name, settings.intake_shards)
        self.changed = threading.Condition()
        self.sequencer = Sequencer()
        self.in_flight: dict[tuple[str, str], int] = {}  # (stream, entry id) -> shard
        self.free_slots = settings.publish_concurrency
        self.reading: frozenset[int] = frozenset()  # owned and still wanted
        self.to_reclaim: set[int] = set()  # newly taken, their pending entries to claim
        self.leases_until = 0.0  # monotonic time until which the leases surely hold
        self.read_lock = threading.Lock()
        self.heartbeat_waiting = threading.Event()  # the reader lets it have read_lock
        self.stopping = threading.Event()
        self.executor = ThreadPoolExecutor(settings.publish_concurrency, "publish")
        self.threads = [
            threading.Thread(target=loop, name=f"pump-{loop.__name__}", daemon=True)
            for loop in (self.heartbeat_loop, self.read_loop, self.dispatch_loop)
        ]

    def start(self) -> None:
        """Start the threads; raises ShardCountMismatch when the intake in Redis was made
        with another INTAKE_SHARDS."""
        claim_shard_count(self.client, self.settings.intake_shards)
        ensure_groups(self.client, self.settings.intake_shards)
        for thread in self.threads:
            thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop reading, let publishes in flight finish, give the shards up."""
        self.stopping.set()
        with self.changed:
            self.changed.notify_all()
        for thread in self.threads:
            thread.join(timeout)
        self.executor.shutdown(wait=True, cancel_futures=True)
        try:
            self.ownership.leave()
        except redis.RedisError as error:
            logger.warning("could not release the shards (they lapse by themselves): %s", error)

    def heartbeat_loop(self) -> None:
        """Keep the leases (on the primary the sentinels name now, if Redis has
        them); queue shards newly taken for reclaiming."""
        while not self.stopping.is_set():
            try:
                follow_primary(self.client)
                self.heartbeat_waiting.set()
                with self.read_lock:
                    self.heartbeat_waiting.clear()
                    started = time.monotonic()
                    with self.changed:
                        busy = set(self.in_flight.values())
                    gained = self.ownership.heartbeat(busy)
                    # A lease runs from when Redis renewed it, after ``started``; a
                    # margin covers the two clocks' drift.
                    lasting = started + shards.LEASE_SECONDS * LEASE_TRUSTED
                    self.note_shards(gained, self.ownership.reading(), lasting)
                if gained:
                    logger.info("pump %s took intake shards %s", self.name, sorted(gained))
            except redis.RedisError as error:
                logger.warning("pump heartbeat failed: %s", error)
            except Exception:  # a bug must not stop the heartbeat: the leases would lapse
                logger.exception("pump heartbeat failed")
            finally:
                self.heartbeat_waiting.clear()
            self.stopping.wait(HEARTBEAT_SECONDS)

    def note_shards(
        self, gained: frozenset[int], reading: frozenset[int], leases_until: float
    ) -> None:
        """Tell the reader which shards to read (until ``leases_until``), and which newly
        taken ones to reclaim."""
        with self.changed:
            self.to_reclaim |= gained
            self.reading = reading
            self.leases_until = leases_until

    def leases_hold(self) -> bool:
        """Whether the leases surely still hold (a Redis answer can come seconds late)."""
        with self.changed:
            return time.monotonic() < self.leases_until

    def readable_shards(self) -> frozenset[int]:
        """The shards to read now: none once the leases may have lapsed. Called under
        ``changed``."""
        return self.reading if time.monotonic() < self.leases_until else frozenset()

    def shards_to_reclaim(self) -> list[int]:
        """Take the shards queued for reclaiming (each is handed out once)."""
        with self.changed:
            shards, self.to_reclaim = sorted(self.to_reclaim), set()
        return shards

    def read_loop(self) -> None:
        """Take entries: first those a previous owner left, then new ones."""
        next_sweep = time.monotonic() + SWEEP_SECONDS
        while not self.stopping.is_set():
            try:
                if self.heartbeat_waiting.is_set():  # let it have read_lock first
                    self.stopping.wait(0.001)
                    continue
                for shard in self.shards_to_reclaim():
                    self.reclaim(shard)
                if time.monotonic() >= next_sweep:
                    with self.changed:
                        readable = self.readable_shards()
                    for shard in readable:
                        self.reclaim(shard)
                    next_sweep = time.monotonic() + SWEEP_SECONDS
                read_at = time.monotonic()
                entries = self.read_new()
                if entries is None:
                    self.stopping.wait(0.05)
                    continue
                self.ingest(entries)
                if entries:
                    self.stopping.wait(max(0.0, read_at + READ_SPACING - time.monotonic()))
            except redis.ResponseError as error:
                if "NOGROUP" in str(error):  # Redis lost the streams: start them again
                    ensure_groups(self.client, self.settings.intake_shards)
                else:
                    logger.error("pump cannot read the intake: %s", error)
                    self.stopping.wait(1)
            except redis.RedisError as error:
                logger.warning("pump cannot reach Redis: %s", error)
                self.stopping.wait(1)
                next_sweep = time.monotonic()  # offer again what the failure left pending
            except Exception:  # a bug must not stop the pump: the entries stay pending
                logger.exception("pump failed on a batch of entries")
                self.stopping.wait(1)

    def read_new(self) -> list[Entry] | None:
        """Read new entries of the shards to read and take them in hand (under
        ``read_lock``); None when there is nothing to read or enough is held."""
        with self.read_lock:
            with self.changed:
                readable, full = self.readable_shards(), self.sequencer.size >= MAX_HELD
            if not readable or full:
                return None
            answer = self.client.xreadgroup(
                GROUP,
                self.name,
                {intake_key(n): ">" for n in sorted(readable)},
                count=READ_COUNT,
                block=READ_BLOCK_MS,
            )
            if not self.leases_hold():  # answered too late: the next owner claims them
                return []
            return self.take_in_hand(stream_entries(answer))

    def reclaim(self, shard: int) -> None:
        """Take over the shard's pending entries that no thread of this pump has in hand:
        those of a previous owner, and those a failure left pending (while the shard is
        still this pump's to read)."""
        cursor = "0-0"
        while True:
            with self.read_lock:
                with self.changed:
                    if shard not in self.readable_shards():
                        return
                answer = self.client.xautoclaim(
                    intake_key(shard), GROUP, self.name, 0, start_id=cursor, count=READ_COUNT
                )
                cursor, claimed = answer[0], answer[1]
                if not self.leases_hold():
                    return
                entries = self.take_in_hand(
                    [
                        (intake_key(shard), entry_id, fields)
                        for entry_id, fields in claimed
                        if fields
                    ],
                    redelivered=True,
                )
            self.ingest(entries)
            if cursor in ("0-0", b"0-0"):
                return

    def take_in_hand(
        self, raw: list[tuple[str, str, dict]], redelivered: bool = False
    ) -> list[Entry]:
        """The entries read that are not already in hand, now noted as in hand."""
        with self.changed:
            entries = [
                Entry.from_fields(*item, redelivered=redelivered)
                for item in raw
                if (item[0], item[1]) not in self.in_flight
            ]
            for entry in entries:
                self.in_flight[(entry.stream, entry.entry_id)] = int(entry.stream.rsplit(":")[-1])
        return entries

    def ingest(self, entries: list[Entry]) -> None:
        """Ingest entries in hand and hold their events for publishing."""
        if not entries:
            return
        try:
            prepared = prepare(
                self.client, entries, self.settings.recent_events_ttl, self.hand_off_revocation
            )
            with self.client.pipeline(transaction=False) as pipe:
                queue_finish(pipe, [(entry.stream, entry.entry_id) for entry in prepared.finished])
                pipe.execute()
        except Exception:
            self.forget(entries)  # offered again by the sweep
            raise
        self.forget(prepared.finished + prepared.pending)
        now = time.monotonic()
        with self.changed:
            for entry, event in prepared.events:
                self.sequencer.add(
                    Held(
                        event["broadcaster"]["id"],
                        order_of(entry, event),
                        now + self.window(event),
                        event,
                        entry,
                    )
                )
            self.changed.notify()

    def window(self, event: Event) -> float:
        """Seconds an event waits for earlier ones of its broadcaster."""
        if event["type"] == STREAM_ONLINE:
            return self.settings.online_order_window_ms / 1000
        return self.settings.event_order_window_ms / 1000

    def dispatch_loop(self) -> None:
        """Hand each batch whose time has come to a free publishing thread.

        With no request in flight, a batch leaves as soon as an event is ready (a
        lone event is not held back); while requests are in flight, it leaves once
        its oldest event has lingered ``LINGER``, so that busy times send full
        batches instead of many small requests.
        """
        while not self.stopping.is_set():
            with self.changed:
                now = time.monotonic()
                next_at = self.sequencer.next_ready_at() if self.free_slots else None
                if next_at is not None and self.free_slots < self.settings.publish_concurrency:
                    next_at += LINGER
                if next_at is None or next_at > now:
                    self.changed.wait(0.5 if next_at is None else min(next_at - now, 0.5))
                    continue
                batch = self.sequencer.take_batch(now)
                if not batch:
                    continue
                self.free_slots -= 1
            self.executor.submit(self.publish, batch)

    def publish(self, batch: list[Held]) -> None:
        """Publish one batch, then free its broadcasters and its slot."""
        try:
            publish_batch(batch)
        except Exception:  # Redis down, say: the entries stay pending for the sweep
            logger.exception(
                "publishing a batch of %d event(s) failed",
                len(batch),
                extra={"message_ids": [held.event["id"] for held in batch]},
            )
        finally:
            self.forget([held.entry for held in batch])
            with self.changed:
                self.free_slots += 1
                self.sequencer.done(held.broadcaster_id for held in batch)
                self.changed.notify()

    def forget(self, entries: list[Entry]) -> None:
        """These entries are no longer in hand (finished, or left pending)."""
        with self.changed:
            for entry in entries:
                self.in_flight.pop((entry.stream, entry.entry_id), None)


def order_of(entry: Entry, event: Event) -> str:
    """The key that orders an event among its broadcaster's: Twitch's message time."""
    for timestamp in (entry.timestamp, event.get("occurred_at")):
        try:
            return ordering_key(timestamp or "")
        except ValueError:
            continue
    return ""


def stream_entries(answer: XReadGroupResponse | None) -> list[tuple[str, str, dict]]:
    """``(stream, entry id, fields)`` of each entry of an XREADGROUP answer, in the shape
    the worker's clients read it (RESP2, decoded: ``[[stream, [(id, fields), ...]], ...]``;
    None when the wait ended with nothing)."""
    rows: list[list[Any]] = answer if isinstance(answer, list) else []
    return [(stream, entry_id, fields) for stream, entries in rows for entry_id, fields in entries]
