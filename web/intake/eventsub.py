"""EventSub intake, answered on the web's event loop: verify, answer challenges,
queue the rest, acknowledge.

This path stays small and cheap: nothing here parses events or talks to Pusher, and
no thread is involved. A message is acknowledged only once it is safely queued.
:mod:`web.server` routes each EventSub message here (legacy WebSub notifications
carry no EventSub type and go to the Flask app, :mod:`web.intake.websub`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from time import perf_counter
from typing import Any, Protocol

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
from web.errors import TOO_LARGE
from web.intake.writer import IntakeWriter
from web.metrics import count_webhook, observe_webhook

log = logging.getLogger(__name__)
# Granian hands over header names in lower case.
FORWARDED = tuple((name, name.lower()) for name in FORWARDED_HEADERS)


class Headers(Protocol):
    """A request's headers by lower-case name (Granian's, or a dict in tests)."""

    def get(self, name: str, default: Any = None, /) -> Any: ...


@dataclass(frozen=True)
class Answer:
    """An answer made outside Flask: status, body and the body's media type."""

    status: int
    body: bytes = b""
    content_type: str = ""


def error_answer(status: int, message: str) -> Answer:
    """``{"error": message}`` as the Flask app's JSON errors say it."""
    body = json.dumps({"error": message}, separators=(",", ":")) + "\n"
    return Answer(status, body.encode(), "application/json")


class BodyTooLarge(Exception):
    """The request's body is longer than the web reads."""


class EventSubIntake:
    """Answers EventSub messages signed with ``secret``, queueing them with ``writer``."""

    def __init__(self, secret: str, writer: IntakeWriter):
        self.secret = secret
        self.writer = writer

    async def answer(self, headers: Headers, read_body: Callable[[], Awaitable[bytes]]) -> Answer:
        """The answer to one message, given its (lower-case) headers and a way to read
        its body (which raises :class:`BodyTooLarge`); timed in the metrics."""
        started = perf_counter()
        message_id = headers.get(MESSAGE_ID.lower(), "")
        with log_context(message_id=message_id[:100]):
            try:
                return await self._answer(headers, message_id, read_body)
            finally:
                observe_webhook(EVENTSUB, perf_counter() - started)

    async def _answer(
        self, headers: Headers, message_id: str, read_body: Callable[[], Awaitable[bytes]]
    ) -> Answer:
        timestamp = headers.get(MESSAGE_TIMESTAMP.lower(), "")
        message_type = headers.get(MESSAGE_TYPE.lower(), "")
        if not (message_id and timestamp and message_type):
            return reject(
                400,
                "missing Twitch-Eventsub-Message-Id, -Timestamp or -Type header",
                code="missing_headers",
            )
        try:
            body = await read_body()
        except BodyTooLarge:
            return reject(413, TOO_LARGE, message_id, code="too_large")
        signature = headers.get(MESSAGE_SIGNATURE.lower(), "")
        if not verify_eventsub_signature(self.secret, message_id, timestamp, body, signature):
            return reject(403, "signature does not match", message_id, code="bad_signature")
        if not is_fresh(timestamp):
            return reject(
                403, "timestamp is outside the 10-minute window", message_id, code="stale_timestamp"
            )
        if message_type == VERIFICATION:
            return answer_challenge(body, message_id)
        if message_type not in QUEUED_TYPES:
            return reject(
                400, "unknown Twitch-Eventsub-Message-Type", message_id, code="unknown_type"
            )
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return reject(400, "body is not UTF-8", message_id, code="not_utf8")
        forwarded = {
            name: value for name, lower in FORWARDED if (value := headers.get(lower)) is not None
        }
        try:
            entry_id = await self.writer.append(
                EVENTSUB, forwarded, body, eventsub_partition_key(body)
            )
        except Exception as error:  # any Redis failure means: not queued
            log.error("cannot queue EventSub message %r: %s", message_id, error)
            count_webhook(EVENTSUB, "unavailable", "queue_unavailable")
            return error_answer(503, "queue unavailable, try again")
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "accepted EventSub %s %s %s as intake entry %s",
                message_type,
                forwarded.get(SUBSCRIPTION_TYPE),
                message_id,
                entry_id,
            )
        count_webhook(EVENTSUB, "accepted")
        return Answer(204)


def answer_challenge(body: bytes, message_id: str) -> Answer:
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
    count_webhook(EVENTSUB, "challenge")
    return Answer(200, challenge.encode(), "text/plain; charset=utf-8")


def reject(status: int, reason: str, message_id: str = "", *, code: str) -> Answer:
    """Log the rejection once, without secrets, count it under ``code`` (its short name
    in the metrics) and answer it."""
    log.warning("rejected EventSub message %r: %s", message_id[:100], reason)
    count_webhook(EVENTSUB, "rejected", code)
    return error_answer(status, reason)
