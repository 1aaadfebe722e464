"""Build EventSub webhook bodies shaped like Twitch's, and sign them."""

from __future__ import annotations

import json
import uuid
import zlib
from datetime import UTC, datetime, timedelta

from shared.eventsub import (
    MESSAGE_ID,
    MESSAGE_RETRY,
    MESSAGE_SIGNATURE,
    MESSAGE_TIMESTAMP,
    MESSAGE_TYPE,
    eventsub_signature,
    format_eventsub_timestamp,
)

VERSIONS = {"stream.online": "1", "stream.offline": "1", "channel.update": "2", "channel.raid": "1"}
RAID = "channel.raid"
# A streamer sets the title, then goes live: a go-live's channel.update is stamped this
# long before the stream starts, so that no reader can put the two the other way round.
TITLE_CHANGE_LEAD = timedelta(milliseconds=5)


def broadcaster_id_for(login: str) -> str:
    """A stable numeric user id for a login, for when none is given."""
    return str(zlib.crc32(login.lower().encode()) % 900_000_000 + 100_000_000)


def condition_of(subscription_type: str, broadcaster_id: str) -> dict:
    """The condition Twitch lists for a subscription to this broadcaster's events: a raid's
    names its raiding broadcaster and leaves the raided one empty."""
    if subscription_type == RAID:
        return {"from_broadcaster_user_id": broadcaster_id, "to_broadcaster_user_id": ""}
    return {"broadcaster_user_id": broadcaster_id}


def subscription(subscription_type: str, broadcaster_id: str, callback: str, status="enabled"):
    """The ``subscription`` object Twitch puts in every message."""
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{subscription_type}/{broadcaster_id}")),
        "type": subscription_type,
        "version": VERSIONS[subscription_type],
        "status": status,
        "cost": 0,
        "condition": condition_of(subscription_type, broadcaster_id),
        "transport": {"method": "webhook", "callback": callback},
        "created_at": format_eventsub_timestamp(datetime.now(UTC)),
    }


def notification_body(
    subscription_type: str,
    login: str,
    callback: str,
    *,
    broadcaster_id: str | None = None,
    name: str | None = None,
    title: str = "",
    category: str = "",
    stream_id: str | None = None,
    started_at: datetime | None = None,
    raided: dict | None = None,
    viewers: int = 0,
) -> dict:
    """A ``notification`` body for stream.online (started at ``started_at``, now by
    default), stream.offline, channel.update or channel.raid (``login`` raids ``raided``:
    ``login`` and optionally ``id`` and ``name``, with ``viewers``)."""
    broadcaster_id = broadcaster_id or broadcaster_id_for(login)
    if subscription_type == RAID:
        event = raid_event(broadcaster_id, login, name or login, raided or {}, viewers)
        return {"subscription": subscription(RAID, broadcaster_id, callback), "event": event}
    event = {
        "broadcaster_user_id": broadcaster_id,
        "broadcaster_user_login": login.lower(),
        "broadcaster_user_name": name or login,
    }
    if subscription_type == "stream.online":
        event.update(
            id=stream_id or str(uuid.uuid4().int % 10**11),
            type="live",
            started_at=format_eventsub_timestamp(started_at or datetime.now(UTC)),
        )
    elif subscription_type == "channel.update":
        event.update(
            title=title,
            language="en",
            category_id=str(zlib.crc32(category.encode()) % 10**6) if category else "",
            category_name=category,
            content_classification_labels=[],
        )
    return {
        "subscription": subscription(subscription_type, broadcaster_id, callback),
        "event": event,
    }


def raid_event(broadcaster_id: str, login: str, name: str, raided: dict, viewers: int) -> dict:
    """The ``event`` of a channel.raid from one broadcaster to ``raided`` (``login``, and
    ``id`` and ``name`` when known)."""
    if not raided.get("login"):
        raise ValueError("a raid needs the raided channel's login")
    return {
        "from_broadcaster_user_id": broadcaster_id,
        "from_broadcaster_user_login": login.lower(),
        "from_broadcaster_user_name": name,
        "to_broadcaster_user_id": raided.get("id") or broadcaster_id_for(raided["login"]),
        "to_broadcaster_user_login": raided["login"].lower(),
        "to_broadcaster_user_name": raided.get("name") or raided["login"],
        "viewers": viewers,
    }


def revocation_body(subscription_type: str, login: str, callback: str, reason: str, **kwargs):
    """A ``revocation`` body: the subscription with its new status, no event."""
    broadcaster_id = kwargs.get("broadcaster_id") or broadcaster_id_for(login)
    return {"subscription": subscription(subscription_type, broadcaster_id, callback, reason)}


def verification_body(subscription_type: str, login: str, callback: str, challenge: str):
    """A ``webhook_callback_verification`` body carrying ``challenge``."""
    sub = subscription(subscription_type, broadcaster_id_for(login), callback)
    sub["status"] = "webhook_callback_verification_pending"
    return {"challenge": challenge, "subscription": sub}


def signed_headers(
    secret: str, message_id: str, timestamp: str, message_type: str, body: bytes
) -> dict[str, str]:
    """The headers Twitch sends with a message, signed with ``secret``."""
    return {
        "Content-Type": "application/json",
        MESSAGE_ID: message_id,
        MESSAGE_TIMESTAMP: timestamp,
        MESSAGE_TYPE: message_type,
        MESSAGE_RETRY: "0",
        MESSAGE_SIGNATURE: eventsub_signature(secret, message_id, timestamp, body),
    }


def signed_message(
    secret: str,
    message_type: str,
    body: dict,
    message_id: str | None = None,
    sent_at: datetime | None = None,
) -> tuple[dict, bytes]:
    """Serialize ``body`` and return ``(headers, raw body)`` signed like Twitch, with
    ``sent_at`` (now by default) as the message timestamp."""
    raw = json.dumps(body, separators=(",", ":")).encode()
    message_id = message_id or str(uuid.uuid4())
    timestamp = format_eventsub_timestamp(sent_at or datetime.now(UTC))
    headers = signed_headers(secret, message_id, timestamp, message_type, raw)
    if "subscription" in body:
        headers["Twitch-Eventsub-Subscription-Type"] = body["subscription"]["type"]
        headers["Twitch-Eventsub-Subscription-Version"] = body["subscription"]["version"]
    return headers, raw
