"""Starts the pump with the Celery worker and stops it with the worker."""

from __future__ import annotations

import os
import secrets

from celery import bootsteps

from worker.context import redis_client, settings


class PumpStep(bootsteps.StartStopStep):
    """Runs a :class:`worker.pump.Pump` beside the worker's task pool."""

    requires = {"celery.worker.components:Pool"}

    def __init__(self, worker, **options):
        super().__init__(worker, **options)
        self.pump = None

    def start(self, worker) -> None:
        """Start pumping once the pool is up (no fork happens after this)."""
        from worker.pump import Pump
        from worker.subscriptions import handle_revocation

        name = f"{worker.hostname}:{os.getpid()}:{secrets.token_hex(3)}"
        self.pump = Pump(redis_client(), settings(), name,
                         lambda revocation, message_id: handle_revocation.apply_async(
                             (revocation, message_id)))
        self.pump.start()

    def stop(self, worker) -> None:
        """Finish what is in flight and hand the shards over."""
        if self.pump is not None:
            self.pump.stop()
            self.pump = None

    shutdown = stop
