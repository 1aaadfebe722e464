"""What is waiting: the intake streams, the Celery queues and the dead letters.

``flask queues`` prints it, and beat logs it every minute. Beat measures it
itself (it is not a task), so the report goes on while no worker runs, which
is when it matters most.

Ages come from the messages themselves: an intake entry's id is the time it
was added; a Celery message carries the time it was sent (``sent_at``, set in
:mod:`shared.queues`; readable on the Redis broker only, RabbitMQ's queues
tell their depth but not their oldest message without taking it); a dead
letter keeps when it failed.
"""

from __future__ import annotations

import json
import time

import redis
from kombu import Connection

from shared.intake import intake_key
from shared.queues import QUEUES, is_amqp
from shared.settings import Settings
from shared.store import DEAD_LETTERS, DEAD_LETTERS_DROPPED, connect

STALE_SECONDS = 60  # anything waiting longer than this means nobody is taking it


def queue_report(client: redis.Redis, settings: Settings, now: float | None = None) -> dict:
    """``{"intake": ..., "publish": ..., "maintenance": ..., "dead_letters": ...}``, each
    ``{"waiting": count or None if unknown, "oldest_age": seconds or None}``; the
    intake also has ``"streams"``: the count in each of its streams."""
    now = time.time() if now is None else now
    return {
        "intake": intake_backlog(client, settings.intake_shards, now),
        **celery_backlog(settings, now),
        "dead_letters": dead_letter_backlog(client, now),
    }


def intake_backlog(client: redis.Redis, shards: int, now: float) -> dict:
    """Unfinished entries in the intake streams (waiting to be read, or in a pump's hands)."""
    with client.pipeline(transaction=False) as pipe:
        for shard in range(shards):
            pipe.xlen(intake_key(shard))
            pipe.xrange(intake_key(shard), count=1)
        answers = pipe.execute()
    streams = {intake_key(shard): answers[2 * shard] for shard in range(shards)}
    added = [int(first[0][0].split("-")[0]) / 1000 for first in answers[1::2] if first]
    return {
        "waiting": sum(streams.values()),
        "oldest_age": age(min(added, default=None), now),
        "streams": streams,
    }


def celery_backlog(settings: Settings, now: float) -> dict:
    """Messages waiting in each Celery queue (not those a worker holds for a countdown)."""
    url = settings.celery_broker_url
    if is_amqp(url):
        return {
            name: {"waiting": count, "oldest_age": None}
            for name, count in rabbitmq_depths(url).items()
        }
    if settings.broker_in_state_store:  # with REDIS_SENTINELS, found through the sentinels
        broker = connect(settings.redis_url, settings.redis_tls_verify, settings.redis_sentinel)
    else:
        broker = connect(url, settings.redis_tls_verify)
    try:
        with broker.pipeline(transaction=False) as pipe:
            for name in QUEUES:
                pipe.llen(name)
                pipe.lindex(name, -1)  # kombu pushes on the left and takes from the right
            answers = pipe.execute()
    finally:
        broker.close()
    return {
        name: {"waiting": answers[2 * n], "oldest_age": age(sent_at(answers[2 * n + 1]), now)}
        for n, name in enumerate(QUEUES)
    }


def rabbitmq_depths(url: str) -> dict[str, int | None]:
    """Each queue's message count, by a passive declare (None if the queue is not there)."""
    depths: dict[str, int | None] = {}
    with Connection(url, connect_timeout=2) as connection:
        for name in QUEUES:
            try:
                with connection.channel() as channel:
                    depths[name] = channel.queue_declare(queue=name, passive=True).message_count
            except Exception:  # not declared yet: no worker ever started
                depths[name] = None
    return depths


def dead_letter_backlog(client: redis.Redis, now: float) -> dict:
    """How many dead letters wait for an operator, since when the oldest, and how many
    older ones were dropped at the cap (``dropped``)."""
    with client.pipeline(transaction=False) as pipe:
        pipe.llen(DEAD_LETTERS)
        pipe.lindex(DEAD_LETTERS, 0)
        pipe.get(DEAD_LETTERS_DROPPED)
        count, oldest, dropped = pipe.execute()
    failed_at = json.loads(oldest).get("failed_at") if oldest else None
    return {
        "waiting": count,
        "oldest_age": age(failed_at if isinstance(failed_at, (int, float)) else None, now),
        "dropped": int(dropped or 0),
    }


def sent_at(message: str | None) -> float | None:
    """When a Celery message on the Redis broker was sent, if it says."""
    if message is None:
        return None
    try:
        value = json.loads(message)["headers"]["sent_at"]
    except (TypeError, ValueError, KeyError):
        return None
    return value if isinstance(value, (int, float)) else None


def age(since: float | None, now: float) -> float | None:
    """Seconds from ``since`` to ``now`` (never negative), or None."""
    return None if since is None else round(max(0.0, now - since), 1)


def needs_attention(report: dict) -> bool:
    """True when something waits too long or a dead letter waits at all."""
    return bool(report["dead_letters"]["waiting"]) or any(
        (part["oldest_age"] or 0) > STALE_SECONDS for part in report.values()
    )


def describe_report(report: dict) -> str:
    """The report in one line, e.g. ``intake 3 (oldest 12.0s), publish 0, ...``."""
    parts = []
    for name, part in report.items():
        waiting = "?" if part["waiting"] is None else part["waiting"]
        oldest = f" (oldest {part['oldest_age']}s)" if part["oldest_age"] is not None else ""
        parts.append(f"{name.replace('_', ' ')} {waiting}{oldest}")
    return ", ".join(parts)
