"""Fixtures that run the Pusher emulator as a real subprocess and talk to it."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pusher
import pytest
from websockets.sync.client import ClientConnection, connect

from scripts.processes import Process, free_port, wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]
APP_ID, KEY, SECRET = "4242", "test-key", "test-secret"


@dataclass
class Emulator:
    """A running emulator process and how to reach it."""

    port: int
    process: subprocess.Popen
    log_path: str
    host: str = "127.0.0.1"
    app_id: str = APP_ID
    key: str = KEY
    secret: str = SECRET

    def client(self, **overrides) -> pusher.Pusher:
        """Return an official server-library client pointed at this emulator."""
        options = dict(
            app_id=self.app_id,
            key=self.key,
            secret=self.secret,
            host=self.host,
            port=self.port,
            ssl=False,
        )
        options.update(overrides)
        return pusher.Pusher(**options)

    def ws_url(
        self, key: str | None = None, query: str = "protocol=7&client=js&version=8.4.0"
    ) -> str:
        """Return the WebSocket URL a browser client would open."""
        return f"ws://{self.host}:{self.port}/app/{key or self.key}?{query}"

    def log(self) -> str:
        """Return what the process printed so far."""
        return Path(self.log_path).read_text()


@contextlib.contextmanager
def run_emulator(use_flags: bool = True, **env: str) -> Iterator[Emulator]:
    """Start ``python -m emulators.pusher`` on a free port; stop it afterwards.

    The address goes in ``--host``/``--port``, or with ``use_flags=False`` in
    ``PUSHER_EMULATOR_HOST``/``PUSHER_EMULATOR_PORT``.
    """
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PUSHER_")}
    environ.update(
        PUSHER_APP_ID=APP_ID,
        PUSHER_KEY=KEY,
        PUSHER_SECRET=SECRET,
        PYTHONPATH=str(REPO_ROOT),
        PYTHONUNBUFFERED="1",
        **env,
    )
    command = [sys.executable, "-m", "emulators.pusher"]
    if use_flags:
        command += ["--host", "127.0.0.1", "--port", str(port)]
    else:
        environ.update(PUSHER_EMULATOR_HOST="127.0.0.1", PUSHER_EMULATOR_PORT=str(port))
    log_dir = Path(tempfile.mkdtemp(prefix="pusher-emulator-"))
    process = Process("pusher", command, environ, log_dir, port)
    try:
        try:
            process.start(ready_timeout=15)
        except (RuntimeError, AssertionError) as error:
            pytest.fail(f"{error}\n{process.log()}")
        yield Emulator(port=port, process=process.popen, log_path=str(process.log_path))
    finally:
        process.stop()
        shutil.rmtree(log_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    """One emulator shared by tests that use unique channel names."""
    with run_emulator() as running:
        yield running


@pytest.fixture
def emulator_factory() -> Iterator[Callable[..., Emulator]]:
    """Start extra emulators with their own environment; all stop after the test."""
    with contextlib.ExitStack() as stack:
        yield lambda use_flags=True, **env: stack.enter_context(run_emulator(use_flags, **env))


@pytest.fixture
def client(emulator: Emulator) -> pusher.Pusher:
    """The official Pusher server library, configured for the shared emulator."""
    return emulator.client()


class PusherSocket:
    """A raw protocol client over the ``websockets`` library."""

    def __init__(self, url: str) -> None:
        self._context = connect(url, open_timeout=5, ping_interval=None)
        self.ws: ClientConnection = self._context.__enter__()
        established = self.recv()
        assert established["event"] == "pusher:connection_established", established
        self.established = established
        self.socket_id: str = json.loads(established["data"])["socket_id"]

    def send(self, event: str, data: object, channel: str | None = None) -> None:
        """Send one protocol message."""
        message = {"event": event, "data": data}
        if channel is not None:
            message["channel"] = channel
        self.ws.send(json.dumps(message))

    def recv(self, timeout: float = 5) -> dict:
        """Return the next message, decoded."""
        return json.loads(self.ws.recv(timeout=timeout))

    def next_event(self, event: str, channel: str | None = None, timeout: float = 5) -> dict:
        """Skip messages until one with this event (and channel) arrives."""
        deadline = time.monotonic() + timeout
        while True:
            message = self.recv(timeout=max(0.01, deadline - time.monotonic()))
            if message["event"] == event and (channel is None or message.get("channel") == channel):
                return message

    def subscribe(self, channel: str, **fields: object) -> dict:
        """Ask to join ``channel`` and return the server's first answer."""
        self.send("pusher:subscribe", {"channel": channel, **fields})
        return self.recv()

    def close(self) -> None:
        """Close the connection."""
        self._context.__exit__(None, None, None)


@pytest.fixture
def open_socket(emulator: Emulator) -> Iterator[Callable[..., PusherSocket]]:
    """Open protocol clients to the shared emulator; all close after the test."""
    sockets: list[PusherSocket] = []

    def opener(url: str | None = None) -> PusherSocket:
        sock = PusherSocket(url or emulator.ws_url())
        sockets.append(sock)
        return sock

    yield opener
    for sock in sockets:
        sock.close()


@dataclass
class WebhookReceiver:
    """A tiny HTTP server that records webhook POSTs, optionally failing the first ones."""

    fail_first: int = 0
    requests: list[tuple[dict, bytes]] = field(default_factory=list)
    attempts: int = 0

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.attempts += 1
                if receiver.attempts <= receiver.fail_first:
                    self.send_response(500)
                else:
                    receiver.requests.append((dict(self.headers), body))
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[dict]:
        """Return every event received so far, in order."""
        return [event for _, body in self.requests for event in json.loads(body)["events"]]

    def close(self) -> None:
        """Stop the server."""
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def make_webhook_receiver() -> Iterator[Callable[..., WebhookReceiver]]:
    """Start webhook receivers on free loopback ports; all stop after the test."""
    receivers: list[WebhookReceiver] = []

    def make(fail_first: int = 0) -> WebhookReceiver:
        receiver = WebhookReceiver(fail_first=fail_first)
        receivers.append(receiver)
        return receiver

    yield make
    for receiver in receivers:
        receiver.close()


@pytest.fixture
def wait() -> Callable[..., object]:
    """The :func:`wait_until` helper, for test modules."""
    return wait_until


@pytest.fixture
def new_channel() -> Callable[[str], str]:
    """Return a maker of channel names no other test uses, e.g. ``new_channel("private-")``."""
    return lambda prefix="": f"{prefix}test-{uuid.uuid4().hex[:12]}"
