"""The Celery app both sides use: broker, queues, routes and task names.

The web process only sends tasks by name, so it never imports worker code.
"""

from __future__ import annotations

from celery import Celery
from kombu import Queue

from shared.settings import Settings

INGEST_QUEUE = "ingest"
PUBLISH_QUEUE = "publish"
MAINTENANCE_QUEUE = "maintenance"

INGEST_EVENTSUB = "ingest.eventsub"
INGEST_WEBSUB = "ingest.websub"
PUBLISH_STREAM_EVENT = "publish.stream_event"


def make_celery(settings: Settings, name: str = "streamer_event_viewer") -> Celery:
    """Build the Celery app: Redis broker, one queue per kind of work, late acks."""
    app = Celery(name, broker=settings.redis_url, set_as_current=True)
    app.conf.update(
        task_queues=[Queue(INGEST_QUEUE), Queue(PUBLISH_QUEUE), Queue(MAINTENANCE_QUEUE)],
        task_default_queue=MAINTENANCE_QUEUE,
        task_routes={
            "ingest.*": {"queue": INGEST_QUEUE},
            "publish.*": {"queue": PUBLISH_QUEUE},
            "maintenance.*": {"queue": MAINTENANCE_QUEUE},
        },
        task_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        worker_prefetch_multiplier=1,
        broker_transport="shared.broker:Transport",
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            # A message a dead worker had taken comes back after the visibility
            # timeout; sweep for such messages often enough to notice soon.
            "visibility_timeout": settings.broker_visibility_timeout,
            "unacked_restore_interval": max(1, min(10, settings.broker_visibility_timeout // 3)),
            "unacked_restore_throttle": 1,
            "socket_connect_timeout": 2,
            "socket_timeout": 5,
        },
        task_publish_retry_policy={
            "max_retries": 2,
            "interval_start": 0,
            "interval_step": 0.2,
            "interval_max": 0.5,
        },
        timezone="UTC",
    )
    return app
