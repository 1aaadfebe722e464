"""Settings of the emulator, read from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from aiohttp import web


@dataclass(frozen=True)
class Config:
    """Everything the emulator needs to know to serve one app."""

    app_id: str = "1"
    key: str = "local-key"
    secret: str = "local-secret"
    webhook_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 6001
    activity_timeout: float = 120.0
    pong_timeout: float = 30.0


CONFIG = web.AppKey("config", Config)


def load_config(environ: Mapping[str, str] | None = None) -> Config:
    """Build a :class:`Config` from ``PUSHER_*`` environment variables.

    ``PUSHER_APP_ID``, ``PUSHER_KEY``, ``PUSHER_SECRET`` and
    ``PUSHER_WEBHOOK_URL`` are the names the main app reads too.
    ``PUSHER_EMULATOR_HOST``/``PUSHER_EMULATOR_PORT`` pick the listening
    address, and ``PUSHER_EMULATOR_ACTIVITY_TIMEOUT``/``PUSHER_EMULATOR_PONG_TIMEOUT``
    (seconds) tune the idle-connection checks.
    """
    env = os.environ if environ is None else environ
    defaults = Config()
    return Config(
        app_id=env.get("PUSHER_APP_ID") or defaults.app_id,
        key=env.get("PUSHER_KEY") or defaults.key,
        secret=env.get("PUSHER_SECRET") or defaults.secret,
        webhook_url=env.get("PUSHER_WEBHOOK_URL") or None,
        host=env.get("PUSHER_EMULATOR_HOST") or defaults.host,
        port=int(env.get("PUSHER_EMULATOR_PORT") or defaults.port),
        activity_timeout=float(
            env.get("PUSHER_EMULATOR_ACTIVITY_TIMEOUT") or defaults.activity_timeout
        ),
        pong_timeout=float(env.get("PUSHER_EMULATOR_PONG_TIMEOUT") or defaults.pong_timeout),
    )
