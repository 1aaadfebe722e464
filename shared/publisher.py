"""Publishing stream events to Pusher Channels with the official library."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pusher
import pusher.errors
import pusher.requests
import requests

from shared.events import Event, channel_of
from shared.settings import Settings

PUBLISH_TIMEOUT = 5
BATCH_LIMIT = 10  # Pusher's most events in one batch trigger
PROXY_SETTINGS = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
)


class RetryablePublishError(Exception):
    """Pusher could not be reached or failed on its side: try again later."""


class RejectedPublishError(Exception):
    """Pusher refused the event itself: retrying cannot help."""


def make_pusher_client(settings: Settings) -> pusher.Pusher:
    """A Pusher client for the real service or a self-hosted compatible server."""
    options = {
        "app_id": settings.pusher_app_id,
        "key": settings.pusher_key,
        "secret": settings.pusher_secret,
        "ssl": settings.pusher_ssl,
        "timeout": PUBLISH_TIMEOUT,
    }
    if settings.pusher_host:
        options["host"] = settings.pusher_host
        if settings.pusher_port:
            options["port"] = settings.pusher_port
    else:
        options["cluster"] = settings.pusher_cluster
    if not any(name in os.environ for name in PROXY_SETTINGS):
        options["backend"] = ProxylessBackend
    return pusher.Pusher(**options)


class ProxylessBackend(pusher.requests.RequestsBackend):
    """The library's requests backend, told that no proxy is set in the environment,
    so that requests stops looking for one on every call (about a tenth of the
    worker's time per batch). The library passes its own CA bundle, so the
    environment has nothing else to offer it."""

    def __init__(self, client: pusher.Pusher, **options: Any) -> None:
        super().__init__(client, **options)
        self.session.trust_env = False


def publish_stream_event(client: pusher.Pusher, event: Event) -> None:
    """Trigger ``event`` on its streamer's channel, named after its type.

    Raises :class:`RetryablePublishError` for connection errors, time-outs,
    429 and 5xx answers, and :class:`RejectedPublishError` for other refusals.
    """
    with _classified_errors():
        client.trigger(channel_of(event), event["type"], event)


def publish_stream_events(client: pusher.Pusher, events: Sequence[Event]) -> None:
    """Trigger up to BATCH_LIMIT events in one request (Pusher's batch trigger), in order.

    Raises as :func:`publish_stream_event` does; the batch succeeds or fails whole.
    """
    if len(events) == 1:
        publish_stream_event(client, events[0])
        return
    batch = [
        {"channel": channel_of(event), "name": event["type"], "data": event} for event in events
    ]
    with _classified_errors():
        client.trigger_batch(batch)


@contextmanager
def _classified_errors() -> Iterator[None]:
    try:
        yield
    except (requests.ConnectionError, requests.Timeout) as error:
        reason = "timed out" if isinstance(error, requests.Timeout) else "connection failed"
        raise RetryablePublishError(f"cannot reach Pusher: {reason}") from error
    except pusher.errors.PusherBadStatus as error:
        if _is_server_error(error):
            raise RetryablePublishError(f"Pusher failed: {error}") from error
        raise RejectedPublishError(f"Pusher refused the event: {error}") from error
    except (pusher.errors.PusherError, ValueError) as error:
        raise RejectedPublishError(f"Pusher refused the event: {error}") from error


def _is_server_error(error: Exception) -> bool:
    status = str(error).partition(":")[0].strip()
    return status == "429" or (status.isdigit() and 500 <= int(status) < 600)
