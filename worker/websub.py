"""Legacy WebSub notifications: stream snapshots turned into stream events.

A WebSub signature covers the body alone (its id and time are unsigned), so a captured
notification could be sent again while its subscription's secret holds. Each accepted
body is remembered for the longest lease the hub grants (an "offline" body with the
stream it ended); the same body again is dropped. (A replay is refused at the web once the
subscription is renewed: the new lease has a new secret.)

The snapshot a body is compared with is the one before it. The event an entry told is
kept for the dedupe window, so the same entry offered again (its pump died before
publishing) tells it again, though the snapshot has moved on.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from typing import cast

import redis

from shared.events import Event
from shared.eventsub import format_eventsub_timestamp, ordering_key
from shared.leases import get_lease
from shared.websub import (
    LINK,
    NOTIFICATION_ID,
    NOTIFICATION_TIMESTAMP,
    events_from_streams,
    stream_snapshot,
    topic_from_link,
    topic_user_id,
)
from worker.context import settings

logger = logging.getLogger(__name__)
REPLAY_MEMORY_SECONDS = 864_000  # the longest lease a WebSub hub grants: ten days


def stream_state_key(broadcaster_id: str) -> str:
    """Key of the last stream snapshot a WebSub notification showed."""
    return f"sev:websub:stream:{broadcaster_id}"


def websub_events(client: redis.Redis, headers: dict, body: str, entry_id: str) -> Event | None:
    """The event a snapshot tells, compared with the last one (None if nothing changed,
    or if we hold no lease on its topic). Remembers the snapshot, and what the entry told.

    Raises ValueError (and the like) for a body that is not a stream snapshot.
    """
    message_id = headers.get(NOTIFICATION_ID) or entry_id
    topic = topic_from_link(headers.get(LINK, "")) or ""
    lease = get_lease(client, topic_user_id(topic) or "")
    if lease is None:
        logger.warning(
            "dropped WebSub notification %s for a topic we do not hold: %s", message_id, topic[:200]
        )
        return None
    timestamp = headers.get(NOTIFICATION_TIMESTAMP) or format_eventsub_timestamp(datetime.now(UTC))
    ordering_key(timestamp)  # refuses a malformed timestamp (ValueError)
    state_key = stream_state_key(lease["broadcaster_id"])
    told_key = entry_told_key(lease["broadcaster_id"], entry_id)
    told = client.get(told_key)
    if told is not None:  # this entry was judged before: what it told then
        return cast("Event | None", json.loads(told))
    payload = json.loads(body)
    state = cast(dict[str, str], client.hgetall(state_key))
    # Checked first: a body refused (dead-lettered) is not noted as accepted, and is
    # judged afresh when an operator replays it.
    events = events_from_streams(payload, lease, state, message_id, timestamp)
    # A body that shows a stream names it; an "offline" one names none: it is told apart
    # from other streams' by the stream it ends.
    ends = "" if payload["data"] else state.get("stream_id", "")
    if not first_time(client, topic, body, ends, entry_id):
        logger.warning("dropped WebSub notification %s: its body was accepted before", message_id)
        return None
    event = events[0] if events else None
    if event is not None:  # an entry that told nothing would tell nothing again
        client.set(told_key, json.dumps(event), ex=settings().dedupe_window_seconds)
    remember_stream(client, state_key, payload["data"])
    return event


def entry_told_key(broadcaster_id: str, entry_id: str) -> str:
    """Key of the event an intake entry told. A broadcaster's entries share one intake
    stream, so the two name one entry."""
    return f"sev:websub:told:{broadcaster_id}:{entry_id}"


def replay_key(topic: str, body: str, ends: str) -> str:
    """Key noting that a body was accepted for ``topic`` (ending the stream ``ends``, for
    an "offline" body, so a later stream's identical one is not a replay)."""
    digest = hashlib.sha256(f"{topic}\n{ends}\n{body}".encode()).hexdigest()
    return f"sev:websub:accepted:{digest}"


def first_time(client: redis.Redis, topic: str, body: str, ends: str, entry_id: str) -> bool:
    """Whether this body is new for the topic (and the stream it ends), or its intake
    entry is the one that was accepted with it (the same entry offered again)."""
    key = replay_key(topic, body, ends)
    with client.pipeline(transaction=False) as pipe:
        pipe.set(key, entry_id, nx=True, ex=REPLAY_MEMORY_SECONDS)
        pipe.get(key)
        _, holder = pipe.execute()
    return cast(str | None, holder) == entry_id


def remember_stream(client: redis.Redis, key: str, streams: list) -> None:
    """Keep the snapshot to compare the next one with (nothing while offline)."""
    if not streams:
        client.delete(key)
        return
    stream = stream_snapshot(streams[0])
    client.hset(
        key, mapping={name: stream[name] for name in ("stream_id", "title", "category_name")}
    )
