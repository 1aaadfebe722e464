"""Legacy WebSub (``WEBHOOK_TRANSPORT=websub``): topics, signatures, verification, events.

The hub verifies each (un)subscription with a GET to our callback; we echo the
challenge only for a request we made and have not yet seen verified: each request
leaves a marker that its verification consumes. Each subscription has its own
random ``hub.secret``, kept beside its topic once the hub has verified it;
notifications carry ``X-Hub-Signature`` (``sha256=`` + hex HMAC-SHA256 of the body,
keyed by that secret) and a body shaped like ``/helix/streams``: ``{"data": []}``
means the stream went offline.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Mapping
from typing import cast
from urllib.parse import parse_qs, urlsplit

import redis

from shared.events import (
    CHANNEL_UPDATE,
    STREAM_OFFLINE,
    STREAM_ONLINE,
    Event,
    InvalidPayload,
    bounded_text,
    cut_title,
    describe_event,
    is_twitch_id,
    lease_broadcaster,
    optional_id,
    timestamp_field,
)
from shared.leases import Lease
from shared.lua import LuaScript

SIGNATURE = "X-Hub-Signature"
NOTIFICATION_ID = "Twitch-Notification-Id"
NOTIFICATION_TIMESTAMP = "Twitch-Notification-Timestamp"
LINK = "Link"
REQUEST_TTL = 3600
MAX_CHALLENGE = 255
# A renewed subscription's new secret takes over when we answer its verification; the
# hub switches once it has our answer, so notifications it signed with the old one may
# still be on their way for a moment.
SECRET_OVERLAP = 60
DENIALS = "sev:websub:denials"
SELF_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?self"?')


def topic_for(api_url: str, broadcaster_id: str) -> str:
    """The stream topic of a broadcaster at the hub."""
    return f"{api_url}/streams?user_id={broadcaster_id}"


def topic_user_id(topic: str) -> str | None:
    """The broadcaster id of a stream topic, or None."""
    ids = parse_qs(urlsplit(topic).query).get("user_id", [])
    return ids[0] if len(ids) == 1 and is_twitch_id(ids[0]) else None


def our_topic_user_id(api_url: str, topic: str) -> str | None:
    """The broadcaster id of ``topic`` when it is exactly the stream topic we subscribe
    to (:func:`topic_for` with our Helix URL), else None."""
    prefix = topic_for(api_url, "")
    if not isinstance(topic, str) or not topic.startswith(prefix):
        return None
    broadcaster_id = topic[len(prefix) :]
    return broadcaster_id if is_twitch_id(broadcaster_id) else None


def topic_from_link(link: str) -> str | None:
    """The topic named ``rel="self"`` in a notification's Link header."""
    found = SELF_LINK.search(link or "")
    return found.group(1) if found else None


def verify_websub_signature(secret: str, body: bytes, header: str) -> bool:
    """True when ``header`` is ``sha256=`` + the HMAC of ``body``; constant time."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), (header or "").encode("ascii", "replace"))


def request_key(mode: str, topic: str) -> str:
    """Key of the marker of our pending (un)subscription request."""
    return f"sev:websub:requested:{mode}:{topic}"


def secret_key(topic: str) -> str:
    """Key of the ``hub.secret`` of our verified subscription to ``topic`` (and, with
    ``:previous``, the one it replaced, for ``SECRET_OVERLAP`` seconds)."""
    return f"sev:websub:secret:{topic}"


def new_secret() -> str:
    """A fresh ``hub.secret`` for one subscription (the hub allows up to 200 bytes)."""
    return secrets.token_hex(32)


# Leave the request marker (KEYS[1]): with the secret ARGV[1], or with the secret of
# a request still pending for the same topic, so that whichever of the two the hub
# verifies, the secret we keep is the one it holds. Returns the secret to send.
_REMEMBER_REQUEST = LuaScript("""
local secret = ARGV[1]
local pending = redis.call('GET', KEYS[1])
if pending and secret ~= '' then
  local ok, old = pcall(cjson.decode, pending)
  if ok and type(old) == 'table' and type(old['secret']) == 'string' and old['secret'] ~= '' then
    secret = old['secret']
  end
end
redis.call('SET', KEYS[1], cjson.encode({secret = secret, lease_seconds = tonumber(ARGV[2])}),
           'EX', ARGV[3])
return secret
""")


def remember_request(
    client: redis.Redis, mode: str, topic: str, secret: str = "", lease_seconds: int = 0
) -> str:
    """Note that we asked the hub to ``mode`` ``topic`` (with ``secret`` and
    ``lease_seconds`` for a subscription), so that its one verification is answered;
    the secret to send (a request still pending for the topic lends its own)."""
    return (
        _REMEMBER_REQUEST(
            [request_key(mode, topic)], [secret, int(lease_seconds), REQUEST_TTL], client=client
        )
        or ""
    )


# Consume the request marker (KEYS[1]) and, in the same step, keep the subscription's
# secret beside its topic (KEYS[2]) for ARGV[2] seconds, the one it replaces for
# ARGV[3] more (KEYS[3]) (subscribe), or forget both (unsubscribe); a denial (ARGV[1]
# "denied") touches no secret. Returns the marker, or nil when there was none: a
# verification is answered once.
_TAKE_REQUEST = LuaScript("""
local marker = redis.call('GET', KEYS[1])
if not marker then return false end
redis.call('DEL', KEYS[1])
if ARGV[1] == 'subscribe' then
  local ok, request = pcall(cjson.decode, marker)
  local secret = ok and type(request) == 'table' and request['secret']
  if type(secret) == 'string' and secret ~= '' then
    local old = redis.call('GET', KEYS[2])
    if old and old ~= secret then redis.call('SET', KEYS[3], old, 'EX', ARGV[3]) end
    redis.call('SET', KEYS[2], secret, 'EX', ARGV[2])
  end
elseif ARGV[1] == 'unsubscribe' then
  redis.call('DEL', KEYS[2], KEYS[3])
end
return marker
""")


def take_request(client: redis.Redis, mode: str, topic: str, lease_seconds: int = 0) -> dict | None:
    """Consume our pending request that a verification (``mode`` subscribe or
    unsubscribe) or a denial (``mode`` denied, of a subscribe request) answers: its
    ``secret`` and ``lease_seconds``, or None when there is none (never asked, too
    old, or already answered). A verified subscription's secret is kept for
    ``lease_seconds`` plus an hour; an unsubscription forgets it."""
    key = request_key("subscribe" if mode == "denied" else mode, topic)
    marker = _TAKE_REQUEST(
        [key, secret_key(topic), secret_key(topic) + ":previous"],
        [mode, int(lease_seconds) + REQUEST_TTL, SECRET_OVERLAP],
        client=client,
    )
    if marker is None:
        return None
    try:
        request = json.loads(marker)
    except ValueError:
        request = {}
    return request if isinstance(request, dict) else {}


def topic_secrets(client: redis.Redis, topic: str) -> list[str]:
    """The ``hub.secret`` of our verified subscription to ``topic`` (and, for a moment
    after a renewal, the one it replaced); empty when we hold none."""
    kept = cast(list[str | None], client.mget(secret_key(topic), secret_key(topic) + ":previous"))
    return [secret for secret in kept if secret]


def record_denial(client: redis.Redis, topic: str, reason: str) -> None:
    """Keep a denied subscription and its reason (the newest 1000)."""
    with client.pipeline() as pipe:
        pipe.lpush(DENIALS, json.dumps({"topic": topic, "reason": reason, "at": time.time()}))
        pipe.ltrim(DENIALS, 0, 999)
        pipe.execute()


def denials(client: redis.Redis) -> list[dict]:
    """The hub's recorded denials (``topic``, ``reason``, ``at`` in epoch seconds),
    newest first."""
    return [json.loads(item) for item in cast(list[str], client.lrange(DENIALS, 0, -1))]


def events_from_streams(
    body: dict, lease: Lease, previous: Mapping[str, str], message_id: str, timestamp: str
) -> list[Event]:
    """Stream events for a ``/helix/streams``-shaped body, given the last known state
    (``previous``: ``stream_id``, ``title``, ``category_name``; empty if offline) and
    the lease on the topic's broadcaster."""
    broadcaster = lease_broadcaster(lease)
    streams = body.get("data") if isinstance(body, dict) else None
    if not isinstance(streams, list):
        raise ValueError("WebSub body has no data list")

    def event(kind: str) -> Event:
        """An event of ``kind`` from this notification, its own fields still to add."""
        return {
            "id": message_id,
            "broadcaster": broadcaster,
            "occurred_at": timestamp,
            "type": kind,
        }

    if not streams:
        return [finish(event(STREAM_OFFLINE))] if previous.get("stream_id") else []
    stream = stream_snapshot(streams[0])
    if previous.get("stream_id") != stream["stream_id"]:
        online = event(STREAM_ONLINE)
        online["stream_id"] = stream["stream_id"]
        online["stream_type"] = stream["stream_type"]
        online["started_at"] = stream["started_at"]
        return [finish(with_stream_fields(online, stream))]
    if (previous.get("title"), previous.get("category_name")) != (
        stream["title"],
        stream["category_name"],
    ):
        return [finish(with_stream_fields(event(CHANNEL_UPDATE), stream))]
    return []


def with_stream_fields(event: Event, stream: dict) -> Event:
    """``event`` with the title and category of a :func:`stream_snapshot`."""
    event["title"] = stream["title"]
    event["category_name"] = stream["category_name"]
    event["category_id"] = stream["category_id"]
    return event


def stream_snapshot(stream: object) -> dict:
    """The fields we use of one ``/helix/streams`` entry, checked as an EventSub event's
    are (a title over 140 characters cut); raises InvalidPayload for anything else."""
    if not isinstance(stream, dict):
        raise InvalidPayload("WebSub stream is not an object")
    if not is_twitch_id(stream.get("id")):
        raise InvalidPayload("WebSub stream has no numeric id")
    title = stream.get("title")
    return {
        "stream_id": stream["id"],
        "title": cut_title("" if title is None else title),
        "category_name": bounded_text(stream.get("game_name"), "game_name"),
        "category_id": optional_id(stream.get("game_id"), "game_id"),
        "stream_type": bounded_text(stream.get("type"), "stream type", default="live"),
        "started_at": timestamp_field(stream.get("started_at"), "started_at"),
    }


def finish(event: Event) -> Event:
    """Add the readable message."""
    event["message"] = describe_event(event)
    return event
