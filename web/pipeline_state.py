"""The pipeline's state as Prometheus gauges, read from Redis at each scrape.

Only the web's ``/metrics`` registers this collector, for the scrape it answers.
Setting the gauges from a scheduled task instead would leave, with several
workers, a stale copy in every worker but the one that ran it last. One
pipeline of a few cheap commands (lengths and counts) reads everything; when
Redis does not answer, the gauges are left out and ``sev_state_available`` is 0.
"""

from __future__ import annotations

import logging

import redis
from prometheus_client.core import GaugeMetricFamily

from shared.intake import intake_key
from shared.leases import LEASES
from shared.queues import QUEUES
from shared.settings import Settings
from shared.store import DEAD_LETTERS, OCCUPIED_CHANNELS
from shared.twitch.client import EVENTSUB_COST

log = logging.getLogger(__name__)
INTAKE = "intake"


class PipelineState:
    """A collector of the pipeline's state in the app's Redis.

    ``sev_queue_depth{queue="intake"}`` counts the intake streams' unfinished entries
    (waiting for a pump, or read and not yet finished: the pumps delete an entry once
    they finish it). The Celery queues are counted on the Redis broker, and only when
    it is the app's Redis (``CELERY_BROKER_URL`` unset): a message waiting there is an
    item of the queue's list. RabbitMQ reports its own queues (its Prometheus plugin).
    """

    def __init__(self, client: redis.Redis, settings: Settings):
        self.client, self.settings = client, settings
        self.celery_queues = QUEUES if settings.broker_in_state_store else ()

    def collect(self):
        """The gauges, or only ``sev_state_available 0`` when Redis fails to answer."""
        try:
            state = self.read()
        except redis.RedisError as error:
            log.warning("pipeline state left out of the metrics: Redis does not answer: %s", error)
            yield GaugeMetricFamily(
                "sev_state_available", "Whether Redis answered for the pipeline's state.", value=0
            )
            return
        yield GaugeMetricFamily(
            "sev_state_available", "Whether Redis answered for the pipeline's state.", value=1
        )
        depth = GaugeMetricFamily("sev_queue_depth", "Work waiting, by queue.", labels=("queue",))
        for queue, waiting in state["queues"].items():
            depth.add_metric((queue,), waiting)
        yield depth
        yield GaugeMetricFamily(
            "sev_dead_letters", "Dead letters waiting for an operator.", value=state["dead_letters"]
        )
        yield GaugeMetricFamily(
            "sev_leases", "Streamers whose subscriptions are held.", value=state["leases"]
        )
        yield GaugeMetricFamily(
            "sev_occupied_channels",
            "Streamer channels with viewers, as Pusher last reported.",
            value=state["occupied_channels"],
        )
        if state["cost"] is not None:
            total, most = state["cost"]
            yield GaugeMetricFamily(
                "sev_eventsub_cost",
                "EventSub subscription cost, as Twitch last reported it.",
                value=total,
            )
            yield GaugeMetricFamily(
                "sev_eventsub_max_cost", "The most EventSub cost Twitch allows the app.", value=most
            )

    def read(self) -> dict:
        """Every figure, in one round trip to Redis."""
        shards = self.settings.intake_shards
        with self.client.pipeline(transaction=False) as pipe:
            for shard in range(shards):
                pipe.xlen(intake_key(shard))
            for name in self.celery_queues:
                pipe.llen(name)
            pipe.llen(DEAD_LETTERS)
            pipe.zcard(LEASES)
            pipe.zcard(OCCUPIED_CHANNELS)
            pipe.hmget(EVENTSUB_COST, "total_cost", "max_total_cost")
            answers = pipe.execute()
        celery = answers[shards : shards + len(self.celery_queues)]
        dead_letters, leases, occupied, cost = answers[shards + len(self.celery_queues) :]
        return {
            "queues": {
                INTAKE: sum(answers[:shards]),
                **dict(zip(self.celery_queues, celery, strict=True)),
            },
            "dead_letters": dead_letters,
            "leases": leases,
            "occupied_channels": occupied,
            "cost": tuple(int(value) for value in cost) if None not in cost else None,
        }
