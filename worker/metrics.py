"""The worker's Prometheus metrics, served on its own port when WORKER_METRICS_PORT is set.

Every event taken from the intake ends in one outcome of ``sev_events_total``:
published, duplicate, dead-lettered, revoked (a revocation handed to its task)
or ignored (a WebSub notification that changes nothing, or whose topic we do
not hold). An event handed to the retry queue is counted when its retries end.
``sev_event_lag_seconds`` runs from Twitch's time of the message to the moment
Pusher took the event: the delay a viewer sees.

The worker is one process (Celery's threads pool), so its metrics live in this
process; should ``PROMETHEUS_MULTIPROC_DIR`` be set for it all the same, the
server reads that directory instead, as prometheus_client requires.
"""

from __future__ import annotations

import calendar
import os
import time
from collections import Counter as Tally
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Histogram,
    start_http_server,
)
from prometheus_client.multiprocess import MultiProcessCollector

from shared.events import STREAMER_UNAVAILABLE, SUPPORTED_TYPES
from shared.eventsub import ordering_key

PUBLISHED, DUPLICATE, DEAD_LETTERED, REVOKED, IGNORED = (
    "published",
    "duplicate",
    "dead_lettered",
    "revoked",
    "ignored",
)
OUTCOMES = (PUBLISHED, DUPLICATE, DEAD_LETTERED, REVOKED, IGNORED)
OTHER = "other"
EVENT_TYPES = frozenset(SUPPORTED_TYPES | {STREAMER_UNAVAILABLE})
BATCH, SINGLE, RETRY = "batch", "single", "retry"  # the pump, an event the worker made, a retry
LAG_BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2.5, 5, 10, 30, 60, 300)

registry = CollectorRegistry()
for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
    registry.register(collector)
events = Counter(
    "sev_events", "Events by type and how each ended", ["type", "outcome"], registry=registry
)
publish_seconds = Histogram(
    "sev_publish_seconds", "Duration of each request to Pusher", ["path"], registry=registry
)
publish_attempts = Counter(
    "sev_publish_attempts",
    "Requests to Pusher by path and result",
    ["path", "result"],
    registry=registry,
)
publish_retries = Counter(
    "sev_publish_retries", "Publishes scheduled on the retry queue", registry=registry
)
event_lag = Histogram(
    "sev_event_lag_seconds",
    "Seconds from Twitch's message time to the publish to Pusher",
    buckets=LAG_BUCKETS,
    registry=registry,
)
for _type in (*sorted(EVENT_TYPES), OTHER):  # every series from zero, so rates start at once
    for _outcome in OUTCOMES:
        events.labels(_type, _outcome)
for _path in (BATCH, SINGLE, RETRY):
    publish_seconds.labels(_path)
    for _result in ("ok", "error"):
        publish_attempts.labels(_path, _result)


def type_label(event_type: str) -> str:
    """The ``type`` label of an event type: one the app knows, else ``other``."""
    return event_type if event_type in EVENT_TYPES else OTHER


def count_events(outcome: str, event_types: Iterable[str]) -> None:
    """Count events of ``event_types`` (one item per event) as ended in ``outcome``."""
    for event_type, number in Tally(map(type_label, event_types)).items():
        events.labels(event_type, outcome).inc(number)


@contextmanager
def timed_publish(path: str) -> Iterator[None]:
    """Time and count one request to Pusher made inside the block."""
    started = time.perf_counter()
    result = "error"
    try:
        yield
        result = "ok"
    finally:
        publish_seconds.labels(path).observe(time.perf_counter() - started)
        publish_attempts.labels(path, result).inc()


def observe_lag(twitch_times: Iterable[str], published_at: float | None = None) -> None:
    """Record the lag of events published at ``published_at`` (now if None), given each
    one's Twitch time (an ordering key or an RFC 3339 timestamp; unreadable ones skipped)."""
    published_at = time.time() if published_at is None else published_at
    for twitch_time in twitch_times:
        sent = epoch_seconds(twitch_time)
        if sent is not None:
            event_lag.observe(max(0.0, published_at - sent))


def epoch_seconds(timestamp: str) -> float | None:
    """Seconds since the epoch of a Twitch timestamp, or None if it is not one."""
    try:
        if len(timestamp) != 30 or timestamp[19] != "." or timestamp[29] != "Z":
            timestamp = ordering_key(timestamp)  # else it is one already: the pump's case
        return _epoch_of(timestamp[:19]) + int(timestamp[20:29]) / 1e9
    except (ValueError, TypeError, AttributeError):
        return None


@lru_cache(maxsize=4096)
def _epoch_of(seconds: str) -> int:
    return calendar.timegm(time.strptime(seconds, "%Y-%m-%dT%H:%M:%S"))


def serving_registry(environ: Mapping[str, str] = os.environ) -> CollectorRegistry:
    """What the server exposes: this process's registry, or in multiprocess mode
    (``PROMETHEUS_MULTIPROC_DIR``) the values every process wrote to that directory."""
    directory = environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return registry
    collected = CollectorRegistry()
    MultiProcessCollector(collected, path=directory)
    return collected


def serve(port: int, address: str) -> WSGIServer:
    """Serve the metrics over HTTP on ``address:port`` from a daemon thread; the server,
    for :func:`stop_serving`. Raises OSError when the port cannot be bound."""
    server, _ = start_http_server(port, addr=address, registry=serving_registry())
    return server


def stop_serving(server: WSGIServer) -> None:
    """Stop a server that :func:`serve` started and free its port."""
    server.shutdown()
    server.server_close()
