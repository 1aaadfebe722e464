"""Legacy WebSub intake: the hub's verification GETs and signed notifications.

Only used with ``WEBHOOK_TRANSPORT=websub``; EventSub stays the default. The
same callback URL serves both: WebSub notifications carry ``X-Hub-Signature``
and no EventSub headers.

A verification GET is unauthenticated, so it is bound to the one request it
answers: every parameter is checked (400), and it must match a request of ours
that no verification answered yet (404); answering consumes the request. A
notification is checked with the secret of the subscription its ``Link`` names,
so its signature binds the topic as well as the body.
"""

from __future__ import annotations

import re
import time

import redis
from flask import Blueprint, Response, current_app, request

from shared import intake
from shared.eventsub import ENABLED
from shared.leases import WEBSUB, get_lease, lease_lock, save_lease
from shared.logs import log_context
from shared.websub import (
    LINK,
    MAX_CHALLENGE,
    NOTIFICATION_ID,
    NOTIFICATION_TIMESTAMP,
    SIGNATURE,
    our_topic_user_id,
    record_denial,
    take_request,
    topic_from_link,
    topic_secrets,
    verify_websub_signature,
)
from web.clients import get_redis, get_settings
from web.errors import json_error
from web.intake.queueing import queue_message
from web.intake.request_body import read_body
from web.metrics import count_webhook, timed_webhook

bp = Blueprint("websub", __name__)
MODES = ("subscribe", "unsubscribe", "denied")
LEASE_SECONDS = re.compile(r"[0-9]{1,7}")  # ASCII digits only; ten days is six
LEASE_LOCK_WAIT = 5  # seconds a verification waits for the lease's lock


@bp.get("/api/callback")
@timed_webhook("websub")
def websub_verification():
    """Echo the hub's challenge for an (un)subscription we asked for, once; record a
    denial of one we asked for."""
    args = request.args
    settings = get_settings()
    if any(len(args.getlist(name)) > 1 for name in args):
        return refuse(400, "a parameter is repeated", code="repeated_parameter")
    mode = args.get("hub.mode", "")
    topic = args.get("hub.topic", "")
    if mode not in MODES:
        return refuse(
            400, "hub.mode must be subscribe, unsubscribe or denied", mode, topic, code="bad_mode"
        )
    broadcaster_id = our_topic_user_id(settings.twitch_api_url, topic)
    if broadcaster_id is None:
        return refuse(400, "hub.topic is not a stream topic of ours", mode, topic, code="bad_topic")
    challenge = args.get("hub.challenge", "")
    seconds = 0
    if mode != "denied":
        if not 0 < len(challenge) <= MAX_CHALLENGE or not (
            challenge.isascii() and challenge.isprintable()
        ):
            return refuse(
                400, "hub.challenge is missing or malformed", mode, topic, code="bad_challenge"
            )
    if mode == "subscribe":
        asked = settings.websub_lease_seconds
        value = args.get("hub.lease_seconds", "")
        if not LEASE_SECONDS.fullmatch(value) or not 0 < int(value) <= asked:
            return refuse(
                400,
                f"hub.lease_seconds must be a whole number from 1 to {asked}",
                mode,
                topic,
                code="bad_lease_seconds",
            )
        seconds = int(value)
    client = get_redis()
    try:
        # The worker that asked saves the lease after the hub's 202: wait for it.
        with lease_lock(client, broadcaster_id, wait=LEASE_LOCK_WAIT):
            pending = take_request(client, mode, topic, seconds)
            if pending is None:
                return refuse(
                    404, "no such subscription request", mode, topic, code="unknown_request"
                )
            if mode == "denied":
                reason = args.get("hub.reason", "")[:200]
                current_app.logger.warning("WebSub hub denied %s: %r", topic, reason)
                record_denial(client, topic, reason)
                mark_lease(broadcaster_id, topic, "denied")
                count_webhook("websub", "accepted")
                return Response("", status=200, content_type="text/plain")
            if mode == "subscribe":
                seconds = min(seconds, int(pending.get("lease_seconds") or seconds))
                mark_lease(broadcaster_id, topic, ENABLED, time.time() + seconds)
    except redis.RedisError as error:  # also the lease's lock not had in time: 503, still pending
        current_app.logger.error("cannot answer WebSub verification: %s", error)
        count_webhook("websub", "unavailable", "state_unavailable")
        return json_error(503, "state unavailable, try again")
    count_webhook("websub", "challenge")
    return Response(challenge, status=200, content_type="text/plain; charset=utf-8")


def refuse(status: int, reason: str, mode: str = "", topic: str = "", *, code: str):
    """Log a refused verification once, shortened, count it under ``code`` (its short
    name in the metrics) and answer it."""
    current_app.logger.warning(
        "refused WebSub verification %r of %r: %s", mode[:20], topic[:200], reason
    )
    count_webhook("websub", "rejected", code)
    return json_error(status, reason)


def mark_lease(broadcaster_id: str, topic: str, status: str, expires_at: float = 0) -> None:
    """Record the hub's answer in the lease of the topic's streamer (its lock held)."""
    client = get_redis()
    lease = get_lease(client, broadcaster_id)
    held = lease["subscriptions"].get(WEBSUB) if lease else None
    if lease and held and held["id"] == topic:
        held["status"] = status
        held["expires_at"] = expires_at
        save_lease(client, lease)


@bp.post("/api/callback")
@timed_webhook("websub")
def websub_callback():
    """Receive one legacy WebSub notification. (EventSub messages, the callback's other
    use, are answered before Flask: :mod:`web.intake.eventsub`.)"""
    with log_context(message_id=request.headers.get(NOTIFICATION_ID, "")[:100]):
        return websub_notification(read_body(transport="websub"))


def websub_notification(body: bytes):
    """Verify a WebSub notification with the secret of the topic it names, queue it raw
    with its headers, then acknowledge."""
    settings = get_settings()
    client = get_redis()
    topic = topic_from_link(request.headers.get(LINK, "")) or ""
    broadcaster_id = our_topic_user_id(settings.twitch_api_url, topic)
    try:
        secrets = topic_secrets(client, topic) if broadcaster_id else []
    except redis.RedisError as error:
        current_app.logger.error("cannot check WebSub notification: %s", error)
        count_webhook("websub", "unavailable", "state_unavailable")
        return json_error(503, "queue unavailable, try again")
    if not secrets:
        current_app.logger.warning(
            "rejected WebSub notification: no verified subscription to %r", topic[:200]
        )
        count_webhook("websub", "rejected", "unknown_topic")
        return json_error(403, "signature does not match")
    signature = request.headers.get(SIGNATURE, "")
    if not any([verify_websub_signature(secret, body, signature) for secret in secrets]):
        current_app.logger.warning("rejected WebSub notification: signature does not match")
        count_webhook("websub", "rejected", "bad_signature")
        return json_error(403, "signature does not match")
    forwarded = {
        name: request.headers[name]
        for name in (LINK, NOTIFICATION_ID, NOTIFICATION_TIMESTAMP)
        if name in request.headers
    }
    if not forwarded.get(NOTIFICATION_ID):
        count_webhook("websub", "rejected", "missing_headers")
        return json_error(400, "missing Twitch-Notification-Id header")
    message_id, key = forwarded[NOTIFICATION_ID], broadcaster_id or ""
    about = f"notification {message_id} for broadcaster {key}"
    return queue_message(intake.WEBSUB, forwarded, body, key, message_id, about)
