"""EventSub intake: verify, answer challenges, enqueue the rest, acknowledge.

This path stays small and cheap: nothing here parses events or talks to
Pusher. A message is acknowledged only once it is safely queued.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from shared.eventsub import (
    FORWARDED_HEADERS,
    MESSAGE_ID,
    MESSAGE_SIGNATURE,
    MESSAGE_TIMESTAMP,
    MESSAGE_TYPE,
    QUEUED_TYPES,
    SUBSCRIPTION_TYPE,
    VERIFICATION,
    is_fresh,
    verify_eventsub_signature,
)
from shared.intake import EVENTSUB, eventsub_partition_key
from shared.logs import log_context
from shared.websub import NOTIFICATION_ID, SIGNATURE
from web.clients import get_settings
from web.errors import MAX_REQUEST_BODY, json_error
from web.intake import queue_message
from web.metrics import count_webhook, timed_webhook
from web.websub import websub_notification

bp = Blueprint("webhooks", __name__)


@bp.post("/api/callback")
@timed_webhook("eventsub")
def eventsub_callback():
    """Receive one EventSub message from Twitch (or a legacy WebSub notification)."""
    headers = request.headers
    if MESSAGE_TYPE not in headers and SIGNATURE in headers:
        with log_context(message_id=headers.get(NOTIFICATION_ID, "")[:100]):
            return websub_notification(read_body(transport="websub"))
    message_id = headers.get(MESSAGE_ID, "")
    timestamp = headers.get(MESSAGE_TIMESTAMP, "")
    message_type = headers.get(MESSAGE_TYPE, "")
    if not (message_id and timestamp and message_type):
        return reject(
            400,
            "missing Twitch-Eventsub-Message-Id, -Timestamp or -Type header",
            code="missing_headers",
        )
    body = read_body(transport="eventsub")
    secret = get_settings().twitch_webhook_secret
    signature = headers.get(MESSAGE_SIGNATURE, "")
    if not verify_eventsub_signature(secret, message_id, timestamp, body, signature):
        return reject(403, "signature does not match", message_id, code="bad_signature")
    if not is_fresh(timestamp):
        return reject(
            403, "timestamp is outside the 10-minute window", message_id, code="stale_timestamp"
        )
    if message_type == VERIFICATION:
        return answer_challenge(body, message_id)
    if message_type not in QUEUED_TYPES:
        return reject(400, "unknown Twitch-Eventsub-Message-Type", message_id, code="unknown_type")
    forwarded = {
        name: value for name in FORWARDED_HEADERS if (value := headers.get(name)) is not None
    }
    about = f"{message_type} {forwarded.get(SUBSCRIPTION_TYPE)} {message_id}"
    key = eventsub_partition_key(body)
    return queue_message(EVENTSUB, forwarded, body, key, message_id, about)


def read_body(limit: int = MAX_REQUEST_BODY, transport: str = "") -> bytes:
    """The raw body, at most ``limit`` bytes; raises RequestEntityTooLarge (413) when
    it is longer, with or without a Content-Length (counted as a rejected webhook of
    ``transport``, if given).

    Werkzeug stops a body without Content-Length (chunked) at the app's
    MAX_CONTENT_LENGTH and returns what it read as if it were all, so a longer body
    would be cut, not refused: read one byte past the limit to tell.
    """
    request.max_content_length = limit + 1
    chunks, size = [], 0
    try:
        stream = request.stream  # raises at once for a Content-Length over the limit
        while size <= limit:
            chunk = stream.read(limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except RequestEntityTooLarge:
        size = limit + 1
    if size > limit:
        current_app.logger.warning("rejected webhook: body is larger than %d bytes", limit)
        if transport:
            count_webhook(transport, "rejected", "too_large")
        raise RequestEntityTooLarge()
    return b"".join(chunks)


def answer_challenge(body: bytes, message_id: str):
    """Prove we own the callback: echo the challenge as plain text."""
    try:
        challenge = json.loads(body)["challenge"]
    except (ValueError, KeyError, TypeError, RecursionError):
        return reject(
            400, "verification message has no challenge", message_id, code="bad_challenge"
        )
    if not isinstance(challenge, str):
        return reject(
            400, "verification challenge is not a string", message_id, code="bad_challenge"
        )
    count_webhook("eventsub", "challenge")
    return Response(challenge, status=200, content_type="text/plain; charset=utf-8")


def reject(status: int, reason: str, message_id: str = "", *, code: str):
    """Log the rejection once, without secrets, count it under ``code`` (its short name
    in the metrics) and answer it."""
    current_app.logger.warning(
        "rejected EventSub message %r: %s",
        message_id[:100],
        reason,
        extra={"message_id": message_id[:100]},
    )
    count_webhook("eventsub", "rejected", code)
    return json_error(status, reason)
