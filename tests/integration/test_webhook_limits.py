"""Body limits of the callback as the real server (Granian) applies them.

Flask's test client always sends a Content-Length, so a chunked body (none) is
tried here against Granian serving the app as the Procfile does.
"""

import hashlib
import hmac
import json
import socket
import time
import uuid
from datetime import UTC, datetime

import pytest
import requests

from emulators.eventsub.messages import notification_body, signed_headers
from scripts.stack import Stack
from shared.eventsub import format_eventsub_timestamp
from shared.intake import waiting

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]
LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def web(lone_web):
    """Redis and the web, nothing else (the integration conftest's ``lone_web``)."""
    return lone_web


def signed_body(secret: str, size: int) -> tuple[dict, bytes]:
    """A valid signed channel.update notification padded with spaces to ``size`` bytes."""
    body = json.dumps(
        notification_body(
            "channel.update", "cool_user", "http://localhost/api/callback", title="Padded"
        )
    )
    raw = body.encode() + b" " * (size - len(body))
    timestamp = format_eventsub_timestamp(datetime.now(UTC))
    return signed_headers(secret, str(uuid.uuid4()), timestamp, "notification", raw), raw


def post_chunked(
    stack: Stack, headers: dict, body: bytes, chunk: int = 8192, path: str = "/api/callback"
) -> int:
    """POST ``body`` with Transfer-Encoding: chunked (no Content-Length) on a plain
    socket; the status of the answer."""
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{stack.web_port}",
        "Transfer-Encoding: chunked",
        "Connection: close",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    payload = "\r\n".join(lines).encode() + b"\r\n\r\n"
    for start in range(0, len(body), chunk):
        part = body[start : start + chunk]
        payload += f"{len(part):x}\r\n".encode() + part + b"\r\n"
    payload += b"0\r\n\r\n"
    with socket.create_connection(("127.0.0.1", stack.web_port), timeout=10) as connection:
        try:
            connection.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered before the whole body was read: the answer is still there
        answer = b""
        while b"\r\n" not in answer:
            data = connection.recv(4096)
            if not data:
                break
            answer += data
    return int(answer.split(b" ", 2)[1])


def queued(stack: Stack) -> int:
    return len(waiting(stack.redis(), 8))


def test_a_chunked_body_over_64_kib_is_refused_not_cut(web):
    before = queued(web)
    headers, signed = signed_body(web.secret, LIMIT)  # the signature covers the first 64 KiB
    assert post_chunked(web, headers, signed + b"y" * 100_000) == 413
    assert queued(web) == before


def test_a_chunked_body_one_byte_over_is_refused(web):
    headers, raw = signed_body(web.secret, LIMIT + 1)
    assert post_chunked(web, headers, raw) == 413


def test_a_chunked_body_of_exactly_64_kib_is_accepted(web):
    before = queued(web)
    headers, raw = signed_body(web.secret, LIMIT)
    assert post_chunked(web, headers, raw) == 204
    assert queued(web) == before + 1


def test_a_long_body_with_content_length_is_refused(web):
    headers, raw = signed_body(web.secret, LIMIT + 1)
    response = requests.post(web.callback, data=raw, headers=headers, timeout=10)
    assert response.status_code == 413


def test_a_chunked_websub_notification_over_64_kib_is_refused(web):
    body = b'{"data":[]}' + b" " * (LIMIT + 100)
    headers = {
        "X-Hub-Signature": "sha256=" + "0" * 64,
        "Twitch-Notification-Id": "n-1",
        "Link": '<https://api.twitch.tv/helix/streams?user_id=1>; rel="self"',
        "Content-Type": "application/json",
    }
    assert post_chunked(web, headers, body) == 413


def test_a_chunked_pusher_webhook_over_64_kib_is_refused(web):
    body = json.dumps(
        {
            "time_ms": int(time.time() * 1000),
            "events": [{"name": "channel_occupied", "channel": "cool_user"}],
        }
    ).encode()
    body += b" " * (LIMIT + 100)
    secret = web.env["PUSHER_SECRET"]
    headers = {
        "X-Pusher-Key": web.env["PUSHER_KEY"],
        "Content-Type": "application/json",
        "X-Pusher-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
    }
    assert post_chunked(web, headers, body, path="/api/pusher/webhook") == 413
