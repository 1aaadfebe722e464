"""Fixtures: a real Redis server, the Flask ``app``, ``client`` and ``runner``, and the
Twitch emulator as a real process with settings pointing at it."""

from __future__ import annotations

import contextlib
import dataclasses
import subprocess
import sys
from dataclasses import dataclass

import pytest
import redis
import requests

from scripts.stack import BIN, WEB_OPTIONS, WEB_TARGET
from shared.settings import load_settings
from tests.support import Process, free_port, process_environment, redis_server_binary, wait_until
from web import create_app


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A real Redis server of our own on a free port (never the machine's 6379)."""
    port = free_port()
    directory = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [
            redis_server_binary(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
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


@dataclass
class TwitchEmulator:
    """A running ``python -m emulators.twitch`` and its control endpoints."""

    url: str
    process: Process

    def control(self, name: str, **body) -> dict:
        """``POST /_emulator/<name>``; fails the test unless it answers 200."""
        response = requests.post(f"{self.url}/_emulator/{name}", json=body, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def state(self) -> dict:
        """``GET /_emulator/state``: users, subscriptions and tokens."""
        return requests.get(f"{self.url}/_emulator/state", timeout=10).json()

    def app_tokens(self) -> list[str]:
        """Every app access token the emulator has issued since its last reset."""
        return [t["access_token"] for t in self.state()["tokens"] if t["type"] == "app"]

    def settings_for(self, settings):
        """``settings`` with Helix and OAuth pointing at this emulator."""
        return dataclasses.replace(
            settings, twitch_api_url=f"{self.url}/helix", twitch_auth_url=f"{self.url}/oauth2"
        )


@contextlib.contextmanager
def running_twitch(log_dir, settings, **env):
    """Run the emulator for ``settings``' client id and secret, with extra ``env``."""
    port = free_port()
    environment = process_environment(
        TWITCH_CLIENT_ID=settings.twitch_client_id,
        TWITCH_CLIENT_SECRET=settings.twitch_client_secret,
        **env,
    )
    process = Process(
        f"twitch-{port}",
        [sys.executable, "-m", "emulators.twitch", "--host", "127.0.0.1", "--port", str(port)],
        environment,
        log_dir,
        port,
    )
    process.start()
    try:
        yield TwitchEmulator(f"http://127.0.0.1:{port}", process)
    finally:
        process.stop()


@pytest.fixture(scope="session")
def twitch_emulator_process(tmp_path_factory, redis_server):
    """One emulator for the session."""
    settings = load_settings(process_environment(REDIS_URL=redis_server))
    with running_twitch(tmp_path_factory.mktemp("twitch"), settings) as emulator:
        yield emulator


@pytest.fixture
def twitch_emulator(twitch_emulator_process) -> TwitchEmulator:
    """The session's emulator, reset: no tokens, no subscriptions, full rate-limit budget."""
    twitch_emulator_process.control("reset")
    return twitch_emulator_process


@pytest.fixture
def twitch_emulator_factory(tmp_path, settings):
    """Start emulators with their own environment (e.g. a small rate limit); all stop after."""
    with contextlib.ExitStack() as stack:
        yield lambda **env: stack.enter_context(running_twitch(tmp_path, settings, **env))


@pytest.fixture
def twitch_settings(settings, twitch_emulator):
    """Development settings with Twitch at the session's emulator."""
    return twitch_emulator.settings_for(settings)


@dataclass
class WebPushStandIn:
    """A running ``python -m emulators.webpush`` and its control endpoints."""

    url: str

    def endpoint(self, device_id: str) -> str:
        """The push endpoint of one subscription."""
        return f"{self.url}/push/{device_id}"

    def received(self, device_id: str | None = None) -> list[dict]:
        """What it took (for one subscription), oldest first."""
        query = {"id": device_id} if device_id else {}
        return requests.get(f"{self.url}/control/received", params=query, timeout=10).json()

    def answer(self, device_id: str, status: int, **options) -> None:
        """Make pushes to ``device_id`` answer ``status`` (``retry_after``, ``times``)."""
        body = {"id": device_id, "status": status, **options}
        assert requests.post(f"{self.url}/control/answer", json=body, timeout=10).ok


@pytest.fixture(scope="session")
def webpush_process(tmp_path_factory):
    """One Web Push stand-in for the session."""
    port = free_port()
    process = Process(
        f"webpush-{port}",
        [sys.executable, "-m", "emulators.webpush", "--host", "127.0.0.1", "--port", str(port)],
        process_environment(),
        tmp_path_factory.mktemp("webpush"),
        port,
    )
    process.start()
    yield WebPushStandIn(f"http://127.0.0.1:{port}")
    process.stop()


@pytest.fixture
def webpush(webpush_process) -> WebPushStandIn:
    """The session's Web Push stand-in, reset: nothing received, no answer on demand."""
    assert requests.post(f"{webpush_process.url}/control/reset", timeout=10).ok
    return webpush_process


@pytest.fixture(scope="session")
def callback_server(tmp_path_factory, redis_server, twitch_emulator_process) -> str:
    """The web as Granian serves it (EventSub intake included), for the session's Redis
    and Twitch emulator, on a free port: its URL. Twitch's challenges to our callback
    are answered there."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    environment = process_environment(
        REDIS_URL=redis_server,
        PUBLIC_URL=url,
        TWITCH_API_URL=f"{twitch_emulator_process.url}/helix",
        TWITCH_AUTH_URL=f"{twitch_emulator_process.url}/oauth2",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path_factory.mktemp("web-metrics")),
    )
    command = [str(BIN / "granian"), *WEB_OPTIONS, "--workers", "1", "--host", "127.0.0.1"]
    process = Process(
        "callback-web",
        [*command, "--port", str(port), WEB_TARGET],
        environment,
        tmp_path_factory.mktemp("callback-web"),
        port,
    )
    process.start()
    yield url
    process.stop()


@pytest.fixture
def callback_settings(twitch_settings, callback_server):
    """Settings whose PUBLIC_URL is the web itself (``callback_server``), so that
    Twitch's challenges to our callback are answered."""
    return dataclasses.replace(twitch_settings, public_url=callback_server)
