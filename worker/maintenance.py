"""Maintenance tasks run on the beat schedule."""

from __future__ import annotations

import logging

from celery import shared_task

from shared.intake import backlog
from shared.queues import MAINTENANCE_QUEUE, PUBLISH_QUEUE
from shared.store import DEAD_LETTERS
from worker.context import redis_client, settings

logger = logging.getLogger(__name__)


@shared_task(name="maintenance.report_backlog", acks_late=True)
def report_backlog() -> dict:
    """Log how many messages wait in the intake and each queue, and the dead letters."""
    client = redis_client()
    with client.pipeline(transaction=False) as pipe:
        for name in (PUBLISH_QUEUE, MAINTENANCE_QUEUE, DEAD_LETTERS):
            pipe.llen(name)
        publish, maintenance, dead = pipe.execute()
    report = {"intake": sum(backlog(client, settings().intake_shards).values()),
              "publish": publish, "maintenance": maintenance, "dead": dead}
    log = logger.warning if dead else logger.info
    log("backlog: %s", report)
    return report
