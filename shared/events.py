"""The stream event model: one shape for every kind of EventSub notification.

An event (:class:`Event`) is a plain dict (it travels through Celery as JSON)::

    {"id": message id, "type": subscription type, "message": one readable line,
     "broadcaster": {"id", "login", "name"}, "occurred_at": RFC 3339 time,
     ...the type's own fields}

Its ``broadcaster`` (:class:`Broadcaster`) is built by :func:`broadcaster`, or from a
Helix user or a lease by :func:`user_broadcaster` and :func:`lease_broadcaster`.
Every EventSub message the worker reads is parsed here, by :func:`event_or_revocation`:
a notification into an event, a revocation into a :class:`Revocation`.

A ``channel.raid`` is the raiding streamer's event: its ``broadcaster`` is the one who
raids, ``to`` ({"id", "login", "name"}) the raided channel and ``viewers`` how many came.

Every field is checked for its type and size before it is used or stored: ids are
ASCII digits, names and texts strings of bounded length. A title longer than
Twitch's 140 characters is cut to 140 (ending in an ellipsis); anything else out
of shape raises :class:`InvalidPayload`, so the message is dead-lettered.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict, TypeGuard, overload

from shared.eventsub import (
    BROADCASTER_CONDITION,
    CONDITION_FIELDS,
    MESSAGE_ID,
    MESSAGE_TIMESTAMP,
    MESSAGE_TYPE,
    REVOCATION,
    SUBSCRIPTION_VERSIONS,
    condition_broadcaster,
    ordering_key,
)

STREAM_ONLINE = "stream.online"
STREAM_OFFLINE = "stream.offline"
CHANNEL_UPDATE = "channel.update"
CHANNEL_RAID = "channel.raid"
STREAMER_UNAVAILABLE = "streamer.unavailable"
STREAM_VIEWERS = "stream.viewers"
SUPPORTED_TYPES = frozenset(SUBSCRIPTION_VERSIONS)

LOGIN_PATTERN = re.compile(r"[A-Za-z0-9_]{1,25}")
CHANNEL_PREFIX = "private-"
TITLE_LIMIT = 140  # Twitch's own limit on a stream title, in characters
MAX_ID = 32  # digits of a Twitch id (user, stream, category): they have about ten
MAX_NAME = 64  # a display name (Twitch allows 25 characters; localized names vary)
MAX_TEXT = 256  # a category name, a language, a stream type, a subscription's fields
MAX_LABELS = 32  # content classification labels on one channel
MAX_RAIDERS = 10**9  # viewers in one raid: far above any channel's audience
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


class Broadcaster(TypedDict):
    """A channel as events and tasks name it: Twitch user id, lowercase login, display name."""

    id: str
    login: str
    name: str


class Event(TypedDict):
    """A stream event as published: plain JSON on the queues, in Redis and at Pusher."""

    id: str
    type: str
    broadcaster: Broadcaster
    occurred_at: str
    message: NotRequired[str]  # every type but stream.viewers
    stream_id: NotRequired[str]  # stream.online
    stream_type: NotRequired[str]  # stream.online
    started_at: NotRequired[str | None]  # stream.online (None if Twitch sent none), viewers
    title: NotRequired[str]  # channel.update, and a stream.online's known title
    language: NotRequired[str | None]  # channel.update
    category_id: NotRequired[str]  # channel.update
    category_name: NotRequired[str | None]  # channel.update, and a stream.online's known one
    content_classification_labels: NotRequired[list[str] | None]  # channel.update
    to: NotRequired[Broadcaster]  # channel.raid: the raided channel
    viewers: NotRequired[int]  # channel.raid, stream.viewers
    reason: NotRequired[str]  # streamer.unavailable


class Revocation(TypedDict):
    """What an EventSub revocation tells: which subscription, whose, why and when."""

    subscription_id: str | None
    type: str | None
    broadcaster_id: str | None
    reason: str
    revoked_at: str


def broadcaster(id: str, login: str, name: str | None = None) -> Broadcaster:
    """A broadcaster as events and tasks name it; its name is its login when it has none."""
    return {"id": id, "login": login, "name": name or login}


def user_broadcaster(user: Mapping[str, Any]) -> Broadcaster:
    """The broadcaster a Helix user is (``id``, ``login``, ``display_name``)."""
    return broadcaster(user["id"], user["login"], user.get("display_name"))


def lease_broadcaster(lease: Mapping[str, Any]) -> Broadcaster:
    """The broadcaster a lease holds (:class:`shared.leases.Lease`)."""
    return broadcaster(lease["broadcaster_id"], lease["login"], lease["name"])


def event_or_revocation(
    payload: object, headers: Mapping[str, str]
) -> tuple[Event | None, Revocation | None]:
    """Parse a verified EventSub message by its kind (the ``MESSAGE_TYPE`` header):
    ``(event, None)`` for a notification, ``(None, revocation)`` for a revocation.

    Raises InvalidPayload for a body or timestamp out of shape, KeyError for a
    missing header.
    """
    if headers.get(MESSAGE_TYPE) == REVOCATION:
        return None, _revocation(payload, headers)
    timestamp = headers[MESSAGE_TIMESTAMP]
    event = _notification_event(payload, headers[MESSAGE_ID], timestamp)
    timestamp_field(timestamp, "message timestamp")
    return event, None


def _notification_event(payload: object, message_id: str, timestamp: str) -> Event:
    """A verified EventSub notification as a stream event."""
    subscription_type = _subscription(payload).get("type")
    if not isinstance(subscription_type, str) or subscription_type not in SUPPORTED_TYPES:
        raise InvalidPayload(f"unsupported subscription type {str(subscription_type)[:60]!r}")
    data = payload.get("event") if isinstance(payload, dict) else None
    if not isinstance(data, dict):
        raise InvalidPayload("notification has no event object")
    raid = subscription_type == CHANNEL_RAID
    event: Event = {
        "id": message_id,
        "type": subscription_type,
        "broadcaster": user_from(data, "from_broadcaster_user") if raid else broadcaster_from(data),
        "occurred_at": timestamp,
    }
    if raid:
        _add_raid_fields(event, data)
    elif subscription_type == STREAM_ONLINE:
        _add_online_fields(event, data)
        event["occurred_at"] = event["started_at"] or timestamp
    elif subscription_type == CHANNEL_UPDATE:
        _add_update_fields(event, data)
    event["message"] = describe_event(event)
    return event


def broadcaster_from(data: dict) -> Broadcaster:
    """The ``broadcaster`` part of an event, checked; the login is lowercased."""
    return user_from(data, "broadcaster_user")


def user_from(data: dict, prefix: str) -> Broadcaster:
    """A channel named by the event's ``{prefix}_id``, ``_login`` and ``_name`` fields
    (``broadcaster_user``, ``from_broadcaster_user``...), checked; the login is
    lowercased, the name (when there is none) is the login as sent."""
    user_id = data.get(f"{prefix}_id")
    login = data.get(f"{prefix}_login")
    if not is_twitch_id(user_id):
        raise InvalidPayload(f"event has no numeric {prefix}_id")
    if not isinstance(login, str) or not LOGIN_PATTERN.fullmatch(login):
        raise InvalidPayload(f"event has no valid {prefix}_login")
    name = bounded_text(data.get(f"{prefix}_name"), f"{prefix}_name", MAX_NAME)
    return broadcaster(user_id, login.lower(), name or login)


def is_twitch_id(value: object) -> TypeGuard[str]:
    """True for a Twitch id: 1 to ``MAX_ID`` ASCII digits (``str.isdigit`` alone would
    take other scripts' digits, and superscripts)."""
    return (
        isinstance(value, str) and 0 < len(value) <= MAX_ID and value.isascii() and value.isdigit()
    )


@overload
def bounded_text(value: object, name: str, limit: int = MAX_TEXT, default: str = "") -> str: ...


@overload
def bounded_text(
    value: object, name: str, limit: int = MAX_TEXT, *, default: None
) -> str | None: ...


def bounded_text(
    value: object, name: str, limit: int = MAX_TEXT, default: str | None = ""
) -> str | None:
    """A string field of at most ``limit`` characters (``default`` when absent or null);
    raises InvalidPayload for anything else."""
    if value is None:
        return default
    if not isinstance(value, str):
        raise InvalidPayload(f"{name} is not a string")
    if len(value) > limit:
        raise InvalidPayload(f"{name} is longer than {limit} characters")
    return value


def optional_id(value: object, name: str) -> str:
    """An id that may be empty or absent (a channel without a category): "" or digits."""
    if value is None or value == "":
        return ""
    if not is_twitch_id(value):
        raise InvalidPayload(f"{name} is not a numeric id")
    return value


def cut_title(value: object, name: str = "title") -> str:
    """A stream title as a string of at most ``TITLE_LIMIT`` characters: a longer one
    (Twitch allows none) is cut, ending in an ellipsis, rather than refused."""
    if not isinstance(value, str):
        raise InvalidPayload(f"{name} is not a string")
    if len(value) > TITLE_LIMIT:
        return value[: TITLE_LIMIT - 1] + ELLIPSIS
    return value


def timestamp_field(value: object, name: str) -> str | None:
    """An RFC 3339 time as Twitch sends it, or None when absent; else InvalidPayload."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidPayload(f"{name} is not an RFC 3339 time")
    try:
        ordering_key(value)
    except ValueError:
        raise InvalidPayload(f"{name} is not an RFC 3339 time") from None
    return value


def describe_event(event: Event) -> str:
    """The one line a person reads for this event."""
    name = event["broadcaster"]["name"]
    details = _title_and_category(event.get("title"), event.get("category_name"))
    if event["type"] == STREAM_ONLINE:
        return f"{name} went live: {details}" if details else f"{name} went live"
    if event["type"] == STREAM_OFFLINE:
        return f"{name} ended the stream"
    if event["type"] == STREAMER_UNAVAILABLE:
        return f"{name} can no longer be followed here"
    if event["type"] == CHANNEL_RAID:
        viewers = event["viewers"]
        return (
            f"{name} is raiding {event['to']['name']} with {viewers:,} "
            f"{'viewer' if viewers == 1 else 'viewers'}"
        )
    return f"{name} updated the stream: {details}" if details else f"{name} updated the stream"


def unavailable_event(
    lease: Mapping[str, Any], reason: str, event_id: str, occurred_at: str
) -> Event:
    """The event telling viewers a streamer's subscriptions were revoked for good."""
    event: Event = {
        "id": event_id,
        "type": STREAMER_UNAVAILABLE,
        "broadcaster": lease_broadcaster(lease),
        "occurred_at": occurred_at,
        "reason": reason,
    }
    event["message"] = describe_event(event)
    return event


def viewers_event(
    channel: Broadcaster, viewers: int, started_at: str, occurred_at: str, event_id: str
) -> Event:
    """The event telling a channel's viewers its live stream's viewer count (``channel``:
    the broadcaster; ``occurred_at``: when Twitch's answer was fetched). It carries no
    ``message``: it updates the status, it is not an item of the feed."""
    return {
        "id": event_id,
        "type": STREAM_VIEWERS,
        "broadcaster": broadcaster(channel["id"], channel["login"], channel["name"]),
        "occurred_at": occurred_at,
        "viewers": viewers,
        "started_at": started_at,
    }


def _revocation(payload: object, headers: Mapping[str, str]) -> Revocation:
    """What an EventSub revocation tells: which subscription, whose, why and when."""
    subscription = _subscription(payload)
    status = bounded_text(subscription.get("status"), "subscription status")
    if not status:
        raise InvalidPayload("revocation has no subscription status")
    kind = bounded_text(subscription.get("type"), "subscription type", default=None)
    broadcaster_id = condition_broadcaster(kind, subscription.get("condition"))
    if broadcaster_id is not None and not is_twitch_id(broadcaster_id):
        field = CONDITION_FIELDS.get(kind or "", BROADCASTER_CONDITION)
        raise InvalidPayload(f"revocation's {field} is not a numeric id")
    return {
        "subscription_id": bounded_text(subscription.get("id"), "subscription id", default=None),
        "type": kind,
        "broadcaster_id": broadcaster_id,
        "reason": status,
        "revoked_at": headers[MESSAGE_TIMESTAMP],
    }


def with_channel(event: Event, channel: Mapping[str, str]) -> Event:
    """A ``stream.online`` with the channel's last known title and category, described."""
    event = event.copy()
    if channel.get("title"):
        event["title"] = channel["title"]
    if channel.get("category_name"):
        event["category_name"] = channel["category_name"]
    event["message"] = describe_event(event)
    return event


def channel_name(login: str) -> str:
    """The Pusher channel of a streamer: private, so only viewers we authorize join it."""
    return CHANNEL_PREFIX + login.lower()


def login_of_channel(channel: str) -> str | None:
    """The streamer whose channel this is, or None for any other channel."""
    login = channel.removeprefix(CHANNEL_PREFIX) if channel.startswith(CHANNEL_PREFIX) else ""
    return login if LOGIN_PATTERN.fullmatch(login) else None


def channel_of(event: Event) -> str:
    """The Pusher channel of an event: its broadcaster's channel (a raid's is the
    raiding streamer's, whose viewers it tells where the stream went)."""
    return channel_name(event["broadcaster"]["login"])


def _subscription(payload: object) -> dict:
    subscription = payload.get("subscription") if isinstance(payload, dict) else None
    if not isinstance(subscription, dict):
        raise InvalidPayload("payload has no subscription object")
    return subscription


def _add_online_fields(event: Event, data: dict) -> None:
    stream_id = data.get("id")
    if not is_twitch_id(stream_id):
        raise InvalidPayload("stream.online event has no numeric stream id")
    event["stream_id"] = stream_id
    event["stream_type"] = bounded_text(data.get("type"), "stream type", default="live")
    event["started_at"] = timestamp_field(data.get("started_at"), "started_at")


def _add_raid_fields(event: Event, data: dict) -> None:
    viewers = data.get("viewers")
    if type(viewers) is not int or not 0 <= viewers <= MAX_RAIDERS:
        raise InvalidPayload(f"channel.raid viewers is not a whole number from 0 to {MAX_RAIDERS}")
    event["to"] = user_from(data, "to_broadcaster_user")
    event["viewers"] = viewers


def _add_update_fields(event: Event, data: dict) -> None:
    if "title" not in data or data["title"] is None:
        raise InvalidPayload("channel.update event has no title")
    labels = data.get("content_classification_labels")
    if labels is not None:
        if not isinstance(labels, list) or len(labels) > MAX_LABELS:
            raise InvalidPayload("content_classification_labels is not a short list")
        labels = [bounded_text(label, "content classification label", MAX_NAME) for label in labels]
    event["title"] = cut_title(data["title"])
    event["language"] = bounded_text(data.get("language"), "language", default=None)
    event["category_id"] = optional_id(data.get("category_id"), "category_id")
    event["category_name"] = bounded_text(data.get("category_name"), "category_name", default=None)
    event["content_classification_labels"] = labels


def _title_and_category(title: str | None, category: str | None) -> str:
    title = " ".join(str(title).split()) if title else ""
    category = " ".join(str(category).split()) if category else ""
    if title and category:
        return f"{title} ({category})"
    return title or (f"({category})" if category else "")
