"""The stream event model: one shape for every kind of EventSub notification.

An event is a plain dict (it travels through Celery as JSON)::

    {"id": message id, "type": subscription type, "message": one readable line,
     "broadcaster": {"id", "login", "name"}, "occurred_at": RFC 3339 time,
     ...the type's own fields}
"""

from __future__ import annotations

import re

STREAM_ONLINE = "stream.online"
STREAM_OFFLINE = "stream.offline"
CHANNEL_UPDATE = "channel.update"
STREAMER_UNAVAILABLE = "streamer.unavailable"
SUPPORTED_TYPES = frozenset((STREAM_ONLINE, STREAM_OFFLINE, CHANNEL_UPDATE))

LOGIN_PATTERN = re.compile(r"[A-Za-z0-9_]{1,25}")
UPDATE_FIELDS = (
    "title",
    "language",
    "category_id",
    "category_name",
    "content_classification_labels",
)


class InvalidPayload(ValueError):
    """The notification body is not a well-formed event of a supported type."""


def stream_event_from_notification(
    payload: dict, message_id: str, timestamp: str, channel: dict | None = None
) -> dict:
    """Turn a verified EventSub notification into a stream event.

    ``channel`` holds the last known ``title`` and ``category_name`` of the
    broadcaster, used to describe a ``stream.online`` (which carries neither).
    """
    subscription_type = _subscription(payload).get("type")
    if subscription_type not in SUPPORTED_TYPES:
        raise InvalidPayload(f"unsupported subscription type {subscription_type!r}")
    data = payload.get("event")
    if not isinstance(data, dict):
        raise InvalidPayload("notification has no event object")
    event = {
        "id": message_id,
        "type": subscription_type,
        "broadcaster": broadcaster_from(data),
        "occurred_at": timestamp,
    }
    if subscription_type == STREAM_ONLINE:
        event.update(_online_fields(data, channel or {}))
        event["occurred_at"] = event["started_at"] or timestamp
    elif subscription_type == CHANNEL_UPDATE:
        event.update({name: data.get(name) for name in UPDATE_FIELDS})
        if not isinstance(event["title"], str):
            raise InvalidPayload("channel.update event has no title")
    event["message"] = describe_event(event)
    return event


def broadcaster_from(data: dict) -> dict:
    """The ``broadcaster`` part of an event, checked; the login is lowercased."""
    user_id = data.get("broadcaster_user_id")
    login = data.get("broadcaster_user_login")
    name = data.get("broadcaster_user_name") or login
    if not isinstance(user_id, str) or not user_id.isdigit():
        raise InvalidPayload("event has no numeric broadcaster_user_id")
    if not isinstance(login, str) or not LOGIN_PATTERN.fullmatch(login):
        raise InvalidPayload("event has no valid broadcaster_user_login")
    return {"id": user_id, "login": login.lower(), "name": str(name)}


def describe_event(event: dict) -> str:
    """The one line a person reads for this event."""
    name = event["broadcaster"]["name"]
    details = _title_and_category(event.get("title"), event.get("category_name"))
    if event["type"] == STREAM_ONLINE:
        return f"{name} went live: {details}" if details else f"{name} went live"
    if event["type"] == STREAM_OFFLINE:
        return f"{name} ended the stream"
    if event["type"] == STREAMER_UNAVAILABLE:
        return f"{name} can no longer be followed here"
    return f"{name} updated the stream: {details}" if details else f"{name} updated the stream"


def unavailable_event(lease: dict, reason: str, event_id: str, occurred_at: str) -> dict:
    """The event telling viewers a streamer's subscriptions were revoked for good."""
    event = {
        "id": event_id,
        "type": STREAMER_UNAVAILABLE,
        "broadcaster": {"id": lease["broadcaster_id"], "login": lease["login"],
                        "name": lease["name"]},
        "occurred_at": occurred_at,
        "reason": reason,
    }
    event["message"] = describe_event(event)
    return event


def revocation_from(payload: dict, headers: dict) -> dict:
    """What an EventSub revocation tells: which subscription, whose, why and when."""
    subscription = _subscription(payload)
    if not subscription.get("status"):
        raise InvalidPayload("revocation has no subscription status")
    condition = subscription.get("condition")
    return {
        "subscription_id": subscription.get("id"),
        "type": subscription.get("type"),
        "broadcaster_id": (condition if isinstance(condition, dict) else {}).get(
            "broadcaster_user_id"),
        "reason": subscription["status"],
        "revoked_at": headers["Twitch-Eventsub-Message-Timestamp"],
    }


def with_channel(event: dict, channel: dict) -> dict:
    """A ``stream.online`` with the channel's last known title and category, described."""
    event = {**event, **{name: channel[name] for name in ("title", "category_name")
                         if channel.get(name)}}
    event["message"] = describe_event(event)
    return event


def channel_of(event: dict) -> str:
    """The Pusher channel of an event: the broadcaster's login, lowercase."""
    return event["broadcaster"]["login"]


def _subscription(payload: dict) -> dict:
    subscription = payload.get("subscription") if isinstance(payload, dict) else None
    if not isinstance(subscription, dict):
        raise InvalidPayload("payload has no subscription object")
    return subscription


def _online_fields(data: dict, channel: dict) -> dict:
    stream_id = data.get("id")
    if not isinstance(stream_id, str) or not stream_id:
        raise InvalidPayload("stream.online event has no stream id")
    fields = {
        "stream_id": stream_id,
        "stream_type": data.get("type", "live"),
        "started_at": data.get("started_at"),
    }
    for name in ("title", "category_name"):
        if channel.get(name):
            fields[name] = channel[name]
    return fields


def _title_and_category(title, category) -> str:
    title = " ".join(str(title).split()) if title else ""
    category = " ".join(str(category).split()) if category else ""
    if title and category:
        return f"{title} ({category})"
    return title or (f"({category})" if category else "")
