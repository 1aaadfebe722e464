"""Prometheus metrics of the web process, served at ``/metrics`` to a bearer token.

The web's counters and its histogram live here. Granian runs the app in several
processes, so the web is started with ``PROMETHEUS_MULTIPROC_DIR`` naming a fresh
directory (Procfile): each process keeps its figures in a file there and a scrape,
whichever process answers it, sums them all. Without the variable (one process, as
in tests) the figures are this module's own.

The pipeline's state (queue depths, dead letters, leases, the EventSub cost,
occupied channels) is read from Redis when scraped (:mod:`web.pipeline_state`), never
kept in a process, so no process can report a stale copy.
"""

from __future__ import annotations

import hmac
import os
from functools import wraps
from time import perf_counter

from flask import Blueprint, Flask, Response, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector

from web.clients import get_redis, get_settings
from web.errors import json_error
from web.pipeline_state import PipelineState

bp = Blueprint("metrics", __name__)
REGISTRY = CollectorRegistry(auto_describe=True)
ACK_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
TRANSPORTS = ("eventsub", "websub")

WEBHOOKS = Counter(
    "sev_webhooks_total",
    "Webhooks answered, by transport, outcome and rejection reason.",
    ("transport", "outcome", "reason"),
    registry=REGISTRY,
)
ACK_SECONDS = Histogram(
    "sev_webhook_ack_seconds",
    "Time from a webhook reaching its view to its answer.",
    ("transport",),
    buckets=ACK_BUCKETS,
    registry=REGISTRY,
)
HTTP_REQUESTS = Counter(
    "sev_http_requests_total",
    "HTTP requests answered, by matched route, method and status.",
    ("route", "method", "status"),
    registry=REGISTRY,
)
for _transport in TRANSPORTS:
    WEBHOOKS.labels(_transport, "accepted", "")
    ACK_SECONDS.labels(_transport)


def init_app(app: Flask) -> None:
    """Count every request; serve ``/metrics`` only when ``METRICS_TOKEN`` is set."""
    app.after_request(count_request)
    if get_settings().metrics_token:
        app.register_blueprint(bp)


def count_request(response: Response) -> Response:
    """Count the request by the route it matched (``unmatched`` for none), method and
    status: a bounded set of label values, whatever paths are asked for."""
    if g.get("uncounted"):
        return response
    rule = request.url_rule
    count_http(rule.rule if rule else "unmatched", request.method, response.status_code)
    return response


def count_http(route: str, method: str, status: int) -> None:
    """Count one answer to ``method`` on ``route`` (a rule of the app, or ``unmatched``)."""
    HTTP_REQUESTS.labels(route, method if method in METHODS else "other", str(status)).inc()


def count_webhook(transport: str, outcome: str, reason: str = "") -> None:
    """Count one webhook's answer: ``accepted``, ``challenge`` (a verification answered),
    ``rejected`` or ``unavailable``, with a short fixed ``reason`` for the last two."""
    WEBHOOKS.labels(transport, outcome, reason).inc()


def observe_webhook(transport: str, seconds: float) -> None:
    """Note the time from a webhook of ``transport`` reaching its handler to its answer."""
    ACK_SECONDS.labels(transport).observe(seconds)


def timed_webhook(transport: str):
    """Decorate a webhook view: observe the time to its answer under ``transport``."""

    def decorate(view):
        @wraps(view)
        def timed(*args, **kwargs):
            started = perf_counter()
            try:
                return view(*args, **kwargs)
            finally:
                observe_webhook(transport, perf_counter() - started)

        return timed

    return decorate


@bp.get("/metrics")
def metrics():
    """The exposition, to ``Authorization: Bearer <METRICS_TOKEN>`` only."""
    if not authorized(request.headers.get("Authorization", "")):
        response = json_error(401, "a valid bearer token is required")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(ModuleMetrics())
    registry.register(PipelineState(get_redis(), get_settings()))
    encoder, content_type = choose_encoder(request.headers.get("Accept"))
    response = Response(encoder(registry), content_type=content_type)
    response.headers["Cache-Control"] = "no-store"
    return response


def authorized(header: str) -> bool:
    """Whether an ``Authorization`` header carries the metrics token (in constant time)."""
    scheme, _, token = header.partition(" ")
    expected = get_settings().metrics_token
    return scheme.lower() == "bearer" and hmac.compare_digest(
        token.strip().encode(), expected.encode()
    )


class ModuleMetrics:
    """This process's own figures, as a collector of a scrape's registry."""

    def collect(self):
        return REGISTRY.collect()
