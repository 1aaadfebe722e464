"""The stream event model: one shape for every kind of EventSub notification.

An event is a plain dict (it travels through Celery as JSON)::

    {"id": message id, "type": subscription type, "message": one readable line,
     "broadcaster": {"id", "login", "name"}, "occurred_at": RFC 3339 time,
     ...the type's own fields}

Every field is checked for its type and size before it is used or stored: ids are
ASCII digits, names and texts strings of bounded length. A title longer than
Twitch's 140 characters is cut to 140 (ending in an ellipsis); anything else out
of shape raises :class:`InvalidPayload`, so the message is dead-lettered.
"""

from __future__ import annotations

import re

from shared.eventsub import ordering_key

STREAM_ONLINE = "stream.online"
STREAM_OFFLINE = "stream.offline"
CHANNEL_UPDATE = "channel.update"
STREAMER_UNAVAILABLE = "streamer.unavailable"
SUPPORTED_TYPES = frozenset((STREAM_ONLINE, STREAM_OFFLINE, CHANNEL_UPDATE))

LOGIN_PATTERN = re.compile(r"[A-Za-z0-9_]{1,25}")
CHANNEL_PREFIX = "private-"
TITLE_LIMIT = 140  # Twitch's own limit on a stream title, in characters
MAX_ID = 32  # digits of a Twitch id (user, stream, category): they have about ten
MAX_NAME = 64  # a display name (Twitch allows 25 characters; localized names vary)
MAX_TEXT = 256  # a category name, a language, a stream type, a subscription's fields
MAX_LABELS = 32  # content classification labels on one channel
ELLIPSIS = "\u2026"
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
    if not isinstance(subscription_type, str) or subscription_type not in SUPPORTED_TYPES:
        raise InvalidPayload(f"unsupported subscription type {str(subscription_type)[:60]!r}")
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
        event.update(_update_fields(data))
    event["message"] = describe_event(event)
    return event


def broadcaster_from(data: dict) -> dict:
    """The ``broadcaster`` part of an event, checked; the login is lowercased."""
    user_id = data.get("broadcaster_user_id")
    login = data.get("broadcaster_user_login")
    if not is_twitch_id(user_id):
        raise InvalidPayload("event has no numeric broadcaster_user_id")
    if not isinstance(login, str) or not LOGIN_PATTERN.fullmatch(login):
        raise InvalidPayload("event has no valid broadcaster_user_login")
    name = bounded_text(data.get("broadcaster_user_name"), "broadcaster_user_name", MAX_NAME)
    return {"id": user_id, "login": login.lower(), "name": name or login}


def is_twitch_id(value) -> bool:
    """True for a Twitch id: 1 to ``MAX_ID`` ASCII digits (``str.isdigit`` alone would
    take other scripts' digits, and superscripts)."""
    return (isinstance(value, str) and 0 < len(value) <= MAX_ID and value.isascii()
            and value.isdigit())


def bounded_text(value, name: str, limit: int = MAX_TEXT, default: str = "") -> str:
    """A string field of at most ``limit`` characters (``default`` when absent or null);
    raises InvalidPayload for anything else."""
    if value is None:
        return default
    if not isinstance(value, str):
        raise InvalidPayload(f"{name} is not a string")
    if len(value) > limit:
        raise InvalidPayload(f"{name} is longer than {limit} characters")
    return value


def optional_id(value, name: str) -> str:
    """An id that may be empty or absent (a channel without a category): "" or digits."""
    if value is None or value == "":
        return ""
    if not is_twitch_id(value):
        raise InvalidPayload(f"{name} is not a numeric id")
    return value


def cut_title(value, name: str = "title") -> str:
    """A stream title as a string of at most ``TITLE_LIMIT`` characters: a longer one
    (Twitch allows none) is cut, ending in an ellipsis, rather than refused."""
    if not isinstance(value, str):
        raise InvalidPayload(f"{name} is not a string")
    if len(value) > TITLE_LIMIT:
        return value[:TITLE_LIMIT - 1] + ELLIPSIS
    return value


def timestamp_field(value, name: str) -> str | None:
    """An RFC 3339 time as Twitch sends it, or None when absent; else InvalidPayload."""
    if value is None:
        return None
    try:
        ordering_key(value if isinstance(value, str) else "")
    except ValueError:
        raise InvalidPayload(f"{name} is not an RFC 3339 time") from None
    return value


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
    status = bounded_text(subscription.get("status"), "subscription status")
    if not status:
        raise InvalidPayload("revocation has no subscription status")
    condition = subscription.get("condition")
    broadcaster_id = (condition if isinstance(condition, dict) else {}).get(
        "broadcaster_user_id")
    if broadcaster_id is not None and not is_twitch_id(broadcaster_id):
        raise InvalidPayload("revocation's broadcaster_user_id is not a numeric id")
    return {
        "subscription_id": bounded_text(subscription.get("id"), "subscription id", default=None),
        "type": bounded_text(subscription.get("type"), "subscription type", default=None),
        "broadcaster_id": broadcaster_id,
        "reason": status,
        "revoked_at": headers["Twitch-Eventsub-Message-Timestamp"],
    }


def with_channel(event: dict, channel: dict) -> dict:
    """A ``stream.online`` with the channel's last known title and category, described."""
    event = {**event, **{name: channel[name] for name in ("title", "category_name")
                         if channel.get(name)}}
    event["message"] = describe_event(event)
    return event


def channel_name(login: str) -> str:
    """The Pusher channel of a streamer: private, so only viewers we authorize join it."""
    return CHANNEL_PREFIX + login.lower()


def login_of_channel(channel: str) -> str | None:
    """The streamer whose channel this is, or None for any other channel."""
    login = channel.removeprefix(CHANNEL_PREFIX) if channel.startswith(CHANNEL_PREFIX) else ""
    return login if LOGIN_PATTERN.fullmatch(login) else None


def channel_of(event: dict) -> str:
    """The Pusher channel of an event: its broadcaster's channel."""
    return channel_name(event["broadcaster"]["login"])


def _subscription(payload: dict) -> dict:
    subscription = payload.get("subscription") if isinstance(payload, dict) else None
    if not isinstance(subscription, dict):
        raise InvalidPayload("payload has no subscription object")
    return subscription


def _online_fields(data: dict, channel: dict) -> dict:
    stream_id = data.get("id")
    if not is_twitch_id(stream_id):
        raise InvalidPayload("stream.online event has no numeric stream id")
    fields = {
        "stream_id": stream_id,
        "stream_type": bounded_text(data.get("type"), "stream type", default="live"),
        "started_at": timestamp_field(data.get("started_at"), "started_at"),
    }
    for name in ("title", "category_name"):
        if channel.get(name):
            fields[name] = channel[name]
    return fields


def _update_fields(data: dict) -> dict:
    if "title" not in data or data["title"] is None:
        raise InvalidPayload("channel.update event has no title")
    labels = data.get("content_classification_labels")
    if labels is not None:
        if not isinstance(labels, list) or len(labels) > MAX_LABELS:
            raise InvalidPayload("content_classification_labels is not a short list")
        labels = [bounded_text(label, "content classification label", MAX_NAME)
                  for label in labels]
    return {
        "title": cut_title(data["title"]),
        "language": bounded_text(data.get("language"), "language", default=None),
        "category_id": optional_id(data.get("category_id"), "category_id"),
        "category_name": bounded_text(data.get("category_name"), "category_name", default=None),
        "content_classification_labels": labels,
    }


def _title_and_category(title, category) -> str:
    title = " ".join(str(title).split()) if title else ""
    category = " ".join(str(category).split()) if category else ""
    if title and category:
        return f"{title} ({category})"
    return title or (f"({category})" if category else "")
