"""Settings from the environment: defaults, checks and the one-line failure."""

import logging
import subprocess
import sys

import pytest

from shared.settings import SettingsError, load_settings, load_settings_or_exit
from shared.vapid import new_key_pair
from tests.support import PRODUCTION_SETTINGS as PRODUCTION
from tests.support import ROOT


def test_production_settings_load():
    settings = load_settings(PRODUCTION)
    assert settings.callback_url == "https://viewer.example/api/callback"
    assert settings.twitch_api_url == "https://api.twitch.tv/helix"
    assert settings.pusher_cluster == "mt1" and settings.pusher_ssl and not settings.pusher_host


def test_production_is_the_default_mode():
    environ = dict(PRODUCTION)
    del environ["APP_ENV"]
    assert load_settings(environ).app_env == "production"


@pytest.mark.parametrize("name", sorted(set(PRODUCTION) - {"APP_ENV"}))
def test_each_required_setting_is_named_when_missing(name):
    environ = {k: v for k, v in PRODUCTION.items() if k != name}
    with pytest.raises(SettingsError, match=name):
        load_settings(environ)


@pytest.mark.parametrize(
    "name, value",
    [
        ("TWITCH_WEBHOOK_SECRET", "short"),
        ("TWITCH_WEBHOOK_SECRET", "x" * 101),
        ("TWITCH_WEBHOOK_SECRET", "\u00e9" * 12),
        ("PUBLIC_URL", "http://viewer.example"),
        ("PUBLIC_URL", "viewer.example"),
        ("REDIS_URL", "http://redis"),
        ("PUSHER_APP_ID", "app-one"),
        ("PUSHER_PORT", "70000"),
        ("PUSHER_SSL", "maybe"),
        ("SECRET_KEY", "too-short"),
        ("APP_ENV", "staging"),
        ("CELERY_BROKER_URL", "http://rabbit:5672"),
        ("CELERY_BROKER_URL", "rabbit:5672"),
        ("CELERY_BROKER_URL", "sentinel://10.0.0.1:26379"),
        ("REDIS_SENTINELS", "10.0.0.1"),
        ("REDIS_SENTINELS", "10.0.0.1:26379,:26380"),
        ("REDIS_SENTINELS", "10.0.0.1:70000"),
        ("INTAKE_REPLICAS", "-1"),
        ("INTAKE_REPLICA_TIMEOUT_MS", "0"),
        ("INTAKE_REPLICA_TIMEOUT_MS", "5000"),
    ],
)
def test_malformed_settings_are_named(name, value):
    with pytest.raises(SettingsError, match=name):
        load_settings({**PRODUCTION, name: value})


def test_development_defaults_point_at_the_emulators():
    settings = load_settings({"APP_ENV": "development"})
    assert settings.pusher_host == "127.0.0.1" and settings.pusher_port == 6001
    assert not settings.pusher_ssl
    assert settings.twitch_api_url.startswith("http://localhost:8080")


def test_development_with_real_pusher_credentials_uses_the_cluster():
    settings = load_settings(
        {
            "APP_ENV": "development",
            "PUSHER_APP_ID": "42",
            "PUSHER_KEY": "k",
            "PUSHER_SECRET": "s",
            "PUSHER_CLUSTER": "eu",
        }
    )
    assert settings.pusher_host == "" and settings.pusher_cluster == "eu" and settings.pusher_ssl


def test_entry_point_stops_with_one_clear_line():
    environ = {k: v for k, v in PRODUCTION.items() if k != "TWITCH_WEBHOOK_SECRET"}
    result = subprocess.run(
        [sys.executable, "-c", "import worker"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "configuration error: TWITCH_WEBHOOK_SECRET is not set (required in production)"
    ]


def test_the_broker_is_redis_unless_another_is_named():
    assert load_settings(PRODUCTION).celery_broker_url == PRODUCTION["REDIS_URL"]
    for url in ("amqp://user:pw@rabbit:5672/sev", "amqps://rabbit/sev", "rediss://other:6380/1"):
        settings = load_settings({**PRODUCTION, "CELERY_BROKER_URL": url})
        assert settings.celery_broker_url == url
        assert settings.redis_url == PRODUCTION["REDIS_URL"]  # still the state store


def test_retry_backoff_defaults_fit_the_visibility_timeout():
    settings = load_settings(PRODUCTION)
    assert settings.broker_visibility_timeout == 60
    assert settings.publish_retry_backoff_max == 20


@pytest.mark.parametrize(
    "backoff, visibility", [("30", "60"), ("31", "60"), ("20", "40"), ("300", "599")]
)
def test_a_retry_backoff_outliving_half_the_visibility_timeout_is_refused(backoff, visibility):
    environ = {
        **PRODUCTION,
        "PUBLISH_RETRY_BACKOFF_MAX": backoff,
        "BROKER_VISIBILITY_TIMEOUT": visibility,
    }
    with pytest.raises(SettingsError) as error:
        load_settings(environ)
    assert str(error.value) == (
        f"PUBLISH_RETRY_BACKOFF_MAX ({backoff}) must be less than half of"
        f" BROKER_VISIBILITY_TIMEOUT ({visibility}) with a Redis broker, or a retry waiting"
        " in a worker is delivered twice"
    )


def test_a_retry_backoff_below_half_the_visibility_timeout_is_accepted():
    settings = load_settings(
        {**PRODUCTION, "PUBLISH_RETRY_BACKOFF_MAX": "29", "BROKER_VISIBILITY_TIMEOUT": "60"}
    )
    assert settings.publish_retry_backoff_max == 29


def test_rabbitmq_holds_waiting_retries_so_the_visibility_timeout_does_not_bind():
    settings = load_settings(
        {**PRODUCTION, "CELERY_BROKER_URL": "amqp://rabbit/sev", "PUBLISH_RETRY_BACKOFF_MAX": "300"}
    )
    assert settings.publish_retry_backoff_max == 300


def test_a_bad_retry_backoff_stops_start_up_with_one_line():
    environ = {**PRODUCTION, "PUBLISH_RETRY_BACKOFF_MAX": "45"}
    result = subprocess.run(
        [sys.executable, "-c", "import worker"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "configuration error: PUBLISH_RETRY_BACKOFF_MAX (45) must be less than half of"
        " BROKER_VISIBILITY_TIMEOUT (60) with a Redis broker, or a retry waiting in a worker"
        " is delivered twice"
    ]


@pytest.mark.parametrize(
    "name",
    [
        "SECRET_KEY",
        "TWITCH_WEBHOOK_SECRET",
        "TWITCH_CLIENT_ID",
        "TWITCH_CLIENT_SECRET",
        "PUSHER_KEY",
        "PUSHER_SECRET",
    ],
)
@pytest.mark.parametrize(
    "value",
    [
        "local-webhook-secret",
        "local-secret",
        "local-key",
        "development-only-secret-key",
        "local-client-secret",
        "local-client-id",
    ],
)
def test_production_refuses_the_development_defaults(name, value):
    with pytest.raises(SettingsError, match=f"{name} is a development default"):
        load_settings({**PRODUCTION, name: value})


def test_development_keeps_the_defaults():
    settings = load_settings({"APP_ENV": "development"})
    assert settings.pusher_secret == "local-secret"
    assert settings.twitch_webhook_secret == "local-webhook-secret"


def test_viewer_counts_are_refreshed_every_minute_by_default():
    assert load_settings(PRODUCTION).viewer_count_interval == 60
    assert (
        load_settings({**PRODUCTION, "VIEWER_COUNT_INTERVAL": "300"}).viewer_count_interval == 300
    )


@pytest.mark.parametrize("value", ["59", "1", "0", "-60", "1m", "60.5"])
def test_viewer_counts_more_often_than_twitch_refreshes_them_are_refused(value):
    with pytest.raises(SettingsError, match="VIEWER_COUNT_INTERVAL"):
        load_settings({**PRODUCTION, "VIEWER_COUNT_INTERVAL": value})
    with pytest.raises(SettingsError, match="VIEWER_COUNT_INTERVAL"):
        load_settings({"APP_ENV": "development", "VIEWER_COUNT_INTERVAL": value})


def test_monitoring_is_off_unless_configured():
    settings = load_settings(PRODUCTION)
    assert settings.log_format == "text"
    assert settings.metrics_token == "" and settings.worker_metrics_port is None
    assert settings.sentry_dsn == ""


def test_monitoring_settings_are_read():
    settings = load_settings(
        {
            **PRODUCTION,
            "LOG_FORMAT": "JSON",
            "METRICS_TOKEN": "t" * 32,
            "WORKER_METRICS_PORT": "9808",
            "SENTRY_DSN": "https://abc@o1.ingest.sentry.io/42",
        }
    )
    assert settings.log_format == "json" and settings.metrics_token == "t" * 32
    assert settings.worker_metrics_port == 9808
    assert settings.sentry_dsn == "https://abc@o1.ingest.sentry.io/42"


@pytest.mark.parametrize(
    "name,value,message",
    [
        ("LOG_FORMAT", "xml", "LOG_FORMAT must be one of: text, json"),
        ("METRICS_TOKEN", "short", "METRICS_TOKEN must be at least 16"),
        ("WORKER_METRICS_PORT", "70000", "WORKER_METRICS_PORT must be a port number"),
        ("SENTRY_DSN", "https://o1.ingest.sentry.io/42", "SENTRY_DSN must be a DSN"),
        ("SENTRY_DSN", "not a url", "SENTRY_DSN must be a DSN"),
    ],
)
def test_malformed_monitoring_settings_are_named(name, value, message):
    with pytest.raises(SettingsError, match=message):
        load_settings({**PRODUCTION, name: value})


@pytest.mark.parametrize(
    "name, value",
    [
        ("TWITCH_API_URL", "http://api.twitch.tv/helix"),
        ("TWITCH_AUTH_URL", "http://id.twitch.tv/oauth2"),
        ("TWITCH_API_URL", "https://127.0.0.1:8080/helix"),
        ("TWITCH_AUTH_URL", "https://localhost:8080/oauth2"),
        ("TWITCH_API_URL", "https://[::1]/helix"),
        ("TWITCH_API_URL", "https://[::ffff:127.0.0.1]/helix"),
        ("TWITCH_AUTH_URL", "https://0.0.0.0:8080/oauth2"),
        ("TWITCH_AUTH_URL", "https://localhost.:8080/oauth2"),
        ("PUSHER_SSL", "false"),
    ],
)
def test_production_refuses_plaintext_or_local_endpoints_unless_told(name, value):
    with pytest.raises(SettingsError) as refused:
        load_settings({**PRODUCTION, name: value})
    assert name in str(refused.value) and "ALLOW_INSECURE_ENDPOINTS" in str(refused.value)
    assert load_settings({**PRODUCTION, name: value, "ALLOW_INSECURE_ENDPOINTS": "true"})


def test_development_may_use_the_emulators_over_http():
    settings = load_settings(
        {"APP_ENV": "development", "TWITCH_API_URL": "http://localhost:8080/helix"}
    )
    assert settings.twitch_api_url.startswith("http://") and not settings.pusher_ssl


def test_an_unverified_redis_certificate_is_allowed_and_said_once(caplog):
    environ = {**PRODUCTION, "REDIS_URL": "rediss://redis.example:6380/0"}
    with caplog.at_level(logging.WARNING, logger="shared.settings"):
        settings = load_settings_or_exit({**environ, "REDIS_TLS_VERIFY": "false"})
    assert settings.redis_tls_verify is False
    [line] = [record for record in caplog.records if "REDIS_TLS_VERIFY" in record.getMessage()]
    assert line.levelno == logging.WARNING
    caplog.clear()
    load_settings_or_exit(environ)
    assert "REDIS_TLS_VERIFY" not in caplog.text


def test_reading_the_settings_again_says_nothing(caplog):
    """Granian's log formatters read the settings too (shared.logs): the process's start
    says it once, not once per reader."""
    environ = {**PRODUCTION, "REDIS_URL": "rediss://redis.example:6380/0"}
    with caplog.at_level(logging.WARNING, logger="shared.settings"):
        load_settings({**environ, "REDIS_TLS_VERIFY": "false"})
    assert "REDIS_TLS_VERIFY" not in caplog.text


def test_an_unverified_broker_certificate_is_said_too(caplog):
    environ = {**PRODUCTION, "CELERY_BROKER_URL": "rediss://broker.example:6380/0"}
    with caplog.at_level(logging.WARNING, logger="shared.settings"):
        load_settings_or_exit({**environ, "REDIS_TLS_VERIFY": "false"})
    assert "REDIS_TLS_VERIFY=false" in caplog.text


def test_without_sentinels_redis_is_one_url_and_nothing_waits_for_replicas():
    settings = load_settings(PRODUCTION)
    assert settings.redis_sentinel is None
    assert settings.intake_replicas == 0
    assert settings.celery_broker_url == settings.redis_url
    assert settings.broker_in_state_store


def test_with_sentinels_the_broker_goes_through_them_and_appends_wait_for_a_replica():
    settings = load_settings(
        {
            **PRODUCTION,
            "REDIS_URL": "rediss://:s3cret-password@ignored:6379/2",
            "REDIS_SENTINELS": "10.0.0.1:26379, [::1]:26380",
            "REDIS_SENTINEL_MASTER": "events",
            "REDIS_SENTINEL_PASSWORD": "sentinel-password",
        }
    )
    sentinel = settings.redis_sentinel
    assert sentinel is not None
    assert sentinel.hosts == (("10.0.0.1", 26379), ("::1", 26380))
    assert (sentinel.master, sentinel.password) == ("events", "sentinel-password")
    assert settings.intake_replicas == 1
    assert settings.celery_broker_url == (
        "sentinel://:s3cret-password@10.0.0.1:26379/2;sentinel://:s3cret-password@[::1]:26380/2"
    )
    assert settings.broker_in_state_store


def test_replicas_to_wait_for_can_be_set_or_turned_off():
    with_sentinels = {**PRODUCTION, "REDIS_SENTINELS": "10.0.0.1:26379"}
    assert load_settings({**with_sentinels, "INTAKE_REPLICAS": "0"}).intake_replicas == 0
    assert load_settings({**with_sentinels, "INTAKE_REPLICAS": "2"}).intake_replicas == 2
    assert load_settings({**PRODUCTION, "INTAKE_REPLICAS": "1"}).intake_replicas == 1


def vapid_environment(app_env="development", **changes) -> dict:
    """An environment with a fresh VAPID key pair, and ``changes``."""
    public, private = new_key_pair()
    base = PRODUCTION if app_env == "production" else {"APP_ENV": "development"}
    return {**base, "VAPID_PUBLIC_KEY": public, "VAPID_PRIVATE_KEY": private, **changes}


def test_web_push_is_on_in_development_with_a_key_pair():
    environ = vapid_environment()
    settings = load_settings(environ)
    assert settings.web_push and settings.alerts_per_viewer == 50
    assert settings.vapid_public_key == environ["VAPID_PUBLIC_KEY"]
    assert settings.vapid_subject == "mailto:alerts@localhost"


def test_web_push_is_off_in_development_without_keys_and_in_production_by_default():
    assert not load_settings({"APP_ENV": "development"}).web_push
    assert not load_settings(PRODUCTION).web_push


@pytest.mark.parametrize("missing", ["VAPID_PUBLIC_KEY", "VAPID_PRIVATE_KEY"])
def test_production_refuses_web_push_without_its_keys(missing):
    environ = vapid_environment("production", WEB_PUSH="true")
    del environ[missing]
    with pytest.raises(SettingsError, match=f"{missing} is not set"):
        load_settings(environ)


def test_production_web_push_signs_as_the_public_url_unless_told():
    settings = load_settings(vapid_environment("production", WEB_PUSH="true"))
    assert settings.web_push and settings.vapid_subject == "https://viewer.example"
    told = vapid_environment("production", WEB_PUSH="true", VAPID_SUBJECT="mailto:ops@x.example")
    assert load_settings(told).vapid_subject == "mailto:ops@x.example"


@pytest.mark.parametrize(
    "name, value, named",
    [
        pytest.param(
            "VAPID_PUBLIC_KEY", new_key_pair()[0], "VAPID_PUBLIC_KEY", id="another-pairs-public-key"
        ),
        ("VAPID_PRIVATE_KEY", "not-a-key", "VAPID_PRIVATE_KEY"),
        pytest.param(
            "VAPID_PRIVATE_KEY",
            new_key_pair()[0],
            "VAPID_PRIVATE_KEY",
            id="a-public-key-as-private",
        ),
        ("VAPID_SUBJECT", "http://viewer.example", "VAPID_SUBJECT"),
        ("VAPID_SUBJECT", "https://viewer.example/contact", "VAPID_SUBJECT"),
        ("VAPID_SUBJECT", "mailto:nobody", "VAPID_SUBJECT"),
        ("ALERTS_PER_VIEWER", "0", "ALERTS_PER_VIEWER"),
        ("WEB_PUSH", "maybe", "WEB_PUSH"),
    ],
)
def test_malformed_web_push_settings_are_named(name, value, named):
    with pytest.raises(SettingsError, match=named):
        load_settings(vapid_environment(**{name: value}))


@pytest.mark.parametrize("value", ["899", "600", "0", "1h"])
def test_a_dedupe_window_shorter_than_a_resend_can_come_is_refused(value):
    with pytest.raises(SettingsError, match="DEDUPE_WINDOW_SECONDS"):
        load_settings({**PRODUCTION, "DEDUPE_WINDOW_SECONDS": value})
    assert load_settings(PRODUCTION).dedupe_window_seconds == 3600
    shortest = load_settings({**PRODUCTION, "DEDUPE_WINDOW_SECONDS": "900"})
    assert shortest.dedupe_window_seconds == 900
