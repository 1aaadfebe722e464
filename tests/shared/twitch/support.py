"""Helpers of the Twitch package's tests: small real HTTP servers on loopback, among them
a scripted stand-in for Twitch for what the emulator cannot be made to do (5xx, odd
answers)."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from shared.twitch.session import BACKOFF, RETRIES

COOL_USER_ID = "958187706"


class Server:
    """A threaded HTTP server on a free loopback port, answering with ``handle``."""

    def __init__(self, handle):
        class Handler(BaseHTTPRequestHandler):
            def do_any(self):
                length = int(self.headers.get("Content-Length") or 0)
                status, body, headers = handle(self, self.rfile.read(length))
                raw = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, str(value))
                self.send_header("Content-Length", str(len(raw)) if status != 204 else "0")
                self.end_headers()
                if status != 204:
                    self.wfile.write(raw)

            do_GET = do_POST = do_DELETE = do_any

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def echo_challenges(request, body):
    """A callback that passes Twitch's verification."""
    if request.headers.get("Twitch-Eventsub-Message-Type") == "webhook_callback_verification":
        return 200, json.loads(body)["challenge"].encode(), {"Content-Type": "text/plain"}
    return 204, b"", {}


@dataclass
class Seen:
    """One request the stand-in received."""

    method: str
    path: str
    query: dict
    headers: dict
    body: bytes
    at: float


@dataclass
class StandIn:
    """Twitch played from a script: ``answers[(method, path)]`` are given in turn, the last
    one repeatedly; ``/oauth2/token``, unless scripted, issues ``token-1``, ``token-2``, ..."""

    answers: dict = field(default_factory=dict)
    seen: list = field(default_factory=list)
    issued: int = 0

    def __post_init__(self):
        self.server = Server(self.handle)
        self.url = self.server.url

    def handle(self, request, body):
        parts = urlsplit(request.path)
        self.seen.append(
            Seen(
                request.command,
                parts.path,
                parse_qs(parts.query),
                dict(request.headers),
                body,
                time.time(),
            )
        )
        if parts.path == "/oauth2/token" and ("POST", parts.path) not in self.answers:
            self.issued += 1
            return (
                200,
                {
                    "access_token": f"token-{self.issued}",
                    "expires_in": 5_000_000,
                    "token_type": "bearer",
                },
                {},
            )
        queue = self.answers.get((request.command, parts.path))
        if not queue:
            return 404, {"error": "Not Found", "status": 404, "message": "no script"}, {}
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        return answer() if callable(answer) else answer

    def helix(self, method=None):
        """Helix requests received, optionally of one method."""
        return [
            s
            for s in self.seen
            if s.path.startswith("/helix") and (method is None or s.method == method)
        ]

    def settings_for(self, settings):
        """``settings`` with Helix and OAuth pointing at the stand-in."""
        return dataclasses.replace(
            settings, twitch_api_url=f"{self.url}/helix", twitch_auth_url=f"{self.url}/oauth2"
        )


# The pauses urllib3 asks for between RETRIES attempts: none before the first retry,
# then BACKOFF doubling.
BACKOFFS = [BACKOFF * 2**n for n in range(1, RETRIES)]


def problem(status, message):
    """A Helix error answer for the stand-in."""
    return status, {"error": "Error", "status": status, "message": message}, {}


def empty_bucket(reset):
    """A Helix 429 answer for the stand-in: the rate-limit bucket is empty until ``reset``."""
    return (
        429,
        {"error": "Too Many Requests", "status": 429, "message": "Too Many Requests"},
        {"Ratelimit-Limit": 800, "Ratelimit-Remaining": 0, "Ratelimit-Reset": reset},
    )


def users(*logins):
    """A Helix ``/users`` answer with these logins, for the stand-in."""
    return 200, {"data": [{"id": str(n), "login": login} for n, login in enumerate(logins)]}, {}
