"""The beat schedule, run by exactly one beat process; reconciles once at start too.

Beat also logs the backlog (:mod:`shared.backlog`) itself, at start and every
minute: a task would run on a worker, and say nothing while no worker runs.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from celery.signals import beat_init

from shared.backlog import describe_report, needs_attention, queue_report
from shared.settings import Settings
from shared.task_names import (
    HEAL_ALERT_LEASES,
    RECONCILE_SUBSCRIPTIONS,
    REFRESH_VIEWER_COUNTS,
    RELEASE_IDLE_LEASES,
    RENEW_LEASES,
    VALIDATE_APP_TOKEN,
)

if TYPE_CHECKING:
    from celery.beat import Service

logger = logging.getLogger(__name__)
APP_TOKEN_CHECK_SECONDS = 3600
BACKLOG_REPORT_SECONDS = 60


def beat_schedule(settings: Settings) -> dict:
    """Periodic tasks, with the periods the settings give."""
    every_check = float(settings.lease_check_interval)
    return {
        "renew-leases": {"task": RENEW_LEASES, "schedule": every_check},
        "release-idle-leases": {"task": RELEASE_IDLE_LEASES, "schedule": every_check},
        "reconcile-subscriptions": {
            "task": RECONCILE_SUBSCRIPTIONS,
            "schedule": float(settings.reconcile_interval),
        },
        # Alert leases a lost or failed settle task left out of step with the lists.
        "heal-alert-leases": {
            "task": HEAL_ALERT_LEASES,
            "schedule": float(settings.reconcile_interval),
        },
        "validate-app-token": {
            "task": VALIDATE_APP_TOKEN,
            "schedule": float(APP_TOKEN_CHECK_SECONDS),
        },
        # A round still queued when the next is due is dropped: the next asks afresh.
        "refresh-viewer-counts": {
            "task": REFRESH_VIEWER_COUNTS,
            "schedule": float(settings.viewer_count_interval),
            "options": {"expires": float(settings.viewer_count_interval)},
        },
    }


@beat_init.connect
def reconcile_at_start(sender: Service, **_: Any) -> None:
    """Beat starting (after a deploy or a crash): reconcile with Twitch at once."""
    sender.app.send_task(RECONCILE_SUBSCRIPTIONS)


@beat_init.connect
def report_backlog_from_beat(sender: Service | None = None, **_: Any) -> None:
    """Beat starting: log the backlog now and every minute from a thread of its own."""
    threading.Thread(target=report_backlog_forever, name="backlog-report", daemon=True).start()


def report_backlog_forever() -> None:
    """Log the backlog every ``BACKLOG_REPORT_SECONDS`` until beat exits."""
    while True:
        report_backlog()
        time.sleep(BACKLOG_REPORT_SECONDS)


def report_backlog() -> dict | None:
    """Log one line with what waits where; a warning when something waits too long."""
    from worker.context import redis_client, settings

    try:
        report = queue_report(redis_client(), settings())
    except Exception as error:  # Redis or the broker unreachable: say so, try again later
        logger.warning("cannot measure the backlog: %s", error)
        return None
    (logger.warning if needs_attention(report) else logger.info)(
        "backlog: %s", describe_report(report)
    )
    return report
