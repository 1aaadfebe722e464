"""The worker's settings and clients: read from the environment, made once a process,
and wired to each other."""

import os

import pytest


@pytest.fixture
def context(worker_environment):
    """The module (the worker package reads its settings on first import)."""
    from worker import context

    return context


def test_the_settings_come_from_the_environment_once(context, monkeypatch):
    settings = context.settings()
    assert settings.redis_url == os.environ["REDIS_URL"]
    assert settings.pusher_port == int(os.environ["PUSHER_PORT"])
    monkeypatch.setenv("PUSHER_PORT", "1")
    assert context.settings() is settings, "read once"


def test_each_client_is_made_once_and_shares_the_others(context, redis_client):
    client = context.redis_client()
    assert client is context.redis_client()
    client.set("sev:context-test", "1")
    assert redis_client.get("sev:context-test") == "1", "the client of the test Redis"
    assert client.get("sev:context-test") == "1", "it answers str"
    assert context.pusher_client() is context.pusher_client()
    assert context.twitch_client() is context.twitch_client()
    assert context.twitch_client().redis is client
    subscriptions = context.subscriptions()
    assert subscriptions is context.subscriptions()
    assert subscriptions.twitch is context.twitch_client() and subscriptions.redis is client
    assert subscriptions.settings is context.settings()
