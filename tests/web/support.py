"""Helpers of the web's tests: logging in through the Twitch emulator step by step,
reading and changing a session as the app stores it, watching a streamer, and posting
to the EventSub intake as the server does.

Tests that only need a signed-in client use the ``auth`` fixture (``tests/web/conftest.py``).
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import time
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import requests

from shared.store import connect_async
from tests.support import run_async
from web.intake.eventsub import Answer, EventSubIntake
from web.intake.writer import IntakeWriter
from web.server import read_body
from web.viewer.sessions import COOKIE_NAME, session_key

VIEWER = "viewer_vic"
FROM_OUR_PAGE = {"Origin": "http://localhost:5000"}


def consent_redirect(client, emulator, start_at="/login", **choice) -> str:
    """Start at ``/login``, choose on the emulator's consent page; the URL Twitch sends back."""
    return consent(emulator, start_login(client, emulator, start_at), **choice)


def start_login(client, emulator, start_at="/login") -> str:
    """Start a login; the emulator's authorize URL it sends the browser to."""
    start = client.get(start_at)
    assert start.status_code == 302
    authorize = start.headers["Location"]
    assert authorize.startswith(f"{emulator.url}/oauth2/authorize?")
    query = parse_qs(urlsplit(authorize).query)
    assert query["redirect_uri"] == ["http://localhost:5000/auth/callback"]
    assert query["scope"] == ["user:read:follows"] and query["state"][0]
    return authorize


def consent(emulator, authorize, **choice) -> str:
    """Choose on the emulator's consent page at ``authorize``; the URL Twitch sends back."""
    page = requests.get(authorize, timeout=10)
    assert page.status_code == 200
    if choice.get("deny"):
        link = re.search(r'id="deny" href="([^"]+)"', page.text)
    else:
        link = re.search(rf'data-login="{choice["login"]}" href="([^"]+)"', page.text)
    decided = requests.get(
        emulator.url + html.unescape(link.group(1)), timeout=10, allow_redirects=False
    )
    assert decided.status_code == 302
    back = decided.headers["Location"]
    assert back.startswith("http://localhost:5000/auth/callback?")
    return back


def app_path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def log_in(client, emulator, login=VIEWER):
    """The whole login; returns the callback's answer."""
    return client.get(app_path(consent_redirect(client, emulator, login=login)))


def session_id(client) -> str | None:
    cookie = client.get_cookie(COOKIE_NAME)
    return cookie.value if cookie else None


def stored(redis_client, client) -> dict | None:
    """The client's session as the app stores it in Redis (``redis_client``'s server)."""
    sid = session_id(client)
    return client.application.session_interface.load(sid) if sid else None


def change_stored(redis_client, client, **changes) -> None:
    """Edit the session in Redis, as if time had passed."""
    interface = client.application.session_interface
    data = {**stored(redis_client, client), **changes}
    redis_client.set(
        session_key(session_id(client)), interface.serializer.encode(data), keepttl=True
    )


def validates(emulator, token) -> bool:
    response = requests.get(
        f"{emulator.url}/oauth2/validate", timeout=10, headers={"Authorization": f"OAuth {token}"}
    )
    return response.status_code == 200


def assert_message(client, response, code, text, next_=None):
    assert response.status_code == 302
    assert response.headers["Location"] == f"/?message={code}" + (f"&next={next_}" if next_ else "")
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert text in page.get_data(as_text=True)
    assert "Log in with Twitch" in page.get_data(as_text=True)


def kill_token(client, twitch_emulator, redis_client, settings) -> None:
    """Revoke the session's access token and spend its refresh token elsewhere, then make
    the session due for its hourly validation: its next request finds the token dead."""
    tokens = stored(redis_client, client)["twitch"]
    revoked = requests.post(
        f"{twitch_emulator.url}/oauth2/revoke",
        timeout=10,
        data={"client_id": settings.twitch_client_id, "token": tokens["access_token"]},
    )
    assert revoked.status_code == 200
    elsewhere = requests.post(
        f"{twitch_emulator.url}/oauth2/token",
        timeout=10,
        data={
            "client_id": settings.twitch_client_id,
            "client_secret": settings.twitch_client_secret,
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
        },
    )
    assert elsewhere.status_code == 200
    change_stored(redis_client, client, validated_at=time.time() - 3700)


def watch(client, streamer, headers=FROM_OUR_PAGE):
    """Ask ``/api/watch`` for one streamer, from our page."""
    return client.post("/api/watch", json={"streamer": streamer}, headers=headers)


class Response:
    """An intake's answer, read as a test reads an HTTP answer."""

    def __init__(self, answer: Answer):
        self.status_code = answer.status
        self.data = answer.body
        self.mimetype = answer.content_type.split(";")[0]
        self.json = json.loads(answer.body) if self.mimetype == "application/json" else None


class Arriving:
    """A request body as Granian hands it over: awaited whole, or iterated in chunks,
    ``pause`` seconds apart."""

    def __init__(self, *chunks: bytes, pause: float = 0.0):
        self.chunks, self.pause = chunks, pause

    async def __call__(self) -> bytes:
        return b"".join([chunk async for chunk in self])

    async def __aiter__(self):
        for chunk in self.chunks:
            await asyncio.sleep(self.pause)
            yield chunk


class Callback:
    """The EventSub intake as the server calls it: lower-case headers, the body read by
    the server's own reader (its size limit included), a real Redis behind."""

    def __init__(self, redis_url: str, secret: str, shards: int = 8):
        self.redis_url, self.secret, self.shards = redis_url, secret, shards

    def post(self, headers: dict, raw: bytes) -> Response:
        """The intake's answer to ``raw`` with ``headers``, sent in 16 KiB chunks."""
        lowered = {name.lower(): value for name, value in headers.items()}
        lowered.setdefault("content-length", str(len(raw)))
        body = Arriving(*(raw[start : start + 16384] for start in range(0, len(raw), 16384)))

        async def answer():
            writer = IntakeWriter(connect_async(self.redis_url), self.shards)
            try:
                intake = EventSubIntake(self.secret, writer)
                scope = SimpleNamespace(headers=lowered)
                return await intake.answer(lowered, lambda: read_body(scope, body))
            finally:
                await writer.close()

        return Response(run_async(answer()))
