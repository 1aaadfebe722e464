"""Ingest: turn entries read from the intake into stream events, once each.

A pump hands over a batch of entries; this parses and checks each one, then
drops duplicates and records channel state for the whole batch in one Redis
round trip. Each entry ends up in one of three lists: events to publish,
entries already finished (duplicates, dead letters, revocations handed to a
task) and entries to leave pending, which the pump offers again later.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

import redis

from shared.events import (
    CHANNEL_UPDATE,
    STREAM_ONLINE,
    revocation_from,
    stream_event_from_notification,
)
from shared.eventsub import (
    MESSAGE_ID,
    MESSAGE_TIMESTAMP,
    MESSAGE_TYPE,
    REVOCATION,
    SUBSCRIPTION_TYPE,
    ordering_key,
)
from shared.intake import WEBSUB
from shared.logs import log_context
from shared.store import (
    CLAIMED,
    DUPLICATE_STREAM,
    add_dead_letter,
    claim_event,
    record_revocation,
    seen_message_key,
    seen_stream_key,
)
from worker.metrics import DEAD_LETTERED, DUPLICATE, IGNORED, REVOKED, count_events
from worker.websub import websub_events

logger = logging.getLogger(__name__)
DEAD_LETTER_KIND = {WEBSUB: "websub"}
# What a message that can never be used raises while it is parsed and checked. A value
# Redis's client refuses to send (DataError) is the message's fault as well; every other
# Redis error leaves the entry pending, to be offered again.
UNUSABLE = (ValueError, KeyError, TypeError, AttributeError, RecursionError, redis.DataError)


@dataclass
class Entry:
    """One message read from an intake stream."""

    stream: str
    entry_id: str
    kind: str
    headers: dict
    body: str
    redelivered: bool = False

    @classmethod
    def from_fields(
        cls, stream: str, entry_id: str, fields: dict, redelivered: bool = False
    ) -> Entry:
        """An entry from the stream's fields (as XADD wrote them); ``redelivered`` when
        it was claimed from a pump that may have published it already."""
        try:
            headers = json.loads(fields.get("headers") or "{}")
        except ValueError:
            headers = {}
        return cls(
            stream,
            entry_id,
            fields.get("kind", ""),
            headers if isinstance(headers, dict) else {},
            fields.get("body", ""),
            redelivered,
        )

    @property
    def timestamp(self) -> str:
        """Twitch's time of the message, as sent (empty if it sent none)."""
        return str(
            self.headers.get(MESSAGE_TIMESTAMP)
            or self.headers.get("Twitch-Notification-Timestamp")
            or ""
        )

    @property
    def message_id(self) -> str:
        """Twitch's id of the message (EventSub or WebSub)."""
        return str(
            self.headers.get(MESSAGE_ID)
            or self.headers.get("Twitch-Notification-Id")
            or self.entry_id
        )


@dataclass
class Prepared:
    """What became of a batch of entries."""

    events: list[tuple[Entry, dict]] = field(default_factory=list)
    finished: list[Entry] = field(default_factory=list)
    pending: list[Entry] = field(default_factory=list)


def prepare(client, entries: list[Entry], state_ttl: int, hand_off_revocation) -> Prepared:
    """Parse, check and deduplicate ``entries``; see the module's docstring.

    ``hand_off_revocation(revocation, message_id)`` queues a revocation's
    handling; when it raises, the entry stays pending.
    """
    prepared = Prepared()
    claims: list[tuple[Entry, dict | None, dict | None, tuple]] = []
    for entry in entries:
        try:
            with log_context(message_id=entry.message_id):
                parsed = parse(client, entry)
            if parsed is not None:
                event, revocation = parsed
                claims.append((entry, event, revocation, claim_arguments(entry, event)))
        except UNUSABLE as error:
            dead_letter(client, entry, f"unusable message: {describe_error(error)}")
            prepared.finished.append(entry)
            continue
        if parsed is None:
            count_events(IGNORED, [entry_type(entry)])
            prepared.finished.append(entry)
    verdicts = claim_all(client, claims, state_ttl, prepared)
    for (entry, event, revocation, _), verdict in zip(claims, verdicts, strict=True):
        if verdict is None:  # dead-lettered by claim_all
            continue
        if verdict == DUPLICATE_STREAM and event is not None:
            logger.info(
                "dropped second stream.online for stream %s",
                event["stream_id"],
                extra={"message_id": entry.message_id},
            )
            count_events(DUPLICATE, [entry_type(entry, event)])
            prepared.finished.append(entry)
        elif verdict != CLAIMED:
            logger.info(
                "dropped duplicate message %s",
                entry.message_id,
                extra={"message_id": entry.message_id},
            )
            count_events(DUPLICATE, [entry_type(entry, event)])
            prepared.finished.append(entry)
        elif event is not None:
            prepared.events.append((entry, event))
        elif revocation is not None:
            finish_revocation(client, entry, revocation, hand_off_revocation, prepared)
    return prepared


def parse(client, entry: Entry) -> tuple[dict | None, dict | None] | None:
    """``(event, None)``, ``(None, revocation)`` or None when there is nothing to do."""
    if entry.kind == WEBSUB:
        event = websub_events(client, entry.headers, entry.body, entry.entry_id)
        return (event, None) if event else None
    payload = json.loads(entry.body)
    if entry.headers.get(MESSAGE_TYPE) == REVOCATION:
        return None, revocation_from(payload, entry.headers)
    event = stream_event_from_notification(
        payload, entry.headers[MESSAGE_ID], entry.headers[MESSAGE_TIMESTAMP]
    )
    ordering_key(entry.timestamp)  # refuses a malformed timestamp now
    return event, None


def claim_arguments(entry: Entry, event: dict | None) -> tuple:
    """The message key, stream key and channel state to claim for an entry; raises
    ValueError (and the like) for a message that cannot be claimed."""
    stream_key = None
    state = None
    if event is not None and event["type"] == STREAM_ONLINE and event.get("stream_id"):
        stream_key = seen_stream_key(event["stream_id"])
    if event is not None and event["type"] == CHANNEL_UPDATE:
        state = (
            event["broadcaster"]["id"],
            ordering_key(entry.timestamp or event["occurred_at"]),
            event.get("title") or "",
            event.get("category_name") or "",
        )
    return seen_message_key(entry.message_id), stream_key, state


def claim_all(client, claims: list, state_ttl: int, prepared: Prepared) -> list:
    """Claim every message in one round trip; the verdicts, in order.

    Should the client refuse a value (DataError, raised before anything is sent),
    each claim is made on its own instead, and the one refused is dead-lettered
    (its verdict None) rather than holding the whole batch back for ever.
    """
    if not claims:
        return []
    try:
        return queue_claims(client, claims, state_ttl)
    except redis.DataError:
        pass
    verdicts = []
    for claim in claims:
        try:
            [verdict] = queue_claims(client, [claim], state_ttl)
        except redis.DataError as error:
            dead_letter(client, claim[0], f"Redis refused a value of the message: {error}")
            prepared.finished.append(claim[0])
            verdict = None
        verdicts.append(verdict)
    return verdicts


def queue_claims(client, claims: list, state_ttl: int) -> list:
    """Send the claims (see :func:`shared.store.claim_event`) in one pipeline."""
    with client.pipeline(transaction=False) as pipe:
        for entry, _, _, (message_key, stream_key, state) in claims:
            claim_event(pipe, message_key, stream_key, entry.entry_id, state, state_ttl)
        return pipe.execute()


def describe_error(error: Exception) -> str:
    """A short reason for a dead letter (a KeyError alone says only the key)."""
    text = str(error) or type(error).__name__
    if isinstance(error, KeyError):
        text = f"missing {text}"
    elif isinstance(error, RecursionError):
        text = "nested too deeply"
    return text[:300]


def finish_revocation(client, entry: Entry, revocation: dict, hand_off, prepared: Prepared):
    """Record a revocation and queue its handling; pending if it cannot be queued."""
    try:
        hand_off(revocation, entry.message_id)
    except Exception as error:  # the broker is down: offer the entry again later
        logger.warning(
            "cannot queue revocation %s yet: %s",
            entry.message_id,
            error,
            extra={"message_id": entry.message_id},
        )
        prepared.pending.append(entry)
        return
    record_revocation(client, revocation)
    logger.warning("subscription revoked: %s", revocation, extra={"message_id": entry.message_id})
    count_events(REVOKED, [entry_type(entry)])
    prepared.finished.append(entry)


def dead_letter(client, entry: Entry, reason: str) -> None:
    """Keep a message no worker can use, with why, for an operator to replay after a fix."""
    logger.error(
        "dead-lettered message %s: %s",
        entry.message_id,
        reason,
        extra={"message_id": entry.message_id},
    )
    add_dead_letter(
        client,
        DEAD_LETTER_KIND.get(entry.kind, "ingest"),
        {"headers": entry.headers, "body": entry.body},
        reason,
    )
    count_events(DEAD_LETTERED, [entry_type(entry)])


def entry_type(entry: Entry, event: dict | None = None) -> str:
    """An entry's event type, for the metrics: its event's, else its subscription's."""
    return event["type"] if event else str(entry.headers.get(SUBSCRIPTION_TYPE) or "")
