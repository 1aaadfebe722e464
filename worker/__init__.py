"""The Celery worker and beat: ``celery -A worker worker`` / ``celery -A worker beat``.

:func:`create_celery` builds the app from the settings of :mod:`worker.context`; the
package's ``app`` is the one it built, which ``celery -A worker`` finds.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from celery import Celery
from celery.signals import celeryd_after_setup, setup_logging

from shared.error_reports import report_worker_errors
from shared.logs import configure_logging
from shared.queues import PUSH_QUEUE, make_celery
from worker.context import settings

if TYPE_CHECKING:
    from celery.apps.worker import Worker


def create_celery() -> Celery:
    """The worker's Celery app: its tasks, beat's schedule and the pump's bootstep."""
    report_worker_errors(settings())  # before any task runs; forked processes inherit it
    app = make_celery(settings())
    app.set_default()  # tasks sent from the pump's threads use this app too

    from worker import (  # noqa: F401  (registers the tasks)
        alert_leases,
        publish,
        push,
        subscriptions,
        viewer_counts,
    )
    from worker.bootstep import PumpStep
    from worker.schedule import beat_schedule

    app.conf.beat_schedule = beat_schedule(settings())
    app.conf.worker_redirect_stdouts = False
    app.steps["worker"].add(PumpStep)
    return app


@setup_logging.connect
def log_in_our_format(loglevel: str | int | None = None, **_: Any) -> None:
    """Worker and beat log in the one format of :mod:`shared.logs`, at ``--loglevel``."""
    configure_logging(loglevel or settings().log_level, settings().log_format)


@celeryd_after_setup.connect
def leave_pushes_to_the_push_worker(sender: str, instance: Worker, **_: Any) -> None:
    """With ``PUSH_WORKER``, a worker that takes other queues leaves the push queue to
    the ``push`` process (``--queues push``): a go-live's fan-out to many devices then
    takes no CPU from the pump's publishing in the same process."""
    queues = instance.app.amqp.queues
    if settings().push_worker and set(queues.consume_from) != {PUSH_QUEUE}:
        queues.deselect([PUSH_QUEUE])
        logging.getLogger(__name__).info("the push queue is left to the push worker")


app = celery_app = create_celery()
