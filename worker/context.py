"""The worker's settings and clients, each made once per process on first use.

The app factory (:func:`worker.create_celery`) and every task reach them through these
accessors; a client is made on first use, after the pool has started.
"""

from __future__ import annotations

from functools import cache

import pusher
import redis

from shared.publisher import make_pusher_client
from shared.settings import Settings, load_settings_or_exit
from shared.store import connect
from shared.subscriptions import Subscriptions
from shared.twitch.client import TwitchClient


@cache
def settings() -> Settings:
    """The worker's settings, read from the environment once; a bad one ends the process."""
    return load_settings_or_exit()


@cache
def redis_client() -> redis.Redis:
    """This process's Redis client."""
    return connect(settings().redis_url, settings().redis_tls_verify, settings().redis_sentinel)


@cache
def pusher_client() -> pusher.Pusher:
    """This process's Pusher client."""
    return make_pusher_client(settings())


@cache
def twitch_client() -> TwitchClient:
    """This process's Twitch client (Helix and OAuth with the app token)."""
    return TwitchClient(settings(), redis_client())


@cache
def subscriptions() -> Subscriptions:
    """This process's subscription lifecycle manager."""
    return Subscriptions(twitch_client(), redis_client(), settings())
