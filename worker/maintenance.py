"""Maintenance tasks run on the beat schedule."""

from __future__ import annotations

import logging

from celery import shared_task

from shared.queues import INGEST_QUEUE, MAINTENANCE_QUEUE, PUBLISH_QUEUE
from shared.store import DEAD_LETTERS
from worker.context import redis_client

logger = logging.getLogger(__name__)


@shared_task(name="maintenance.report_backlog", acks_late=True)
def report_backlog() -> dict:
    """Log how many messages wait in each queue and how many dead letters there are."""
    client = redis_client()
    with client.pipeline(transaction=False) as pipe:
        for name in (INGEST_QUEUE, PUBLISH_QUEUE, MAINTENANCE_QUEUE, DEAD_LETTERS):
            pipe.llen(name)
        ingest, publish, maintenance, dead = pipe.execute()
    backlog = {"ingest": ingest, "publish": publish, "maintenance": maintenance, "dead": dead}
    log = logger.warning if dead else logger.info
    log("backlog: %s", backlog)
    return backlog
