"""Error reports: a view's exception reaches a Sentry ingest (a real HTTP server on
loopback) with no secret, token, cookie or signature in it."""

from __future__ import annotations

import dataclasses
import secrets
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests
import sentry_sdk

from shared.error_reports import report_web_errors, report_worker_errors, scrub, secret_values
from shared.settings import RedisSentinel
from tests.sentry_ingest import SentryIngest
from tests.support import ROOT, process_environment
from web import create_app


@pytest.fixture
def ingest():
    """A Sentry ingest on loopback; the SDK is shut down after the test."""
    server = SentryIngest()
    yield server
    sentry_sdk.get_client().close()
    sentry_sdk.init()  # no DSN: nothing more is sent
    server.close()


def test_nothing_is_started_without_a_dsn(settings):
    assert report_web_errors(settings) is False
    assert report_worker_errors(settings) is False
    assert not sentry_sdk.get_client().is_active()


def test_a_views_exception_arrives_without_secrets(settings, redis_client, ingest):
    settings = dataclasses.replace(
        settings, sentry_dsn=ingest.dsn, twitch_client_secret="client-secret-of-the-app"
    )
    app = create_app(settings)

    local_tokens = []

    @app.get("/test/fails")
    def fails():
        app_token = secrets.token_urlsafe(24)  # a token the failing function holds
        local_tokens.append(app_token)
        raise RuntimeError("Twitch refused client-secret-of-the-app and user-access-token-1")

    client = app.test_client()
    with client.session_transaction() as session:
        session["twitch"] = {
            "access_token": "user-access-token-1",
            "refresh_token": "user-refresh-token-1",
        }
    assert (
        client.post(
            "/api/callback",
            data=b"{}",
            headers={
                "Twitch-Eventsub-Message-Id": "m-rejected",
                "Twitch-Eventsub-Message-Timestamp": "x",
                "Twitch-Eventsub-Message-Type": "notification",
                "Twitch-Eventsub-Message-Signature": "sha256=00",
            },
        ).status_code
        == 403
    )
    assert client.get("/no/such/page").status_code == 404
    answer = client.get(
        "/test/fails?code=oauth-code-1&state=oauth-state-1&page=2",
        headers={
            "Authorization": "Bearer bearer-token-1",
            "X-Hub-Signature": "sha256=hub-signature-1",
            "Twitch-Eventsub-Message-Signature": "sha256=eventsub-signature-1",
        },
    )
    assert answer.status_code == 500
    sentry_sdk.flush()

    event, envelope = ingest.wait_for_event("Twitch refused")
    assert [e["exception"]["values"][-1]["type"] for e in ingest.events()] == ["RuntimeError"]
    assert event["environment"] == "development"
    assert not sentry_sdk.get_client().should_send_default_pii()
    assert event["request"]["url"].endswith("/test/fails")
    assert "page=2" in event["request"]["query_string"]
    for leaked in (
        b"client-secret-of-the-app",
        b"user-access-token-1",
        b"oauth-code-1",
        b"oauth-state-1",
        local_tokens[0].encode(),
        b"bearer-token-1",
        b"hub-signature-1",
        b"eventsub-signature-1",
        settings.secret_key.encode(),
    ):
        assert leaked not in envelope, leaked
    assert "cookies" not in event["request"]
    assert {
        value
        for name, value in event["request"]["headers"].items()
        if name.lower() in ("cookie", "authorization")
    } <= {"[Filtered]"}
    frame = event["exception"]["values"][-1]["stacktrace"]["frames"][-1]
    assert frame["function"] == "fails" and "vars" not in frame


def test_url_passwords_and_secret_settings_are_blanked(settings):
    settings = dataclasses.replace(
        settings,
        redis_url="redis://:redis-pass@127.0.0.1:6379/0",
        celery_broker_url="amqp://user:broker-pass@rabbit:5672",
        pusher_secret="pusher-secret-1",
    )
    event = {
        "message": "cannot reach redis://:redis-pass@127.0.0.1",
        "extra": {"args": ["broker-pass", {"signed": "pusher-secret-1"}]},
        "breadcrumbs": {"values": [{"data": {"url": "http://h/x?code=abc&page=2"}}]},
    }
    assert scrub(event, secret_values(settings)) == {
        "message": "cannot reach redis://:[Filtered]@127.0.0.1",
        "extra": {"args": ["[Filtered]", {"signed": "[Filtered]"}]},
        "breadcrumbs": {"values": [{"data": {"url": "http://h/x?code=[Filtered]&page=2"}}]},
    }


def test_a_worker_without_a_dsn_does_not_load_the_sdk():
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, worker; print('sentry_sdk' in sys.modules)"],
        env=process_environment(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "False", loaded.stderr


def test_no_trace_header_goes_out_with_a_call_to_another_service(settings, ingest):
    """Twitch and Pusher are called with requests: no ``sentry-trace`` or ``baggage``."""
    seen: list[dict] = []

    class Recorder(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(dict(self.headers))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert report_web_errors(dataclasses.replace(settings, sentry_dsn=ingest.dsn))
        requests.get(f"http://127.0.0.1:{server.server_port}/helix/users", timeout=5)
    finally:
        server.shutdown()
        server.server_close()
    [headers] = seen
    names = {name.lower() for name in headers}
    assert "sentry-trace" not in names and "baggage" not in names


def test_the_flower_and_sentinel_passwords_are_blanked(settings):
    settings = dataclasses.replace(
        settings,
        flower_basic_auth="admin:flower-pass-1",
        redis_sentinel=RedisSentinel((("10.0.0.1", 26379),), "sev", "sentinel-pass-1"),
    )
    event = {"extra": {"args": ["flower-pass-1", "sentinel-pass-1"]}}
    assert scrub(event, secret_values(settings)) == {"extra": {"args": ["[Filtered]"] * 2}}
