"""Security headers: a strict Content-Security-Policy and the usual others, on every response."""

from __future__ import annotations

import dataclasses
import time

import pytest

from web import create_app
from web.security import content_security_policy, pusher_socket_origin

PATHS = ["/", "/?message=login", "/watch", "/healthz", "/no-such-page", "/login"]


def policy(response) -> dict[str, list[str]]:
    """The response's Content-Security-Policy as {directive: [sources]}."""
    header = response.headers["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        assert name not in directives, f"{name} appears twice"
        directives[name] = sources
    return directives


@pytest.mark.parametrize("path", PATHS)
def test_every_response_carries_the_headers(client, path):
    response = client.get(path)
    assert "Content-Security-Policy" in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in response.headers


def test_policy_allows_only_ourselves_the_twitch_embeds_and_our_pusher_server(client, settings):
    csp = policy(client.get("/"))
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["frame-src"] == ["https://player.twitch.tv", "https://www.twitch.tv"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert csp["img-src"] == ["'self'", "data:", "https://static-cdn.jtvnw.net"]
    pusher_server = f"ws://{settings.pusher_browser_host}:{settings.pusher_browser_port}"
    assert csp["connect-src"] == ["'self'", pusher_server]


def test_policy_has_no_unsafe_sources_and_no_wildcards(client):
    header = client.get("/").headers["Content-Security-Policy"]
    for forbidden in ("unsafe-inline", "unsafe-eval", "unsafe-hashes", "*", "http:", "https: "):
        assert forbidden not in header


def test_watch_page_is_covered_too(client):
    with client.session_transaction() as session:
        session["user"] = {"id": "1", "login": "viewer_vic", "display_name": "ViewerVic"}
        session["twitch"] = {
            "access_token": "a",
            "refresh_token": "r",
            "scopes": [],
            "expires_at": int(time.time()) + 3600,
        }
        session["validated_at"] = time.time()
    response = client.get("/watch")
    assert response.status_code in (200, 503)
    assert "unsafe" not in response.headers["Content-Security-Policy"]
    assert policy(response)["frame-ancestors"] == ["'none'"]


@pytest.mark.parametrize(
    ("changes", "origin"),
    [
        (
            {
                "pusher_browser_host": "",
                "pusher_browser_port": None,
                "pusher_ssl": True,
                "pusher_cluster": "eu",
            },
            "wss://ws-eu.pusher.com",
        ),
        (
            {
                "pusher_browser_host": "",
                "pusher_browser_port": 6001,
                "pusher_ssl": True,
                "pusher_cluster": "us2",
            },
            "wss://ws-us2.pusher.com",
        ),
        (
            {
                "pusher_browser_host": "pusher.example.org",
                "pusher_browser_port": 443,
                "pusher_ssl": True,
            },
            "wss://pusher.example.org",
        ),
        (
            {
                "pusher_browser_host": "pusher.example.org",
                "pusher_browser_port": 6001,
                "pusher_ssl": True,
            },
            "wss://pusher.example.org:6001",
        ),
        (
            {
                "pusher_host": "pusher",
                "pusher_port": 6001,
                "pusher_browser_host": "localhost",
                "pusher_browser_port": 6001,
                "pusher_ssl": False,
            },
            "ws://localhost:6001",
        ),
        (
            {"pusher_browser_host": "::1", "pusher_browser_port": 6001, "pusher_ssl": False},
            "ws://[::1]:6001",
        ),
    ],
)
def test_pusher_endpoint_follows_the_settings(settings, changes, origin):
    changed = dataclasses.replace(settings, **changes)
    assert pusher_socket_origin(changed) == origin
    assert content_security_policy(changed)["connect-src"] == f"'self' {origin}"


def test_hsts_only_when_public_url_is_https(settings, redis_client):
    plain = create_app(settings).test_client()
    assert "Strict-Transport-Security" not in plain.get("/", base_url="https://localhost").headers

    secure = create_app(
        dataclasses.replace(settings, public_url="https://viewer.example")
    ).test_client()
    response = secure.get("/", base_url="https://viewer.example")
    hsts = response.headers["Strict-Transport-Security"]
    assert int(hsts.removeprefix("max-age=").split(";")[0]) >= 180 * 24 * 3600


def test_no_redirect_to_https_and_session_cookie_flags_kept(client):
    response = client.get("/login")
    assert response.status_code == 302
    assert not response.headers["Location"].startswith("https://localhost")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_session_cookie_is_secure_when_public_url_is_https(settings, redis_client):
    secure = create_app(
        dataclasses.replace(settings, public_url="https://viewer.example")
    ).test_client()
    cookie = secure.get("/login", base_url="https://viewer.example").headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_api_answers_are_never_stored(client):
    for response in (
        client.post("/api/watch", json={"streamer": "cool_user"}),
        client.get("/api/follows/live"),
        client.get("/api/no-such-endpoint"),
    ):
        assert response.headers["Cache-Control"] == "no-store"


def test_anonymous_pages_and_health_keep_their_caching(client):
    for path in ("/", "/healthz"):
        assert "no-store" not in client.get(path).headers.get("Cache-Control", "")


def test_pages_for_a_signed_in_session_are_never_stored(twitch_settings, auth):
    client = create_app(twitch_settings).test_client()
    auth.login(client=client)
    for path in ("/", "/watch", "/no-such-page", "/api/follows/live"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path


def test_the_server_header_names_no_software(client):
    from web.security import SERVER_HEADER

    for path in ("/healthz", "/no-such-page"):
        assert client.get(path).headers["Server"] == SERVER_HEADER == "sev"
