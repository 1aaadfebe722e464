"""Publish: deliver a stream event to Pusher, retrying, then dead-lettering.

The first attempt runs inline in the ingest task (one queue hop less on the
common path); when it fails, the event continues on the publish queue with
exponential backoff and jitter until it is delivered or dead-lettered.
"""

from __future__ import annotations

import logging
import random

from celery import shared_task
from celery.signals import task_postrun, task_prerun

from shared.events import STREAM_ONLINE, Event
from shared.logs import set_log_context
from shared.publisher import RejectedPublishError, RetryablePublishError, publish_stream_event
from shared.store import CLAIM_TTL, add_dead_letter, published_key
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


def deliver(event: Event) -> None:
    """First attempt at publishing ``event``; a failure is queued for retrying."""
    try:
        publish_once(event)
    except RetryablePublishError as error:
        delay = retry_delay(0)
        logger.warning(
            "publishing %s failed (%s); retrying in %.1fs",
            event["id"],
            error,
            delay,
            extra={"message_id": event["id"]},
        )
        publish_stream_event_task.apply_async((event,), countdown=delay)
        publish_retries.inc()
    except RejectedPublishError as error:
        give_up(event, str(error))


@shared_task(name=PUBLISH_STREAM_EVENT, bind=True, acks_late=True, max_retries=None)
def publish_stream_event_task(self, event: Event, twitch_time: str | None = None) -> None:
    """Retry publishing ``event``; after PUBLISH_MAX_RETRIES retries, dead-letter it.
    ``twitch_time``: when Twitch sent the message the event came from, for the lag."""
    retries_used = self.request.retries + 1  # the inline attempt failed first
    try:
        publish_once(event, RETRY, twitch_time)
    except RetryablePublishError as error:
        if retries_used >= settings().publish_max_retries:
            give_up(event, f"gave up after {retries_used + 1} attempts: {error}")
            return
        delay = retry_delay(retries_used)
        logger.warning(
            "publishing %s failed (%s); retrying in %.1fs",
            event["id"],
            error,
            delay,
            extra={"message_id": event["id"]},
        )
        publish_retries.inc()
        raise self.retry(countdown=delay) from error
    except RejectedPublishError as error:
        give_up(event, str(error))


@task_prerun.connect
def name_the_message(task=None, args=None, kwargs=None, **_):
    """Every line of a retry, Celery's own ("retry", "raised") among them, carries its
    event's message id."""
    if task is not None and task.name == PUBLISH_STREAM_EVENT:
        event = args[0] if args else (kwargs or {}).get("event") or {}
        set_log_context(message_id=event.get("id", ""))


@task_postrun.connect
def forget_the_message(**_):
    """The next task's lines carry no message id of this one."""
    set_log_context()


def publish_once(event: Event, path: str = SINGLE, twitch_time: str | None = None) -> None:
    """Publish ``event`` unless it already was; then mark it published. ``path`` and
    ``twitch_time`` (else the event's own time) are for the metrics."""
    client = redis_client()
    if client.exists(published_key(event["id"])):
        logger.info(
            "event %s was already published", event["id"], extra={"message_id": event["id"]}
        )
        count_events(DUPLICATE, [event["type"]])
        return
    with timed_publish(path):
        publish_stream_event(pusher_client(), event)
    count_events(PUBLISHED, [event["type"]])
    observe_lag([twitch_time or event.get("occurred_at")])
    client.set(published_key(event["id"]), "1", ex=CLAIM_TTL)
    if event["type"] == STREAM_ONLINE:
        queue_go_live_alerts([(event, twitch_time or event.get("occurred_at"))])
    logger.debug(
        "published %s event %s", event["type"], event["id"], extra={"message_id": event["id"]}
    )


def retry_delay(retries: int, cap: float | None = None) -> float:
    """Seconds before the next attempt: 1, 2, 4... capped by PUBLISH_RETRY_BACKOFF_MAX,
    each drawn at random from its upper half so that retries spread out."""
    ceiling = min(cap or settings().publish_retry_backoff_max, 2.0**retries)
    return random.uniform(ceiling / 2, ceiling)


def give_up(event: Event, reason: str) -> None:
    """Put the event in the dead letters with why it failed."""
    logger.error(
        "dead-lettered event %s: %s", event["id"], reason, extra={"message_id": event["id"]}
    )
    add_dead_letter(redis_client(), "publish", event, reason)
    count_events(DEAD_LETTERED, [event["type"]])
