"""Helpers for tests that run real processes on free loopback ports."""

import asyncio
import contextlib
import json
import logging
import os
import queue
import socket
import ssl
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor

import pysher

from scripts.processes import ROOT, Process, free_port, port_open, wait_until  # noqa: F401
from scripts.stack import BIN, Stack, development_environment, redis_server_binary  # noqa: F401
from shared.vapid import new_key_pair

# The session's VAPID key pair: every process the tests start signs its pushes and
# tells browsers the public key with it, as make run's processes share .run/env's.
VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY = new_key_pair()

# A complete production environment of made-up values (no service behind them).
PRODUCTION_SETTINGS = {
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


def process_environment(**overrides) -> dict:
    """The development environment of the test processes (Web Push on, with the
    session's key pair), with ``overrides``."""
    keys = {"VAPID_PUBLIC_KEY": VAPID_PUBLIC_KEY, "VAPID_PRIVATE_KEY": VAPID_PRIVATE_KEY}
    return development_environment(**{**keys, **overrides})


def procfile_web_command() -> str:
    """The Procfile's ``web`` command, as the platform runs it."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line.removeprefix("web:").strip()
    raise AssertionError("the Procfile has no web process")


def start_procfile_web(stack: Stack) -> Process:
    """The web started by the Procfile's own command (bash, ``$PORT``), as Heroku
    starts it, on a fresh port of ``stack``: no proxy in front."""
    stack.web_port = free_port()
    env = {
        **stack.env,
        "PORT": str(stack.web_port),
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "PUBLIC_URL": f"http://localhost:{stack.web_port}",
    }
    return stack.start("web", ["bash", "-c", procfile_web_command()], stack.web_port, env)


def run_async(coroutine):
    """Run ``coroutine`` to its end on a new event loop, in a thread of its own: the
    browser tests keep an event loop running in the main thread for the session."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def self_signed_certificate(directory) -> tuple[str, str]:
    """A certificate for 127.0.0.1 that no authority signed, and its key."""
    cert, key = str(directory / "cert.pem"), str(directory / "key.pem")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            key,
            "-out",
            cert,
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


class SelfSignedTLSServer:
    """One TLS connection on a loopback port with a self-signed certificate: ``outcome``
    gets the first bytes the client sent through TLS, or the handshake's error."""

    def __init__(self, directory):
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(*self_signed_certificate(directory))
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.outcome: list = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        connection, _ = self.server.accept()
        try:
            with self.context.wrap_socket(connection, server_side=True) as tls:
                self.outcome.append(tls.recv(64))  # only if the client took the certificate
        except (ssl.SSLError, OSError) as error:
            self.outcome.append(error)

    def result(self):
        """What the one connection brought (waits for it)."""
        self.thread.join(10)
        self.server.close()
        return self.outcome[0]


def pusher_socket(port: int, key: str = "local-key", secret: str = "local-secret"):
    """A real Pusher WebSocket client (pysher) connected to the Pusher on ``port``; it signs
    its own private-channel subscriptions with ``secret`` (a page asks the web instead)."""
    connected = threading.Event()
    client = pysher.Pusher(
        key,
        custom_host="127.0.0.1",
        port=port,
        secure=False,
        secret=secret,
        log_level=logging.WARNING,
        reconnect_interval=0.5,  # pysher's 10 s would outlast the wait below
    )
    client.connection.bind("pusher:connection_established", lambda _: connected.set())
    # pysher's reader thread only sees a disconnect when its select() times out (100 s
    # by default, so disconnect() would wait out its whole timeout): keep it short.
    client.connection.socket_kwargs["ping_timeout"] = 0.2
    client.connect()
    if not connected.wait(10):
        client.disconnect(timeout=2)
        raise AssertionError(f"could not connect to Pusher on port {port}")
    return client


@contextlib.contextmanager
def channel_viewer(port: int, key: str, secret: str, pusher_client, login: str, events):
    """A WebSocket client on ``login``'s private channel of the local Pusher on ``port``;
    yields a queue of ``(event name, data)`` for each of ``events`` that arrives."""
    from shared.events import channel_name

    received: queue.Queue = queue.Queue()
    client = pusher_socket(port, key, secret)
    try:
        channel = client.subscribe(channel_name(login))
        for name in events:
            channel.bind(name, lambda data, name=name: received.put((name, json.loads(data))))
        wait_until(
            lambda: pusher_client.channel_info(channel_name(login))["occupied"],
            message="the viewer never joined",
        )
        yield received
    finally:
        client.disconnect(timeout=2)


class PushDevice:
    """A browser's side of Web Push: a P-256 key pair and an auth secret, subscribed at
    ``endpoint``; it decrypts what the push service received for it."""

    def __init__(self, endpoint: str):
        from cryptography.hazmat.primitives.asymmetric import ec

        from shared.vapid import b64url_encode, public_point

        self.endpoint = endpoint
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.subscription = {
            "endpoint": endpoint,
            "keys": {
                "p256dh": public_point(self.key.public_key()),
                "auth": b64url_encode(self.auth),
            },
        }

    def decrypt(self, received: dict) -> dict:
        """The JSON payload of a push as the stand-in recorded it (``body`` in base64)."""
        import base64

        import http_ece

        body = base64.b64decode(received["body"])
        plain = http_ece.decrypt(
            body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"
        )
        return json.loads(plain)
