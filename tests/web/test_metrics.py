"""The web's /metrics: who may read it, and what the webhooks and requests add to it."""

import dataclasses
import json

import pytest
from prometheus_client.parser import text_string_to_metric_families

from emulators.eventsub.messages import notification_body, signed_message, verification_body
from shared.settings import load_settings
from shared.websub import topic_for
from tests.support import free_port, process_environment
from tests.web.support import Callback
from web import create_app
from web.errors import MAX_REQUEST_BODY

TOKEN = "metrics-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CALLBACK = "http://localhost/api/callback"


@pytest.fixture
def app(settings, redis_client):
    """The app with METRICS_TOKEN set."""
    app = create_app(dataclasses.replace(settings, metrics_token=TOKEN))
    app.config.update(TESTING=True)
    return app


def scrape(client) -> dict:
    """Every sample of /metrics: ``{(name, ((label, value), ...)): value}``."""
    response = client.get("/metrics", headers=AUTH)
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels) -> float:
    """One sample's value, 0 when absent."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def webhooks(samples: dict, transport: str, outcome: str, reason: str = "") -> float:
    return value(samples, "sev_webhooks_total", transport=transport, outcome=outcome, reason=reason)


def acks(samples: dict, transport: str) -> float:
    return value(samples, "sev_webhook_ack_seconds_count", transport=transport)


def post(client, headers, raw):
    """POST to the callback: EventSub messages to the intake (answered before Flask,
    counting into the same metrics), WebSub notifications to the app."""
    if "X-Hub-Signature" in headers:
        return client.post("/api/callback", data=raw, headers=headers)
    settings = client.application.config["SETTINGS"]
    return Callback(settings.redis_url, settings.twitch_webhook_secret).post(headers, raw)


def online(secret):
    return signed_message(
        secret, "notification", notification_body("stream.online", "cool_user", CALLBACK)
    )


def test_without_a_token_setting_there_is_no_metrics_route(settings, redis_client):
    client = create_app(settings).test_client()
    answer = client.get("/metrics", headers={"Authorization": "Bearer "})
    unknown = client.get("/no-such-page")
    assert answer.status_code == 404
    assert answer.get_json() == unknown.get_json()


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
        f"Basic {TOKEN}",
        TOKEN,
        "Bearer é",
    ],
)
def test_a_missing_or_wrong_token_is_401(client, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "sev_" not in response.get_data(as_text=True)


def test_the_token_gets_the_text_exposition_kept_out_of_caches(client):
    response = client.get("/metrics", headers={"Authorization": f"bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    names = {
        family.name for family in text_string_to_metric_families(response.get_data(as_text=True))
    }
    assert {
        "sev_webhooks",
        "sev_webhook_ack_seconds",
        "sev_http_requests",
        "sev_state_available",
        "sev_queue_depth",
    } <= names
    assert TOKEN not in response.get_data(as_text=True)


def test_a_scraper_that_asks_for_openmetrics_gets_it(client):
    response = client.get(
        "/metrics",
        headers={
            **AUTH,
            "Accept": "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;q=0.2",
        },
    )
    assert response.status_code == 200
    assert response.mimetype == "application/openmetrics-text"
    assert response.get_data(as_text=True).endswith("# EOF\n")


def test_unknown_paths_share_one_route_label(client):
    before = scrape(client)
    for n in range(20):
        assert client.get(f"/no-such-page-{n}").status_code == 404
    after = scrape(client)
    routes = {dict(labels)["route"] for name, labels in after if name == "sev_http_requests_total"}
    assert not any(route.startswith("/no-such-page") for route in routes)
    assert (
        value(after, "sev_http_requests_total", route="unmatched", method="GET", status="404")
        - value(before, "sev_http_requests_total", route="unmatched", method="GET", status="404")
    ) == 20


def test_requests_are_counted_by_route_method_and_status(client):
    before = scrape(client)
    client.get("/healthz")
    client.get("/healthz")
    client.open("/healthz", method="BREW")
    after = scrape(client)
    delta = {
        labels: after[(name, labels)] - before.get((name, labels), 0)
        for name, labels in after
        if name == "sev_http_requests_total"
    }
    assert delta[(("method", "GET"), ("route", "/healthz"), ("status", "200"))] == 2
    assert delta[(("method", "other"), ("route", "unmatched"), ("status", "405"))] == 1
    assert delta[(("method", "GET"), ("route", "/metrics"), ("status", "200"))] == 1


def test_eventsub_answers_are_counted_by_outcome_and_reason(client, settings):
    secret = settings.twitch_webhook_secret
    before = scrape(client)
    for _ in range(3):
        assert post(client, *online(secret)).status_code == 204
    headers, raw = online(secret)
    assert (
        post(client, {**headers, "Twitch-Eventsub-Message-Signature": "sha256=00"}, raw).status_code
        == 403
    )
    assert post(client, {}, raw).status_code == 400
    assert post(client, headers, b"x" * (MAX_REQUEST_BODY + 1)).status_code == 413
    challenge = verification_body("stream.online", "cool_user", CALLBACK, "c-1")
    assert (
        post(
            client, *signed_message(secret, "webhook_callback_verification", challenge)
        ).status_code
        == 200
    )
    after = scrape(client)
    assert webhooks(after, "eventsub", "accepted") - webhooks(before, "eventsub", "accepted") == 3
    assert webhooks(after, "eventsub", "challenge") - webhooks(before, "eventsub", "challenge") == 1
    for reason in ("bad_signature", "missing_headers", "too_large"):
        assert (
            webhooks(after, "eventsub", "rejected", reason)
            - webhooks(before, "eventsub", "rejected", reason)
        ) == 1, reason
    assert acks(after, "eventsub") - acks(before, "eventsub") == 7
    assert acks(after, "websub") == acks(before, "websub")


def test_websub_answers_are_counted_under_their_transport(client, settings):
    topic = topic_for(settings.twitch_api_url, "1337")
    before = scrape(client)
    assert client.get("/api/callback", query_string={"hub.mode": "nonsense"}).status_code == 400
    body = json.dumps({"data": []}).encode()
    assert (
        post(
            client,
            {
                "X-Hub-Signature": "sha256=00",
                "Twitch-Notification-Id": "n-1",
                "Link": f"<{topic}>; rel=self",
            },
            body,
        ).status_code
        == 403
    )
    after = scrape(client)
    for reason in ("bad_mode", "unknown_topic"):
        assert (
            webhooks(after, "websub", "rejected", reason)
            - webhooks(before, "websub", "rejected", reason)
        ) == 1, reason
    assert acks(after, "websub") - acks(before, "websub") == 2
    assert acks(after, "eventsub") == acks(before, "eventsub")


def test_a_message_the_queue_cannot_take_is_counted_unavailable():
    settings = load_settings(
        process_environment(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", METRICS_TOKEN=TOKEN)
    )
    client = create_app(settings).test_client()
    before = scrape(client)
    assert post(client, *online(settings.twitch_webhook_secret)).status_code == 503
    after = scrape(client)
    assert (
        webhooks(after, "eventsub", "unavailable", "queue_unavailable")
        - webhooks(before, "eventsub", "unavailable", "queue_unavailable")
    ) == 1
    assert value(after, "sev_state_available") == 0
