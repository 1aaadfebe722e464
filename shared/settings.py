"""Settings, read from the environment in this one place.

``APP_ENV`` chooses the mode. ``production`` (the default) requires every
setting and refuses insecure or malformed values; ``development`` (the local
run and the tests) fills the gaps with values that point at the emulators.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.vapid import BadKey, public_key_of, vapid_subject_is_valid


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it."""


DEVELOPMENT_DEFAULTS = {
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "SECRET_KEY": "development-only-secret-key",
    "PUBLIC_URL": "http://localhost:5000",
    "TWITCH_WEBHOOK_SECRET": "local-webhook-secret",
    "WEB_PUSH": "true",
    "VAPID_SUBJECT": "mailto:alerts@localhost",
}
# In development, Twitch and Pusher default to the emulators unless real
# credentials are given.
TWITCH_EMULATOR_DEFAULTS = {
    "TWITCH_CLIENT_ID": "local-client-id",
    "TWITCH_CLIENT_SECRET": "local-client-secret",
    "TWITCH_API_URL": "http://localhost:8080/helix",
    "TWITCH_AUTH_URL": "http://localhost:8080/oauth2",
}
PUSHER_EMULATOR_DEFAULTS = {
    "PUSHER_APP_ID": "1",
    "PUSHER_KEY": "local-key",
    "PUSHER_SECRET": "local-secret",
    "PUSHER_CLUSTER": "local",
    "PUSHER_HOST": "127.0.0.1",
    "PUSHER_PORT": "6001",
    "PUSHER_SSL": "false",
}
# The development and emulator values above are public (in this repository): a
# production secret or credential equal to one of them is refused.
KNOWN_DEFAULT_VALUES = frozenset(
    {
        DEVELOPMENT_DEFAULTS["SECRET_KEY"],
        DEVELOPMENT_DEFAULTS["TWITCH_WEBHOOK_SECRET"],
        TWITCH_EMULATOR_DEFAULTS["TWITCH_CLIENT_ID"],
        TWITCH_EMULATOR_DEFAULTS["TWITCH_CLIENT_SECRET"],
        PUSHER_EMULATOR_DEFAULTS["PUSHER_KEY"],
        PUSHER_EMULATOR_DEFAULTS["PUSHER_SECRET"],
    }
)
SECRET_SETTINGS = (
    "SECRET_KEY",
    "TWITCH_WEBHOOK_SECRET",
    "TWITCH_CLIENT_ID",
    "TWITCH_CLIENT_SECRET",
    "PUSHER_KEY",
    "PUSHER_SECRET",
    "METRICS_TOKEN",
    "VAPID_PRIVATE_KEY",
)

OPTIONAL_DEFAULTS = {
    "TWITCH_API_URL": "https://api.twitch.tv/helix",
    "TWITCH_AUTH_URL": "https://id.twitch.tv/oauth2",
    "PUSHER_CLUSTER": "mt1",
    "PUSHER_HOST": "",
    "PUSHER_PORT": "",
    "PUSHER_SSL": "true",
    "PUSHER_BROWSER_HOST": "",
    "PUSHER_BROWSER_PORT": "",
    "PUBLISH_MAX_RETRIES": "8",
    "PUBLISH_RETRY_BACKOFF_MAX": "20",
    "BROKER_VISIBILITY_TIMEOUT": "60",
    "CELERY_BROKER_URL": "",
    "RECENT_EVENTS_TTL": "604800",
    "LEASE_GRACE_SECONDS": "600",
    "WEBHOOK_TRANSPORT": "eventsub",
    "WEBSUB_LEASE_SECONDS": "864000",
    "LEASE_CHECK_INTERVAL": "60",
    "RECONCILE_INTERVAL": "600",
    "LOG_LEVEL": "INFO",
    "TRUSTED_PROXIES": "0",
    "INTAKE_SHARDS": "8",
    "WEB_THREADS": "8",
    "PUBLISH_CONCURRENCY": "32",
    "EVENT_ORDER_WINDOW_MS": "20",
    "ONLINE_ORDER_WINDOW_MS": "500",
    "VIEWER_STREAMER_LIMIT": "20",
    "VIEWER_COUNT_INTERVAL": "60",
    "REDIS_TLS_VERIFY": "true",
    "REDIS_SENTINELS": "",
    "REDIS_SENTINEL_MASTER": "mymaster",
    "REDIS_SENTINEL_PASSWORD": "",
    "INTAKE_REPLICAS": "",
    "INTAKE_REPLICA_TIMEOUT_MS": "2000",
    "LOG_FORMAT": "text",
    "METRICS_TOKEN": "",
    "WORKER_METRICS_PORT": "",
    "WORKER_METRICS_HOST": "127.0.0.1",
    "FLOWER_BASIC_AUTH": "",
    "ALLOW_INSECURE_ENDPOINTS": "false",
    "SENTRY_DSN": "",
    "WEB_PUSH": "false",
    "VAPID_PUBLIC_KEY": "",
    "VAPID_PRIVATE_KEY": "",
    "VAPID_SUBJECT": "",
    "ALERTS_PER_VIEWER": "50",
    "PUSH_WORKER": "false",
    "DEDUPE_WINDOW_SECONDS": "3600",
}
# A message's claim must outlast the 10 minutes in which a resent copy of it is taken
# (shared.eventsub.REPLAY_WINDOW), with room for the workers to be behind.
MIN_DEDUPE_WINDOW = 900
# Twitch refreshes a stream's viewer count about once a minute: asking more often
# spends rate-limit points on the same answer.
MIN_VIEWER_COUNT_INTERVAL = 60


@dataclass(frozen=True)
class RedisSentinel:
    """Redis reached through Sentinel: the sentinels' addresses, the name they know the
    primary by, and their own password (if they ask for one)."""

    hosts: tuple[tuple[str, int], ...]
    master: str
    password: str = ""


@dataclass(frozen=True)
class Settings:
    """Every setting the processes read, already parsed and checked."""

    app_env: str
    redis_url: str
    redis_tls_verify: bool
    redis_sentinel: RedisSentinel | None
    intake_replicas: int
    intake_replica_timeout_ms: int
    celery_broker_url: str
    secret_key: str
    public_url: str
    trusted_proxies: int
    twitch_client_id: str
    twitch_client_secret: str
    twitch_webhook_secret: str
    twitch_api_url: str
    twitch_auth_url: str
    pusher_app_id: str
    pusher_key: str
    pusher_secret: str
    pusher_cluster: str
    pusher_host: str
    pusher_port: int | None
    pusher_ssl: bool
    pusher_browser_host: str
    pusher_browser_port: int | None
    publish_max_retries: int
    publish_retry_backoff_max: int
    broker_visibility_timeout: int
    recent_events_ttl: int
    lease_grace_seconds: int
    webhook_transport: str
    websub_lease_seconds: int
    lease_check_interval: int
    reconcile_interval: int
    log_level: str
    intake_shards: int
    web_threads: int
    publish_concurrency: int
    event_order_window_ms: int
    online_order_window_ms: int
    viewer_streamer_limit: int
    viewer_count_interval: int
    log_format: str
    metrics_token: str
    worker_metrics_port: int | None
    worker_metrics_host: str
    flower_basic_auth: str
    sentry_dsn: str
    web_push: bool
    vapid_public_key: str
    vapid_private_key: str
    vapid_subject: str
    alerts_per_viewer: int
    push_worker: bool
    dedupe_window_seconds: int

    @property
    def broker_in_state_store(self) -> bool:
        """Whether the Celery broker is the state store's Redis (REDIS_URL, or the
        primary REDIS_SENTINELS name)."""
        return self.celery_broker_url == self.redis_url or (
            urlsplit(self.celery_broker_url).scheme == "sentinel"
        )

    @property
    def callback_url(self) -> str:
        """The EventSub callback Twitch calls: ``PUBLIC_URL`` + ``/api/callback``."""
        return self.public_url + "/api/callback"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and check the settings; raise :class:`SettingsError` naming the bad one."""
    environ = os.environ if environ is None else environ
    app_env = environ.get("APP_ENV", "production").strip() or "production"
    if app_env not in ("production", "development"):
        raise SettingsError("APP_ENV must be 'production' or 'development'")
    defaults = dict(OPTIONAL_DEFAULTS)
    if app_env == "development":
        defaults.update(DEVELOPMENT_DEFAULTS)
        if not environ.get("TWITCH_CLIENT_ID"):
            defaults.update(TWITCH_EMULATOR_DEFAULTS)
        if not environ.get("PUSHER_KEY"):
            defaults.update(PUSHER_EMULATOR_DEFAULTS)

    def get(name: str) -> str:
        value = environ.get(name, "").strip()
        if (
            value
            and app_env == "production"
            and name in SECRET_SETTINGS
            and value in KNOWN_DEFAULT_VALUES
        ):
            raise SettingsError(
                f"{name} is a development default ({value}), refused in production: set your own"
            )
        if value:
            return value
        if name in defaults:
            return defaults[name]
        raise SettingsError(f"{name} is not set (required in production)")

    redis_url = _redis_url(get("REDIS_URL"))
    sentinel = _redis_sentinel(
        get("REDIS_SENTINELS"), get("REDIS_SENTINEL_MASTER"), get("REDIS_SENTINEL_PASSWORD")
    )
    if sentinel and urlsplit(redis_url).scheme == "unix":
        raise SettingsError("REDIS_URL must be redis:// or rediss:// with REDIS_SENTINELS")
    settings = Settings(
        app_env=app_env,
        redis_url=redis_url,
        redis_tls_verify=_boolean("REDIS_TLS_VERIFY", get("REDIS_TLS_VERIFY")),
        redis_sentinel=sentinel,
        intake_replicas=_non_negative(
            "INTAKE_REPLICAS", get("INTAKE_REPLICAS") or ("1" if sentinel else "0")
        ),
        intake_replica_timeout_ms=_replica_timeout(get("INTAKE_REPLICA_TIMEOUT_MS")),
        celery_broker_url=_broker_url(get("CELERY_BROKER_URL"))
        or (sentinel_broker_url(redis_url, sentinel) if sentinel else redis_url),
        secret_key=_secret_key(get("SECRET_KEY"), app_env),
        public_url=_public_url(get("PUBLIC_URL"), app_env),
        trusted_proxies=_non_negative("TRUSTED_PROXIES", get("TRUSTED_PROXIES")),
        twitch_client_id=get("TWITCH_CLIENT_ID"),
        twitch_client_secret=get("TWITCH_CLIENT_SECRET"),
        twitch_webhook_secret=_webhook_secret(get("TWITCH_WEBHOOK_SECRET")),
        twitch_api_url=_http_url("TWITCH_API_URL", get("TWITCH_API_URL")),
        twitch_auth_url=_http_url("TWITCH_AUTH_URL", get("TWITCH_AUTH_URL")),
        pusher_app_id=_digits("PUSHER_APP_ID", get("PUSHER_APP_ID")),
        pusher_key=get("PUSHER_KEY"),
        pusher_secret=get("PUSHER_SECRET"),
        pusher_cluster=get("PUSHER_CLUSTER"),
        pusher_host=get("PUSHER_HOST"),
        pusher_port=_optional_port("PUSHER_PORT", get("PUSHER_PORT")),
        pusher_ssl=_boolean("PUSHER_SSL", get("PUSHER_SSL")),
        pusher_browser_host=get("PUSHER_BROWSER_HOST") or get("PUSHER_HOST"),
        pusher_browser_port=_optional_port("PUSHER_BROWSER_PORT", get("PUSHER_BROWSER_PORT"))
        or _optional_port("PUSHER_PORT", get("PUSHER_PORT")),
        publish_max_retries=_positive("PUBLISH_MAX_RETRIES", get("PUBLISH_MAX_RETRIES")),
        publish_retry_backoff_max=_positive(
            "PUBLISH_RETRY_BACKOFF_MAX", get("PUBLISH_RETRY_BACKOFF_MAX")
        ),
        broker_visibility_timeout=_positive(
            "BROKER_VISIBILITY_TIMEOUT", get("BROKER_VISIBILITY_TIMEOUT")
        ),
        recent_events_ttl=_positive("RECENT_EVENTS_TTL", get("RECENT_EVENTS_TTL")),
        lease_grace_seconds=_positive("LEASE_GRACE_SECONDS", get("LEASE_GRACE_SECONDS")),
        webhook_transport=_choice(
            "WEBHOOK_TRANSPORT", get("WEBHOOK_TRANSPORT"), ("eventsub", "websub")
        ),
        websub_lease_seconds=_websub_lease(get("WEBSUB_LEASE_SECONDS")),
        lease_check_interval=_positive("LEASE_CHECK_INTERVAL", get("LEASE_CHECK_INTERVAL")),
        reconcile_interval=_positive("RECONCILE_INTERVAL", get("RECONCILE_INTERVAL")),
        log_level=get("LOG_LEVEL").upper(),
        intake_shards=_positive("INTAKE_SHARDS", get("INTAKE_SHARDS")),
        web_threads=_positive("WEB_THREADS", get("WEB_THREADS")),
        publish_concurrency=_positive("PUBLISH_CONCURRENCY", get("PUBLISH_CONCURRENCY")),
        event_order_window_ms=_non_negative("EVENT_ORDER_WINDOW_MS", get("EVENT_ORDER_WINDOW_MS")),
        online_order_window_ms=_non_negative(
            "ONLINE_ORDER_WINDOW_MS", get("ONLINE_ORDER_WINDOW_MS")
        ),
        viewer_streamer_limit=_positive("VIEWER_STREAMER_LIMIT", get("VIEWER_STREAMER_LIMIT")),
        viewer_count_interval=_viewer_count_interval(get("VIEWER_COUNT_INTERVAL")),
        log_format=_choice("LOG_FORMAT", get("LOG_FORMAT").lower(), ("text", "json")),
        metrics_token=_metrics_token(get("METRICS_TOKEN")),
        worker_metrics_port=_optional_port("WORKER_METRICS_PORT", get("WORKER_METRICS_PORT")),
        worker_metrics_host=get("WORKER_METRICS_HOST"),
        flower_basic_auth=get("FLOWER_BASIC_AUTH"),
        sentry_dsn=_sentry_dsn(get("SENTRY_DSN")),
        **_web_push(app_env, get),
        alerts_per_viewer=_positive("ALERTS_PER_VIEWER", get("ALERTS_PER_VIEWER")),
        push_worker=_boolean("PUSH_WORKER", get("PUSH_WORKER")),
        dedupe_window_seconds=_dedupe_window(get("DEDUPE_WINDOW_SECONDS")),
    )
    _check_retry_backoff(settings)
    if app_env == "production" and not _boolean(
        "ALLOW_INSECURE_ENDPOINTS", get("ALLOW_INSECURE_ENDPOINTS")
    ):
        _check_production_endpoints(settings)
    return settings


def load_settings_or_exit(environ: Mapping[str, str] | None = None) -> Settings:
    """Entry points call this, once a process: a bad setting ends start-up with one clear
    line, and a weakening the settings allow is said once, as a warning."""
    try:
        settings = load_settings(environ)
    except SettingsError as error:
        print(f"configuration error: {error}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    if not settings.redis_tls_verify and any(
        urlsplit(url).scheme == "rediss" for url in (settings.redis_url, settings.celery_broker_url)
    ):
        logging.getLogger(__name__).warning(
            "REDIS_TLS_VERIFY=false: Redis's TLS certificate is not verified"
        )
    return settings


def _redis_url(value: str) -> str:
    if urlsplit(value).scheme not in ("redis", "rediss", "unix"):
        raise SettingsError("REDIS_URL must be a redis://, rediss:// or unix:// URL")
    return value


def _redis_sentinel(hosts: str, master: str, password: str) -> RedisSentinel | None:
    if not hosts:
        return None
    addresses = []
    for address in hosts.split(","):
        host, _, port = address.strip().rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise SettingsError(
                "REDIS_SENTINELS must be host:port pairs separated by commas"
                f" (such as 10.0.0.1:26379,10.0.0.2:26379), not {address.strip()!r}"
            )
        addresses.append((host.strip("[]"), int(port)))
    return RedisSentinel(tuple(addresses), master, password)


def sentinel_broker_url(redis_url: str, sentinel: RedisSentinel) -> str:
    """Kombu's address of the Celery broker on the Redis that ``sentinel`` watches: one
    ``sentinel://`` URL a sentinel, joined by ``;``, each with REDIS_URL's password and
    database (kombu reads them from the first)."""
    parts = urlsplit(redis_url)
    credentials = parts.netloc.rpartition("@")[0]
    credentials = f"{credentials}@" if credentials else ""
    database = parts.path if parts.path not in ("", "/") else "/0"
    return ";".join(
        f"sentinel://{credentials}{'[' + host + ']' if ':' in host else host}:{port}{database}"
        for host, port in sentinel.hosts
    )


def _broker_url(value: str) -> str:
    if urlsplit(value).scheme == "sentinel":
        raise SettingsError(
            "CELERY_BROKER_URL: leave it unset to reach the broker through REDIS_SENTINELS"
        )
    if value and urlsplit(value).scheme not in ("redis", "rediss", "amqp", "amqps"):
        raise SettingsError(
            "CELERY_BROKER_URL must be a redis://, rediss://, amqp:// or amqps:// URL"
        )
    return value


def _check_production_endpoints(settings: Settings) -> None:
    """In production Twitch is reached over https at a host that is not this machine, and
    Pusher over TLS: a stand-in or a plaintext endpoint is refused, unless
    ``ALLOW_INSECURE_ENDPOINTS=true`` says it is meant (a staging copy, say)."""
    escape = "(set ALLOW_INSECURE_ENDPOINTS=true if this is meant)"
    for name, url in (
        ("TWITCH_API_URL", settings.twitch_api_url),
        ("TWITCH_AUTH_URL", settings.twitch_auth_url),
    ):
        parts = urlsplit(url)
        if parts.scheme != "https":
            raise SettingsError(f"{name} must be https:// in production {escape}")
        if is_loopback(parts.hostname or ""):
            raise SettingsError(f"{name} names this machine ({parts.hostname}) {escape}")
    if not settings.pusher_ssl:
        raise SettingsError(f"PUSHER_SSL=false is refused in production {escape}")


def is_loopback(host: str) -> bool:
    """Whether ``host`` (as urlsplit gives it, lowercased) reaches this machine: localhost,
    a loopback address (an IPv4 one written as IPv6 too), or the unspecified address."""
    host = host.rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or address.is_unspecified or bool(mapped and mapped.is_loopback)


def _check_retry_backoff(settings: Settings) -> None:
    """With a Redis broker a waiting retry is held unacknowledged by the worker; it must
    come due well within the visibility timeout, or Redis hands it out a second time."""
    if urlsplit(settings.celery_broker_url).scheme in ("amqp", "amqps"):
        return  # RabbitMQ holds waiting retries itself (native delayed delivery)
    if settings.publish_retry_backoff_max * 2 >= settings.broker_visibility_timeout:
        raise SettingsError(
            f"PUBLISH_RETRY_BACKOFF_MAX ({settings.publish_retry_backoff_max}) must be less than"
            f" half of BROKER_VISIBILITY_TIMEOUT ({settings.broker_visibility_timeout}) with a"
            " Redis broker, or a retry waiting in a worker is delivered twice"
        )


def _secret_key(value: str, app_env: str) -> str:
    if app_env == "production" and len(value) < 32:
        raise SettingsError("SECRET_KEY must be at least 32 characters in production")
    return value


def _public_url(value: str, app_env: str) -> str:
    value = _http_url("PUBLIC_URL", value).rstrip("/")
    if app_env == "production" and not value.startswith("https://"):
        raise SettingsError("PUBLIC_URL must be https:// in production (Twitch calls only HTTPS)")
    return value


def _webhook_secret(value: str) -> str:
    if not (10 <= len(value) <= 100) or not value.isascii():
        raise SettingsError("TWITCH_WEBHOOK_SECRET must be 10-100 ASCII characters")
    return value


def _http_url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(f"{name} must be an http:// or https:// URL")
    return value.rstrip("/")


def _digits(name: str, value: str) -> str:
    if not value.isdigit():
        raise SettingsError(f"{name} must be numeric")
    return value


def _optional_port(name: str, value: str) -> int | None:
    if not value:
        return None
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise SettingsError(f"{name} must be a port number (1-65535)")
    return int(value)


def _positive(name: str, value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise SettingsError(f"{name} must be a positive whole number")
    return int(value)


def _non_negative(name: str, value: str) -> int:
    if not value.isdigit():
        raise SettingsError(f"{name} must be a whole number (0 or more)")
    return int(value)


def _choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise SettingsError(f"{name} must be one of: {', '.join(choices)}")
    return value


def _websub_lease(value: str) -> int:
    seconds = _positive("WEBSUB_LEASE_SECONDS", value)
    if seconds > 864000:
        raise SettingsError("WEBSUB_LEASE_SECONDS must be at most 864000 (ten days)")
    return seconds


def _replica_timeout(value: str) -> int:
    milliseconds = _positive("INTAKE_REPLICA_TIMEOUT_MS", value)
    if milliseconds > 4000:
        raise SettingsError(
            "INTAKE_REPLICA_TIMEOUT_MS must be at most 4000: an acknowledgement waits for it,"
            " within Redis's 5 s socket time-out and well within Twitch's patience"
        )
    return milliseconds


def _dedupe_window(value: str) -> int:
    seconds = _positive("DEDUPE_WINDOW_SECONDS", value)
    if seconds < MIN_DEDUPE_WINDOW:
        raise SettingsError(
            f"DEDUPE_WINDOW_SECONDS must be at least {MIN_DEDUPE_WINDOW}: Twitch's copy of a"
            " message is taken for 10 minutes after it was sent, and its first copy's claim"
            " must still be there"
        )
    return seconds


def _viewer_count_interval(value: str) -> int:
    seconds = _positive("VIEWER_COUNT_INTERVAL", value)
    if seconds < MIN_VIEWER_COUNT_INTERVAL:
        raise SettingsError(
            f"VIEWER_COUNT_INTERVAL must be at least {MIN_VIEWER_COUNT_INTERVAL}"
            " seconds: Twitch refreshes viewer counts about once a minute"
        )
    return seconds


def _metrics_token(value: str) -> str:
    if value and (len(value) < 16 or not value.isascii() or not value.isprintable()):
        raise SettingsError("METRICS_TOKEN must be at least 16 printable ASCII characters")
    return value


def _sentry_dsn(value: str) -> str:
    parts = urlsplit(value)
    if value and (
        parts.scheme not in ("http", "https") or not parts.username or not parts.hostname
    ):
        raise SettingsError("SENTRY_DSN must be a DSN such as https://<key>@<host>/<project>")
    return value


def _web_push(app_env: str, get: Callable[[str], str]) -> dict:
    """WEB_PUSH and its VAPID settings. Production refuses alerts without a key pair;
    development (``make run`` and the tests set a pair) turns them off instead."""
    public, private = get("VAPID_PUBLIC_KEY"), get("VAPID_PRIVATE_KEY")
    off = {"web_push": False, "vapid_public_key": "", "vapid_private_key": "", "vapid_subject": ""}
    if not _boolean("WEB_PUSH", get("WEB_PUSH")):
        return off
    for name, value in (("VAPID_PUBLIC_KEY", public), ("VAPID_PRIVATE_KEY", private)):
        if not value and app_env == "production":
            raise SettingsError(
                f"{name} is not set (required with WEB_PUSH=true; "
                "`WEB_PUSH=false flask --app web vapid-keys` prints a pair)"
            )
    if not (public and private):
        return off
    try:
        derived = public_key_of(private)
    except BadKey:
        raise SettingsError("VAPID_PRIVATE_KEY must be a base64url P-256 private key") from None
    if derived != public.rstrip("="):
        raise SettingsError("VAPID_PUBLIC_KEY is not the public key of VAPID_PRIVATE_KEY")
    subject = get("VAPID_SUBJECT") or f"https://{urlsplit(get('PUBLIC_URL')).hostname}"
    if not vapid_subject_is_valid(subject):
        raise SettingsError(
            "VAPID_SUBJECT must be mailto:<address> or https://<host> (no port, no path)"
            + ("" if get("VAPID_SUBJECT") else ", and PUBLIC_URL's host is not one")
        )
    return {
        "web_push": True,
        "vapid_public_key": derived,
        "vapid_private_key": private,
        "vapid_subject": subject,
    }


def _boolean(name: str, value: str) -> bool:
    lowered = value.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false")
