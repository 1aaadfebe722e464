"""Settings from the environment: defaults, checks and the one-line failure."""

import subprocess
import sys

import pytest

from shared.settings import SettingsError, load_settings
from tests.support import ROOT

PRODUCTION = {
    "APP_ENV": "production",
    "REDIS_URL": "redis://redis:6379/0",
    "SECRET_KEY": "x" * 40,
    "PUBLIC_URL": "https://viewer.example/",
    "TWITCH_CLIENT_ID": "id",
    "TWITCH_CLIENT_SECRET": "secret",
    "TWITCH_WEBHOOK_SECRET": "0123456789abcdef",
    "PUSHER_APP_ID": "12345",
    "PUSHER_KEY": "key",
    "PUSHER_SECRET": "secret",
}


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
    settings = load_settings({"APP_ENV": "development", "PUSHER_APP_ID": "42",
                              "PUSHER_KEY": "k", "PUSHER_SECRET": "s", "PUSHER_CLUSTER": "eu"})
    assert settings.pusher_host == "" and settings.pusher_cluster == "eu" and settings.pusher_ssl


def test_entry_point_stops_with_one_clear_line():
    environ = {k: v for k, v in PRODUCTION.items() if k != "TWITCH_WEBHOOK_SECRET"}
    result = subprocess.run(
        [sys.executable, "-c", "import worker"], cwd=ROOT, env=environ,
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "configuration error: TWITCH_WEBHOOK_SECRET is not set (required in production)"
    ]
