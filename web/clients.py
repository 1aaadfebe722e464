"""The web's clients, one way to reach each: ``get_settings()``, ``get_redis()``,
``get_celery()``, ``get_pusher()`` and ``get_twitch()``.

:func:`init_app` makes them once per app: the settings live in
``app.config["SETTINGS"]``, the clients in ``app.extensions`` under ``"redis"``,
``"celery"``, ``"pusher"`` and ``"twitch"``. Redis, Celery and Pusher clients are
shared by the request threads; a Twitch client holds a requests session, which is
not, so each thread gets its own (``app.extensions["twitch"]`` is a thread-local).
The accessors work wherever the app is current: in a request or a CLI command.
"""

from __future__ import annotations

import threading

import pusher
import redis
from celery import Celery
from flask import Flask, current_app, has_request_context

from shared.publisher import make_pusher_client
from shared.queues import make_celery
from shared.settings import Settings
from shared.store import connect
from shared.twitch.client import TwitchClient


def init_app(app: Flask, settings: Settings) -> None:
    """Keep ``settings`` in the app and make its clients."""
    app.config["SETTINGS"] = settings
    app.extensions["redis"] = connect(
        settings.redis_url, settings.redis_tls_verify, settings.redis_sentinel
    )
    app.extensions["celery"] = make_celery(settings)
    app.extensions["pusher"] = make_pusher_client(settings)
    app.extensions["twitch"] = threading.local()


def get_settings() -> Settings:
    """The current app's settings."""
    return current_app.config["SETTINGS"]


def get_redis() -> redis.Redis:
    """The current app's Redis client (it answers ``str``)."""
    return current_app.extensions["redis"]


def get_celery() -> Celery:
    """The current app's Celery app, to send tasks to the worker by name."""
    return current_app.extensions["celery"]


def get_pusher() -> pusher.Pusher:
    """The current app's Pusher client, to authenticate channels and check webhooks."""
    return current_app.extensions["pusher"]


def get_twitch() -> TwitchClient:
    """This thread's Twitch client for the current app, made on first use.

    In a request it never waits out Twitch's rate limit (a request thread would sleep
    up to a minute): a spent budget raises :class:`shared.twitch.errors.TwitchRateLimited`
    and the viewer is told when to try again. In a command (no request) it waits.
    Its ``user_tokens`` validate, refresh and revoke a viewer's tokens on its session.
    """
    local, waits = current_app.extensions["twitch"], not has_request_context()
    if not hasattr(local, "clients"):
        local.clients = {}
    if waits not in local.clients:
        local.clients[waits] = TwitchClient(get_settings(), get_redis(), wait_on_rate_limit=waits)
    return local.clients[waits]
