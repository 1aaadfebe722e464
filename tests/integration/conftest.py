"""A whole stack of real processes per test: Redis, Pusher emulator, web, Celery worker.

Each test gets its own Redis server (and, on RabbitMQ, its own vhost), so queues and
state never leak between tests. The Celery broker is Redis; a module runs its tests on
both brokers with ``pytestmark = [..., both_brokers]`` (RabbitMQ tests skip, with the
reason, when no RabbitMQ is reachable on 127.0.0.1:5672).
"""

from __future__ import annotations

import json
import queue
import socket
import subprocess
import sys
import threading

import pusher
import pytest
import requests

from emulators.eventsub.messages import notification_body, signed_message
from scripts.stack import BIN, RABBITMQ_URL, RabbitMQUnavailable, Stack, rabbitmq_unavailable
from shared.events import channel_name
from tests.support import pusher_socket, wait_until

pytestmark = pytest.mark.integration
EVENT_TYPES = (
    "stream.online",
    "stream.offline",
    "channel.update",
    "channel.raid",
    "streamer.unavailable",
)
BROKER_URLS = {"redis": None, "rabbitmq": RABBITMQ_URL}  # None: the stack's own Redis
# Run a module's or a test's stacks on each broker: tests get ids [redis] and [rabbitmq].
both_brokers = pytest.mark.parametrize("broker", list(BROKER_URLS), indirect=True)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "stack_redis(persistent=True): the stack's Redis keeps an append-only file"
    )
    config.addinivalue_line(
        "markers", "stack_worker(loglevel='DEBUG'): the stack's worker logs at that level"
    )


class TestStack(Stack):
    """The stack with a test's tools: send signed notifications, subscribe clients."""

    __test__ = False

    def __init__(self, log_dir, **overrides):
        settings = dict(
            PUBLISH_MAX_RETRIES=20, PUBLISH_RETRY_BACKOFF_MAX=1, BROKER_VISIBILITY_TIMEOUT=3
        )
        super().__init__(log_dir, **{**settings, **overrides})
        self.subscribers: list[Subscriber] = []

    def start_web(self):
        return super().start_web("--workers", "1")

    def start_worker(self, loglevel: str = "INFO"):
        return super().start_worker("--concurrency", "2", loglevel=loglevel)

    def pusher_client(self) -> pusher.Pusher:
        return pusher.Pusher(
            host="127.0.0.1",
            port=self.pusher_port,
            ssl=False,
            app_id="1",
            key="local-key",
            secret="local-secret",
        )

    def send(self, subscription_type, login, message_id=None, **fields) -> requests.Response:
        """POST a signed notification to the web, as Twitch would."""
        body = notification_body(subscription_type, login, self.callback, **fields)
        headers, raw = signed_message(self.secret, "notification", body, message_id)
        return requests.post(self.callback, data=raw, headers=headers, timeout=10)

    def subscribe(self, login: str) -> Subscriber:
        subscriber = Subscriber(self, login)
        self.subscribers.append(subscriber)
        return subscriber

    def stop(self, graceful: bool = False):
        """Close the subscribers and kill every process: each test's state is its own,
        so nothing needs a graceful stop (a test that checks one stops a process itself)."""
        for subscriber in self.subscribers:
            subscriber.stop()
        super().stop(graceful)


class Subscriber:
    """A real Pusher WebSocket client (pysher) on one streamer's private channel, signing
    its own subscription with the app's secret (the page asks the web instead)."""

    def __init__(self, stack: Stack, login: str):
        self.events: queue.Queue = queue.Queue()
        channel = channel_name(login)
        self.client = pusher_socket(stack.pusher_port)
        subscription = self.client.subscribe(channel)
        for name in EVENT_TYPES:
            subscription.bind(
                name, lambda data, name=name: self.events.put((name, json.loads(data)))
            )
        wait_until(
            lambda: stack.pusher_client().channel_info(channel)["occupied"],
            message=f"subscriber never joined {channel}",
        )

    def next(self, timeout: float = 10.0) -> tuple[str, dict]:
        """The next event that arrives, or fail."""
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no event arrived within {timeout}s") from None

    def nothing_more(self) -> bool:
        return self.events.empty()

    def stop(self):
        self.client.disconnect(timeout=2)


@pytest.fixture
def broker(request):
    """The stack's Celery broker: "redis", or each of both with ``both_brokers``."""
    name = getattr(request, "param", "redis")
    if name == "rabbitmq" and (reason := rabbitmq_unavailable()):
        pytest.skip(reason)
    return name


@pytest.fixture
def stack(tmp_path, request, broker):
    """Redis, Pusher emulator, web and one worker, all running; logs shown on failure."""
    marker = request.node.get_closest_marker("stack_env")
    redis_marker = request.node.get_closest_marker("stack_redis")
    worker_marker = request.node.get_closest_marker("stack_worker")
    running = TestStack(
        tmp_path, broker_url=BROKER_URLS[broker], **(marker.kwargs if marker else {})
    )
    try:
        try:
            running.start_broker()
        except RabbitMQUnavailable as error:
            pytest.skip(f"RabbitMQ cannot give the test a vhost: {error}")
        running.start_redis(**(redis_marker.kwargs if redis_marker else {}))
        running.start_pusher()
        running.start_web()
        running.start_worker(**(worker_marker.kwargs if worker_marker else {}))
        yield running
    finally:
        running.stop()
        for process in running.processes:
            sys.stderr.write(f"----- {process.name} -----\n{process.log()[-4000:]}\n")


class BlackHole:
    """A TCP server that accepts connections and never answers (a hung Pusher)."""

    def __init__(self, port: int):
        self.server = socket.create_server(("127.0.0.1", port))
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                self.accepted.append(self.server.accept()[0])
            except OSError:
                return

    def close(self):
        for connection in self.accepted:
            connection.close()
        self.server.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self.server.close()


def run_flask(stack: Stack, *args: str) -> subprocess.CompletedProcess:
    """Run ``flask --app web ...`` against the stack."""
    return subprocess.run(
        [str(BIN / "flask"), "--app", "web", *args],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def watch(stack: Stack, login: str) -> None:
    """Watch ``login`` as an operator does, with ``flask leases watch``."""
    result = run_flask(stack, "leases", "watch", login)
    assert result.returncode == 0, result.stderr


@pytest.fixture
def twitch(stack):
    """The Twitch emulator, running beside the stack: ``twitch(name, **body)`` posts to its
    ``/_emulator/<name>`` and returns the JSON answer; ``twitch.state()`` is its state."""
    stack.start_twitch()
    url = f"http://127.0.0.1:{stack.twitch_port}"

    def control(name, **body):
        response = requests.post(f"{url}/_emulator/{name}", json=body, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    control.state = lambda: requests.get(f"{url}/_emulator/state", timeout=10).json()
    return control


@pytest.fixture(scope="module")
def lone_web(tmp_path_factory):
    """Redis and the web served by Granian as the Procfile runs it; nothing else."""
    stack = Stack(tmp_path_factory.mktemp("web"))
    try:
        stack.start_redis()
        stack.start_web("--workers", "1")
        yield stack
    finally:
        stack.stop(graceful=False)
