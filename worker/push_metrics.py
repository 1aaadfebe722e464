"""The worker's metrics of go-live alerts by Web Push, beside :mod:`worker.metrics`.

``sev_pushes_sent_total`` counts pushes a push service accepted; each attempt that was
not counts once in ``sev_pushes_failed_total`` by reason; a subscription the service
says is gone (404, 410) or made for another VAPID key (403) counts in
``sev_push_subscriptions_removed_total``.
``sev_push_lag_seconds`` runs from Twitch's time of the ``stream.online`` message to
the push service's acceptance.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from worker.metrics import LAG_BUCKETS, epoch_seconds, registry

# Why an attempt failed: the service's 429, a 5xx, no answer (connection, time-out), the
# service's budget spent before its turn, a refusal that no retry cures (another 4xx),
# the subscription gone (404, 410, or 403: made for another VAPID key), the retries spent.
FAILURE_REASONS = (
    "rate_limited",
    "server_error",
    "connection",
    "budget",
    "refused",
    "gone",
    "gave_up",
)

pushes_sent = Counter("sev_pushes_sent", "Pushes a push service accepted", registry=registry)
pushes_failed = Counter(
    "sev_pushes_failed", "Push attempts not accepted, by reason", ["reason"], registry=registry
)
subscriptions_removed = Counter(
    "sev_push_subscriptions_removed",
    "Push subscriptions forgotten because their push service says they are gone",
    registry=registry,
)
push_lag = Histogram(
    "sev_push_lag_seconds",
    "Seconds from Twitch's stream.online message time to the push service's acceptance",
    buckets=LAG_BUCKETS,
    registry=registry,
)
for _reason in FAILURE_REASONS:  # every series from zero
    pushes_failed.labels(_reason)


def count_sent(twitch_time: str | None, accepted_at: list[float]) -> None:
    """Count pushes accepted at ``accepted_at``, and their lag from ``twitch_time``."""
    pushes_sent.inc(len(accepted_at))
    sent = epoch_seconds(twitch_time) if twitch_time else None
    if sent is not None:
        for moment in accepted_at:
            push_lag.observe(max(0.0, moment - sent))


def count_failed(reasons: list[str]) -> None:
    """Count failed attempts, one reason each."""
    for reason in reasons:
        pushes_failed.labels(reason if reason in FAILURE_REASONS else "refused").inc()
