"""The WebSub side of the callback: verification GETs and signed notifications."""

import dataclasses
import hashlib
import hmac
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared import intake
from shared.eventsub import PENDING
from shared.leases import get_lease, lease_lock, new_lease, save_lease
from shared.websub import DENIALS, remember_request, topic_for
from web.intake import websub

OTHER_SECRET = "b" * 64
SECRET = "a" * 64


@pytest.fixture
def topic(settings):
    """Broadcaster 1337's stream topic at our Helix."""
    return topic_for(settings.twitch_api_url, "1337")


@pytest.fixture
def lease(redis_client, topic):
    """A websub lease on 1337, waiting for the hub to verify."""
    held = new_lease({"id": "1337", "login": "cool_user", "name": "Cool_User"}, "websub")
    held["subscriptions"]["websub"] = {
        "id": topic,
        "status": "webhook_callback_verification_pending",
    }
    save_lease(redis_client, held)
    return held


def verify(client, **params):
    return client.get("/api/callback", query_string={f"hub.{k}": v for k, v in params.items()})


def held(redis_client):
    return get_lease(redis_client, "1337")["subscriptions"]["websub"]


def test_requested_subscription_is_confirmed_and_the_lease_enabled(
    client, redis_client, lease, topic
):
    remember_request(redis_client, "subscribe", topic, SECRET, 600)
    response = verify(
        client, mode="subscribe", topic=topic, challenge="abc123", lease_seconds="600"
    )
    assert response.status_code == 200 and response.data == b"abc123"
    assert response.mimetype == "text/plain"
    assert held(redis_client)["status"] == "enabled"
    assert 590 < held(redis_client)["expires_at"] - time.time() <= 600


def test_a_verification_waits_for_the_worker_to_save_the_lease_it_asked_for(
    app, redis_client, topic
):
    remember_request(redis_client, "subscribe", topic, SECRET, 600)
    asked = new_lease({"id": "1337", "login": "cool_user", "name": "Cool_User"}, "websub")
    asked["subscriptions"]["websub"] = {"id": topic, "status": PENDING}
    with ThreadPoolExecutor(1) as hub, lease_lock(redis_client, "1337"):
        # The worker holds the lease from its request to the hub until it saves it.
        answer = hub.submit(
            verify,
            app.test_client(),
            mode="subscribe",
            topic=topic,
            challenge="abc",
            lease_seconds="600",
        )
        time.sleep(0.3)
        assert not answer.done(), "the verification did not wait for the lease"
        save_lease(redis_client, asked)
    assert answer.result(timeout=10).status_code == 200
    assert held(redis_client)["status"] == "enabled"


def test_a_lease_locked_too_long_is_503_and_its_request_still_pending(
    client, redis_client, lease, topic, monkeypatch
):
    monkeypatch.setattr(websub, "LEASE_LOCK_WAIT", 0.2)
    remember_request(redis_client, "subscribe", topic, SECRET, 600)
    with lease_lock(redis_client, "1337"):
        busy = verify(client, mode="subscribe", topic=topic, challenge="abc", lease_seconds="600")
    assert busy.status_code == 503
    assert held(redis_client)["status"] == PENDING
    again = verify(client, mode="subscribe", topic=topic, challenge="abc", lease_seconds="600")
    assert again.status_code == 200 and held(redis_client)["status"] == "enabled"


def test_a_verification_is_answered_once_a_replay_is_404(client, redis_client, lease, topic):
    remember_request(redis_client, "subscribe", topic, SECRET, 600)
    assert (
        verify(
            client, mode="subscribe", topic=topic, challenge="abc", lease_seconds="600"
        ).status_code
        == 200
    )
    expires_at = held(redis_client)["expires_at"]
    replay = verify(client, mode="subscribe", topic=topic, challenge="abc", lease_seconds="600")
    assert replay.status_code == 404 and b"abc" not in replay.data
    assert held(redis_client)["expires_at"] == expires_at


def test_a_topic_we_did_not_ask_for_is_404(client, redis_client, topic):
    remember_request(redis_client, "subscribe", topic, SECRET, 600)
    other = topic.replace("1337", "1338")
    assert (
        verify(
            client, mode="subscribe", topic=other, challenge="abc", lease_seconds="600"
        ).status_code
        == 404
    )
    assert verify(client, mode="unsubscribe", topic=topic, challenge="abc").status_code == 404


@pytest.mark.parametrize(
    "seconds",
    [
        "999999999",
        "601",
        "0",
        "-5",
        "abc",
        "",
        "6e2",
        " 600",
        "600.0",
        "\u0666\u0660\u0660",
        "9" * 5000,
    ],
)
def test_lease_seconds_beyond_what_we_asked_or_not_a_number_is_400(
    client, redis_client, lease, topic, settings, seconds
):
    """Never a 500, never stored; and the request is still there for the real hub."""
    client.application.config["SETTINGS"] = dataclasses.replace(settings, websub_lease_seconds=600)
    remember_request(redis_client, "subscribe", topic, SECRET, 600)
    response = verify(client, mode="subscribe", topic=topic, challenge="abc", lease_seconds=seconds)
    assert response.status_code == 400 and "lease_seconds" in response.json["error"]
    assert held(redis_client)["status"] == "webhook_callback_verification_pending"
    assert (
        verify(
            client, mode="subscribe", topic=topic, challenge="abc", lease_seconds="600"
        ).status_code
        == 200
    )


def test_a_lease_is_never_longer_than_the_one_we_asked(client, redis_client, lease, topic):
    remember_request(redis_client, "subscribe", topic, SECRET, 300)
    assert (
        verify(
            client, mode="subscribe", topic=topic, challenge="abc", lease_seconds="600"
        ).status_code
        == 200
    )
    assert held(redis_client)["expires_at"] - time.time() <= 300


@pytest.mark.parametrize(
    "change, reason",
    [
        (dict(mode="subscribe "), "hub.mode"),
        (dict(mode="Subscribe"), "hub.mode"),
        (dict(mode=""), "hub.mode"),
        (dict(topic="https://evil.example/helix/streams?user_id=1337"), "hub.topic"),
        (dict(topic="{api}/streams?user_id=1337&x=1"), "hub.topic"),
        (dict(topic="{api}/streams?user_id=13a7"), "hub.topic"),
        (dict(topic="{api}/streams?user_id=\u0661\u0663"), "hub.topic"),
        (dict(topic="{api}/users?id=1337"), "hub.topic"),
        (dict(challenge=""), "hub.challenge"),
        (dict(challenge="x" * 256), "hub.challenge"),
        (dict(challenge="line\nbreak"), "hub.challenge"),
        (dict(challenge="\u00e9t\u00e9"), "hub.challenge"),
    ],
)
def test_every_parameter_is_checked(client, redis_client, lease, topic, settings, change, reason):
    remember_request(redis_client, "subscribe", topic, SECRET, 600)
    params = dict(mode="subscribe", topic=topic, challenge="abc", lease_seconds="600")
    params.update({key: value.format(api=settings.twitch_api_url) for key, value in change.items()})
    response = verify(client, **params)
    assert response.status_code == 400 and reason in response.json["error"]
    assert held(redis_client)["status"] == "webhook_callback_verification_pending"


def test_a_repeated_parameter_is_400(client, redis_client, lease, topic):
    remember_request(redis_client, "subscribe", topic, SECRET, 600)
    response = client.get(
        "/api/callback",
        query_string=[
            ("hub.mode", "subscribe"),
            ("hub.topic", topic),
            ("hub.challenge", "abc"),
            ("hub.lease_seconds", "600"),
            ("hub.lease_seconds", "999999999"),
        ],
    )
    assert response.status_code == 400


def test_a_denial_of_our_pending_request_is_recorded_once(client, redis_client, lease, topic):
    remember_request(redis_client, "subscribe", topic, SECRET, 600)
    response = verify(client, mode="denied", topic=topic, reason="unknown user")
    assert response.status_code == 200
    [denial] = [json.loads(d) for d in redis_client.lrange(DENIALS, 0, -1)]
    assert denial["topic"] == topic and denial["reason"] == "unknown user"
    assert held(redis_client)["status"] == "denied"
    assert verify(client, mode="denied", topic=topic, reason="again").status_code == 404
    assert (
        verify(
            client, mode="subscribe", topic=topic, challenge="abc", lease_seconds="600"
        ).status_code
        == 404
    ), "the denial consumed the request"


def test_an_unsolicited_denial_changes_nothing(client, redis_client, lease, topic):
    remember_request(redis_client, "subscribe", topic, SECRET, 600)
    assert (
        verify(
            client, mode="subscribe", topic=topic, challenge="abc", lease_seconds="600"
        ).status_code
        == 200
    )
    response = verify(client, mode="denied", topic=topic, reason="forged")
    assert response.status_code == 404
    assert redis_client.lrange(DENIALS, 0, -1) == []
    assert held(redis_client)["status"] == "enabled"


def link(topic):
    return f'<https://api.twitch.tv/helix/webhooks/hub>; rel="hub", <{topic}>; rel="self"'


def signed(secret, body, topic):
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "X-Hub-Signature": f"sha256={digest}",
        "Twitch-Notification-Id": "n-1",
        "Link": link(topic),
        "Content-Type": "application/json",
    }


def subscribed(client, redis_client, broadcaster_id, secret, settings):
    """Our subscription to a broadcaster's topic, verified as the hub would."""
    topic = topic_for(settings.twitch_api_url, broadcaster_id)
    remember_request(redis_client, "subscribe", topic, secret, 600)
    assert (
        verify(
            client, mode="subscribe", topic=topic, challenge="c", lease_seconds="600"
        ).status_code
        == 200
    )
    return topic


def test_a_notification_signed_with_its_subscriptions_secret_is_queued(
    client, settings, redis_client
):
    topic = subscribed(client, redis_client, "1337", SECRET, settings)
    body = b'{"data":[]}'
    response = client.post("/api/callback", data=body, headers=signed(SECRET, body, topic))
    assert response.status_code == 204
    [message] = intake.waiting(redis_client, 8)
    assert message["kind"] == intake.WEBSUB
    assert message["headers"]["Twitch-Notification-Id"] == "n-1"
    assert message["stream"] == intake.intake_key(intake.shard_of("1337", 8))


def test_a_captured_notification_resent_for_another_streamer_is_403(client, settings, redis_client):
    """One offline body must not end every stream: the signature binds the topic."""
    mine = subscribed(client, redis_client, "1337", SECRET, settings)
    other = subscribed(client, redis_client, "4242", OTHER_SECRET, settings)
    body = b'{"data":[]}'
    captured = signed(SECRET, body, mine)
    assert client.post("/api/callback", data=body, headers=captured).status_code == 204
    forged = {**captured, "Link": link(other)}
    assert client.post("/api/callback", data=body, headers=forged).status_code == 403
    assert len(intake.waiting(redis_client, 8)) == 1


def test_the_app_wide_webhook_secret_no_longer_signs_websub(client, settings, redis_client):
    topic = subscribed(client, redis_client, "1337", SECRET, settings)
    body = b'{"data":[]}'
    headers = signed(settings.twitch_webhook_secret, body, topic)
    assert client.post("/api/callback", data=body, headers=headers).status_code == 403


def test_a_notification_for_a_topic_without_a_verified_subscription_is_403(
    client, settings, redis_client
):
    topic = topic_for(settings.twitch_api_url, "1337")
    remember_request(redis_client, "subscribe", topic, SECRET, 600)  # asked, not verified
    body = b'{"data":[]}'
    for headers in (
        signed(SECRET, body, topic),
        {**signed(SECRET, body, topic), "Link": ""},
        {
            **signed(SECRET, body, topic),
            "Link": link("https://evil.example/helix/streams?user_id=1337"),
        },
    ):
        assert client.post("/api/callback", data=body, headers=headers).status_code == 403
    assert intake.waiting(redis_client, 8) == []


def test_a_renewal_switches_secrets_keeping_the_old_one_a_moment(client, settings, redis_client):
    topic = subscribed(client, redis_client, "1337", SECRET, settings)
    subscribed(client, redis_client, "1337", OTHER_SECRET, settings)
    body = b'{"data":[]}'
    for secret in (OTHER_SECRET, SECRET):
        assert (
            client.post("/api/callback", data=body, headers=signed(secret, body, topic)).status_code
            == 204
        )
    assert 0 < redis_client.ttl(f"sev:websub:secret:{topic}:previous") <= 60


def test_an_unsubscription_forgets_the_secret(client, settings, redis_client):
    topic = subscribed(client, redis_client, "1337", SECRET, settings)
    remember_request(redis_client, "unsubscribe", topic)
    assert verify(client, mode="unsubscribe", topic=topic, challenge="u").status_code == 200
    body = b'{"data":[]}'
    assert (
        client.post("/api/callback", data=body, headers=signed(SECRET, body, topic)).status_code
        == 403
    )


def test_a_second_request_while_one_is_pending_sends_the_same_secret(redis_client, topic):
    first = remember_request(redis_client, "subscribe", topic, SECRET, 600)
    second = remember_request(redis_client, "subscribe", topic, OTHER_SECRET, 600)
    assert first == second == SECRET


def test_an_accepted_notification_is_logged_once_at_debug(client, settings, redis_client, caplog):
    topic = subscribed(client, redis_client, "1337", SECRET, settings)
    caplog.set_level(logging.DEBUG, logger="web")
    body = b'{"data":[]}'
    assert (
        client.post("/api/callback", data=body, headers=signed(SECRET, body, topic)).status_code
        == 204
    )
    [line] = [r for r in caplog.records if "accepted WebSub" in r.getMessage()]
    assert line.levelno == logging.DEBUG and "n-1" in line.getMessage()


def test_a_bad_signature_is_403_and_queues_nothing(client, settings, redis_client):
    topic = subscribed(client, redis_client, "1337", SECRET, settings)
    headers = signed(SECRET, b'{"data":[]}', topic)
    response = client.post("/api/callback", data=b'{"data":[{}]}', headers=headers)
    assert response.status_code == 403 and intake.waiting(redis_client, 8) == []


def test_topic_for_uses_the_configured_helix(settings):
    assert topic_for(settings.twitch_api_url, "1") == settings.twitch_api_url + "/streams?user_id=1"
