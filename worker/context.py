"""Per-process clients for tasks, created on first use (after the fork)."""

from __future__ import annotations

from functools import cache

import pusher
import redis

from shared.publisher import make_pusher_client
from shared.settings import Settings
from shared.store import connect


@cache
def settings() -> Settings:
    """The worker's settings (loaded once by the package)."""
    from worker import settings as loaded

    return loaded


@cache
def redis_client() -> redis.Redis:
    """This process's Redis client."""
    return connect(settings().redis_url, settings().redis_tls_verify)


@cache
def pusher_client() -> pusher.Pusher:
    """This process's Pusher client."""
    return make_pusher_client(settings())


@cache
def twitch_client():
    """This process's Twitch client (Helix and OAuth with the app token)."""
    from shared.twitch import TwitchClient

    return TwitchClient(settings(), redis_client())


@cache
def subscriptions():
    """This process's subscription lifecycle manager."""
    from shared.subscriptions import Subscriptions

    return Subscriptions(twitch_client(), redis_client(), settings())
