"""A whole stack of real processes per test: Redis, Pusher emulator, web, Celery worker.

Each test gets its own Redis server, so queues and state never leak between tests.
"""

from __future__ import annotations

import json
import logging
import queue
import socket
import subprocess
import sys
import threading

import pusher
import pysher
import pytest
import requests

from emulators.eventsub.messages import notification_body, signed_message
from scripts.stack import BIN, Stack
from tests.support import wait_until

pytestmark = pytest.mark.integration
EVENT_TYPES = ("stream.online", "stream.offline", "channel.update", "streamer.unavailable")


class TestStack(Stack):
    """The stack with a test's tools: send signed notifications, subscribe clients."""

    __test__ = False

    def __init__(self, log_dir, **overrides):
        settings = dict(PUBLISH_MAX_RETRIES=20, PUBLISH_RETRY_BACKOFF_MAX=1,
                        BROKER_VISIBILITY_TIMEOUT=3)
        super().__init__(log_dir, **{**settings, **overrides})
        self.subscribers: list[Subscriber] = []

    def start_web(self):
        return super().start_web("--workers", "1")

    def start_worker(self):
        return super().start_worker("--concurrency", "2")

    def pusher_client(self) -> pusher.Pusher:
        return pusher.Pusher(host="127.0.0.1", port=self.pusher_port, ssl=False,
                             app_id="1", key="local-key", secret="local-secret")

    def send(self, subscription_type, login, message_id=None, **fields) -> requests.Response:
        """POST a signed notification to the web, as Twitch would."""
        body = notification_body(subscription_type, login, self.callback, **fields)
        headers, raw = signed_message(self.secret, "notification", body, message_id)
        return requests.post(self.callback, data=raw, headers=headers, timeout=10)

    def subscribe(self, channel: str) -> "Subscriber":
        subscriber = Subscriber(self, channel)
        self.subscribers.append(subscriber)
        return subscriber

    def stop(self):
        for subscriber in self.subscribers:
            subscriber.stop()
        super().stop()


class Subscriber:
    """A real Pusher WebSocket client (pysher) subscribed to one streamer channel."""

    def __init__(self, stack: Stack, channel: str):
        self.events: queue.Queue = queue.Queue()
        connected = threading.Event()
        self.client = pysher.Pusher("local-key", custom_host="127.0.0.1", port=stack.pusher_port,
                                    secure=False, log_level=logging.WARNING)
        self.client.connection.bind("pusher:connection_established", lambda _: connected.set())
        self.client.connect()
        assert connected.wait(10), "subscriber could not connect"
        subscription = self.client.subscribe(channel)
        for name in EVENT_TYPES:
            subscription.bind(name, lambda data, name=name: self.events.put((name, json.loads(data))))
        wait_until(lambda: stack.pusher_client().channel_info(channel)["occupied"],
                   message=f"subscriber never joined {channel}")

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
def stack(tmp_path, request):
    """Redis, Pusher emulator, web and one worker, all running; logs shown on failure."""
    marker = request.node.get_closest_marker("stack_env")
    running = TestStack(tmp_path, **(marker.kwargs if marker else {}))
    try:
        running.start_redis()
        running.start_pusher()
        running.start_web()
        running.start_worker()
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
    return subprocess.run([str(BIN / "flask"), "--app", "web", *args], env=stack.env,
                          capture_output=True, text=True, timeout=60)
