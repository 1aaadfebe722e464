"""Settings of the Twitch emulator, read from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Config:
    """Everything the emulator needs to know to play Twitch for one app."""

    client_id: str = "local-client-id"
    client_secret: str = "local-client-secret"
    host: str = "127.0.0.1"
    port: int = 8080
    roster_path: str | None = None
    token_ttl: int = 14400
    app_token_ttl: int = 5_000_000
    rate_limit: int = 800
    rate_window: float = 60.0
    max_total_cost: int = 10000
    failure_threshold: int = 3
    callback_timeout: float = 3.0


def load_config(environ: Mapping[str, str] | None = None) -> Config:
    """Build a :class:`Config` from the environment.

    ``TWITCH_CLIENT_ID`` and ``TWITCH_CLIENT_SECRET`` are the names the app
    reads too. ``TWITCH_EMULATOR_*`` tune the emulator: ``HOST``, ``PORT``,
    ``ROSTER``, ``TOKEN_TTL`` and ``APP_TOKEN_TTL`` (seconds), ``RATE_LIMIT``
    (points per window, per client id), ``RATE_WINDOW`` (seconds),
    ``MAX_TOTAL_COST``, ``FAILURE_THRESHOLD`` (failed notifications in a row
    before a subscription is revoked) and ``CALLBACK_TIMEOUT`` (seconds).
    """
    env = os.environ if environ is None else environ
    defaults = Config()

    def get(name: str, default, kind=str):
        value = (env.get(name) or "").strip()
        if not value:
            return default
        try:
            return kind(value)
        except ValueError:
            raise SystemExit(f"configuration error: {name} must be a {kind.__name__}") from None

    return Config(
        client_id=get("TWITCH_CLIENT_ID", defaults.client_id),
        client_secret=get("TWITCH_CLIENT_SECRET", defaults.client_secret),
        host=get("TWITCH_EMULATOR_HOST", defaults.host),
        port=get("TWITCH_EMULATOR_PORT", defaults.port, int),
        roster_path=get("TWITCH_EMULATOR_ROSTER", defaults.roster_path),
        token_ttl=get("TWITCH_EMULATOR_TOKEN_TTL", defaults.token_ttl, int),
        app_token_ttl=get("TWITCH_EMULATOR_APP_TOKEN_TTL", defaults.app_token_ttl, int),
        rate_limit=get("TWITCH_EMULATOR_RATE_LIMIT", defaults.rate_limit, int),
        rate_window=get("TWITCH_EMULATOR_RATE_WINDOW", defaults.rate_window, float),
        max_total_cost=get("TWITCH_EMULATOR_MAX_TOTAL_COST", defaults.max_total_cost, int),
        failure_threshold=get("TWITCH_EMULATOR_FAILURE_THRESHOLD", defaults.failure_threshold, int),
        callback_timeout=get("TWITCH_EMULATOR_CALLBACK_TIMEOUT", defaults.callback_timeout, float),
    )


def running_emulator_url() -> str:
    """Where the tools that drive a running emulator find it: ``TWITCH_EMULATOR_URL``,
    else ``http://127.0.0.1:8080``."""
    return os.environ.get("TWITCH_EMULATOR_URL") or "http://127.0.0.1:8080"
