"""Publishing a batch of held events, then finishing their intake entries.

Runs on the pump's publishing threads, each with its own Pusher client (and
so its own kept-alive connection).
"""

from __future__ import annotations

import logging
import threading

from shared.events import STREAM_OFFLINE, STREAM_ONLINE, with_channel
from shared.intake import EVENTSUB, queue_finish
from shared.publisher import (
    RejectedPublishError,
    RetryablePublishError,
    make_pusher_client,
    publish_stream_events,
)
from shared.store import (
    CLAIM_TTL,
    channel_state_key,
    published_key,
    queue_recent_event,
    queue_stream_state,
)
from worker.context import redis_client, settings
from worker.metrics import (
    BATCH,
    DUPLICATE,
    PUBLISHED,
    count_events,
    observe_lag,
    publish_retries,
    timed_publish,
)
from worker.publish import give_up, publish_stream_event_task, retry_delay
from worker.push import queue_go_live_alerts
from worker.sequencer import Held

logger = logging.getLogger(__name__)
_thread = threading.local()


def thread_pusher_client():
    """This thread's Pusher client."""
    if not hasattr(_thread, "pusher"):
        _thread.pusher = make_pusher_client(settings())
    return _thread.pusher


def publish_batch(batch: list[Held]) -> None:
    """Publish ``batch`` in one request; hand failures to the retry queue; finish the
    entries. An entry whose event could not be handed on stays pending."""
    to_send = unpublished_and_described(batch)
    published: list[Held] = []
    try:
        if to_send:
            with timed_publish(BATCH):
                publish_stream_events(thread_pusher_client(), [held.event for held in to_send])
            published = to_send
            count_published(published)
            log_published(published)
    except RetryablePublishError as error:
        batch = hand_to_retries(batch, to_send, error)
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


def count_published(published: list[Held]) -> None:
    """Count the events Pusher has just taken, and the lag of each since Twitch sent it."""
    count_events(PUBLISHED, [held.event["type"] for held in published])
    observe_lag([held.order_key for held in published])


def log_published(published: list[Held]) -> None:
    """At DEBUG, one line for each event Pusher has taken, with its message id."""
    if logger.isEnabledFor(logging.DEBUG):
        for held in published:
            logger.debug(
                "published %s event %s",
                held.event["type"],
                held.event["id"],
                extra={"message_id": held.event["id"]},
            )


def needs_channel(held: Held) -> bool:
    """A ``stream.online`` from EventSub names the title and category we know of."""
    return held.event["type"] == STREAM_ONLINE and held.entry.kind == EVENTSUB


def hand_to_retries(batch: list[Held], failed: list[Held], error) -> list[Held]:
    """Queue each failed event's retry; the entries whose retry is queued (or that
    needed none) are finished, the others stay pending."""
    delay = retry_delay(0)
    logger.warning(
        "publishing %d event(s) failed (%s); retrying in %.1fs",
        len(failed),
        error,
        delay,
        extra={"message_ids": [held.event["id"] for held in failed]},
    )
    kept = []
    for held in failed:
        try:
            publish_stream_event_task.apply_async(
                (held.event,), {"twitch_time": held.order_key}, countdown=delay
            )
        except Exception as queue_error:  # broker down: the entry is offered again later
            logger.error(
                "cannot queue the retry of %s: %s",
                held.event["id"],
                queue_error,
                extra={"message_id": held.event["id"]},
            )
            kept.append(held)
    publish_retries.inc(len(failed) - len(kept))
    return [held for held in batch if held not in kept]


def finish(batch: list[Held], published: list[Held]) -> None:
    """Mark what was published, keep every event among the recent ones, record whether
    each broadcaster is live (for the page's status), and end the entries: one Redis
    round trip. (A ``channel.update``'s title was recorded when it was ingested.) Then
    queue the go-live alerts of the ``stream.online`` events published."""
    ttl = settings().recent_events_ttl
    with redis_client().pipeline(transaction=False) as pipe:
        for held in published:
            pipe.set(published_key(held.event["id"]), "1", ex=CLAIM_TTL)
        for held in batch:
            queue_recent_event(pipe, held.event, ttl)
            queue_stream_change(pipe, held, ttl)
        queue_finish(pipe, [(held.entry.stream, held.entry.entry_id) for held in batch])
        pipe.execute()
    queue_go_live_alerts(
        [(held.event, held.order_key) for held in published if held.event["type"] == STREAM_ONLINE]
    )


def queue_stream_change(pipe, held: Held, ttl: int) -> None:
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
