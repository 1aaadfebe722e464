"""Live viewer counts, refreshed by beat: Twitch sends no event when a count changes.

Every ``VIEWER_COUNT_INTERVAL`` seconds :func:`refresh_viewer_counts` asks Helix for the
streams of the streamers someone watches and that may be live (one ``GET /streams`` per
100 of them) and publishes a ``stream.viewers`` event to a streamer's channel when its
count changed noticeably (:func:`noticeable_change`) since the count last published,
which Redis keeps per broadcaster.
"""

from __future__ import annotations

import json
import logging
import math
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

import pusher
import redis
from celery import shared_task

from shared.events import Event, lease_broadcaster, viewers_event
from shared.eventsub import format_eventsub_timestamp
from shared.leases import Lease, all_leases
from shared.publisher import BATCH_LIMIT, RejectedPublishError, RetryablePublishError
from shared.store import broadcaster_states
from shared.task_names import REFRESH_VIEWER_COUNTS
from shared.twitch.client import CHUNK, TwitchClient, rate_limit_left
from shared.twitch.errors import TwitchError
from worker.context import pusher_client, redis_client, twitch_client
from worker.metrics import SINGLE
from worker.publish import send
from worker.subscriptions import channels_with_viewers

logger = logging.getLogger(__name__)

SMALL_AUDIENCE = 100  # below this many viewers, every change is published
MIN_STEP = 10  # above it, a change of at least this many viewers
MIN_SHARE = 20  # and of at least 1/20 (5 %) of the count last published
BUDGET_RESERVE = 0.25  # share of Twitch's rate-limit bucket a round never spends
LAST_PUBLISHED_TTL = 3600
SKIPPING = "sev:viewer-counts:skipping"
SKIPPING_TTL = 24 * 3600


def noticeable_change(previous: int | None, current: int) -> bool:
    """True when ``current`` is worth telling viewers who were last told ``previous`` (None:
    nothing told yet for this stream): any change while either count is below
    ``SMALL_AUDIENCE``, else a change of at least ``MIN_STEP`` viewers and 5 %."""
    if previous is None:
        return True
    if current == previous:
        return False
    if min(previous, current) < SMALL_AUDIENCE:
        return True
    step = abs(current - previous)
    return step >= MIN_STEP and step * MIN_SHARE >= previous


def last_published_key(broadcaster_id: str) -> str:
    """Key of the viewer count last published for a broadcaster, with its stream's id."""
    return f"sev:viewers:{broadcaster_id}"


def streamers_to_refresh(client: redis.Redis, watched_logins: Iterable[str]) -> list[Lease]:
    """The leases of streamers whose channel has viewers and who may be live: live by the
    state the events recorded, or with no stream state known (live since before we held
    their subscriptions, or the state expired). Those the events said went offline are left
    out, whatever Twitch's cached answers still list."""
    watched = {login.lower() for login in watched_logins}
    leases = [lease for lease in all_leases(client) if lease["login"] in watched]
    states = broadcaster_states(client, [lease["broadcaster_id"] for lease in leases])
    return [lease for lease, state in zip(leases, states, strict=True) if state.get("live") != "0"]


def budget_too_low(client: redis.Redis, calls: int) -> bool:
    """True when ``calls`` more Helix calls would leave less than ``BUDGET_RESERVE`` of the
    rate-limit bucket (as Twitch's last answer told) for everything else."""
    left = rate_limit_left(client)
    if left is None:
        return False
    remaining, limit = left
    return remaining - calls < limit * BUDGET_RESERVE


def refresh(
    twitch: TwitchClient,
    client: redis.Redis,
    channels: pusher.Pusher,
    watched_logins: Iterable[str],
) -> dict:
    """One round: ask Helix for the counts, publish those that changed noticeably.

    Returns ``{"streamers", "calls", "live", "published", "skipped"}``. A round that would
    spend the rate-limit reserve is skipped (logged once until a round runs again).
    """
    leases = streamers_to_refresh(client, watched_logins)
    report = {"streamers": len(leases), "calls": 0, "live": 0, "published": 0, "skipped": False}
    if not leases:
        return report
    if budget_too_low(client, math.ceil(len(leases) / CHUNK)):
        report["skipped"] = True
        note_skipped(client)
        return report
    events = []
    for start in range(0, len(leases), CHUNK):
        if start and budget_too_low(client, 1):
            report["skipped"] = True
            note_skipped(client)
            break
        chunk = {lease["broadcaster_id"]: lease for lease in leases[start : start + CHUNK]}
        try:
            streams = twitch.streams_by_id(list(chunk))
        except TwitchError as error:
            logger.warning("cannot ask Twitch for viewer counts: %s", error)
            break
        fetched_at = format_eventsub_timestamp(datetime.now(UTC))
        report["calls"] += 1
        report["live"] += len(streams)
        events += changed_counts(client, chunk, streams, fetched_at)
    if not report["skipped"] and client.delete(SKIPPING):
        logger.info("viewer counts are refreshed again")
    report["published"] = publish_counts(client, channels, events)
    return report


def changed_counts(
    client: redis.Redis, leases: dict[str, Lease], streams: list[dict], fetched_at: str
) -> list[tuple[Event, str]]:
    """``(event, stream id)`` for each stream of ``streams`` whose count changed noticeably
    since the count last published (``leases``: by broadcaster id)."""
    streams = [
        stream
        for stream in streams
        if stream.get("user_id") in leases and isinstance(stream.get("viewer_count"), int)
    ]
    told = client.mget([last_published_key(s["user_id"]) for s in streams]) if streams else []
    changed = []
    for stream, told_json in zip(streams, told, strict=True):
        last: dict = json.loads(told_json) if told_json else {}
        same_stream = last.get("stream_id") == stream.get("id")
        if not noticeable_change(
            last.get("viewers") if same_stream else None, stream["viewer_count"]
        ):
            continue
        lease = leases[stream["user_id"]]
        event = viewers_event(
            lease_broadcaster(lease),
            stream["viewer_count"],
            stream.get("started_at") or "",
            fetched_at,
            f"viewers-{lease['broadcaster_id']}-{uuid.uuid4().hex}",
        )
        changed.append((event, stream.get("id", "")))
    return changed


def publish_counts(
    client: redis.Redis, channels: pusher.Pusher, events: list[tuple[Event, str]]
) -> int:
    """Publish the events in Pusher batches (:func:`worker.publish.send`) and remember each
    count published; returns how many were. Nothing is retried: a count not published is
    tried again next round, and a newer count replaces it anyway (a retried one could
    arrive after it). Stops at the first batch Pusher could not take."""
    published = 0
    for start in range(0, len(events), BATCH_LIMIT):
        batch = events[start : start + BATCH_LIMIT]
        try:
            send(channels, [event for event, _ in batch], SINGLE)
        except RetryablePublishError as error:
            logger.warning("viewer counts not published (%s); next round tries again", error)
            break
        except RejectedPublishError as error:
            logger.error("viewer counts refused by Pusher: %s", error)
            continue
        with client.pipeline(transaction=False) as pipe:
            for event, stream_id in batch:
                told = {"stream_id": stream_id, "viewers": event["viewers"]}
                pipe.set(
                    last_published_key(event["broadcaster"]["id"]),
                    json.dumps(told),
                    ex=LAST_PUBLISHED_TTL,
                )
            pipe.execute()
        published += len(batch)
    return published


def note_skipped(client: redis.Redis) -> None:
    """Log, once until a round runs again, that rounds are skipped to spare the budget."""
    if client.set(SKIPPING, str(time.time()), nx=True, ex=SKIPPING_TTL):
        logger.warning(
            "viewer counts not refreshed: Twitch's rate-limit budget is nearly "
            "spent (under %d%% would be left)",
            BUDGET_RESERVE * 100,
        )


@shared_task(name=REFRESH_VIEWER_COUNTS, acks_late=True)
def refresh_viewer_counts() -> dict:
    """Refresh the viewer counts of the watched live streams (see :func:`refresh`)."""
    return refresh(twitch_client(), redis_client(), pusher_client(), channels_with_viewers())
