"""Ingest: turn entries read from the intake into stream events, once each.

A pump hands over a batch of entries; this parses and checks each one
(:func:`shared.events.event_or_revocation`, or :mod:`worker.websub`), then drops
duplicates and records channel state for the whole batch in one Redis round trip
(:mod:`worker.claims`). Each entry ends up in one of three lists: events to publish,
entries already finished (duplicates, dead letters, revocations handed to a
task) and entries to leave pending, which the pump offers again later.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis

from shared.events import Event, Revocation, event_or_revocation
from shared.intake import WEBSUB
from shared.logs import log_context
from shared.store import CLAIMED, DUPLICATE_STREAM, add_dead_letter, record_revocation
from worker.claims import Claim, claim_arguments, queue_claims
from worker.entries import Entry, describe_error, entry_type
from worker.metrics import DEAD_LETTERED, DUPLICATE, IGNORED, REVOKED, count_events
from worker.websub import websub_events

logger = logging.getLogger(__name__)
# Queues a revocation for its task: (revocation, message id).
HandOff = Callable[[Revocation, str], Any]
DEAD_LETTER_KIND = {WEBSUB: "websub"}
# What a message that can never be used raises while it is parsed and checked. A value
# Redis's client refuses to send (DataError) is the message's fault as well; every other
# Redis error leaves the entry pending, to be offered again.
UNUSABLE = (ValueError, KeyError, TypeError, AttributeError, RecursionError, redis.DataError)


@dataclass
class Prepared:
    """What became of a batch of entries."""

    events: list[tuple[Entry, Event]] = field(default_factory=list)
    finished: list[Entry] = field(default_factory=list)
    pending: list[Entry] = field(default_factory=list)


def prepare(
    client: redis.Redis, entries: list[Entry], state_ttl: int, hand_off_revocation: HandOff
) -> Prepared:
    """Parse, check and deduplicate ``entries``; see the module's docstring.

    ``hand_off_revocation(revocation, message_id)`` queues a revocation's
    handling; when it raises, the entry stays pending.
    """
    prepared = Prepared()
    claims: list[Claim] = []
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


def parse(client: redis.Redis, entry: Entry) -> tuple[Event | None, Revocation | None] | None:
    """``(event, None)``, ``(None, revocation)`` or None when there is nothing to do."""
    if entry.kind == WEBSUB:
        event = websub_events(client, entry.headers, entry.body, entry.entry_id)
        return (event, None) if event else None
    return event_or_revocation(json.loads(entry.body), entry.headers)


def claim_all(client: redis.Redis, claims: list[Claim], state_ttl: int, prepared: Prepared) -> list:
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


def finish_revocation(
    client: redis.Redis,
    entry: Entry,
    revocation: Revocation,
    hand_off: HandOff,
    prepared: Prepared,
) -> None:
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


def dead_letter(client: redis.Redis, entry: Entry, reason: str) -> None:
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
