"""The Celery app both sides use: broker, queues, and the queue of each task.

Tasks are named in :mod:`shared.task_names`; ``TASK_QUEUES`` gives each its queue, so a
process that sends a task by name (the web never imports worker code) sends it to the
queue the worker takes it from.

The broker is Redis (``REDIS_URL``) unless ``CELERY_BROKER_URL`` names another:
a ``redis://`` one or RabbitMQ (``amqp://``). On RabbitMQ the queues are quorum
queues (replicated across a cluster) and countdowns use RabbitMQ's native
delayed delivery, so a retry waiting for its turn is held by the broker, not
by a worker.
"""

from __future__ import annotations

import math
import ssl
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from celery import Celery
from celery.signals import before_task_publish
from kombu import Exchange, Queue

from shared.sentinel import sentinel_options
from shared.settings import Settings
from shared.task_names import (
    CHECK_LEASE,
    ENSURE_SUBSCRIPTIONS,
    HANDLE_REVOCATION,
    HEAL_ALERT_LEASES,
    PUBLISH_STREAM_EVENT,
    RECONCILE_SUBSCRIPTIONS,
    REFRESH_VIEWER_COUNTS,
    RELEASE_IDLE_LEASES,
    RENEW_LEASES,
    SEND_GO_LIVE_ALERTS,
    SETTLE_ALERT_LEASE,
    VALIDATE_APP_TOKEN,
)

if TYPE_CHECKING:
    from celery.result import AsyncResult

PUBLISH_QUEUE = "publish"
MAINTENANCE_QUEUE = "maintenance"
PUSH_QUEUE = "push"  # go-live alerts by Web Push: many slow requests, kept off the others
QUEUES = (PUBLISH_QUEUE, MAINTENANCE_QUEUE, PUSH_QUEUE)

TASK_QUEUES = {
    PUBLISH_STREAM_EVENT: PUBLISH_QUEUE,
    ENSURE_SUBSCRIPTIONS: MAINTENANCE_QUEUE,
    CHECK_LEASE: MAINTENANCE_QUEUE,
    RENEW_LEASES: MAINTENANCE_QUEUE,
    RELEASE_IDLE_LEASES: MAINTENANCE_QUEUE,
    RECONCILE_SUBSCRIPTIONS: MAINTENANCE_QUEUE,
    VALIDATE_APP_TOKEN: MAINTENANCE_QUEUE,
    HANDLE_REVOCATION: MAINTENANCE_QUEUE,
    SETTLE_ALERT_LEASE: MAINTENANCE_QUEUE,
    HEAL_ALERT_LEASES: MAINTENANCE_QUEUE,
    REFRESH_VIEWER_COUNTS: MAINTENANCE_QUEUE,
    SEND_GO_LIVE_ALERTS: PUSH_QUEUE,
}


def is_amqp(broker_url: str) -> bool:
    """True for a RabbitMQ broker URL (``amqp://`` or ``amqps://``)."""
    return urlsplit(broker_url).scheme in ("amqp", "amqps")


class RabbitCelery(Celery):
    """Celery for RabbitMQ: every countdown rounded up to whole seconds.

    Native delayed delivery counts whole seconds and refuses a countdown that
    truncates to 0 (``calculate_routing_key``: "countdown must be a positive
    number"), and one that truncated down would arrive before its ETA and hold
    a prefetch slot until then. Rounding up keeps "not before" and avoids both.
    """

    def send_task(
        self,
        name: str,
        args: Sequence[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        countdown: float | None = None,
        *rest: Any,
        **options: Any,
    ) -> AsyncResult:
        if countdown is not None and countdown > 0:
            countdown = math.ceil(countdown)
        return super().send_task(name, args, kwargs, countdown, *rest, **options)


@before_task_publish.connect
def stamp_sent_at(headers: dict[str, Any] | None = None, **_: Any) -> None:
    """Mark each task message with when it was sent, so that ``flask queues`` and beat can
    tell how long the oldest one has waited (:mod:`shared.backlog`)."""
    if headers is not None:
        headers["sent_at"] = time.time()


def make_celery(settings: Settings, name: str = "streamer_event_viewer") -> Celery:
    """Build the Celery app: one queue per kind of work, late acks, on Redis or RabbitMQ."""
    broker_url = settings.celery_broker_url
    amqp = is_amqp(broker_url)
    app = (RabbitCelery if amqp else Celery)(name, broker=broker_url, set_as_current=True)
    app.conf.update(
        task_default_queue=MAINTENANCE_QUEUE,
        task_routes={name: {"queue": queue} for name, queue in TASK_QUEUES.items()},
        task_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        worker_prefetch_multiplier=1,
        # Threads: the tasks wait on Twitch and Pusher, and the pump's threads share
        # the process (a prefork pool would fork it while they run).
        worker_pool="threads",
        worker_concurrency=8,
        broker_connection_retry_on_startup=True,
        # Task events, for `celery -A worker events` and Flower. Celery carries only
        # maintenance tasks and publish retries (webhooks go through the intake
        # streams), so the few messages each task adds cost little.
        worker_send_task_events=True,
        task_send_sent_event=True,
        task_publish_retry_policy={
            "max_retries": 2,
            "interval_start": 0,
            "interval_step": 0.2,
            "interval_max": 0.5,
        },
        timezone="UTC",
    )
    app.conf.update(_rabbitmq_settings() if amqp else _redis_settings(settings))
    return app


def _redis_settings(settings: Settings) -> dict:
    """Plain queues on the Redis transport that reuses its clients (``shared.broker``).

    With REDIS_SENTINELS (and CELERY_BROKER_URL unset) it is kombu's Sentinel transport
    to the same primary as the state store. A ``rediss://`` broker gets TLS with the
    server's certificate verified unless ``REDIS_TLS_VERIFY`` is off, as
    :func:`shared.store.connect` does: kombu turns TLS on by itself only for its own
    ``rediss`` transport name, and then without verifying.
    """
    verify = ssl.CERT_REQUIRED if settings.redis_tls_verify else ssl.CERT_NONE
    on_sentinel = urlsplit(settings.celery_broker_url).scheme == "sentinel"
    sentinel = settings.redis_sentinel if on_sentinel else None
    tls_url = settings.redis_url if sentinel else settings.celery_broker_url
    tls = (
        {"broker_use_ssl": {"ssl_cert_reqs": verify}}
        if urlsplit(tls_url).scheme == "rediss"
        else {}
    )
    through_sentinel = (
        {
            "master_name": sentinel.master,
            "sentinel_kwargs": sentinel_options(sentinel),
        }
        if sentinel
        else {}
    )
    return dict(
        **tls,
        task_queues=[Queue(name) for name in QUEUES],
        broker_transport=f"shared.broker:{'SentinelTransport' if sentinel else 'Transport'}",
        broker_transport_options={
            **through_sentinel,
            # A message a dead worker had taken comes back after the visibility
            # timeout; sweep for such messages often enough to notice soon. A
            # countdown task is held unacked by the worker while it waits, so
            # the retry backoff cap stays below the timeout (shared/settings.py).
            "visibility_timeout": settings.broker_visibility_timeout,
            "unacked_restore_interval": max(1, min(10, settings.broker_visibility_timeout // 3)),
            "unacked_restore_throttle": 1,
            "socket_connect_timeout": 2,
            "socket_timeout": 5,
        },
    )


def _rabbitmq_settings() -> dict:
    """Quorum queues behind topic exchanges, native delayed delivery, publisher confirms.

    A quorum queue is replicated over the cluster; a consumer that dies hands
    its unacknowledged messages back at once. Quorum queues need per-consumer
    QoS (global QoS off), which Celery switches to when it detects them
    (``worker_detect_quorum_queues``); a countdown task would then block a
    worker slot until its ETA, so countdowns go through native delayed
    delivery, which needs topic (not direct) exchanges.
    """
    quorum = {"x-queue-type": "quorum"}
    return dict(
        task_queues=[
            Queue(name, Exchange(name, type="topic"), routing_key=name, queue_arguments=quorum)
            for name in QUEUES
        ],
        task_default_queue_type="quorum",
        task_default_exchange_type="topic",
        worker_detect_quorum_queues=True,
        broker_native_delayed_delivery_queue_type="quorum",
        # A publish returns only once RabbitMQ has taken the message.
        broker_transport_options={"confirm_publish": True},
        broker_connection_timeout=2,
    )
