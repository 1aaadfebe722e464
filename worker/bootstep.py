"""Starts the pump, and the metrics server when asked for, with the Celery worker;
stops them with the worker. (Beat runs no worker bootsteps, so it serves no metrics.)

A worker that does not take the publish queue (``celery -A worker worker --queues push``,
a process for go-live alerts alone) runs no pump: the intake is for the workers that
publish."""

from __future__ import annotations

import logging
import os
import secrets
from typing import TYPE_CHECKING, Any

from celery import bootsteps

from shared.queues import PUBLISH_QUEUE
from shared.shard_count import ShardCountMismatch
from worker.context import redis_client, settings

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from celery.worker import WorkController

    from worker.pump import Pump

logger = logging.getLogger(__name__)


class PumpStep(bootsteps.StartStopStep):
    """Runs a :class:`worker.pump.Pump` beside the worker's task pool, and serves the
    metrics (:mod:`worker.metrics`) on ``WORKER_METRICS_PORT`` when it is set."""

    requires = {"celery.worker.components:Pool"}

    def __init__(self, worker: WorkController, **options: Any) -> None:
        super().__init__(worker, **options)
        self.pump: Pump | None = None
        self.metrics_server: WSGIServer | None = None

    def start(self, worker: WorkController) -> None:
        """Start pumping once the pool is up (no fork happens after this)."""
        from worker.pump import Pump
        from worker.subscriptions import handle_revocation

        self.start_metrics(settings().worker_metrics_port, settings().worker_metrics_host)
        if PUBLISH_QUEUE not in worker.app.amqp.queues.consume_from:
            logger.info("no pump: this worker does not take the %s queue", PUBLISH_QUEUE)
            return
        name = f"{worker.hostname}:{os.getpid()}:{secrets.token_hex(3)}"
        self.pump = Pump(
            redis_client(),
            settings(),
            name,
            lambda revocation, message_id: handle_revocation.apply_async((revocation, message_id)),
        )
        try:
            self.pump.start()
        except ShardCountMismatch as error:
            logger.critical("configuration error: %s", error)
            os._exit(2)  # before the worker takes a task: no process may run with it

    def start_metrics(self, port: int | None, address: str) -> None:
        """Serve the metrics on ``address:port`` (port None: not at all); if they cannot be
        served (port taken, multiprocess directory missing) that is logged and the worker
        runs on without."""
        if port is None or self.metrics_server is not None:
            return
        from worker.metrics import serve

        try:
            self.metrics_server = serve(port, address)
        except (OSError, ValueError) as error:  # port taken; no PROMETHEUS_MULTIPROC_DIR
            logger.error("cannot serve the worker's metrics on port %s: %s", port, error)
            return
        logger.info("worker metrics on http://%s:%s/metrics", address, port)

    def stop(self, worker: WorkController) -> None:
        """Finish what is in flight and hand the shards over; stop serving metrics."""
        if self.pump is not None:
            self.pump.stop()
            self.pump = None
        if self.metrics_server is not None:
            from worker.metrics import stop_serving

            stop_serving(self.metrics_server)
            self.metrics_server = None

    shutdown = stop
