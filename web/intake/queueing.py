"""The last step of the intake paths the Flask app answers (legacy WebSub): queue a
verified message raw, with the headers the worker needs, and acknowledge it only once
it is queued. (EventSub is answered on the event loop: :mod:`web.intake.eventsub`.)"""

from __future__ import annotations

from flask import Response, current_app

from shared.intake import EVENTSUB, WEBSUB, enqueue
from web.clients import get_redis, get_settings
from web.errors import json_error
from web.metrics import count_webhook

NAMES = {EVENTSUB: "EventSub", WEBSUB: "WebSub"}


def queue_message(
    kind: str,
    forwarded: dict[str, str],
    body: bytes,
    partition_key: str,
    message_id: str,
    about: str,
) -> Response:
    """Queue a verified message of ``kind`` (``shared.intake.EVENTSUB`` or ``WEBSUB``,
    also its transport in the metrics) and answer 204; 400 when the body is not UTF-8,
    503 when the queue is down. Each answer is counted and logged with ``message_id``;
    ``about`` says what was accepted (at debug level)."""
    name = NAMES[kind]
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        current_app.logger.warning(
            "rejected %s message %r: body is not UTF-8",
            name,
            message_id[:100],
            extra={"message_id": message_id[:100]},
        )
        count_webhook(kind, "rejected", "not_utf8")
        return json_error(400, "body is not UTF-8")
    try:
        settings = get_settings()
        entry_id = enqueue(
            get_redis(),
            settings.intake_shards,
            kind,
            forwarded,
            text,
            partition_key,
            settings.intake_replicas,
            settings.intake_replica_timeout_ms,
        )
    except Exception as error:  # any Redis failure means: not queued
        current_app.logger.error(
            "cannot queue %s message %r: %s",
            name,
            message_id,
            error,
            extra={"message_id": message_id},
        )
        count_webhook(kind, "unavailable", "queue_unavailable")
        return json_error(503, "queue unavailable, try again")
    current_app.logger.debug(
        "accepted %s %s as intake entry %s",
        name,
        about,
        entry_id,
        extra={"message_id": message_id},
    )
    count_webhook(kind, "accepted")
    return Response(status=204)
