"""Publishing a batch of held events, then finishing their intake entries.

Runs on the pump's publishing threads, each with its own Pusher client (and
so its own kept-alive connection).
"""

from __future__ import annotations

import logging
import threading

import pusher
from redis.client import Pipeline

from shared.events import STREAM_OFFLINE, STREAM_ONLINE, with_channel
from shared.intake import EVENTSUB, queue_finish
from shared.publisher import RejectedPublishError, RetryablePublishError, make_pusher_client
from shared.store import (
    channel_state_key,
    published_key,
    queue_recent_event,
    queue_stream_state,
)
from worker.context import redis_client, settings
from worker.metrics import BATCH, DUPLICATE, count_events
from worker.publish import give_up, note_published, retry_later, send
from worker.push import queue_go_live_alerts
from worker.sequencer import Held

logger = logging.getLogger(__name__)
_thread = threading.local()


def thread_pusher_client() -> pusher.Pusher:
    """This thread's Pusher client."""
    if not hasattr(_thread, "pusher"):
        _thread.pusher = make_pusher_client(settings())
    return _thread.pusher


def publish_batch(batch: list[Held]) -> None:
    """Publish ``batch`` in one request (:func:`worker.publish.send`); hand failures to the
    retry queue (:func:`worker.publish.retry_later`); finish the entries. An entry whose
    event could not be handed on stays pending."""
    to_send = unpublished_and_described(batch)
    published: list[Held] = []
    try:
        if to_send:
            send(thread_pusher_client(), [held.event for held in to_send], BATCH)
            published = to_send
            note_published([(held.event, held.order_key) for held in published])
    except RetryablePublishError as error:
        not_queued = retry_later([(held.event, held.order_key) for held in to_send], error)
        kept = {id(event) for event in not_queued}
        batch = [held for held in batch if id(held.event) not in kept]
    except RejectedPublishError as error:
        if len(to_send) > 1:  # find the one Pusher refuses: the others go through
            finish([held for held in batch if held not in to_send], published=[])
            for held in to_send:
                publish_batch([held])
            return
        give_up(to_send[0].event, str(error))
    finish(batch, published)


def unpublished_and_described(batch: list[Held]) -> list[Held]:
    """The events not yet published, each ``stream.online`` with the channel's newest
    title and category (one Redis round trip, if any is needed).

    Only an entry claimed from another pump can have been published already.
    """
    check = [held for held in batch if held.entry.redelivered]
    describe = [held for held in batch if needs_channel(held)]
    if not (check or describe):
        return batch
    with redis_client().pipeline(transaction=False) as pipe:
        for held in check:
            pipe.exists(published_key(held.event["id"]))
        for held in describe:
            pipe.hgetall(channel_state_key(held.broadcaster_id))
        answers = pipe.execute()
    for held, channel in zip(describe, answers[len(check) :], strict=True):
        held.event = with_channel(held.event, channel)
    seen = {id(held) for held, published in zip(check, answers, strict=False) if published}
    count_events(DUPLICATE, [held.event["type"] for held in check if id(held) in seen])
    return [held for held in batch if id(held) not in seen]


def needs_channel(held: Held) -> bool:
    """A ``stream.online`` from EventSub names the title and category we know of."""
    return held.event["type"] == STREAM_ONLINE and held.entry.kind == EVENTSUB


def finish(batch: list[Held], published: list[Held]) -> None:
    """Mark what was published, keep every event among the recent ones, record whether
    each broadcaster is live (for the page's status), and end the entries: one Redis
    round trip. (A ``channel.update``'s title was recorded when it was ingested.) Then
    queue the go-live alerts of the ``stream.online`` events published."""
    ttl = settings().recent_events_ttl
    with redis_client().pipeline(transaction=False) as pipe:
        for held in published:
            pipe.set(published_key(held.event["id"]), "1", ex=settings().dedupe_window_seconds)
        for held in batch:
            queue_recent_event(pipe, held.event, ttl)
            queue_stream_change(pipe, held, ttl)
        queue_finish(pipe, [(held.entry.stream, held.entry.entry_id) for held in batch])
        pipe.execute()
    queue_go_live_alerts(
        [(held.event, held.order_key) for held in published if held.event["type"] == STREAM_ONLINE]
    )


def queue_stream_change(pipe: Pipeline, held: Held, ttl: int) -> None:
    """Queue the record of a ``stream.online`` or ``stream.offline`` in the channel state,
    as of the event's Twitch time (an older event never overwrites a newer state)."""
    event = held.event
    if event["type"] not in (STREAM_ONLINE, STREAM_OFFLINE):
        return
    online = event["type"] == STREAM_ONLINE
    queue_stream_state(
        pipe,
        held.broadcaster_id,
        held.order_key,
        online,
        event.get("stream_id", "") if online else "",
        (event.get("started_at") or "") if online else "",
        ttl,
    )
