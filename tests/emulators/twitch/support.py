"""Helpers for the Twitch emulator tests: the emulator process, a client, a callback server."""

from __future__ import annotations

import contextlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from scripts.processes import Process, free_port, wait_until
from shared.eventsub import (
    MESSAGE_ID,
    MESSAGE_SIGNATURE,
    MESSAGE_TIMESTAMP,
    MESSAGE_TYPE,
    verify_eventsub_signature,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
CLIENT_ID, CLIENT_SECRET = "test-client-id", "test-client-secret"
SECRET = "callback-secret-0123"
COOL_ID = "958187706"  # cool_user's id in the default roster
REDIRECT = "http://localhost:5000/auth/callback"


@dataclass
class Twitch:
    """A running emulator and the calls tests make to it."""

    url: str
    process: subprocess.Popen
    log_path: str

    def log(self) -> str:
        """What the process printed so far."""
        return Path(self.log_path).read_text()

    def control(self, name: str, expect: int = 200, **body) -> dict:
        """Call ``POST /_emulator/<name>`` and check its status."""
        response = requests.post(f"{self.url}/_emulator/{name}", json=body, timeout=10)
        assert response.status_code == expect, response.text
        return response.json()

    def state(self) -> dict:
        """``GET /_emulator/state``."""
        return requests.get(f"{self.url}/_emulator/state", timeout=10).json()

    def subscription(self, sub_id: str) -> dict:
        """One subscription as the state page shows it."""
        return next(s for s in self.state()["subscriptions"] if s["id"] == sub_id)

    def token(self, **fields) -> requests.Response:
        """``POST /oauth2/token`` with the test client's credentials plus ``fields``."""
        data = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **fields}
        return requests.post(f"{self.url}/oauth2/token", data=data, timeout=10)

    def app_token(self) -> str:
        """A new app access token."""
        return self.token(grant_type="client_credentials").json()["access_token"]

    def consent(
        self,
        login: str | None,
        scope: str = "user:read:follows",
        state: str = "st4te",
        redirect_uri: str = REDIRECT,
    ) -> dict[str, str]:
        """Walk the consent page as a browser would; return the redirect's query parameters."""
        page = requests.get(
            f"{self.url}/oauth2/authorize",
            allow_redirects=False,
            timeout=10,
            params={
                "client_id": CLIENT_ID,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": scope,
                "state": state,
            },
        )
        assert page.status_code == 200, page.text
        pattern = f'data-login="{login}" href="([^"]+)"' if login else 'id="deny" href="([^"]+)"'
        link = html.unescape(re.search(pattern, page.text).group(1))
        answer = requests.get(self.url + link, allow_redirects=False, timeout=10)
        assert answer.status_code == 302, answer.text
        location = answer.headers["Location"]
        assert location.startswith(redirect_uri + "?")
        return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}

    def user_token(self, login: str, scope: str = "user:read:follows") -> dict:
        """A user token answer for ``login`` through the authorization-code flow."""
        code = self.consent(login, scope)["code"]
        answer = self.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def helix(
        self, method: str, path: str, token: str | None, client_id: str | None = CLIENT_ID, **kwargs
    ) -> requests.Response:
        """Call Helix with a bearer token and Client-Id header."""
        headers = {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if client_id:
            headers["Client-Id"] = client_id
        return requests.request(
            method, f"{self.url}/helix{path}", headers=headers, timeout=10, **kwargs
        )

    def subscribe(
        self,
        token: str,
        kind: str,
        broadcaster_id: str,
        callback: str,
        secret: str = SECRET,
        version: str | None = None,
    ) -> requests.Response:
        """``POST /helix/eventsub/subscriptions`` for a webhook subscription."""
        version = version or {"channel.update": "2"}.get(kind, "1")
        return self.helix(
            "POST",
            "/eventsub/subscriptions",
            token,
            json={
                "type": kind,
                "version": version,
                "condition": {"broadcaster_user_id": broadcaster_id},
                "transport": {"method": "webhook", "callback": callback, "secret": secret},
            },
        )


@contextlib.contextmanager
def run_twitch(*args: str, **env: str) -> Iterator[Twitch]:
    """Start ``python -m emulators.twitch`` on a free port; stop it afterwards."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TWITCH_")}
    environ.update(
        TWITCH_CLIENT_ID=CLIENT_ID,
        TWITCH_CLIENT_SECRET=CLIENT_SECRET,
        TWITCH_EMULATOR_CALLBACK_TIMEOUT="2",
        PYTHONPATH=str(REPO_ROOT),
        PYTHONUNBUFFERED="1",
        **env,
    )
    log_dir = Path(tempfile.mkdtemp(prefix="twitch-emulator-"))
    process = Process(
        "twitch",
        [
            sys.executable,
            "-m",
            "emulators.twitch",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *args,
        ],
        environ,
        log_dir,
        port,
    )
    try:
        try:
            process.start(ready_timeout=15)
        except (RuntimeError, AssertionError) as error:
            pytest.fail(f"{error}\n{process.log()}")
        yield Twitch(f"http://127.0.0.1:{port}", process.popen, str(process.log_path))
    finally:
        process.stop()
        shutil.rmtree(log_dir, ignore_errors=True)


@dataclass
class Received:
    """One request the callback server got."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    @property
    def type(self) -> str | None:
        """The EventSub message type, if any."""
        return self.headers.get(MESSAGE_TYPE)

    def json(self):
        """The body, decoded."""
        return json.loads(self.body)

    def signed_with(self, secret: str) -> bool:
        """True when the EventSub signature checks out with ``secret``."""
        return verify_eventsub_signature(
            secret,
            self.headers[MESSAGE_ID],
            self.headers[MESSAGE_TIMESTAMP],
            self.body,
            self.headers[MESSAGE_SIGNATURE],
        )


@dataclass
class Callback:
    """A tiny real HTTP server standing in for the app's callback endpoints.

    ``challenge`` and ``websub`` choose how it answers verifications: ``echo``,
    ``wrong`` (200 with another body) or ``error`` (500); ``status`` is its
    answer to notifications.
    """

    challenge: str = "echo"
    websub: str = "echo"
    status: int = 204
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/callback"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def eventsub(self, message_type: str | None = None, kind: str | None = None) -> list[Received]:
        """EventSub messages received, optionally of one message type and subscription type."""
        return [
            r
            for r in list(self.received)
            if r.method == "POST"
            and r.type
            and (message_type is None or r.type == message_type)
            and (kind is None or r.headers.get("Twitch-Eventsub-Subscription-Type") == kind)
        ]

    def wait_eventsub(self, message_type: str, kind: str | None = None, count: int = 1):
        """Wait until ``count`` such messages arrived; return them all."""
        return wait_until(
            lambda: (
                len(self.eventsub(message_type, kind)) >= count
                and self.eventsub(message_type, kind)
            ),
            message=f"{count} {message_type}",
        )

    def gets(self, mode: str | None = None) -> list[Received]:
        """WebSub verification GETs, optionally of one ``hub.mode``."""
        return [
            r
            for r in list(self.received)
            if r.method == "GET" and (mode is None or r.query.get("hub.mode") == mode)
        ]

    def websub_posts(self) -> list[Received]:
        """WebSub notifications (POSTs without EventSub headers)."""
        return [r for r in list(self.received) if r.method == "POST" and not r.type]

    def close(self) -> None:
        """Stop the server."""
        self.server.shutdown()
        self.server.server_close()


def _handler(callback: Callback):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
            callback.received.append(Received("GET", self.path, query, dict(self.headers), b""))
            if query.get("hub.mode") in ("subscribe", "unsubscribe"):
                self.answer(*_verdict(callback.websub, query["hub.challenge"]))
            else:
                self.answer(200, "")

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            record = Received("POST", self.path, {}, dict(self.headers), body)
            callback.received.append(record)
            if record.type == "webhook_callback_verification":
                self.answer(*_verdict(callback.challenge, record.json()["challenge"]))
            else:
                self.answer(callback.status if record.type else 200, "")

        def answer(self, status: int, text: str) -> None:
            raw = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args) -> None:
            pass

    return Handler


def _verdict(mode: str, challenge: str) -> tuple[int, str]:
    return {"echo": (200, challenge), "wrong": (200, "not-the-challenge"), "error": (500, "")}[mode]
