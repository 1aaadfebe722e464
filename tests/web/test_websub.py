"""The WebSub side of the callback: verification GETs and signed notifications."""

import hashlib
import hmac
import json
import logging

from shared import intake
from shared.leases import new_lease, save_lease, get_lease
from shared.websub import DENIALS, remember_request, topic_for

TOPIC = "https://api.twitch.tv/helix/streams?user_id=1337"


def verify(client, **params):
    return client.get("/api/callback", query_string={f"hub.{k}": v for k, v in params.items()})


def test_requested_subscription_is_confirmed_and_the_lease_enabled(client, redis_client):
    lease = new_lease({"id": "1337", "login": "cool_user", "name": "Cool_User"}, "websub")
    lease["subscriptions"]["websub"] = {"id": TOPIC, "status": "webhook_callback_verification_pending"}
    save_lease(redis_client, lease)
    remember_request(redis_client, "subscribe", TOPIC)
    response = verify(client, mode="subscribe", topic=TOPIC, challenge="abc123", lease_seconds="600")
    assert response.status_code == 200 and response.data == b"abc123"
    assert response.mimetype == "text/plain"
    held = get_lease(redis_client, "1337")["subscriptions"]["websub"]
    assert held["status"] == "enabled" and held["expires_at"] > 0


def test_a_topic_we_did_not_ask_for_is_404(client, redis_client):
    remember_request(redis_client, "subscribe", TOPIC)
    response = verify(client, mode="subscribe", topic=TOPIC.replace("1337", "1338"),
                      challenge="abc")
    assert response.status_code == 404
    assert verify(client, mode="unsubscribe", topic=TOPIC, challenge="abc").status_code == 404


def test_a_denial_is_recorded(client, redis_client):
    response = verify(client, mode="denied", topic=TOPIC, reason="unknown user")
    assert response.status_code == 200
    [denial] = [json.loads(d) for d in redis_client.lrange(DENIALS, 0, -1)]
    assert denial["topic"] == TOPIC and denial["reason"] == "unknown user"


def signed(settings, body):
    digest = hmac.new(settings.twitch_webhook_secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature": f"sha256={digest}", "Twitch-Notification-Id": "n-1",
            "Link": f'<https://api.twitch.tv/helix/webhooks/hub>; rel="hub", <{TOPIC}>; rel="self"',
            "Content-Type": "application/json"}


def test_a_signed_notification_is_queued(client, settings, redis_client):
    body = b'{"data":[]}'
    assert client.post("/api/callback", data=body, headers=signed(settings, body)).status_code == 204
    [message] = intake.waiting(redis_client, 8)
    assert message["kind"] == intake.WEBSUB and message["headers"]["Twitch-Notification-Id"] == "n-1"


def test_an_accepted_notification_is_logged_once_at_debug(client, settings, redis_client,
                                                          caplog):
    caplog.set_level(logging.DEBUG, logger="web")
    body = b'{"data":[]}'
    assert client.post("/api/callback", data=body, headers=signed(settings, body)).status_code == 204
    [line] = [r for r in caplog.records if "accepted WebSub" in r.getMessage()]
    assert line.levelno == logging.DEBUG and "n-1" in line.getMessage()


def test_a_bad_signature_is_403_and_queues_nothing(client, settings, redis_client):
    headers = signed(settings, b'{"data":[]}')
    response = client.post("/api/callback", data=b'{"data":[{}]}', headers=headers)
    assert response.status_code == 403 and intake.waiting(redis_client, 8) == []


def test_topic_for_uses_the_configured_helix(settings):
    assert topic_for(settings.twitch_api_url, "1") == settings.twitch_api_url + "/streams?user_id=1"
