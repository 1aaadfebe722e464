"""Legacy WebSub notifications: stream snapshots turned into stream events."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

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

logger = logging.getLogger(__name__)


def stream_state_key(broadcaster_id: str) -> str:
    """Key of the last stream snapshot a WebSub notification showed."""
    return f"sev:websub:stream:{broadcaster_id}"


def websub_events(client, headers: dict, body: str, entry_id: str) -> Event | None:
    """The event a snapshot tells, compared with the last one (None if nothing changed,
    or if we hold no lease on its topic). Remembers the snapshot.

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
    payload = json.loads(body)
    events = events_from_streams(payload, lease, client.hgetall(state_key), message_id, timestamp)
    remember_stream(client, state_key, payload["data"])
    return events[0] if events else None


def remember_stream(client, key: str, streams: list) -> None:
    """Keep the snapshot to compare the next one with (nothing while offline)."""
    if not streams:
        client.delete(key)
        return
    stream = stream_snapshot(streams[0])
    client.hset(
        key, mapping={name: stream[name] for name in ("stream_id", "title", "category_name")}
    )
