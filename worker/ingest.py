"""Ingest: parse a queued EventSub message, drop duplicates, publish the event."""

from __future__ import annotations

import json
import logging

from celery import shared_task

from shared.eventsub import MESSAGE_ID, MESSAGE_TIMESTAMP, MESSAGE_TYPE, REVOCATION
from shared.events import (
    CHANNEL_UPDATE,
    STREAM_ONLINE,
    InvalidPayload,
    stream_event_from_notification,
)
from shared.queues import INGEST_EVENTSUB
from shared.store import (
    add_dead_letter,
    add_recent_event,
    channel_state,
    claim,
    record_revocation,
    remember_channel_state,
    seen_message_key,
    seen_stream_key,
)
from worker.context import redis_client, settings
from worker.publish import deliver
from worker.subscriptions import handle_revocation

logger = logging.getLogger(__name__)


@shared_task(name=INGEST_EVENTSUB, bind=True, acks_late=True)
def ingest_eventsub(self, headers: dict, body: str) -> None:
    """Turn one verified EventSub message into a published stream event, once."""
    client = redis_client()
    message_id = headers[MESSAGE_ID]
    try:
        payload = json.loads(body)
        if headers.get(MESSAGE_TYPE) == REVOCATION:
            revocation = revocation_from(payload, headers)
        else:
            event = stream_event_from_notification(
                payload, message_id, headers[MESSAGE_TIMESTAMP], known_channel(payload)
            )
    except (ValueError, KeyError, TypeError) as error:
        dead_letter_message("ingest", message_id, headers, body,
                            f"unusable EventSub message: {error}")
        return
    if not first_delivery(message_id, self.request.id):
        return
    if headers.get(MESSAGE_TYPE) == REVOCATION:
        record_revocation(client, revocation)
        logger.warning("subscription revoked: %s", revocation)
        handle_revocation(revocation, message_id)
        return
    record_and_publish(event, self.request.id)


def dead_letter_message(kind: str, message_id: str, headers: dict, body: str, reason: str):
    """Keep a message no worker can use, with why, for an operator to replay after a fix."""
    logger.error("dead-lettered message %s: %s", message_id, reason)
    add_dead_letter(redis_client(), kind, {"headers": headers, "body": body}, reason)


def first_delivery(message_id: str, task_id: str) -> bool:
    """Claim a message id for this task; False (and logged) for a duplicate."""
    if claim(redis_client(), seen_message_key(message_id), task_id):
        return True
    logger.info("dropped duplicate message %s", message_id)
    return False


def record_and_publish(event: dict, task_id: str) -> None:
    """Drop a second online of the same stream, keep the event, publish it."""
    client = redis_client()
    if event["type"] == STREAM_ONLINE and not claim(
        client, seen_stream_key(event["stream_id"]), task_id
    ):
        logger.info("dropped second stream.online for stream %s", event["stream_id"])
        return
    ttl = settings().recent_events_ttl
    if event["type"] == CHANNEL_UPDATE:
        remember_channel_state(client, event["broadcaster"]["id"], event["title"],
                               event["category_name"], ttl)
    add_recent_event(client, event, ttl)
    deliver(event)


def known_channel(payload: dict) -> dict:
    """The last known title and category, needed only to describe a ``stream.online``."""
    if payload.get("subscription", {}).get("type") != STREAM_ONLINE:
        return {}
    broadcaster_id = payload.get("event", {}).get("broadcaster_user_id")
    return channel_state(redis_client(), broadcaster_id) if broadcaster_id else {}


def revocation_from(payload: dict, headers: dict) -> dict:
    """What a revocation tells: which subscription, whose, why and when."""
    subscription = payload["subscription"]
    if not isinstance(subscription, dict) or not subscription.get("status"):
        raise InvalidPayload("revocation has no subscription status")
    return {
        "subscription_id": subscription.get("id"),
        "type": subscription.get("type"),
        "broadcaster_id": subscription.get("condition", {}).get("broadcaster_user_id"),
        "reason": subscription["status"],
        "revoked_at": headers[MESSAGE_TIMESTAMP],
    }
