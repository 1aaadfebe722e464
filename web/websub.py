"""Legacy WebSub intake: the hub's verification GETs and signed notifications.

Only used with ``WEBHOOK_TRANSPORT=websub``; EventSub stays the default. The
same callback URL serves both: WebSub notifications carry ``X-Hub-Signature``
and no EventSub headers.
"""

from __future__ import annotations

import time

from flask import Blueprint, Response, current_app, request

from shared.leases import WEBSUB, get_lease, save_lease
from shared import intake
from shared.websub import (
    LINK,
    NOTIFICATION_ID,
    NOTIFICATION_TIMESTAMP,
    SIGNATURE,
    record_denial,
    topic_from_link,
    topic_user_id,
    verify_websub_signature,
    was_requested,
)
from web.errors import json_error

bp = Blueprint("websub", __name__)


@bp.get("/api/callback")
def websub_verification():
    """Echo the hub's challenge for (un)subscriptions we asked for; record denials."""
    mode = request.args.get("hub.mode", "")
    topic = request.args.get("hub.topic", "")
    client = current_app.extensions["redis"]
    if mode == "denied":
        reason = request.args.get("hub.reason", "")[:200]
        current_app.logger.warning("WebSub hub denied %s: %s", topic[:200], reason)
        record_denial(client, topic, reason)
        mark_lease(topic, "denied")
        return Response("", status=200, content_type="text/plain")
    challenge = request.args.get("hub.challenge", "")
    if mode not in ("subscribe", "unsubscribe") or not challenge \
            or not was_requested(client, mode, topic):
        current_app.logger.warning("refused WebSub verification of %s %s", mode, topic[:200])
        return json_error(404, "no such subscription request")
    if mode == "subscribe":
        seconds = request.args.get("hub.lease_seconds", "0")
        mark_lease(topic, "enabled", time.time() + int(seconds) if seconds.isdigit() else 0)
    return Response(challenge, status=200, content_type="text/plain; charset=utf-8")


def mark_lease(topic: str, status: str, expires_at: float = 0) -> None:
    """Record the hub's answer in the lease of the topic's streamer."""
    client = current_app.extensions["redis"]
    lease = get_lease(client, topic_user_id(topic) or "")
    held = lease and lease["subscriptions"].get(WEBSUB)
    if held and held["id"] == topic:
        held.update(status=status, expires_at=expires_at)
        save_lease(client, lease)


def websub_notification(body: bytes):
    """Verify a WebSub notification, queue it raw with its headers, then acknowledge."""
    secret = current_app.config["SETTINGS"].twitch_webhook_secret
    if not verify_websub_signature(secret, body, request.headers.get(SIGNATURE, "")):
        current_app.logger.warning("rejected WebSub notification: signature does not match")
        return json_error(403, "signature does not match")
    forwarded = {name: request.headers[name] for name in (LINK, NOTIFICATION_ID,
                                                          NOTIFICATION_TIMESTAMP)
                 if name in request.headers}
    if not forwarded.get(NOTIFICATION_ID) or not forwarded.get(LINK):
        return json_error(400, "missing Twitch-Notification-Id or Link header")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return json_error(400, "body is not UTF-8")
    try:
        broadcaster_id = topic_user_id(topic_from_link(forwarded[LINK]) or "") or ""
        entry_id = intake.enqueue(current_app.extensions["redis"],
                                  current_app.config["SETTINGS"].intake_shards,
                                  intake.WEBSUB, forwarded, text, broadcaster_id)
    except Exception as error:  # any Redis failure means: not queued
        current_app.logger.error("cannot queue WebSub notification: %s", error)
        return json_error(503, "queue unavailable, try again")
    current_app.logger.debug("accepted WebSub notification %s for broadcaster %s as intake "
                             "entry %s", forwarded[NOTIFICATION_ID], broadcaster_id, entry_id)
    return Response(status=204)
