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
import redis
import requests

from emulators.eventsub.messages import notification_body, signed_message
from tests.support import BIN, Process, free_port, process_environment, redis_server_binary, wait_until

pytestmark = pytest.mark.integration
EVENT_TYPES = ("stream.online", "stream.offline", "channel.update")
PUSHER = {"PUSHER_APP_ID": "1", "PUSHER_KEY": "local-key", "PUSHER_SECRET": "local-secret"}


class Stack:
    """The app's processes for one test, started on demand."""

    def __init__(self, log_dir, **overrides):
        self.log_dir = log_dir
        self.redis_port, self.web_port, self.pusher_port = free_port(), free_port(), free_port()
        settings = dict(
            REDIS_URL=f"redis://127.0.0.1:{self.redis_port}/0",
            PUBLIC_URL=f"http://localhost:{self.web_port}",
            PUSHER_HOST="127.0.0.1", PUSHER_PORT=self.pusher_port, PUSHER_SSL="false",
            PUBLISH_MAX_RETRIES=20, PUBLISH_RETRY_BACKOFF_MAX=1, BROKER_VISIBILITY_TIMEOUT=3,
            **PUSHER,
        )
        self.env = process_environment(**{**settings, **overrides})
        self.secret = self.env.get("TWITCH_WEBHOOK_SECRET", "local-webhook-secret")
        self.processes: list[Process] = []
        self.workers = 0

    def start(self, name, args, port=None) -> Process:
        process = Process(name, args, self.env, self.log_dir, port).start()
        self.processes.append(process)
        return process

    def start_redis(self) -> Process:
        return self.start("redis", [redis_server_binary(), "--port", str(self.redis_port),
                                    "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                    "--dir", str(self.log_dir)], self.redis_port)

    def start_pusher(self) -> Process:
        return self.start("pusher", [sys.executable, "-m", "emulators.pusher",
                                     "--port", str(self.pusher_port)], self.pusher_port)

    def start_web(self) -> Process:
        return self.start("web", [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{self.web_port}",
                                  "--workers", "1", "web:create_app()"], self.web_port)

    def start_worker(self) -> Process:
        self.workers += 1
        worker = self.start(f"worker-{self.workers}", [
            str(BIN / "celery"), "-A", "worker", "worker", "--queues", "ingest,publish,maintenance",
            "--concurrency", "2", "--loglevel", "INFO", "--without-gossip", "--without-mingle",
            "--hostname", f"test{self.workers}@%h"])
        wait_until(lambda: " ready." in worker.log(), timeout=30, message="worker never ready")
        return worker

    def process(self, name: str) -> Process:
        """The running process called ``name`` (``redis``, ``pusher``, ``web``, ``worker-1``...)."""
        return next(p for p in reversed(self.processes) if getattr(p, "name", "") == name)

    @property
    def callback(self) -> str:
        return f"http://127.0.0.1:{self.web_port}/api/callback"

    def redis(self) -> redis.Redis:
        return redis.Redis(port=self.redis_port, decode_responses=True)

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
        self.processes.append(subscriber)
        return subscriber

    def stop(self):
        for process in reversed(self.processes):
            process.stop()


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
    running = Stack(tmp_path, **(marker.kwargs if marker else {}))
    try:
        running.start_redis()
        running.start_pusher()
        running.start_web()
        running.start_worker()
        yield running
    finally:
        running.stop()
        for process in running.processes:
            if isinstance(process, Process):
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
