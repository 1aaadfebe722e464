"""Ingest for legacy WebSub notifications: stream snapshots turned into stream events."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

from celery import shared_task

from shared.eventsub import format_eventsub_timestamp
from shared.leases import get_lease
from shared.queues import INGEST_WEBSUB
from shared.websub import LINK, NOTIFICATION_ID, NOTIFICATION_TIMESTAMP, events_from_streams
from shared.websub import topic_from_link, topic_user_id
from worker.context import redis_client
from worker.ingest import dead_letter_message, first_delivery, record_and_publish

logger = logging.getLogger(__name__)


def stream_state_key(broadcaster_id: str) -> str:
    """Key of the last stream snapshot a WebSub notification showed."""
    return f"sev:websub:stream:{broadcaster_id}"


@shared_task(name=INGEST_WEBSUB, bind=True, acks_late=True)
def ingest_websub(self, headers: dict, body: str) -> None:
    """Compare a stream snapshot with the last one; publish what changed, once."""
    client = redis_client()
    message_id = headers[NOTIFICATION_ID]
    topic = topic_from_link(headers.get(LINK, "")) or ""
    lease = get_lease(client, topic_user_id(topic) or "")
    if lease is None:
        logger.warning("dropped WebSub notification %s for a topic we do not hold: %s",
                       message_id, topic[:200])
        return
    timestamp = headers.get(NOTIFICATION_TIMESTAMP) or format_eventsub_timestamp(
        datetime.now(timezone.utc))
    state_key = stream_state_key(lease["broadcaster_id"])
    try:
        payload = json.loads(body)
        events = events_from_streams(payload, lease, client.hgetall(state_key), message_id,
                                     timestamp)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        dead_letter_message("websub", message_id, headers, body,
                            f"unusable WebSub notification: {error}")
        return
    if not first_delivery(message_id, self.request.id):
        return
    for event in events:
        record_and_publish(event, self.request.id)
    remember_stream(client, state_key, payload["data"])


def remember_stream(client, key: str, streams: list) -> None:
    """Keep the snapshot to compare the next one with (nothing while offline)."""
    if not streams:
        client.delete(key)
        return
    stream = streams[0]
    client.hset(key, mapping={"stream_id": stream.get("id", ""), "title": stream.get("title", ""),
                              "category_name": stream.get("game_name", "")})
