"""Claims: each ingested message taken once, its channel state recorded, in one round trip.

A claim (:func:`shared.store.claim_event`) marks a message (and a ``stream.online``'s
stream) as taken by its intake entry, and records the title and category of a
``channel.update``; a batch's claims travel in one pipeline.
"""

from __future__ import annotations

import redis

from shared.events import CHANNEL_UPDATE, STREAM_ONLINE, Event, Revocation
from shared.eventsub import ordering_key
from shared.store import claim_event, seen_message_key, seen_stream_key
from worker.context import settings
from worker.entries import Entry

# (message key, stream key, channel state) of one claim, as claim_event takes them.
ClaimKeys = tuple[str, str | None, tuple[str, str, str, str] | None]
# An entry parsed, with its event or revocation and what to claim for it.
Claim = tuple[Entry, Event | None, Revocation | None, ClaimKeys]


def claim_arguments(entry: Entry, event: Event | None) -> ClaimKeys:
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


def queue_claims(client: redis.Redis, claims: list[Claim], state_ttl: int) -> list:
    """Send the claims (see :func:`shared.store.claim_event`) in one pipeline; the
    verdicts, in order."""
    claim_ttl = settings().dedupe_window_seconds
    with client.pipeline(transaction=False) as pipe:
        for entry, _, _, (message_key, stream_key, state) in claims:
            claim_event(pipe, message_key, stream_key, entry.entry_id, state, state_ttl, claim_ttl)
        return pipe.execute()
