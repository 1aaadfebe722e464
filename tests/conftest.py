"""Fixtures: a real Redis server for the session, and the Flask ``app``, ``client``, ``runner``."""

from __future__ import annotations

import subprocess

import pytest
import redis

from shared.settings import load_settings
from tests.support import free_port, redis_server_binary, process_environment, wait_until
from web import create_app


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A real Redis server of our own on a free port (never the machine's 6379)."""
    port = free_port()
    directory = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(directory)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)

    def answers():
        try:
            return client.ping()
        except redis.ConnectionError:
            return False

    wait_until(answers, message="Redis did not start")
    yield url
    process.terminate()
    process.wait(10)


@pytest.fixture
def redis_client(redis_server):
    """A client of the test Redis, emptied before each test."""
    client = redis.Redis.from_url(redis_server, decode_responses=True)
    client.flushall()
    return client


@pytest.fixture
def settings(redis_server):
    """Development settings pointing at the test Redis."""
    return load_settings(process_environment(REDIS_URL=redis_server))


@pytest.fixture
def app(settings, redis_client):
    """The Flask app, configured for tests."""
    app = create_app(settings)
    app.config.update(TESTING=True)
    return app


@pytest.fixture
def client(app):
    """A test client for the app."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A runner for the app's command-line commands."""
    return app.test_cli_runner()
