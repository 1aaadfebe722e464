"""Legacy WebSub (``WEBHOOK_TRANSPORT=websub``): topics, signatures, verification, events.

The hub verifies each (un)subscription with a GET to our callback; we echo the
challenge only for requests we made. Notifications carry ``X-Hub-Signature``
(``sha256=`` + hex HMAC-SHA256 of the body) and a body shaped like
``/helix/streams``: ``{"data": []}`` means the stream went offline.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from urllib.parse import parse_qs, urlsplit

import redis

from shared.events import CHANNEL_UPDATE, STREAM_OFFLINE, STREAM_ONLINE, describe_event

SIGNATURE = "X-Hub-Signature"
NOTIFICATION_ID = "Twitch-Notification-Id"
NOTIFICATION_TIMESTAMP = "Twitch-Notification-Timestamp"
LINK = "Link"
REQUEST_TTL = 3600
DENIALS = "sev:websub:denials"
SELF_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?self"?')


def topic_for(api_url: str, broadcaster_id: str) -> str:
    """The stream topic of a broadcaster at the hub."""
    return f"{api_url}/streams?user_id={broadcaster_id}"


def topic_user_id(topic: str) -> str | None:
    """The broadcaster id of a stream topic, or None."""
    ids = parse_qs(urlsplit(topic).query).get("user_id", [])
    return ids[0] if len(ids) == 1 and ids[0].isdigit() else None


def topic_from_link(link: str) -> str | None:
    """The topic named ``rel="self"`` in a notification's Link header."""
    found = SELF_LINK.search(link or "")
    return found.group(1) if found else None


def verify_websub_signature(secret: str, body: bytes, header: str) -> bool:
    """True when ``header`` is ``sha256=`` + the HMAC of ``body``; constant time."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), (header or "").encode("ascii", "replace"))


def remember_request(client: redis.Redis, mode: str, topic: str) -> None:
    """Note that we asked the hub to ``mode`` ``topic``, so its verification is answered."""
    client.set(f"sev:websub:requested:{mode}:{topic}", "1", ex=REQUEST_TTL)


def was_requested(client: redis.Redis, mode: str, topic: str) -> bool:
    """True when we asked for this verification (and it is not too old)."""
    return bool(client.exists(f"sev:websub:requested:{mode}:{topic}"))


def record_denial(client: redis.Redis, topic: str, reason: str) -> None:
    """Keep a denied subscription and its reason (the newest 1000)."""
    with client.pipeline() as pipe:
        pipe.lpush(DENIALS, json.dumps({"topic": topic, "reason": reason, "at": time.time()}))
        pipe.ltrim(DENIALS, 0, 999)
        pipe.execute()


def events_from_streams(body: dict, lease: dict, previous: dict, message_id: str,
                        timestamp: str) -> list[dict]:
    """Stream events for a ``/helix/streams``-shaped body, given the last known state
    (``previous``: ``stream_id``, ``title``, ``category_name``; empty if offline)."""
    broadcaster = {"id": lease["broadcaster_id"], "login": lease["login"], "name": lease["name"]}
    streams = body.get("data")
    if not isinstance(streams, list):
        raise ValueError("WebSub body has no data list")
    base = {"id": message_id, "broadcaster": broadcaster, "occurred_at": timestamp}
    if not streams:
        return [finish({**base, "type": STREAM_OFFLINE})] if previous.get("stream_id") else []
    stream = streams[0]
    fields = {"title": stream.get("title", ""), "category_name": stream.get("game_name", ""),
              "category_id": stream.get("game_id", "")}
    if previous.get("stream_id") != stream.get("id"):
        return [finish({**base, "type": STREAM_ONLINE, "stream_id": stream.get("id"),
                        "stream_type": stream.get("type", "live"),
                        "started_at": stream.get("started_at"), **fields})]
    if (previous.get("title"), previous.get("category_name")) != \
            (fields["title"], fields["category_name"]):
        return [finish({**base, "type": CHANNEL_UPDATE, **fields})]
    return []


def finish(event: dict) -> dict:
    """Add the readable message."""
    event["message"] = describe_event(event)
    return event
