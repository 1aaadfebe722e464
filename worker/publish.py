"""Publish: every request the worker makes to Pusher, and the one retry policy.

Every request goes through :func:`send` (timed and counted by path); a stream event is
published at first where it is: the pump's publishing threads send batches
(:mod:`worker.batches`), a task that makes an event sends it (:func:`deliver`).

The retry policy: when Pusher cannot be reached, times out, or answers 429 or 5xx,
each event of the request is handed to the ``publish`` queue, to be tried again in
``FIRST_RETRY_SECONDS`` by :func:`publish_stream_event_task`, which Celery retries by
itself (``autoretry_for``) with exponential backoff (``retry_backoff``): 2, 4, 8... s
after its failures, at most ``PUBLISH_RETRY_BACKOFF_MAX`` each. After
``PUBLISH_MAX_RETRIES`` retries (the hand-over counts as the first), or at once when
Pusher refuses the event itself (400, 413...), the event goes to the dead letters with
the reason (:func:`dead_letter_what_failed`). The delays are not jittered: Celery's
jitter draws a delay anywhere from 0 to its step, which would halve on average the
outage the retries ride out and could retry at once; the events of a burst spread
out by the time each failed. A retry can repeat an event Pusher took before timing
out: it carries the same id, and the page shows it once.

A viewer count is the one thing not retried: the next round publishes a newer count,
which a retried one could follow (:mod:`worker.viewer_counts`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import pusher
import redis
from celery import Task, shared_task
from celery.signals import task_failure, task_postrun, task_prerun, task_retry

from shared.events import STREAM_ONLINE, Event
from shared.logs import set_log_context
from shared.publisher import (
    RejectedPublishError,
    RetryablePublishError,
    publish_stream_events,
)
from shared.store import add_dead_letter, published_key
from shared.task_names import PUBLISH_STREAM_EVENT
from worker.context import pusher_client, redis_client, settings
from worker.metrics import (
    DEAD_LETTERED,
    DUPLICATE,
    PUBLISHED,
    RETRY,
    SINGLE,
    count_events,
    observe_lag,
    publish_retries,
    timed_publish,
)
from worker.push import queue_go_live_alerts

logger = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 1  # the hand-over to the publish queue; the task's own retries double it
RETRY_BACKOFF = 2  # the task's n-th retry (n from 0) waits RETRY_BACKOFF * 2**n seconds

# An event to publish and when Twitch sent its message (None: the event's own time), for the lag.
Outgoing = tuple[Event, str | None]


def send(client: pusher.Pusher, events: Sequence[Event], path: str) -> None:
    """Trigger ``events`` (at most BATCH_LIMIT) in one request, timed and counted under
    ``path``. Raises RetryablePublishError or RejectedPublishError (shared.publisher)."""
    with timed_publish(path):
        publish_stream_events(client, events)


def note_published(published: Sequence[Outgoing]) -> None:
    """Count the events Pusher has just taken and the lag of each since Twitch sent it;
    at DEBUG, one line each with its message id."""
    count_events(PUBLISHED, [event["type"] for event, _ in published])
    observe_lag([twitch_time or event.get("occurred_at") for event, twitch_time in published])
    if logger.isEnabledFor(logging.DEBUG):
        for event, _ in published:
            logger.debug(
                "published %s event %s",
                event["type"],
                event["id"],
                extra={"message_id": event["id"]},
            )


def deliver(event: Event) -> None:
    """Publish an event the worker made; a failure is handed to the retry queue, a refusal
    dead-lettered. Raises when the retry cannot be queued (the broker is down)."""
    try:
        publish_once(event, SINGLE)
    except RetryablePublishError as error:
        if retry_later([(event, None)], error):
            raise
    except RejectedPublishError as error:
        give_up(event, str(error))


def retry_later(failed: Sequence[Outgoing], error: Exception) -> list[Event]:
    """Hand each event of a failed first attempt to the publish queue (the policy's
    first retry); returns those whose retry could not be queued."""
    warn_retrying([event["id"] for event, _ in failed], error, FIRST_RETRY_SECONDS)
    not_queued = []
    for event, twitch_time in failed:
        try:
            publish_stream_event_task.apply_async(
                (event,), {"twitch_time": twitch_time}, countdown=FIRST_RETRY_SECONDS
            )
        except Exception as queue_error:  # broker down: the caller keeps the event
            logger.error(
                "cannot queue the retry of %s: %s",
                event["id"],
                queue_error,
                extra={"message_id": event["id"]},
            )
            not_queued.append(event)
    publish_retries.inc(len(failed) - len(not_queued))
    return not_queued


def warn_retrying(event_ids: list[str], error: object, countdown: float) -> None:
    """The one warning of a publish to be retried."""
    logger.warning(
        "publishing %s failed (%s); retrying in %gs",
        event_ids[0] if len(event_ids) == 1 else f"{len(event_ids)} events",
        error,
        countdown,
        extra={"message_ids": event_ids} if len(event_ids) > 1 else {"message_id": event_ids[0]},
    )


@shared_task(
    name=PUBLISH_STREAM_EVENT,
    bind=True,
    acks_late=True,
    autoretry_for=(RetryablePublishError, redis.RedisError),
    retry_backoff=RETRY_BACKOFF,
    retry_backoff_max=settings().publish_retry_backoff_max,
    retry_jitter=False,
    max_retries=settings().publish_max_retries - 1,  # the hand-over was the first
    throws=(RetryablePublishError, RejectedPublishError),
)
def publish_stream_event_task(self: Task, event: Event, twitch_time: str | None = None) -> None:
    """Publish ``event`` again; Celery retries it and, when the retries are spent or Pusher
    refuses it, it is dead-lettered (see the module's policy). ``twitch_time``: when
    Twitch sent the message the event came from, for the lag."""
    publish_once(event, RETRY, twitch_time)


@task_retry.connect
def count_the_retry(sender: Any = None, request: Any = None, reason: Any = None, **_: Any) -> None:
    """Warn of each retry Celery schedules for a publish, and count it."""
    if sender is not None and sender.name == PUBLISH_STREAM_EVENT and request is not None:
        event = request.args[0] if request.args else (request.kwargs or {}).get("event") or {}
        warn_retrying(
            [event.get("id", "")], getattr(reason, "exc", reason), getattr(reason, "when", 0.0)
        )
        publish_retries.inc()


@task_failure.connect
def dead_letter_what_failed(
    sender: Any = None, exception: Any = None, args: Any = None, kwargs: Any = None, **_: Any
) -> None:
    """A publish whose retries are spent, or that Pusher refused, goes to the dead letters."""
    if sender is None or sender.name != PUBLISH_STREAM_EVENT:
        return
    event: Event = args[0] if args else (kwargs or {})["event"]
    reason = str(exception)
    if not isinstance(exception, RejectedPublishError):
        reason = f"gave up after {sender.request.retries + 2} attempts: {exception}"
    give_up(event, reason)


@task_prerun.connect
def name_the_message(task: Any = None, args: Any = None, kwargs: Any = None, **_: Any) -> None:
    """Every line of a retry, Celery's own ("retry", "raised") among them, carries its
    event's message id."""
    if task is not None and task.name == PUBLISH_STREAM_EVENT:
        event = args[0] if args else (kwargs or {}).get("event") or {}
        set_log_context(message_id=event.get("id", ""))


@task_postrun.connect
def forget_the_message(**_: Any) -> None:
    """The next task's lines carry no message id of this one."""
    set_log_context()


def publish_once(event: Event, path: str, twitch_time: str | None = None) -> None:
    """Publish ``event`` unless it already was; then mark it published and queue the
    go-live alerts of a ``stream.online``. ``path`` and ``twitch_time`` (else the event's
    own time) are for the metrics."""
    client = redis_client()
    if client.exists(published_key(event["id"])):
        logger.info(
            "event %s was already published", event["id"], extra={"message_id": event["id"]}
        )
        count_events(DUPLICATE, [event["type"]])
        return
    send(pusher_client(), [event], path)
    note_published([(event, twitch_time)])
    client.set(published_key(event["id"]), "1", ex=settings().dedupe_window_seconds)
    if event["type"] == STREAM_ONLINE:
        queue_go_live_alerts([(event, twitch_time or event.get("occurred_at"))])


def give_up(event: Event, reason: str) -> None:
    """Put the event in the dead letters with why it failed."""
    logger.error(
        "dead-lettered event %s: %s", event["id"], reason, extra={"message_id": event["id"]}
    )
    add_dead_letter(redis_client(), "publish", event, reason)
    count_events(DEAD_LETTERED, [event["type"]])
